"""Reconciliation: records the services stop serving leave the views and are logged in
deleted_records; a mass disappearance fails the run instead; a record that comes back is
restored; replay rebuilds the same deletions. Real CLI runs against the stand-ins on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows.demo import generate_sample
from flows.reconcile import is_due
from tests.helpers import TODAY
from warehouse.db import migrate

REPO = Path(__file__).resolve().parents[1]
VIEWS = {
    "v_articles": "SELECT CAST(pmid AS VARCHAR) FROM v_articles ORDER BY 1",
    "v_trials": "SELECT nct_id FROM v_trials ORDER BY 1",
}
UNTOUCHED = {  # what reconciliation must leave exactly as it was
    "articles": "SELECT * FROM articles ORDER BY pmid",
    "trials": "SELECT * FROM trials ORDER BY nct_id",
    "trial_history": "SELECT * FROM trial_history ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
    "article_trials": "SELECT * FROM article_trials ORDER BY ALL",
    "record_conditions": "SELECT * FROM record_conditions ORDER BY ALL",
}


@pytest.fixture(scope="module")
def prefect_api():
    """One Prefect test server for every CLI run below (instead of a temporary server per run)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="module")
def world():
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=200, n_trials=100)
    return pubmed_records_from_xml(sample.pubmed_xml), sample.studies


def query(db: Path, sql: str) -> list:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def snapshot(db: Path, queries: dict[str, str]) -> dict[str, list]:
    return {name: query(db, sql) for name, sql in queries.items()}


class Services:
    """Both stand-ins and a `trialwatch` runner pointed at them and at one warehouse."""

    def __init__(self, folder: Path, world, prefect_api: str):
        self.records, self.studies = world
        self.db = folder / "data" / "tw.duckdb"
        self.pubmed, self.ctgov = PubMedStandIn(self.records), CtGovStandIn(self.studies)
        self.prefect_api = prefect_api

    def __enter__(self) -> "Services":
        self.pubmed.start(), self.ctgov.start()
        return self

    def __exit__(self, *exc) -> None:
        self.pubmed.stop(), self.ctgov.stop()

    def run(self, *args: str, db: Path | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "TRIALWATCH_DB": str(db or self.db), "TRIALWATCH_DATA_DIR": str(self.db.parent),
               "TRIALWATCH_PUBMED_URL": self.pubmed.url, "TRIALWATCH_CTGOV_URL": self.ctgov.url,
               "PREFECT_API_URL": self.prefect_api}
        return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=240)

    def serve_without(self, pmids: set[int], nct_ids: set[str]) -> None:
        self.pubmed.replace(r for r in self.records if r.pmid not in pmids)
        self.ctgov.replace(s for s in self.studies
                           if s["protocolSection"]["identificationModule"]["nctId"] not in nct_ids)


def test_reconcile_takes_exactly_the_records_the_services_stopped_serving_out_of_the_views(
        tmp_path, world, prefect_api):
    with Services(tmp_path, world, prefect_api) as services:
        assert services.run("ingest").returncode == 0
        before_views, before = snapshot(services.db, VIEWS), snapshot(services.db, UNTOUCHED)
        gone_papers = {r.pmid for r in services.records[5:8]}
        gone_trials = {s["protocolSection"]["identificationModule"]["nctId"] for s in services.studies[10:12]}
        services.serve_without(gone_papers, gone_trials)

        result = services.run("ingest", "--reconcile")
        after_views = snapshot(services.db, VIEWS)
        logged = query(services.db, "SELECT source, record_id, reason, run_id, restored_at FROM deleted_records "
                                    "ORDER BY source, record_id")
        reconcile_runs = query(services.db, "SELECT run_id, source, status FROM ingest_runs WHERE mode = 'reconcile' "
                                            "AND status = 'succeeded' ORDER BY started_at DESC LIMIT 2")

    assert result.returncode == 0, result.stderr
    assert "pubmed reconcile: 197 ids at the service; 3 records gone" in result.stdout
    assert "ctgov reconcile: 98 ids at the service; 2 records gone" in result.stdout
    assert set(before_views["v_articles"]) - set(after_views["v_articles"]) == {(str(p),) for p in gone_papers}
    assert set(after_views["v_articles"]) <= set(before_views["v_articles"])
    assert set(before_views["v_trials"]) - set(after_views["v_trials"]) == {(n,) for n in gone_trials}
    assert set(after_views["v_trials"]) <= set(before_views["v_trials"])
    assert sorted((source, record_id) for source, record_id, *_ in logged) == sorted(
        [("ctgov", n) for n in gone_trials] + [("pubmed", str(p)) for p in gone_papers])
    runs = {source: run_id for run_id, source, _ in reconcile_runs}
    assert all(run_id == runs[source] and restored is None and "catalogue query" in reason
               for source, _, reason, run_id, restored in logged)
    assert snapshot(services.db, UNTOUCHED) == before           # rows and their history are kept


