"""Bad records end to end: served by the stand-ins inside an otherwise good page, fetched by the
real clients, parsed, loaded. Each is quarantined in `rejects` with its reason and raw fragment,
and every good record of the same page is stored.

The parsers' handling of each problem is unit-tested in tests/test_pubmed_parser.py and
tests/test_ctgov_parser.py, the loader's validation in tests/test_warehouse.py; this is the
same through HTTP, the archive, the transaction and the published warehouse."""
from __future__ import annotations

import copy
import dataclasses
import re
from datetime import timedelta

import duckdb

from extract.standins import CtGovStandIn, PubMedRecord, PubMedStandIn
from flows.pipeline import Window
from flows.settings import Settings
from tests.reliability.support import content, ingest, make_settings, nights, violations

BAD_BYTES_MARKER = "@@not-utf-8@@"


def with_pmid(record: PubMedRecord, pmid: int, xml: bytes | None = None) -> PubMedRecord:
    """`record` under another PMID (in the XML and as the stand-in's key)."""
    xml = (xml or record.xml).replace(str(record.pmid).encode(), str(pmid).encode())
    return dataclasses.replace(record, pmid=pmid, xml=xml)


def sub(pattern: bytes, replacement: bytes, xml: bytes) -> bytes:
    changed, n = re.subn(pattern, replacement, xml, count=1, flags=re.DOTALL)
    assert n == 1, pattern
    return changed


def bad_pubmed_records(good: list[PubMedRecord]) -> dict[str, tuple[PubMedRecord, str | None, str]]:
    """case id → (record as served, the record_id its reject must carry, start of the reason)."""
    with_abstract = [r for r in good if b"<AbstractText" in r.xml]
    base, other = with_abstract[0], with_abstract[1]
    pmid = 39_900_000
    bad: dict[str, tuple[PubMedRecord, str | None, str]] = {}

    def add(case: str, xml_of, record_id: str | None, reason: str) -> None:
        nonlocal pmid
        pmid += 1
        renamed = with_pmid(base, pmid)
        bad[case] = (dataclasses.replace(renamed, xml=xml_of(renamed.xml, pmid)),
                     record_id if record_id != "PMID" else str(pmid), reason)

    add("bad-pubmed-malformed-xml", lambda x, p: x.replace(b"<ArticleTitle>", b"<ArticleTitle><b>unclosed ", 1),
        "PMID", "malformed XML in record")
    add("bad-pubmed-missing-pmid", lambda x, p: sub(rb"<PMID[^>]*>\d+</PMID>", b"", x), None, "missing PMID")
    add("bad-pubmed-non-numeric-pmid", lambda x, p: sub(rb"(<PMID[^>]*>)\d+(</PMID>)", rb"\g<1>12AB34\g<2>", x),
        "12AB34", "PMID is not a number: '12AB34'")
    add("bad-pubmed-impossible-date",
        lambda x, p: sub(rb"<PubDate>.*?</PubDate>", b"<PubDate><Year>2021</Year><Month>Feb</Month>"
                                                     b"<Day>30</Day></PubDate>", x),
        "PMID", "impossible date in PubDate: Year=2021 Month=Feb Day=30")
    add("bad-pubmed-huge-abstract",
        lambda x, p: sub(rb"<Abstract>.*?</Abstract>", b"<Abstract><AbstractText>" + b"word " * 30_000
                         + b"</AbstractText></Abstract>", x),
        "PMID", "abstract too long: 149,999 characters (limit 100,000)")
    add("bad-pubmed-non-utf8", lambda x, p: x.replace(b"<ArticleTitle>", b"<ArticleTitle>Caf\xe9 \xff\xfe ", 1),
        "PMID", "malformed XML in record")
    add("bad-pubmed-bad-nct-link",
        lambda x, p: x.replace(b"</Article>", b"<DataBankList CompleteYN=\"Y\"><DataBank><DataBankName>"
                               b"ClinicalTrials.gov</DataBankName><AccessionNumberList><AccessionNumber>NCT-BAD"
                               b"</AccessionNumber></AccessionNumberList></DataBank></DataBankList></Article>", 1),
        "PMID", "failed validation: malformed NCT id 'NCT-BAD' in DataBankList")
    # The same PMID twice in one page: a second copy of a good record (its own key in the stand-in,
    # one day older so that it is served right after the original).
    again = other.xml.replace(b"<ArticleTitle>", b"<ArticleTitle>SECOND COPY ", 1)
    bad["bad-pubmed-duplicate"] = (PubMedRecord(pmid + 1, again, other.entrez_date - timedelta(days=1),
                                                other.modified_date, other.publication_date),
                                   str(other.pmid), "duplicate PMID within page")
    return bad


