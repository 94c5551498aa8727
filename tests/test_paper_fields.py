"""Research-grade paper fields (migration 006): comments/corrections, grants, affiliations,
ORCIDs, retraction, journal details — parsed from the real corpus and loaded into child tables.

Expected values come from a separate lxml reading of the raw XML (xpath, per record) or were read
by eye from the files; never from the parser's own output.
"""
from __future__ import annotations

import copy
import io
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from lxml import etree

from extract.pubmed_parser import parse_pubmed
from tests.helpers import gunzip
from warehouse.db import migrate
from warehouse.load import batch_schema, load_page, transaction

BULK_15K = "pubmed/bulk/pubmed20n0014_even.xml.gz"
LEGACY = "pubmed/bulk/medline16n0902.xml.gz"
SAFE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def norm(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def payload_of(path: Path) -> bytes:
    return gunzip(path) if path.name.endswith(".gz") else path.read_bytes()


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path) -> dict[str, tuple[bytes, dict[int, dict]]]:
    """Every corpus PubMed file (efetch *.xml and the .xml.gz bulk files) → (payload, parsed
    records by PMID)."""
    files = sorted(p for p in (corpus_dir / "pubmed").rglob("*") if p.name.endswith((".xml", ".xml.gz")))
    assert len(files) > 100 and any(p.name.endswith(".gz") for p in files)
    out = {}
    for path in files:
        payload = payload_of(path)
        page = parse_pubmed(payload)
        out[path.relative_to(corpus_dir).as_posix()] = (payload, {r["pmid"]: r for r in page.records})
    return out


def raw_records(payload: bytes):
    """(pmid, element, kind) for every top-level record, read by lxml independently of the parser."""
    events = etree.iterparse(io.BytesIO(payload), events=("end",),
                             tag=("PubmedArticle", "PubmedBookArticle", "MedlineCitation"), **SAFE)
    for _, elem in events:
        parent = elem.getparent()
        if elem.tag == "MedlineCitation" and parent is not None and parent.tag == "PubmedArticle":
            continue
        if elem.tag == "PubmedBookArticle":
            yield int(elem.xpath("string(BookDocument/PMID)")), elem, "book"
        else:
            citation = elem if elem.tag == "MedlineCitation" else elem.find("MedlineCitation")
            yield int(citation.xpath("string(PMID)")), elem, "article"
        elem.clear()


def raw_authors(elem, kind: str) -> list:
    if kind == "article":
        return elem.xpath("(self::MedlineCitation | MedlineCitation)/Article/AuthorList/Author")
    own = elem.xpath('BookDocument/AuthorList[not(@Type="editors")]/Author')
    return own or elem.xpath('BookDocument/Book/AuthorList[not(@Type="editors")]/Author')


def expected_orcid(text: str) -> str:
    """The ORCID's 16 characters (digits, check character X), however it was written."""
    chars = re.sub(r"[^0-9X]", "", text.upper().rsplit("/", 1)[-1])
    assert len(chars) == 16, text
    return "https://orcid.org/" + "-".join(chars[i:i + 4] for i in range(0, 16, 4))


@pytest.fixture(scope="module")
def totals(corpus) -> dict[str, int]:
    """Walks every raw record once, checking the parsed record against it; returns the counts."""
    seen = dict(records=0, links=0, grants=0, affiliations=0, orcids=0, retracted=0, concern=0)
    for name, (payload, records) in corpus.items():
        for pmid, elem, kind in raw_records(payload):
            got = records[pmid]
            seen["records"] += 1
            citation = "(self::MedlineCitation | MedlineCitation)"
            document = "BookDocument" if kind == "book" else f"{citation}/Article"

            links = elem.xpath(f"{citation}/CommentsCorrectionsList/CommentsCorrections")
            assert len(got["comments_corrections"]) == len(links), (name, pmid)
            assert got["comments_corrections"] == [{
                "ref_type": link.get("RefType"),
                "ref_pmid": int(link.findtext("PMID")) if (link.findtext("PMID") or "").strip().isdigit() else None,
                "ref_source": norm(link.xpath("string(RefSource)")),
            } for link in links], (name, pmid)

            grants = elem.xpath(f"{document}/GrantList/Grant")
            assert len(got["grants"]) == len(grants), (name, pmid)
            assert got["grants"] == [
                {key: norm(grant.findtext(tag)) for key, tag in (
                    ("grant_id", "GrantID"), ("acronym", "Acronym"), ("agency", "Agency"), ("country", "Country"))}
                for grant in grants], (name, pmid)

            authors = raw_authors(elem, kind)
            assert len(got["authors"]) == len(authors), (name, pmid)
            for parsed_author, author in zip(got["authors"], authors):
                affiliations = author.xpath("AffiliationInfo/Affiliation")
                assert len(parsed_author["affiliations"]) == len(affiliations), (name, pmid)
                assert parsed_author["affiliations"] == [norm(a.xpath("string()")) for a in affiliations]
                orcids = author.xpath('Identifier[@Source="ORCID"]/text()')
                assert parsed_author["identifier"] == (expected_orcid(orcids[0]) if orcids else None), (name, pmid)
                assert parsed_author["equal_contrib"] == {"Y": True, "N": False}.get(author.get("EqualContrib"))
                seen["affiliations"] += len(affiliations)
                seen["orcids"] += bool(orcids)

            retracted = bool(elem.xpath(
                f'{citation}/CommentsCorrectionsList/CommentsCorrections[@RefType="RetractionIn"]'
                f' | {document}/PublicationTypeList/PublicationType[@UI="D016441"]'
                ' | BookDocument/PublicationType[@UI="D016441"]'))
            concern = bool(elem.xpath(
                f'{citation}/CommentsCorrectionsList/CommentsCorrections[@RefType="ExpressionOfConcernIn"]'))
            assert (got["retracted"], got["expression_of_concern"]) == (retracted, concern), (name, pmid)
            seen["links"] += len(links)
            seen["grants"] += len(grants)
            seen["retracted"] += retracted
            seen["concern"] += concern
    return seen


