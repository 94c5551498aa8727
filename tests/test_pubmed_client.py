"""PubMed client against the PubMed stand-in: real HTTP, real payloads, the 9,999 cap."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree

from extract.pubmed import ESEARCH_CAP, DateSlice, PubMedClient, SearchError, ncbi_http
from extract.standins import FaultPlan, PubMedRecord, PubMedStandIn
from tests.helpers import corpus_pubmed_records



def minimal_records(count: int, first_day: date) -> list[PubMedRecord]:
    """`count` tiny articles, entered one every ~3 hours from `first_day` on."""
    records = []
    for n in range(count):
        pmid = 20_000_000 + n
        day = first_day + timedelta(days=n // 8)
        xml = (f"<PubmedArticle><MedlineCitation><PMID Version=\"1\">{pmid}</PMID><Article>"
               f"<ArticleTitle>Ketamine record {n}</ArticleTitle></Article></MedlineCitation>"
               f"</PubmedArticle>").encode()
        records.append(PubMedRecord(pmid, xml, day, day, day))
    return records


def client_for(server: PubMedStandIn, **kwargs) -> PubMedClient:
    http = ncbi_http(server.url, api_key=kwargs.pop("api_key", None), email="tests@example.org",
                     backoff_base=0.05)
    return PubMedClient(http, "ketamine[tiab]", today=lambda: date(2026, 11, 28), **kwargs)


def fetched_pmids(pages) -> list[int]:
    """PMIDs of the articles and books in efetch pages (read with lxml, independent of our parser)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    paths = "/PubmedArticleSet/PubmedArticle/MedlineCitation/PMID | /PubmedArticleSet/PubmedBookArticle/BookDocument/PMID"
    return [int(pmid.text) for page in pages for pmid in etree.fromstring(page.body, parser).xpath(paths)]


def test_full_pull_of_real_records_gets_each_once_without_tripping_the_rate_limit(corpus_dir):
    records = corpus_pubmed_records(corpus_dir)
    with PubMedStandIn(records) as server:
        client = client_for(server, batch_size=50)
        ids, plans = client.window_ids(None)
        pmids = fetched_pmids(client.fetch(ids))
        methods = {r.method for r in server.requests if r.endpoint == "efetch"}
    assert sorted(pmids) == sorted(r.pmid for r in records)
    assert plans[0].complete and plans[0].total == len(records)
    assert server.rate_limited == 0
    assert methods == {"POST"}


def test_backfill_past_the_esearch_cap_splits_and_adds_up():
    records = minimal_records(12_345, date(2020, 1, 1))
    with PubMedStandIn(records) as server:
        client = client_for(server, api_key="k")
        ids, plans = client.window_ids(None)
        cap_errors = [r for r in server.requests if int(r.params.get("retstart", 0)) > 9998]
    plan = plans[0]
    assert plan.total == 12_345 and plan.sliced_total == 12_345 and plan.complete
    assert len(plan.slices) >= 2 and all(s.count <= ESEARCH_CAP for s in plan.slices)
    assert sorted(map(int, ids)) == sorted(r.pmid for r in records)
    assert not cap_errors  # never asked beyond what esearch can reach


def holds(piece: DateSlice, record: PubMedRecord) -> bool:
    published = piece.pdat_start is None or piece.pdat_start <= record.publication_date <= piece.pdat_end
    return piece.start <= record.entrez_date <= piece.end and published


