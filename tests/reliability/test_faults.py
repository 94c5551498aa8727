"""Fault injection through the whole ingest (in-process, real HTTP to the stand-ins, real DuckDB):
a 20% fault rate of every kind changes nothing in the warehouse, and a source that stays down past
the retry budget fails alone, clearly, and leaves none of its rows behind.

Single faults per client are covered in tests/test_http.py, tests/test_pubmed_client.py and
tests/test_ctgov_client.py; here they hit the pipeline end to end, pages, transactions and all."""
from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import duckdb
import pytest

from extract.archive import RawArchive
from extract.standins import FAULT_KINDS, CtGovStandIn, FaultPlan, PubMedStandIn
from flows.pipeline import Window
from flows.settings import Settings
from tests.reliability.support import (RUN_OUTCOME, TODAY, EveryKindFaults, FaultsInSequence, content, ingest,
                                       make_settings, nights,
                                       serve, small_pages, source_content, violations)
from warehouse import runs

FAULT_RATE = 0.2
# How the HTTP client names each fault in HttpStats.retry_reasons ('empty' answers are asked again by
# the PubMed/CT.gov clients themselves, which is not counted as an HTTP retry).
CLIENT_REASON = {"429": "HTTP 429", "retry-after": "HTTP 429", "500": "HTTP 500", "502": "HTTP 502",
                 "503": "HTTP 503", "truncate": "invalid body", "stall": "timeout", "drop": "connection error"}
NIGHT_2 = Window("incremental", TODAY - timedelta(days=3))  # the watermark (TODAY) minus the overlap


def settings_for(folder, pubmed: PubMedStandIn, ctgov: CtGovStandIn, **extra) -> Settings:
    values = dict(http_timeout=1.0, http_retries=8)
    return make_settings(folder, pubmed.url, ctgov.url, api_key="test-key", **{**values, **extra})


def run_two_nights(folder, world, *, faults: dict[str, FaultPlan] | None = None):
    """Night 1 (full) then night 2 (incremental), optionally under `faults`; returns the content, the
    run ledger, the retries it recorded, the summaries, both stand-ins and the settings."""
    night1, night2 = world
    with PubMedStandIn(night1.records) as pubmed, CtGovStandIn(night1.studies) as ctgov:
        if faults:
            pubmed.faults, ctgov.faults = faults["pubmed"], faults["ctgov"]
        settings = settings_for(folder, pubmed, ctgov)
        summaries = ingest(settings.db_path, settings, Window("full"))
        serve(pubmed, ctgov, night2)
        summaries += ingest(settings.db_path, settings, NIGHT_2)
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        ledger = conn.execute(RUN_OUTCOME).fetchall()
        retries = conn.execute("SELECT source, http_requests, http_retries FROM ingest_runs "
                               "ORDER BY started_at").fetchall()
    return content(settings.db_path), ledger, retries, summaries, pubmed, ctgov, settings