def test_every_record_carries_every_link_grant_affiliation_and_orcid(totals):
    print(f"\ncorpus: {totals}")
    assert totals["records"] > 15_000
    assert totals["links"] > 3_000 and totals["grants"] > 100 and totals["affiliations"] > 100
    assert totals["orcids"] > 100


def test_retracted_follows_the_rule_on_every_record(totals):
    # The corpus holds exactly one retracted paper (PMID 400712) and one retraction notice.
    assert totals["retracted"] == 1


def test_a_retracted_paper_and_its_retraction_notice(corpus):
    records = corpus[BULK_15K][1]
    paper = records[400712]
    assert paper["retracted"] is True and paper["expression_of_concern"] is False
    assert paper["comments_corrections"] == [{
        "ref_type": "RetractionIn", "ref_pmid": 6106651,
        "ref_source": "Felig P, Sherwin RS. J Clin Endocrinol Metab. 1980 Nov;51(5):1201"}]
    assert [g["grant_id"] for g in paper["grants"]] == ["AM-00356", "AM-13526", "AM-22158"]
    assert paper["grants"][0] == {"grant_id": "AM-00356", "acronym": "AM", "agency": "NIADDK NIH HHS",
                                  "country": "United States"}
    assert (paper["journal_volume"], paper["journal_issue"], paper["journal_pages"]) == ("47", "1", "216-9")
    assert (paper["issn_print"], paper["issn_electronic"], paper["nlm_journal_id"]) == ("0021-972X", None, "0375362")

    notice = records[400964]  # "Statement." in Nature: Retraction of Publication
    assert notice["retracted"] is False
    assert [(link["ref_type"], link["ref_pmid"]) for link in notice["comments_corrections"]] == [
        ("RetractionOf", 166323), ("RetractionOf", 178540), ("RetractionOf", 183981), ("RetractionOf", 785270)]
    assert notice["authors"][0]["affiliations"] == ["Max-Planck-Institut für Biochemie, Martinsried, FRG."]
    assert notice["authors"][1]["affiliations"] == []


def test_equal_contributors_several_affiliations_grants_and_coi(corpus):
    record = corpus["pubmed/metapub/35573891.xml"][1][35573891]
    assert [a["equal_contrib"] for a in record["authors"]] == [True, True, None, None, None, None, None]
    zhang = record["authors"][5]
    assert (zhang["last_name"], zhang["fore_name"]) == ("Zhang", "Yu-Dong")
    assert zhang["affiliations"] == [
        "School of Informatics, University of Leicester, Leicester, LE1 7RH, UK.",
        "Nanjing Yirongda Institute of Intelligent Medicine and Additive Manufacturing, Nanjing, China."]
    assert record["grants"] == [
        {"grant_id": "AA/18/3/34220", "acronym": "BHF_", "agency": "British Heart Foundation",
         "country": "United Kingdom"},
        {"grant_id": "MC_PC_17171", "acronym": "MRC_", "agency": "Medical Research Council",
         "country": "United Kingdom"}]
    assert record["coi_statement"] == ("Conflict of Interest The authors declare that they have no conflicts "
                                       "of interest to report regarding the present study.")
    assert (record["journal_volume"], record["journal_issue"], record["journal_pages"]) == ("2021", None, "1-17")
    assert (record["issn_print"], record["nlm_journal_id"], record["publication_status"]) == (
        "1530-8669", "101750559", "ppublish")
    assert (record["received_date"], record["accepted_date"], record["epublish_date"]) == (None, None, None)


