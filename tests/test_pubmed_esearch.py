"""What the PubMed client makes of esearch's answers, against the stand-in over real HTTP: in-band
backend failures, warnings about the term, POSTed searches, the create date in an incremental
window, and the catalogue's full id set for reconciliation."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

import extract.pubmed
from extract.http import HttpClient
from extract.pubmed import IncompleteIdSet, PubMedClient, SearchError
from extract.standins import BACKEND_ERRORS, FaultPlan, PubMedRecord, PubMedStandIn
from tests.helpers import TODAY
from tests.test_pubmed_client import fetched_pmids, minimal_records

TERM = 'ketamine[tiab] OR esketamine[tiab]'


def fast_client(server: PubMedStandIn, term: str = TERM, **kwargs) -> PubMedClient:
    """A client with the default retry budget (6) and backoff too short to wait for, at a rate the
    stand-in (its own limiter off) does not mind."""
    http = HttpClient("PubMed", server.url, rate_per_second=100, backoff_base=0.001,
                      default_params={"tool": "trialwatch", "email": "tests@example.org"})
    return PubMedClient(http, term, today=lambda: TODAY, **kwargs)


# --- in-band backend failures -------------------------------------------------------------------

def test_esearch_backend_failures_answered_in_band_are_retried_until_every_id_is_listed(monkeypatch, caplog):
    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", 40)  # many slices, so many searches
    records = minimal_records(400, TODAY - timedelta(days=60))
    faults = FaultPlan(rate=0.3, seed=5, kinds=["backend-error"], rate_on=["esearch"])
    with PubMedStandIn(records, faults=faults, enforce_rate_limit=False) as server:
        client = fast_client(server)
        with caplog.at_level(logging.WARNING, logger="trialwatch.http"):
            ids, plans = client.window_ids(None)
        pmids = fetched_pmids(client.fetch(ids))
        searches = sum(r.endpoint == "esearch" for r in server.requests)
    served = server.faults_served["backend-error"]
    assert sorted(map(int, ids)) == sorted(pmids) == sorted(r.pmid for r in records)
    assert plans[0].complete and len(plans[0].slices) >= 10
    assert served >= 10 and searches > served
    assert client.http.stats.retry_reasons["invalid body"] == served == client.http.stats.retries
    retried = [r.message for r in caplog.records if r.name == "trialwatch.http"]
    assert len(retried) == served and all(any(m[:60] in text for text in retried) for m in BACKEND_ERRORS)


def test_permanent_esearch_errors_are_not_retried():
    with PubMedStandIn(minimal_records(10, TODAY), enforce_rate_limit=False) as server:
        client = fast_client(server, term="")
        with pytest.raises(SearchError, match="Empty term"):
            client.window_ids(None)
    assert client.http.stats.retries == 0


# --- warnings about the term --------------------------------------------------------------------

def test_parts_of_the_term_that_match_nothing_are_kept_and_logged_once(caplog):
    term = 'ketamine[tiab] OR "comp 360"[tiab] OR zqxv[tiab]'
    records = minimal_records(30, TODAY - timedelta(days=4))
    with PubMedStandIn(records, phrases_not_found=['"comp 360"[tiab]', "zqxv[tiab]", "absent[mh]"],
                       enforce_rate_limit=False) as server:
        client = fast_client(server, term=term)
        with caplog.at_level(logging.WARNING, logger="trialwatch.pubmed"):
            ids, _ = client.window_ids(TODAY - timedelta(days=5))  # three plans: several searches
        searches = sum(r.endpoint == "esearch" for r in server.requests)
    assert searches >= 6
    assert client.query_warnings == ["phrase not found: zqxv[tiab]", 'phrase not found: "comp 360"[tiab]']
    assert client.query_translation == term
    logged = [r for r in caplog.records if r.name == "trialwatch.pubmed"]
    assert len(logged) == 1 and "zqxv[tiab]" in logged[0].message and '"comp 360"[tiab]' in logged[0].message
    assert len(ids) == 30  # the rest of the term still matched


def test_a_term_without_warnings_keeps_none(caplog):
    with PubMedStandIn(minimal_records(5, TODAY), phrases_not_found=["absent[mh]"], enforce_rate_limit=False) as server:
        client = fast_client(server)
        with caplog.at_level(logging.WARNING, logger="trialwatch.pubmed"):
            client.window_ids(None)
    assert client.query_warnings == [] and client.query_translation == TERM
    assert not [r for r in caplog.records if r.name == "trialwatch.pubmed"]


# --- POST ---------------------------------------------------------------------------------------

def test_esearch_is_posted_with_the_term_in_the_form_body():
    long_term = " OR ".join(f'"ketamine analogue {n}"[tiab]' for n in range(150))  # ~4,500 characters
    with PubMedStandIn(minimal_records(20, TODAY - timedelta(days=2)), enforce_rate_limit=False) as server:
        client = fast_client(server, term=long_term)
        ids, _ = client.window_ids(TODAY - timedelta(days=3))
        searches = [r for r in server.requests if r.endpoint == "esearch"]
    assert len(ids) == 20 and len(long_term) > 4000
    assert searches and all(r.method == "POST" for r in searches)
    assert all(r.params == r.form and long_term in r.form["term"] for r in searches)  # nothing in the URL


# --- create date --------------------------------------------------------------------------------

def test_an_old_paper_created_today_is_in_the_incremental_window():
    """Its Entrez date is its 2019 publication date (it entered PubMed years late), so only the
    create date shows that it is new."""
    published = date(2019, 3, 1)
    late = PubMedRecord(31_000_001, b"<PubmedArticle/>", published, published, published, create_date=TODAY)
    others = minimal_records(40, TODAY - timedelta(days=4))
    with PubMedStandIn([late, *others], enforce_rate_limit=False) as server:
        client = fast_client(server)
        ids, plans = client.window_ids(TODAY - timedelta(days=3))
        crdt_terms = {r.params["term"] for r in server.requests if "[crdt]" in r.params["term"]}
        datetypes = {r.params.get("datetype") for r in server.requests}
    recent = [r.pmid for r in others if r.entrez_date >= TODAY - timedelta(days=3)]
    assert str(late.pmid) in ids and sorted(map(int, ids)) == sorted([late.pmid, *recent])
    edat, crdt, mdat = plans
    assert crdt.total == edat.total + 1 == mdat.total + 1 and crdt.slices[0].datetype == "crdt"
    assert len(crdt_terms) >= 1 and "crdt" not in datetypes  # crdt as a term range, not a datetype


# --- the catalogue's full id set ----------------------------------------------------------------

def test_catalogue_ids_are_every_pmid_the_term_matches_also_after_records_go(monkeypatch):
    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", 40)
    crowded_day = TODAY - timedelta(days=100)
    crowded = [PubMedRecord(32_000_000 + n, b"<PubmedArticle/>", crowded_day, crowded_day,
                            date(2000, 1, 1) + timedelta(days=37 * n)) for n in range(90)]  # one day over the cap
    records = minimal_records(300, date(2015, 1, 1)) + crowded
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        client = fast_client(server)
        before = client.catalogue_ids()
        kept = records[::3]
        server.replace(kept)
        after = client.catalogue_ids()
    assert sorted(map(int, before)) == sorted(r.pmid for r in records) and len(set(before)) == len(before)
    assert sorted(map(int, after)) == sorted(r.pmid for r in kept)


class GrowsAfter(FaultPlan):
    """No faults: PubMed gains `records` just before its `after`-th esearch is answered (the
    catalogue changing while it is being listed)."""

    def __init__(self, server: PubMedStandIn, records: list[PubMedRecord], after: int):
        super().__init__()
        self.server, self.records, self.after, self.seen = server, records, after, 0

    def next_fault(self, endpoint: str) -> str | None:
        self.seen += 1
        if self.seen == self.after:
            self.server.add(self.records)
        return None


@pytest.mark.parametrize(("when", "new_records", "problem"), [
    ("planning", 10, "slices count 210 records but the term matches 200"),
    ("listing", 45, r"esearch listed 40 of the \d+ records"),
])
def test_a_catalogue_id_set_that_does_not_add_up_is_refused(monkeypatch, when, new_records, problem):
    """Records arrive after the total was counted (the slices then count more than the total), or
    after planning, pushing a slice over the cap (it can then not be listed whole)."""
    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", 40)
    records = minimal_records(200, date(2015, 1, 1))
    day = records[0].entrez_date
    added = [PubMedRecord(33_000_000 + n, b"<PubmedArticle/>", day, day, day) for n in range(new_records)]
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        client = fast_client(server)
        client.plan("edat", extract.pubmed.EARLIEST, TODAY + timedelta(days=1))
        planning = len(server.requests)  # the requests planning takes, before the first listing
        server.faults = GrowsAfter(server, added, after=2 if when == "planning" else planning + 1)
        with pytest.raises(IncompleteIdSet, match=problem):
            client.catalogue_ids()
    assert issubclass(IncompleteIdSet, RuntimeError)


def test_a_full_ingest_stores_every_record_with_30_percent_of_esearch_calls_failing_in_band(monkeypatch, tmp_path):
    from extract.catalogue import Catalogue
    from flows import pipeline
    from flows.settings import Settings
    from pydantic import SecretStr
    from warehouse.db import open_warehouse

    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", 40)  # a backfill of many slices: many searches
    records = minimal_records(300, TODAY - timedelta(days=90))
    faults = FaultPlan(rate=0.3, seed=11, kinds=["backend-error"], rate_on=["esearch"])
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, ncbi_api_key=SecretStr("k"))
    with PubMedStandIn(records, faults=faults) as server, open_warehouse(settings.db_path) as conn:
        summary = pipeline.ingest_source(conn, settings.with_overrides(pubmed_url=server.url), "pubmed",
                                         pipeline.Window("full"), catalogue=Catalogue.load(),
                                         progress=lambda _: None, today=TODAY)
        stored = {pmid for (pmid,) in conn.execute("SELECT pmid FROM articles").fetchall()}
    assert server.faults_served["backend-error"] >= 5
    assert summary.status == "succeeded" and summary.http_retries >= server.faults_served["backend-error"]
    assert stored == {r.pmid for r in records}