class TolerantCtGovStandIn(CtGovStandIn):
    """Serves studies the real stand-in cannot key (no nctId, no protocolSection, a repeated nctId),
    each right after the study it was made from, and turns a marker into bytes that are not UTF-8."""

    def replace(self, studies) -> None:
        by_key: dict[str, dict] = {}
        for study in studies:
            nct = study.get("_served_after") or study["protocolSection"]["identificationModule"]["nctId"]
            key = nct
            while key in by_key:
                key += "~"
            by_key[key] = {k: v for k, v in study.items() if k != "_served_after"}
        self._set_store(by_key)

    def _studies(self, params, empty):
        response = super()._studies(params, empty)
        return dataclasses.replace(response, body=response.body.replace(BAD_BYTES_MARKER.encode(), b"Caf\xe9 \xff"))


def nct_of(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def bad_ctgov_studies(good: list[dict]) -> dict[str, tuple[dict, str | None, str]]:
    base, other = good[0], good[1]
    bad: dict[str, tuple[dict, str | None, str]] = {}

    def variant(n: int) -> dict:
        study = copy.deepcopy(base)
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT0990{n:04d}"
        return study

    missing = variant(1)
    del missing["protocolSection"]["identificationModule"]["nctId"]
    missing["_served_after"] = "NCT09900001"
    bad["bad-ctgov-missing-nct-id"] = (missing, None, "missing NCT id")
    malformed = variant(2)
    malformed["protocolSection"]["identificationModule"]["nctId"] = "NCT123"
    bad["bad-ctgov-malformed-nct-id"] = (malformed, "NCT123", "malformed NCT id 'NCT123'")
    dated = variant(3)
    dated["protocolSection"]["statusModule"]["startDateStruct"] = {"date": "2021-13-40", "type": "ACTUAL"}
    bad["bad-ctgov-impossible-date"] = (dated, "NCT09900003", "startDateStruct:")
    typed = variant(4)
    typed["protocolSection"]["designModule"]["enrollmentInfo"] = {"count": "about forty", "type": "ESTIMATED"}
    bad["bad-ctgov-wrong-type"] = (typed, "NCT09900004", "enrollmentInfo.count")
    bad["bad-ctgov-no-protocol"] = ({"hasResults": False, "derivedSection": {}, "_served_after": "NCT09900005"},
                                    None, "missing 'protocolSection'")
    again = copy.deepcopy(other)
    again["protocolSection"]["identificationModule"]["briefTitle"] = "SECOND COPY"
    bad["bad-ctgov-duplicate"] = (again, nct_of(other), "duplicate NCT id within page")
    return bad


def settings_for(tmp_path, pubmed, ctgov) -> Settings:
    return make_settings(tmp_path, pubmed.url, ctgov.url, api_key="test-key", http_timeout=5.0, http_retries=2)


def rejects_of(db, source: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("SELECT record_id, reason, length(raw), times_seen FROM rejects WHERE source = ? "
                            "ORDER BY reason", [source]).fetchall()


def test_bad_pubmed_records_are_quarantined_and_the_rest_of_the_page_stored(tmp_path, outcome):
    good = nights(40, 20)[0].records
    bad = bad_pubmed_records(good)
    served = [*good, *(record for record, _, _ in bad.values())]
    with PubMedStandIn(served) as pubmed, CtGovStandIn(nights(40, 20)[0].studies) as ctgov:
        settings = settings_for(tmp_path, pubmed, ctgov)
        [first] = ingest(settings.db_path, settings, Window("full"), sources=["pubmed"])
        efetch_pages = sum(1 for r in pubmed.requests if r.endpoint == "efetch")
        stored = content(settings.db_path)
        rejects = rejects_of(settings.db_path, "pubmed")
        [again] = ingest(settings.db_path, settings, Window("full"), sources=["pubmed"])
        rejects_again = rejects_of(settings.db_path, "pubmed")
        with duckdb.connect(str(settings.db_path), read_only=True) as conn:
            kept_title = conn.execute("SELECT title FROM articles WHERE pmid = ?",
                                      [int(bad["bad-pubmed-duplicate"][1])]).fetchall()

    stored_pmids = {row[0] for row in stored["articles"]}
    for case, (_, record_id, reason) in bad.items():
        found = [r for r in rejects if r[0] == record_id and r[1].startswith(reason)]
        outcome.record(case, (f"quarantined: \"{found[0][1][:90]}\" (raw {found[0][2]:,} chars)" if found
                              else "NOT quarantined") + f"; {len(good)} good records of the page stored"
                       if stored_pmids == {r.pmid for r in good} else "good records MISSING")
        assert found, (case, rejects)
        assert 0 < found[0][2] <= 100_000

    assert efetch_pages == 1                                    # good and bad records shared one page
    assert first.status == "succeeded" and first.counts.rejected == len(bad)
    assert stored_pmids == {r.pmid for r in good}              # the rest of the page is stored
    assert len(rejects) == len(bad)
    assert kept_title and not kept_title[0][0].startswith("SECOND COPY")   # the first copy is the one kept
    assert again.status == "succeeded"                         # a second run quarantines nothing twice
    assert [r[:3] for r in rejects_again] == [r[:3] for r in rejects] and {r[3] for r in rejects_again} == {2}
    assert violations(settings.db_path) == {}


def test_bad_ctgov_studies_are_quarantined_and_the_rest_of_the_page_stored(tmp_path, outcome):
    good = nights(40, 20)[0].studies
    bad = bad_ctgov_studies(good)
    with PubMedStandIn([]) as pubmed, TolerantCtGovStandIn([*good, *(s for s, _, _ in bad.values())]) as ctgov:
        settings = settings_for(tmp_path, pubmed, ctgov)
        [summary] = ingest(settings.db_path, settings, Window("full"), sources=["ctgov"])
        pages = len(ctgov.requests)
        stored = content(settings.db_path)
        rejects = rejects_of(settings.db_path, "ctgov")
        with duckdb.connect(str(settings.db_path), read_only=True) as conn:
            kept_title = conn.execute("SELECT brief_title FROM trials WHERE nct_id = ?",
                                      [bad["bad-ctgov-duplicate"][1]]).fetchall()

    stored_ids = {row[0] for row in stored["trials"]}
    for case, (_, record_id, reason) in bad.items():
        found = [r for r in rejects if r[0] == record_id and reason in r[1]]
        outcome.record(case, (f"quarantined: \"{found[0][1][:90]}\"" if found else "NOT quarantined")
                       + (f"; {len(good)} good studies of the page stored"
                          if stored_ids == {nct_of(s) for s in good} else "; good studies MISSING"))
        assert found, (case, rejects)

    assert pages == 1 and summary.status == "succeeded"
    assert stored_ids == {nct_of(s) for s in good}
    assert len(rejects) == len(bad)
    assert kept_title and kept_title[0][0] != "SECOND COPY"
    assert violations(settings.db_path) == {}


def test_a_ctgov_study_with_non_utf8_bytes_is_quarantined_alone(tmp_path, outcome):
    good = nights(40, 20)[0].studies
    broken = copy.deepcopy(good[0])
    broken["protocolSection"]["identificationModule"]["nctId"] = "NCT09909999"
    broken["protocolSection"]["identificationModule"]["briefTitle"] = BAD_BYTES_MARKER + " ketamine"
    with PubMedStandIn([]) as pubmed, TolerantCtGovStandIn([*good, broken]) as ctgov:
        settings = settings_for(tmp_path, pubmed, ctgov)
        [summary] = ingest(settings.db_path, settings, Window("full"), sources=["ctgov"])
        stored = content(settings.db_path)
        rejects = rejects_of(settings.db_path, "ctgov")
    stored_ids = {row[0] for row in stored["trials"]}
    outcome.record("bad-ctgov-non-utf8",
                   f"source {summary.status}"
                   + (f": \"{summary.message[:120]}…\"" if summary.message else "")
                   + "".join(f"; quarantined {r[0]}: \"{r[1][:80]}\"" for r in rejects)
                   + f"; {len(stored_ids)} of {len(good)} good studies of the page stored")
    assert summary.status == "succeeded", summary.message
    assert stored_ids == {nct_of(s) for s in good}
    assert [r[0] for r in rejects] == ["NCT09909999"]
