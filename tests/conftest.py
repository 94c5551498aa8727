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


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real PubMed/CT.gov payloads. Missing corpus is an error, never a silent skip."""
    if not (CORPUS / "README.md").exists():
        pytest.fail(f"real-payload corpus not found at {CORPUS}; set TRIALWATCH_CORPUS")
    return CORPUS


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest runs the dashboard script as `__main__` and leaves it there; worker
    processes started with `spawn` re-run the parent's `__main__` script, so later tests would
    start workers that run the dashboard. Put the real one back after every test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