def test_orcids_in_the_forms_pubmed_writes_them(corpus):
    capaldi = corpus["pubmed/biopython/pubmed7.xml"][1][29963580]["authors"][1]
    assert (capaldi["last_name"], capaldi["identifier"]) == ("Capaldi", "https://orcid.org/0000-0002-4590-7461")
    assert len(capaldi["affiliations"]) == 2
    guo = corpus["pubmed/biopython/pubmed7.xml"][1][29963580]["authors"][0]
    assert guo["last_name"] == "Guo" and len(guo["affiliations"]) == 3
    ohlemacher = next(a for a in corpus["pubmed/metapub/37552767.xml"][1][37552767]["authors"]
                      if a["last_name"] == "Ohlemacher")
    assert ohlemacher["identifier"] == "https://orcid.org/0000-0003-3796-675X"  # bare, check digit X kept
    sugrue = [a for r in corpus[LEGACY][1].values() for a in r["authors"] if a["last_name"] == "Sugrue"]
    assert "https://orcid.org/0000-0001-9921-6968" in [a["identifier"] for a in sugrue]  # was http://


def test_legacy_medline_citation_set_still_parses(corpus_dir):
    payload = gunzip(corpus_dir / LEGACY)
    page = parse_pubmed(payload)
    assert page.rejects == [] and len(page.records) == 604 == payload.count(b"<MedlineCitation ")
    links = [link for r in page.records for link in r["comments_corrections"]]
    assert len(links) == payload.count(b"<CommentsCorrections ") == 3620
    assert {link["ref_type"] for link in links} == {"Cites", "CommentIn", "CommentOn", "ErratumFor", "ErratumIn"}
    assert {r["publication_status"] for r in page.records} == {None}  # no PubmedData in 2016 files


def synthetic(authors: str = "", citation: str = "", article: str = "", history: str = "") -> bytes:
    return (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation Status='MEDLINE'><PMID Version='1'>99000001</PMID>"
        "<Article><Journal><JournalIssue><PubDate><Year>2024</Year></PubDate></JournalIssue></Journal>"
        f"<ArticleTitle>T</ArticleTitle>{article}<AuthorList>{authors}</AuthorList></Article>{citation}"
        f"</MedlineCitation><PubmedData><History>{history}</History></PubmedData></PubmedArticle></PubmedArticleSet>"
    ).encode()


@pytest.mark.parametrize("written", [
    "0000-0002-1825-0097", "0000000218250097", "http://orcid.org/0000-0002-1825-0097",
    "https://orcid.org/0000000218250097", " orcid.org/0000-0002-1825-0097 ", "HTTPS://ORCID.ORG/0000-0002-1825-0097"])
def test_orcid_forms_are_normalised(written):
    xml = synthetic(f"<Author><LastName>A</LastName><Identifier Source='ORCID'>{written}</Identifier></Author>")
    assert parse_pubmed(xml).records[0]["authors"][0]["identifier"] == "https://orcid.org/0000-0002-1825-0097"


def test_orcid_check_digit_x_and_other_identifiers():
    xml = synthetic("<Author><LastName>A</LastName><Identifier Source='ISNI'>0000 0001</Identifier>"
                    "<Identifier Source='ORCID'>0000-0002-1694-233x</Identifier></Author>"
                    "<Author><LastName>B</LastName><Identifier Source='ORCID'>not-an-orcid</Identifier></Author>")
    first, second = parse_pubmed(xml).records[0]["authors"]
    assert first["identifier"] == "https://orcid.org/0000-0002-1694-233X"
    assert second["identifier"] == "not-an-orcid"  # kept as written, never guessed


def test_expression_of_concern_pages_fallback_dates_and_suppl_mesh():
    xml = synthetic(
        citation=("<SupplMeshList><SupplMeshName Type='Disease' UI='C000657245'>COVID-19</SupplMeshName>"
                  "</SupplMeshList><CommentsCorrectionsList><CommentsCorrections RefType='ExpressionOfConcernIn'>"
                  "<RefSource>J X. 2024;1:2</RefSource></CommentsCorrections></CommentsCorrectionsList>"
                  "<CoiStatement>None <b>declared</b>.</CoiStatement>"),
        article=("<Pagination><StartPage>e101</StartPage><EndPage>e109</EndPage></Pagination>"
                 "<ArticleDate DateType='Electronic'><Year>2024</Year><Month>02</Month><Day>30</Day></ArticleDate>"),
        history=("<PubMedPubDate PubStatus='received'><Year>2023</Year><Month>11</Month><Day>2</Day></PubMedPubDate>"
                 "<PubMedPubDate PubStatus='accepted'><Year>2023</Year><Month>13</Month><Day>1</Day></PubMedPubDate>"
                 "<PubMedPubDate PubStatus='epublish'><Year>2024</Year><Month>3</Month><Day>4</Day></PubMedPubDate>"))
    page = parse_pubmed(xml)
    assert page.rejects == []
    [record] = page.records
    assert (record["expression_of_concern"], record["retracted"]) == (True, False)
    assert record["comments_corrections"] == [
        {"ref_type": "ExpressionOfConcernIn", "ref_pmid": None, "ref_source": "J X. 2024;1:2"}]
    assert record["journal_pages"] == "e101-e109"
    assert record["suppl_mesh"] == [{"ui": "C000657245", "name": "COVID-19", "type": "Disease"}]
    assert record["coi_statement"] == "None declared."
    # An impossible ArticleDate (Feb 30) and accepted date (Month 13) are left None, not a reject;
    # epublish falls back to the History date.
    assert (record["received_date"], record["accepted_date"], record["epublish_date"]) == (
        date(2023, 11, 2), None, date(2024, 3, 4))


