"""Shared fixtures. The real-payload corpus lives beside the checkout in ../shared/corpus."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The demo warehouse and the browser fixtures, shared by the dashboard, browser and feed tests.
pytest_plugins = ["tests.dashboard_fixtures"]

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TRIALWATCH_CORPUS", REPO.parent / "shared" / "corpus"))
# Modules that start servers, subprocesses, Prefect, a browser or build the demo warehouse: the
# `slow` marker, left out by `python3 tasks.py test --fast` (the quick loop while developing;
# CI runs everything).
SLOW_MODULES = {
    "test_backfill", "test_cli", "test_dashboard", "test_dashboard_browser", "test_data_safety", "test_demo_sample",
    "test_derive", "test_feeds", "test_flows", "test_one_shot", "test_outcome_switching", "test_publish",
    "test_prepare_fastpath", "test_pubmed_cap_split", "test_pubmed_esearch", "test_pulls", "test_reconcile", "test_replay", "test_resume",
    "test_serve", "test_study_design", "test_tagger_fastpath", "test_tagging_pipeline", "test_views", "test_workers",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__
        if module.startswith("tests.reliability.") or module.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real PubMed/CT.gov payloads. Missing corpus is an error, never a silent skip."""
    if not (CORPUS / "README.md").exists():
        pytest.fail(f"real-payload corpus not found at {CORPUS}; set TRIALWATCH_CORPUS")
    return CORPUS


@pytest.fixture(scope="session", autouse=True)
def one_today_for_the_whole_run():
    """The pipeline's clock stays on the run's TODAY in this process, so a suite that crosses
    midnight UTC does not compare data made "yesterday" with a "today" read later. Subprocesses
    are given TODAY where they take a day (the demo warehouse) or are checked against the days
    they actually ran on."""
    from tests.helpers import TODAY
    from warehouse import clock

    with clock.on_day(TODAY):
        yield


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest runs the dashboard script as `__main__` and leaves it there; worker
    processes started with `spawn` re-run the parent's `__main__` script, so later tests would
    start workers that run the dashboard. Put the real one back after every test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