def test_a_20_percent_fault_rate_ends_with_exactly_the_fault_free_rows(tmp_path, monkeypatch, outcome):
    world = nights(150, 40)
    capture = small_pages(monkeypatch, efetch_batch=4, ctgov_page=1)  # ~50 requests per service

    started = time.monotonic()
    clean, clean_ledger, _, clean_summaries, *_ = run_two_nights(tmp_path / "clean", world)
    clean_seconds = time.monotonic() - started

    capture.clients = {"pubmed": [], "ctgov": []}
    plans = {"pubmed": EveryKindFaults(rate=FAULT_RATE, seed=11, stall_seconds=1.5),
             "ctgov": EveryKindFaults(rate=FAULT_RATE, seed=12, stall_seconds=1.5)}
    started = time.monotonic()
    faulty, ledger, retries, summaries, pubmed, ctgov, settings = run_two_nights(tmp_path / "faulty", world,
                                                                                  faults=plans)
    faulty_seconds = time.monotonic() - started

    requests = {"pubmed": len(pubmed.requests), "ctgov": len(ctgov.requests)}
    served = {"pubmed": pubmed.faults_served, "ctgov": ctgov.faults_served}
    reasons = {source: dict(capture.retry_reasons(source)) for source in ("pubmed", "ctgov")}
    per_source = {source: (sum(s.http_requests for s in summaries if s.source == source),
                           sum(s.http_retries for s in summaries if s.source == source)) for source in requests}
    sizes = ", ".join(f"{len(rows):,} {table}" for table, rows in faulty.items() if rows)
    identical = faulty == clean and ledger == clean_ledger
    outcome.record("fault-rate-20",
                   f"{'identical' if identical else 'DIFFERENT'} rows ({sizes}); "
                   f"PubMed {per_source['pubmed'][0]} requests, {per_source['pubmed'][1]} retried; "
                   f"CT.gov {per_source['ctgov'][0]} requests, {per_source['ctgov'][1]} retried; "
                   f"{faulty_seconds:.0f} s vs {clean_seconds:.0f} s fault-free",
                   requests=requests, served={k: dict(v) for k, v in served.items()}, retry_reasons=reasons)
    for kind in FAULT_KINDS:
        where = {source: Counter(endpoint for endpoint, k in plans[source].log if k == kind) for source in plans}
        text = "; ".join(f"{'PubMed' if source == 'pubmed' else 'CT.gov'} {sum(c.values())}× "
                         f"({', '.join(f'{e} {n}' for e, n in sorted(c.items()))})"
                         for source, c in where.items() if c) or "not served"
        reason = CLIENT_REASON.get(kind)
        handled = (f"the client retried on '{reason}' {sum(r.get(reason, 0) for r in reasons.values())}× in all"
                   if reason else "the client asked again")
        outcome.record(f"fault-{kind}", f"served {text}; {handled}; rows {'identical' if identical else 'DIFFERENT'}",
                       served={source: dict(c) for source, c in where.items()})

    for source in ("pubmed", "ctgov"):  # the plan really met every kind on both services
        assert set(served[source]) == set(FAULT_KINDS), (source, served[source])
    assert [s.status for s in summaries] == ["succeeded"] * 4, [s.line() for s in summaries]
    assert faulty == clean                       # full table contents, timestamps and run ids aside
    assert faulty["rejects"] == []               # no fault ever became a quarantined "record"
    assert ledger == clean_ledger                # same fetched/new/updated/unchanged counts per run
    assert per_source["pubmed"][1] > 0 and per_source["ctgov"][1] > 0
    # the ledger reports exactly what each run's summary said
    assert retries == [(s.source, s.http_requests, s.http_retries) for s in summaries]
    assert "retried)" in summaries[0].line() and clean_summaries[0].http_retries == 0
    assert pubmed.rate_limited == 0             # retries never pushed the client over NCBI's limit
    assert violations(settings.db_path) == {}


