"""A single day over esearch's cap (year-end MeSH maintenance revises more than 9,999 records on one
MDAT day) is cut by publication date, in a window, in a backfill and when a backfill resumes; a day
that cannot be cut fails the source and keeps its watermark. The cap is made small so that small
worlds reach it (as tests/test_resume.py does)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from pydantic import SecretStr

import extract.pubmed
from extract.catalogue import Catalogue
from extract.pubmed import PDAT_EARLIEST, PDAT_LATEST, DateSlice, UnsplittableSlice
from extract.standins import PubMedRecord, PubMedStandIn, pubmed_records_from_xml
from flows import pipeline
from flows.demo import generate_sample
from flows.settings import Settings
from tests.helpers import TODAY
from tests.test_pubmed_esearch import fast_client
from warehouse import backfill, runs
from warehouse.db import open_warehouse

CAP = 50
REVISED_ON = TODAY - timedelta(days=1)
# Publication dates of a day's revisions, the outer bounds and odd ones included.
PUBLISHED = [PDAT_EARLIEST, PDAT_LATEST, date(1845, 6, 1), date(2999, 12, 31)] + \
            [date(1990, 1, 1) + timedelta(days=41 * n) for n in range(CAP * 4)]


@pytest.fixture(autouse=True)
def small_cap(monkeypatch):
    monkeypatch.setattr(extract.pubmed, "ESEARCH_CAP", CAP)


def revised(n: int, published: list[date]) -> list[PubMedRecord]:
    """`n` records entered in 2018, all revised on REVISED_ON, with these publication dates in turn."""
    entered = date(2018, 5, 1)
    return [PubMedRecord(40_000_000 + i, b"<PubmedArticle/>", entered, REVISED_ON, published[i % len(published)])
            for i in range(n)]


def test_a_revision_day_over_the_cap_is_cut_by_publication_date_and_every_id_is_listed():
    records = revised(CAP * 4 + 3, PUBLISHED)
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        client = fast_client(server)
        ids, plans = client.window_ids(TODAY - timedelta(days=3))
        dp_terms = [r.params["term"] for r in server.requests if "[dp]" in r.params["term"]]
    mdat = plans[2]
    assert sorted(map(int, ids)) == sorted(r.pmid for r in records) and len(ids) == len(set(ids))
    assert mdat.complete and mdat.total == len(records) and len(mdat.slices) >= 5
    assert all(s.start == s.end == REVISED_ON and s.pdat_start is not None and s.count <= CAP for s in mdat.slices)
    assert mdat.slices[0].pdat_start == PDAT_EARLIEST and mdat.slices[-1].pdat_end == PDAT_LATEST
    assert all(a.pdat_end < b.pdat_start for a, b in zip(mdat.slices, mdat.slices[1:]))
    assert '("1000/01/01"[dp] : ' in dp_terms[0]


def test_one_publication_day_of_one_day_over_the_cap_cannot_be_cut_and_raises():
    with PubMedStandIn(revised(CAP + 1, [date(2019, 1, 1)]), enforce_rate_limit=False) as server:
        client = fast_client(server)
        with pytest.raises(UnsplittableSlice, match=f"{CAP + 1} records of mdat {REVISED_ON}..{REVISED_ON} "
                                                    "published 2019-01-01..2019-01-01 exceed the esearch cap"):
            client.window_ids(TODAY - timedelta(days=3))


def test_a_day_whose_publication_dates_do_not_cover_all_its_records_raises():
    """Records no publication-date part can reach (a date before PDAT_EARLIEST) must not be lost."""
    records = revised(CAP * 2, PUBLISHED) + [replace(r, pmid=r.pmid + 1_000, publication_date=date(500, 1, 1))
                                              for r in revised(7, PUBLISHED)]
    with PubMedStandIn(records, enforce_rate_limit=False) as server:
        with pytest.raises(UnsplittableSlice, match=f"hold {CAP * 2} of its {CAP * 2 + 7} records"):
            fast_client(server).window_ids(TODAY - timedelta(days=3))


# --- through the pipeline -----------------------------------------------------------------------

def sample_records(n: int) -> list[PubMedRecord]:
    return pubmed_records_from_xml(generate_sample(today=TODAY - timedelta(days=1), n_articles=n, n_trials=20).pubmed_xml)


def settings_for(tmp_path) -> Settings:
    return Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path / "data", ncbi_api_key=SecretStr("k"))


def ingest(conn, settings: Settings, server: PubMedStandIn, window: pipeline.Window, progress=lambda _: None):
    served = settings.with_overrides(pubmed_url=server.url)
    return pipeline.ingest_source(conn, served, "pubmed", window, catalogue=Catalogue.load(), progress=progress,
                                  today=TODAY)


@pytest.mark.parametrize("published", [PUBLISHED, [date(2019, 1, 1)]], ids=["cut", "uncuttable"])
def test_an_incremental_run_with_a_day_over_the_cap_stores_it_whole_or_fails_and_keeps_its_watermark(
        tmp_path, published):
    records = sample_records(150)
    settings = settings_for(tmp_path)
    with PubMedStandIn(records) as server, open_warehouse(settings.db_path) as conn:
        first = ingest(conn, settings, server, pipeline.Window("full"))
        mark = runs.last_watermark(conn, "pubmed")
        maintained = [replace(r, modified_date=REVISED_ON, publication_date=published[n % len(published)])
                      for n, r in enumerate(records[:CAP + 20])]
        server.add(maintained)
        server.requests.clear()
        second = ingest(conn, settings, server, pipeline.Window("incremental", TODAY - timedelta(days=3)))
        fetched = {int(pmid) for r in server.requests if r.endpoint == "efetch" for pmid in r.params["id"].split(",")}
        mark_after = runs.last_watermark(conn, "pubmed")
        stored = conn.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    assert first.status == "succeeded" and mark == TODAY
    if published is PUBLISHED:
        assert second.status == "succeeded", second.message
        assert fetched >= {r.pmid for r in maintained} and stored == len(records)
    else:
        assert second.status == "failed" and "UnsplittableSlice" in second.message
        assert "exceed the esearch cap" in second.line()
    assert mark_after == mark


class Interrupted(Exception):
    pass


def test_a_backfill_cuts_an_entrez_day_over_the_cap_stores_its_parts_and_resumes_with_them(tmp_path):
    """An Entrez day over the cap (the day a big journal backlog entered PubMed) is planned as
    publication-date parts; a backfill killed after the first part resumes with the same parts."""
    records = sample_records(150)
    day = date(2021, 3, 3)
    records = [replace(r, entrez_date=day, create_date=day, publication_date=PUBLISHED[n % len(PUBLISHED)])
               if n < 2 * CAP + 10 else r for n, r in enumerate(records)]
    settings = settings_for(tmp_path)

    def crash_after_first_part(message: str) -> None:
        if message.startswith(f"pubmed: slice edat {day}..{day} published"):
            raise Interrupted

    with PubMedStandIn(records) as server, open_warehouse(settings.db_path) as conn:
        first = ingest(conn, settings, server, pipeline.Window("full"), progress=crash_after_first_part)
        plan_id = backfill.pending_plan(conn, "pubmed")
        planned = backfill.plan_slices(conn, plan_id)
        server.requests.clear()
        window = pipeline.resolve_window(conn, "pubmed", since=None, full=False, overlap_days=3)
        second = ingest(conn, settings, server, window)
        resumed_terms = [r.params["term"] for r in server.requests if r.endpoint == "esearch"]
        stored = {row[0] for row in conn.execute("SELECT pmid FROM articles").fetchall()}
        done = backfill.plan_slices(conn, plan_id)

    parts = [s for s in planned if s.pdat_start is not None]
    assert first.status == "failed" and window.mode == "full" and second.status == "succeeded", second.message
    assert len(parts) >= 3 and all(s.start == s.end == day and s.expected <= CAP for s in parts)
    assert sum(s.expected for s in parts) == 2 * CAP + 10
    assert [s.done for s in parts] == [True] + [False] * (len(parts) - 1)
    assert stored == {r.pmid for r in records}
    assert all(s.done for s in done)
    pending_parts = [s for s in parts if not s.done]  # resumed from the stored plan, with its parts
    assert {term for term in resumed_terms if "[dp]" in term} == {
        f'({Catalogue.load().pubmed_term()}) AND ("{s.pdat_start:%Y/%m/%d}"[dp] : "{s.pdat_end:%Y/%m/%d}"[dp])'
        for s in pending_parts}


def test_a_stored_plan_gives_back_the_slices_it_was_given(tmp_path):
    slices = [DateSlice("edat", date(2001, 1, 1), date(2001, 6, 30), 40),
              DateSlice("edat", date(2001, 7, 1), date(2001, 7, 1), 30, date(1000, 1, 1), date(2010, 12, 31)),
              DateSlice("edat", date(2001, 7, 1), date(2001, 7, 1), 25, date(2011, 1, 1), date(3000, 12, 31))]
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        backfill.save_plan(conn, "plan-a", "pubmed", slices)
        backfill.save_plan(conn, "plan-b", "pubmed", [("edat", date(2002, 1, 1), date(2002, 2, 1), 5)])
        stored = backfill.plan_slices(conn, "plan-a")
        old_style = backfill.plan_slices(conn, "plan-b")
    assert [s.slice_no for s in stored] == [1, 2, 3] and not any(s.done for s in stored)
    assert [DateSlice(s.datetype, s.start, s.end, s.expected, s.pdat_start, s.pdat_end) for s in stored] == slices
    assert [(s.pdat_start, s.pdat_end, s.expected) for s in old_style] == [(None, None, 5)]