def test_a_mass_disappearance_fails_the_run_and_deletes_nothing(tmp_path, world, prefect_api):
    with Services(tmp_path, world, prefect_api) as services:
        assert services.run("ingest").returncode == 0
        before_views = snapshot(services.db, VIEWS)
        services.serve_without({r.pmid for r in services.records[:40]}, set())   # 20% of the papers

        result = services.run("ingest", "--reconcile")

    assert result.returncode == 1
    assert "pubmed reconcile: FAILED" in result.stdout and "40 of 200 stored pubmed records (20%)" in result.stdout
    assert "nothing was deleted" in result.stdout
    assert query(services.db, "SELECT count(*) FROM deleted_records") == [(0,)]
    assert snapshot(services.db, VIEWS) == before_views


def test_a_record_that_comes_back_is_restored_and_replay_rebuilds_the_deletions(tmp_path, world, prefect_api):
    with Services(tmp_path, world, prefect_api) as services:
        assert services.run("ingest").returncode == 0
        first, second = services.records[0].pmid, services.records[1].pmid
        services.serve_without({first, second}, set())
        assert services.run("ingest", "--reconcile").returncode == 0
        services.serve_without({second}, set())                       # the first one is back
        assert services.run("ingest", "--reconcile").returncode == 0
        papers = {pmid for (pmid,) in query(services.db, VIEWS["v_articles"])}
        log = query(services.db, "SELECT record_id, restored_at IS NOT NULL FROM deleted_records ORDER BY record_id")
        rebuilt = tmp_path / "rebuilt.duckdb"
        replayed = services.run("replay", db=rebuilt)

    assert str(first) in papers and str(second) not in papers
    assert sorted(log) == sorted([(str(first), True), (str(second), False)])
    assert replayed.returncode == 0, replayed.stderr
    assert query(rebuilt, "SELECT record_id FROM v_deleted_records") == [(str(second),)]
    assert query(rebuilt, VIEWS["v_articles"]) == query(services.db, VIEWS["v_articles"])


@pytest.mark.parametrize("mode, days_ago, every, due", [
    (None, None, 7, True), ("reconcile", 3, 7, False), ("reconcile", 7, 7, True), ("reconcile", 3, 0, True),
    ("full", 3, 7, False), ("full", 8, 7, True), ("incremental", 3, 7, True)])
def test_the_nightly_run_reconciles_a_source_when_its_last_reconciliation_is_old_enough(mode, days_ago, every, due):
    conn = duckdb.connect()
    migrate(conn)
    conn.execute("INSERT INTO articles (pmid, content_hash, first_seen_at, updated_at, first_run_id, last_run_id) "
                 "VALUES (1, 'h', now(), now(), 'r', 'r')")
    if mode is not None:
        conn.execute("INSERT INTO ingest_runs (run_id, source, mode, started_at, status) "
                     "VALUES ('x', 'pubmed', ?, ?, 'succeeded')", [mode, TODAY - timedelta(days=days_ago)])
    assert is_due(conn, "pubmed", every, TODAY) is due
    assert is_due(conn, "ctgov", every, TODAY) is False      # nothing stored: nothing to reconcile


def test_esearch_warnings_are_printed_once_stored_with_the_run_and_shown_by_status(tmp_path, world, prefect_api):
    records, studies = world
    with PubMedStandIn(records, phrases_not_found=['"psilocine"[tiab]']) as pubmed, CtGovStandIn(studies) as ctgov:
        env = {**os.environ, "TRIALWATCH_DB": str(tmp_path / "tw.duckdb"), "TRIALWATCH_DATA_DIR": str(tmp_path),
               "TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url, "PREFECT_API_URL": prefect_api}
        run = [sys.executable, "-m", "flows.cli"]
        ingest = subprocess.run([*run, "ingest"], env=env, cwd=REPO, capture_output=True, text=True, timeout=240)
        status = subprocess.run([*run, "status"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)

    assert ingest.returncode == 0, ingest.stderr
    warned = [line for line in ingest.stderr.splitlines() if "psilocine" in line]
    assert len(warned) == 1 and warned[0].startswith("WARNING")
    stored = query(tmp_path / "tw.duckdb", "SELECT query_warnings, query_translation IS NOT NULL FROM ingest_runs "
                                           "WHERE source = 'pubmed' AND mode = 'full'")
    assert stored == [(['phrase not found: "psilocine"[tiab]'], True)]
    assert 'warnings: phrase not found: "psilocine"[tiab]' in status.stdout
    assert "pubmed query, as PubMed read it on the last run: " in status.stdout