@pytest.fixture(scope="module")
def clean_nights(tmp_path_factory):
    """The published content of a fault-free night 1 + night 2 in the world of the test below."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        small_pages(monkeypatch, efetch_batch=4, ctgov_page=3)
        return run_two_nights(tmp_path_factory.mktemp("reference"), nights(60, 24))[0]
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("source", ["pubmed", "ctgov"])
def test_a_source_down_past_the_retry_budget_stores_nothing_partial(tmp_path, monkeypatch, clean_nights, source,
                                                                     outcome):
    """tests/test_flows.py shows the watermark stays and the other source completes; this adds that
    the failed source's rows are exactly what they were, although pages of it had been loaded
    (inside its transaction) before it went down, and that the next run recovers."""
    small_pages(monkeypatch, efetch_batch=4, ctgov_page=3)
    night1, night2 = nights(60, 24)
    endpoint = {"pubmed": "efetch", "ctgov": "studies"}[source]
    other = {"pubmed": "ctgov", "ctgov": "pubmed"}[source]
    with PubMedStandIn(night1.records) as pubmed, CtGovStandIn(night1.studies) as ctgov:
        stand_in = {"pubmed": pubmed, "ctgov": ctgov}[source]
        settings = settings_for(tmp_path, pubmed, ctgov, http_retries=2)
        ingest(settings.db_path, settings, Window("full"))
        before = content(settings.db_path)
        with duckdb.connect(str(settings.db_path), read_only=True) as conn:
            marks_before = {s: runs.last_watermark(conn, s) for s in ("pubmed", "ctgov")}

        serve(pubmed, ctgov, night2)
        # down after the first page; PubMed asks for two efetch batches at once, in either order
        served_first = {"pubmed": [None, None], "ctgov": [None]}[source]
        stand_in.faults = FaultsInSequence({endpoint: served_first}, then={endpoint: "503"})
        summaries = {s.source: s for s in ingest(settings.db_path, settings, NIGHT_2)}
        after = content(settings.db_path)
        with duckdb.connect(str(settings.db_path), read_only=True) as conn:
            marks_after = {s: runs.last_watermark(conn, s) for s in ("pubmed", "ctgov")}
            ledger = conn.execute("SELECT status, watermark, message, http_retries FROM ingest_runs "
                                  "WHERE run_id = ?", [summaries[source].run_id]).fetchall()
        archived = list(RawArchive(settings.archive_dir).run_dir(source, summaries[source].run_id).glob("*.gz"))

        stand_in.faults = None                            # the service is back: the next night recovers
        recovered = ingest(settings.db_path, settings, Window("incremental", marks_after[source] - timedelta(days=3)),
                           sources=[source])
        final = content(settings.db_path)

    failed = summaries[source]
    partial_loaded = failed.pages
    unchanged = source_content(after, source) == source_content(before, source)
    outcome.record(f"down-{source}",
                   f"{source} {failed.status.upper()} after {failed.pages} page(s) had been loaded in its "
                   f"transaction: \"{re.sub(r'127.0.0.1:[0-9]+', 'localhost', failed.message or '')[:120]}…\"; "
                   f"its rows {'unchanged' if unchanged else 'CHANGED'}; "
                   f"watermark {'kept' if marks_after[source] == marks_before[source] else 'MOVED'}; "
                   f"{other} {summaries[other].status}; the next run {recovered[0].status} and converged",
                   message=failed.message, pages_loaded_before_failure=partial_loaded)

    assert failed.status == "failed"
    assert "still failing after 2 retries" in failed.message and "HTTP 503" in failed.message
    assert failed.line().startswith(f"{source}: FAILED — ServiceUnavailable")
    assert partial_loaded >= 1                        # something of it had been loaded before it went down…
    assert unchanged                                  # …and none of it is left: nothing partial
    assert marks_after[source] == marks_before[source]
    assert ledger == [("failed", None, failed.message, failed.http_retries)] and failed.http_retries >= 2
    assert archived                                   # the pages fetched before the failure stay archived
    assert summaries[other].status == "succeeded"
    assert source_content(after, other) == source_content(clean_nights, other)  # the other source completed
    assert recovered[0].status == "succeeded" and final == clean_nights
    assert violations(settings.db_path) == {}


def test_an_efetch_batch_that_keeps_coming_back_empty_is_not_a_silent_gap(tmp_path, monkeypatch, outcome):
    small_pages(monkeypatch, efetch_batch=10, ctgov_page=3)
    night = nights(40, 20)[0]
    with PubMedStandIn(night.records) as pubmed, CtGovStandIn(night.studies) as ctgov:
        settings = settings_for(tmp_path, pubmed, ctgov, http_retries=2)
        pubmed.faults = FaultsInSequence({"efetch": [None, "empty", "empty", "empty"]})  # batch 2, every ask
        [summary] = ingest(settings.db_path, settings, Window("since", TODAY - timedelta(days=10_000)),
                           sources=["pubmed"])
    stored = {row[0] for row in content(settings.db_path)["articles"]}
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        mark = runs.last_watermark(conn, "pubmed")
    missing = len({r.pmid for r in night.records} - stored)
    outcome.record("fault-empty-persistent",
                   f"run {summary.status}; {missing} of {len(night.records)} records missing; watermark "
                   f"{'advanced' if mark else 'kept'}" + (" — a silent gap" if missing and summary.status == "succeeded"
                                                          else ""))
    assert missing == 0 or (summary.status == "failed" and mark is None)
