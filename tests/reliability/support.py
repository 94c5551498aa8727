"""Shared machinery of the reliability suite: small generated worlds, in-process ingests against
the stand-ins, fault plans built on `extract.standins.FaultPlan`, warehouse content snapshots and
the consistency invariants every published warehouse must satisfy."""
from __future__ import annotations

import functools
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence

import duckdb

import extract.ctgov
import extract.sources
from extract.catalogue import Catalogue
from extract.ctgov import CtGovClient
from extract.http import HttpClient
from extract.pubmed import PubMedClient
from extract.standins import FAULT_KINDS, CtGovStandIn, FaultPlan, PubMedStandIn, pubmed_records_from_xml
from flows import pipeline
from flows.demo import generate_sample
from flows.settings import Settings, load_settings
from tests.helpers import TODAY
from warehouse.publish import writing

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pubmed", "ctgov")
RECORD_METADATA = "first_seen_at, updated_at, first_run_id, last_run_id"

# Full table contents except timestamps and run ids (as in tests/test_resume.py), plus the condition
# tags the pipeline writes with each stored record and the quarantine (a fault must never become a
# reject).
CONTENT = {
    "articles": f"SELECT * EXCLUDE ({RECORD_METADATA}) FROM articles ORDER BY pmid",
    "trials": f"SELECT * EXCLUDE ({RECORD_METADATA}) FROM trials ORDER BY nct_id",
    "article_trials": "SELECT pmid, nct_id, evidence FROM article_trials ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
    "trial_history": "SELECT nct_id, field, old_value, new_value FROM trial_history ORDER BY ALL",
    "condition_tags": "SELECT * FROM condition_tags ORDER BY ALL",
    "record_conditions": "SELECT * FROM record_conditions ORDER BY ALL",
    "record_tagging": "SELECT record_kind, record_id, tagger_version FROM record_tagging ORDER BY ALL",
    "rejects": "SELECT source, record_id, reason, raw_sha1 FROM rejects ORDER BY ALL",
}
# What belongs to one source in the content above (for "nothing partial of the failed source").
SOURCE_TABLES = {
    "pubmed": ("articles", "record_drugs:article", "article_trials:databank", "article_trials:abstract",
               "condition_tags:article", "record_conditions:article", "record_tagging:article", "rejects:pubmed"),
    "ctgov": ("trials", "record_drugs:trial", "article_trials:ctgov_reference", "trial_history",
              "condition_tags:trial", "record_conditions:trial", "record_tagging:trial", "rejects:ctgov"),
}
RUN_OUTCOME = ("SELECT source, mode, status, fetched, new, updated, unchanged, deleted, rejected "
               "FROM ingest_runs ORDER BY source, started_at")


def content(db: Path | duckdb.DuckDBPyConnection) -> dict[str, list]:
    if isinstance(db, duckdb.DuckDBPyConnection):
        return {name: db.execute(sql).fetchall() for name, sql in CONTENT.items()}
    with duckdb.connect(str(db), read_only=True) as conn:
        return content(conn)


def source_content(snapshot: dict[str, list], source: str) -> dict[str, list]:
    """The rows of `snapshot` that one source's run writes."""
    picked: dict[str, list] = {}
    for spec in SOURCE_TABLES[source]:
        table, _, which = spec.partition(":")
        rows = snapshot[table]
        if which and table == "article_trials":
            rows = [row for row in rows if row[2] == which]
        elif which and table == "rejects":
            rows = [row for row in rows if row[0] == which]
        elif which:
            rows = [row for row in rows if row[0] == which]
        picked[spec] = rows
    return picked


# --------------------------------------------------------------------------------------------
# Worlds
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Night:
    records: list
    studies: list[dict]


@functools.lru_cache(maxsize=8)
def nights(n_articles: int, n_trials: int) -> tuple[Night, Night]:
    """Night 1 (the world of TODAY - 1) and night 2 (TODAY: new papers and trials, changed trials)."""
    first = generate_sample(today=TODAY - timedelta(days=1), night=1, n_articles=n_articles, n_trials=n_trials)
    second = generate_sample(today=TODAY, night=2, n_articles=n_articles, n_trials=n_trials)
    return (Night(pubmed_records_from_xml(first.pubmed_xml), first.studies),
            Night(pubmed_records_from_xml(second.pubmed_xml), second.studies))


def serve(pubmed: PubMedStandIn, ctgov: CtGovStandIn, night: Night) -> None:
    pubmed.replace(night.records)
    ctgov.replace(night.studies)


