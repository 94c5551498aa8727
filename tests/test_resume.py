"""Resumability: an interrupted backfill resumes at its first unfinished slice, and a load
killed with SIGKILL at any point converges, on re-run, to exactly an uninterrupted run's rows."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

import extract.pubmed
from extract.catalogue import Catalogue
from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows import pipeline
from flows.demo import generate_sample
from flows.settings import Settings
from pydantic import SecretStr
from tests.helpers import TODAY
from warehouse.db import open_warehouse

REPO = Path(__file__).resolve().parents[1]
CONTENT = {
    "articles": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM articles ORDER BY pmid",
    "trials": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM trials ORDER BY nct_id",
    "article_trials": "SELECT pmid, nct_id, evidence FROM article_trials ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
    "trial_history": "SELECT nct_id, field, old_value, new_value FROM trial_history ORDER BY ALL",
}


def content(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in CONTENT.items()}


class Interrupted(Exception):
    pass


def test_an_interrupted_backfill_resumes_at_its_first_unfinished_slice(tmp_path, monkeypatch):
    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", 40)  # force several slices on a small world
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=150, n_trials=20)
    records = pubmed_records_from_xml(sample.pubmed_xml)
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", ncbi_api_key=SecretStr("k"))

    def crash_after_second_slice(message: str) -> None:
        if message.startswith("pubmed: slice") and crash_after_second_slice.slices_seen == 1:
            raise Interrupted
        if message.startswith("pubmed: slice"):
            crash_after_second_slice.slices_seen += 1
    crash_after_second_slice.slices_seen = 0

    with PubMedStandIn(records) as server, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(pubmed_url=server.url)
        first = pipeline.ingest_source(conn, served, "pubmed", pipeline.Window("full"), catalogue=Catalogue.load(),
                                       progress=crash_after_second_slice, today=TODAY)
        stored_after_crash = conn.execute("SELECT pmid FROM articles").fetchall()
        fetched_first = {pmid for r in server.requests if r.endpoint == "efetch" for pmid in r.params["id"].split(",")}
        server.requests.clear()
        window = pipeline.resolve_window(conn, "pubmed", since=None, full=False, overlap_days=3)
        second = pipeline.ingest_source(conn, served, "pubmed", window, catalogue=Catalogue.load(),
                                        progress=lambda _: None, today=TODAY + timedelta(days=2))
        fetched_second = {pmid for r in server.requests if r.endpoint == "efetch" for pmid in r.params["id"].split(",")}
        stored = {row[0] for row in conn.execute("SELECT pmid FROM articles").fetchall()}
        watermark = conn.execute("SELECT watermark FROM ingest_runs WHERE status = 'succeeded'").fetchall()

    assert first.status == "failed" and window.mode == "full" and second.status == "succeeded"
    assert 0 < len(stored_after_crash) < len(records)                 # two slices committed
    assert not {str(pmid) for (pmid,) in stored_after_crash} & fetched_second  # … and not fetched again
    assert fetched_first
    assert stored == {r.pmid for r in records}
    assert watermark == [(TODAY,)]                                     # the day the plan was made


@pytest.fixture(scope="module")
def prefect_api():
    """One Prefect test server for every CLI run below (instead of a temporary server per run)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def nights():
    return (generate_sample(today=TODAY - timedelta(days=1), n_articles=450, n_trials=40),
            generate_sample(today=TODAY, night=2, n_articles=450, n_trials=40))


def two_nights(folder: Path, nights, prefect_api: str, kill_on: str | None = None) -> dict[str, list]:
    """Ingest night 1, then night 2 — optionally SIGKILLing the whole night-2 job (the CLI and any
    child process) when it prints a progress line matching `kill_on`, then running it again — and return the content."""
    night1, night2 = nights
    with PubMedStandIn(pubmed_records_from_xml(night1.pubmed_xml), latency=0.05) as pubmed, \
            CtGovStandIn(night1.studies, latency=0.2) as ctgov:
        env = {**os.environ, "TRIALWATCH_DB": str(folder / "w.duckdb"), "TRIALWATCH_DATA_DIR": str(folder),
               "TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url, "PREFECT_API_URL": prefect_api}

        def run(kill: str | None = None) -> int:
            process = subprocess.Popen([sys.executable, "-m", "flows.cli", "ingest", "--since", "2000-01-01"],
                                       env=env, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       text=True, start_new_session=True)
            for line in process.stderr:
                if kill and re.match(kill, line):
                    os.killpg(process.pid, signal.SIGKILL)
                    break
            process.stderr.close()
            return process.wait(timeout=120)

        assert run() == 0
        pubmed.replace(pubmed_records_from_xml(night2.pubmed_xml))
        ctgov.replace(night2.studies)
        if kill_on:
            assert run(kill_on) == -signal.SIGKILL
        assert run() == 0
    return content(folder / "w.duckdb")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, nights, prefect_api):
    return two_nights(tmp_path_factory.mktemp("clean"), nights, prefect_api)


@pytest.mark.parametrize("kill_on", [r"pubmed: since pull", r"pubmed: [\d,]+ records to fetch",
                                     r"pubmed: [\d,]+ records stored", r"ctgov: since pull",
                                     r"ctgov: [\d,]+ records stored"])
def test_kill_9_at_any_point_then_rerun_equals_an_uninterrupted_run(tmp_path, nights, prefect_api, uninterrupted,
                                                                     kill_on):
    assert two_nights(tmp_path, nights, prefect_api, kill_on) == uninterrupted
    assert uninterrupted["trial_history"]  # the second night really changed trials