def test_plan_of_a_skewed_history_covers_every_record_once_in_slices_that_cannot_be_merged(caplog):
    # a few old records, a dense recent stretch, and one day over the cap on its own
    caplog.set_level("INFO", logger="trialwatch.pubmed")
    old = [PubMedRecord(r.pmid + 5_000_000, r.xml, date(1975, 3, 1), date(1975, 3, 1), date(1975, 3, 1))
           for r in minimal_records(7, date(2020, 1, 1))]
    recent = minimal_records(24_000, date(2021, 6, 1))  # 8 a day until 2029: some after the range
    crowded_day = date(2025, 1, 1)
    crowded = [PubMedRecord(r.pmid + 9_000_000, r.xml, crowded_day, crowded_day, date(2023, 1, 1) + timedelta(days=n % 700))
               for n, r in enumerate(minimal_records(ESEARCH_CAP + 1, date(2020, 1, 1)))]
    with PubMedStandIn(old + recent + crowded) as server:
        plan = client_for(server, api_key="k").plan("edat", date(1800, 1, 1), date(2026, 11, 29))
    records = [r for r in old + recent + crowded if r.entrez_date <= date(2026, 11, 29)]
    slices = plan.slices
    assert plan.total == plan.sliced_total == len(records) and plan.complete
    for a, b in zip(slices, slices[1:]):  # in order, no overlap: by day, then by publication date
        assert a.end < b.start or (a.start == b.end == b.start and a.pdat_end < b.pdat_start)
    for piece in slices:  # each slice's count is what it really holds
        assert piece.count == sum(holds(piece, r) for r in records)
    cut = [s for s in slices if s.pdat_start is not None]
    assert len(cut) >= 2 and {(s.start, s.end) for s in cut} == {(crowded_day, crowded_day)}
    assert "cut by publication date" in caplog.text
    mergeable = [(a, b) for a, b in zip(slices, slices[1:]) if (a.pdat_start is None) == (b.pdat_start is None)]
    assert all(a.count + b.count > ESEARCH_CAP for a, b in mergeable)  # nothing left to merge
    assert all(s.count > 0 for s in slices)


def test_incremental_window_asks_by_entrez_create_and_modification_date():
    old = minimal_records(30, date(2020, 1, 1))
    recent = [PubMedRecord(r.pmid + 1_000_000, r.xml, date(2026, 11, 26), date(2026, 11, 26), r.publication_date)
              for r in minimal_records(5, date(2020, 1, 1))]
    revised = [PubMedRecord(old[0].pmid, old[0].xml, old[0].entrez_date, date(2026, 11, 27), old[0].publication_date)]
    with PubMedStandIn(old[1:] + revised + recent) as server:
        client = client_for(server)
        ids, _ = client.window_ids(date(2026, 11, 25))
        searches = [r.params for r in server.requests if r.endpoint == "esearch"]
    assert sorted(map(int, ids)) == sorted([r.pmid for r in recent] + [old[0].pmid])
    assert {p.get("datetype") for p in searches} == {"edat", "mdat", None}  # crdt goes in the term
    assert {p["mindate"] for p in searches if "datetype" in p} == {"2026/11/25"}
    assert {p["term"] for p in searches if "datetype" not in p} == {
        '(ketamine[tiab]) AND ("2026/11/25"[crdt] : "2026/11/29"[crdt])'}


def test_faults_on_efetch_and_esearch_lose_nothing(corpus_dir):
    records = corpus_pubmed_records(corpus_dir)
    faults = FaultPlan({"esearch": ["503", "truncate", "empty"],
                        "efetch": ["truncate", "503", "429", "drop", "empty", "retry-after"]})
    with PubMedStandIn(records, faults=faults) as server:
        client = client_for(server, batch_size=40)
        ids, _ = client.window_ids(None)
        pmids = fetched_pmids(client.fetch(ids))
    assert sorted(pmids) == sorted(r.pmid for r in records)
    assert len(pmids) == len(set(pmids))
    assert client.http.stats.retries >= 6


def test_esearch_error_is_reported_not_ignored():
    with PubMedStandIn(minimal_records(10_050, date(2020, 1, 1))) as server:
        client = client_for(server)
        with pytest.raises(SearchError, match="cannot be larger than 9998"):
            client._esearch(DateSlice("edat", date(2000, 1, 1), date(2030, 1, 1), 0), retstart=10_000, retmax=10)
    assert client.http.stats.retries == 0  # the cap is an answer, not a failure to retry