# --------------------------------------------------------------------------------------------
# Fault plans (subclasses of the stand-ins' FaultPlan: same kinds, same server behaviour)
# --------------------------------------------------------------------------------------------

class EveryKindFaults(FaultPlan):
    """`FaultPlan(rate=..., seed=...)`, except that the first faults it draws go through every kind
    once (in a seeded order) before kinds are drawn at random: a run of a few dozen requests at a
    20% rate is then sure to meet each kind."""

    def __init__(self, *, rate: float, seed: int, kinds: Sequence[str] = FAULT_KINDS, stall_seconds: float):
        super().__init__(rate=rate, seed=seed, kinds=kinds, stall_seconds=stall_seconds)
        self._pending = list(kinds)
        random.Random(seed).shuffle(self._pending)
        self.log: list[tuple[str, str]] = []  # (endpoint, kind) in the order served

    def next_fault(self, endpoint: str) -> str | None:
        with self._lock:
            if not (self.rate and self._random.random() < self.rate):
                return None
            kind = self._pending.pop(0) if self._pending else self._random.choice(self.kinds)
            self.log.append((endpoint, kind))
            return kind


class FaultsInSequence(FaultPlan):
    """Per endpoint, an explicit sequence of answers (a kind, or None for a normal answer), then
    `then` for every later request to that endpoint."""

    def __init__(self, sequences: dict[str, Sequence[str | None]], then: dict[str, str | None] | None = None,
                 stall_seconds: float = 1.5):
        super().__init__(stall_seconds=stall_seconds)
        self._sequences = {endpoint: list(kinds) for endpoint, kinds in sequences.items()}
        self._then = dict(then or {})

    def next_fault(self, endpoint: str) -> str | None:
        with self._lock:
            queue = self._sequences.get(endpoint)
            if queue:
                return queue.pop(0)
            return self._then.get(endpoint)


# --------------------------------------------------------------------------------------------
# In-process ingests
# --------------------------------------------------------------------------------------------

def make_settings(folder: Path, pubmed_url: str, ctgov_url: str, *, api_key: str | None = None,
                  db_path: Path | None = None, **overrides) -> Settings:
    """Settings read the way the CLI reads them (so the API key gets whatever type Settings gives
    it), for a warehouse and data folder under `folder`."""
    environ = {"TRIALWATCH_DATA_DIR": str(folder / "data"), "TRIALWATCH_DB": str(db_path or folder / "w.duckdb"),
               "TRIALWATCH_PUBMED_URL": pubmed_url, "TRIALWATCH_CTGOV_URL": ctgov_url}
    if api_key:
        environ["NCBI_API_KEY"] = api_key
    return load_settings(environ, env_file=None).with_overrides(**overrides)


# --------------------------------------------------------------------------------------------
# In-process ingests (the pipeline's plumbing)
# --------------------------------------------------------------------------------------------

@dataclass
class Capture:
    """The HttpClients the pipeline made (to read their retry reasons after the run)."""

    clients: dict[str, list[HttpClient]] = field(default_factory=lambda: {"pubmed": [], "ctgov": []})

    def retry_reasons(self, source: str) -> Counter:
        total: Counter = Counter()
        for client in self.clients[source]:
            total.update(client.stats.retry_reasons)
        return total


def small_pages(monkeypatch, *, efetch_batch: int, ctgov_page: int, ctgov_rate: float = 50.0) -> Capture:
    """More, smaller requests per run (so faults have something to hit), each page loaded on its
    own (so a failure can strike after pages were loaded), CT.gov paced faster than its polite
    50/min (the stand-in has no limit), and the pipeline's HTTP clients captured."""
    small_pubmed = functools.partial(PubMedClient, batch_size=efetch_batch)
    monkeypatch.setattr(pipeline, "PubMedClient", small_pubmed)          # full pulls (backfill)
    monkeypatch.setattr(extract.sources, "PubMedClient", small_pubmed)   # incremental pulls, reconciliation
    monkeypatch.setattr(pipeline, "LOAD_BATCH", 1)
    monkeypatch.setattr(extract.sources, "CtGovClient", functools.partial(CtGovClient, page_size=ctgov_page))
    monkeypatch.setattr(extract.ctgov, "POLITE_RATE", ctgov_rate)
    capture = Capture()
    real_make_http = pipeline.make_http

    def make_http(source: str, settings: Settings) -> HttpClient:
        client = real_make_http(source, settings)
        capture.clients[source].append(client)
        return client

    monkeypatch.setattr(pipeline, "make_http", make_http)
    return capture