def test_a_link_without_ref_type_rejects_the_record():
    xml = synthetic(citation="<CommentsCorrectionsList><CommentsCorrections><PMID>1</PMID>"
                             "</CommentsCorrections></CommentsCorrectionsList>")
    page = parse_pubmed(xml)
    assert page.records == [] and [r.reason for r in page.rejects] == ["CommentsCorrections without RefType"]


# Loading ---------------------------------------------------------------------------------------

LINKS = "SELECT pmid, ref_type, ref_pmid, ref_source FROM comments_corrections ORDER BY ALL"
GRANTS = "SELECT pmid, grant_id, acronym, agency, country FROM grants ORDER BY ALL"


def link_rows(records) -> list[tuple]:
    return sorted((r["pmid"], link["ref_type"], link["ref_pmid"], link["ref_source"])
                  for r in records for link in r["comments_corrections"])


def grant_rows(records) -> list[tuple]:
    return sorted((r["pmid"], g["grant_id"], g["acronym"], g["agency"], g["country"])
                  for r in records for g in r["grants"])


def test_the_batch_schema_carries_the_child_lists():
    schema = batch_schema("article")
    assert schema.field("comments_corrections").type.value_type.field("ref_pmid").type == pa.int64()
    assert [f.name for f in schema.field("grants").type.value_type] == ["grant_id", "acronym", "agency", "country"]
    assert schema.field("authors").type.value_type.field("affiliations").type == pa.list_(pa.string())


def test_child_rows_are_loaded_replaced_and_deleted_with_their_paper(corpus_dir):
    payload = gunzip(corpus_dir / BULK_15K)
    page = parse_pubmed(payload)
    # The first 1,500 records and every one with a link (the retracted paper has three grants too).
    records = list({r["pmid"]: r for r in page.records[:1500] + [r for r in page.records
                                                                 if r["comments_corrections"]]}.values())
    assert any(r["comments_corrections"] for r in records) and any(r["grants"] for r in records)
    conn = duckdb.connect(":memory:")
    migrate(conn, ":memory:")

    with transaction(conn):
        counts = load_page(conn, "article", records, run_id="r1")
    assert counts.new == len(records)
    assert conn.execute(LINKS).fetchall() == link_rows(records)
    assert conn.execute(GRANTS).fetchall() == grant_rows(records)
    stored = conn.execute("SELECT authors, retracted, journal_pages FROM articles WHERE pmid = ?",
                          [records[0]["pmid"]]).fetchone()
    assert stored[1:] == (records[0]["retracted"], records[0]["journal_pages"])
    assert [a["affiliations"] for a in stored[0]] == [a["affiliations"] for a in records[0]["authors"]]

    target = next(r for r in records if len(r["grants"]) >= 2 and r["comments_corrections"])
    changed = copy.deepcopy(target)
    changed["grants"] = changed["grants"][:1]
    changed["comments_corrections"].append({"ref_type": "ErratumIn", "ref_pmid": 1, "ref_source": "Erratum"})
    with transaction(conn):
        counts = load_page(conn, "article", [changed, *records[:3]], run_id="r2")
    assert (counts.updated, counts.unchanged) == (1, 3)
    after = [changed if r["pmid"] == target["pmid"] else r for r in records]
    assert conn.execute(LINKS).fetchall() == link_rows(after)  # replaced, not doubled
    assert conn.execute(GRANTS).fetchall() == grant_rows(after)

    with transaction(conn):
        counts = load_page(conn, "article", after, run_id="r3")
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, len(after))
    assert conn.execute(LINKS).fetchall() == link_rows(after)
    assert conn.execute(GRANTS).fetchall() == grant_rows(after)

    with transaction(conn):
        load_page(conn, "article", [], run_id="r4", deleted_ids=[str(target["pmid"])])
    rest = [r for r in after if r["pmid"] != target["pmid"]]
    assert conn.execute(LINKS).fetchall() == link_rows(rest)
    assert conn.execute(GRANTS).fetchall() == grant_rows(rest)
    conn.close()