def ingest(db: Path, settings: Settings, window: pipeline.Window, *, sources: Sequence[str] = SOURCES,
           progress=None) -> list[pipeline.SourceSummary]:
    """One night in-process, the way the nightly flow does it (a private copy, published at the
    end), without Prefect."""
    catalogue = Catalogue.load()
    with writing(db) as conn:
        return [pipeline.ingest_source(conn, settings, source, window, catalogue=catalogue,
                                       progress=progress or (lambda _: None), today=TODAY)
                for source in sources]


# --------------------------------------------------------------------------------------------
# Invariants of a published warehouse
# --------------------------------------------------------------------------------------------

INVARIANTS = {
    "paper links without their paper": """
        SELECT count(*) FROM article_trials l WHERE l.evidence IN ('databank', 'abstract')
        AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.pmid = l.pmid)""",
    "registry links without their trial": """
        SELECT count(*) FROM article_trials l WHERE l.evidence = 'ctgov_reference'
        AND NOT EXISTS (SELECT 1 FROM trials t WHERE t.nct_id = l.nct_id)""",
    "drug labels of missing records": """
        SELECT count(*) FROM record_drugs d WHERE
        (d.record_kind = 'article' AND NOT EXISTS (SELECT 1 FROM articles a WHERE CAST(a.pmid AS VARCHAR) = d.record_id))
        OR (d.record_kind = 'trial' AND NOT EXISTS (SELECT 1 FROM trials t WHERE t.nct_id = d.record_id))""",
    "condition tags of missing records": """
        SELECT count(*) FROM record_conditions c WHERE
        (c.record_kind = 'article' AND NOT EXISTS (SELECT 1 FROM articles a WHERE CAST(a.pmid AS VARCHAR) = c.record_id))
        OR (c.record_kind = 'trial' AND NOT EXISTS (SELECT 1 FROM trials t WHERE t.nct_id = c.record_id))""",
    "history of missing trials": """
        SELECT count(*) FROM trial_history h WHERE NOT EXISTS (SELECT 1 FROM trials t WHERE t.nct_id = h.nct_id)""",
    "latest status change disagreeing with the trial": """
        SELECT count(*) FROM (
            SELECT nct_id, arg_max(new_value, observed_at) AS latest FROM trial_history
            WHERE field = 'overall_status' GROUP BY nct_id) h
        JOIN trials t USING (nct_id) WHERE h.latest IS DISTINCT FROM t.overall_status""",
    "runs still marked running": "SELECT count(*) FROM ingest_runs WHERE status = 'running'",
    "succeeded runs without a watermark": """
        SELECT count(*) FROM ingest_runs WHERE status = 'succeeded' AND mode NOT IN ('replay', 'reconcile') AND watermark IS NULL""",
    "failed runs with a watermark": "SELECT count(*) FROM ingest_runs WHERE status = 'failed' AND watermark IS NOT NULL",
}


def violations(db: Path) -> dict[str, int]:
    """Invariant name → number of offending rows, for every invariant the published file breaks."""
    with duckdb.connect(str(db), read_only=True) as conn:
        found = {name: conn.execute(sql).fetchall()[0][0] for name, sql in INVARIANTS.items()}
    return {name: n for name, n in found.items() if n}


# --------------------------------------------------------------------------------------------
# The CLI in a subprocess
# --------------------------------------------------------------------------------------------

def cli_env(folder: Path, pubmed: PubMedStandIn, ctgov: CtGovStandIn, prefect_api: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIALWATCH_", "NCBI_"))}
    env.update({"TRIALWATCH_DB": str(folder / "data" / "w.duckdb"), "TRIALWATCH_DATA_DIR": str(folder / "data"),
                "TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url,
                "PREFECT_API_URL": prefect_api, **extra})
    return env


def cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def night_one(folder: Path, pubmed: PubMedStandIn, ctgov: CtGovStandIn) -> None:
    """What `trialwatch ingest --since 2000-01-01` stores into `folder` (laid out as `cli_env` does),
    done in-process: the starting point of the CLI tests, without paying for a Prefect run."""
    settings = make_settings(folder, pubmed.url, ctgov.url, db_path=folder / "data" / "w.duckdb")
    summaries = ingest(settings.db_path, settings, pipeline.Window("since", date(2000, 1, 1)))
    assert [s.status for s in summaries] == ["succeeded", "succeeded"], [s.line() for s in summaries]
