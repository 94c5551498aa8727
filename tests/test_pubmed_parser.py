"""PubMed efetch XML parser, checked against the real-payload corpus and hostile input.

Expected values come from the raw bytes (regex, or an xpath over a separately parsed tree) or
were read by hand from the files; never from the parser's own output.
"""
from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from extract.pubmed_parser import iter_pubmed, parse_pubmed
from extract.records import ParsedPage

REPO = Path(__file__).resolve().parents[1]
BULK_15K = "pubmed/bulk/pubmed20n0014_even.xml.gz"
LEGACY = "pubmed/bulk/medline16n0902.xml.gz"
CURRENT = "pubmed/bulk/test_current_medline.xml.gz"
RECORD_KEYS = {
    "pmid", "record_type", "title", "abstract", "abstract_sections", "journal", "journal_iso",
    "book_title", "book_publisher",
    "pub_date", "pub_date_precision", "pub_date_raw", "pub_year", "authors", "languages",
    "publication_types", "mesh_headings", "chemicals", "keywords", "doi", "pmcid",
    "nct_links", "nct_ids", "entrez_date", "revised_date", "completed_date", "status",
    "record_version",
    "retracted", "expression_of_concern", "journal_volume", "journal_issue", "journal_pages",
    "issn_print", "issn_electronic", "nlm_journal_id", "publication_status",
    "received_date", "accepted_date", "epublish_date", "coi_statement", "suppl_mesh",
    "comments_corrections", "grants",
}
MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}
# A citation's own PMID is the first child of MedlineCitation (CommentsCorrections hold others).
CITATION_PMID = re.compile(rb"<MedlineCitation[^>]*>\s*<PMID[^>]*>\s*([^<]*?)\s*</PMID>")
BOOK_PMID = re.compile(rb"<BookDocument>\s*<PMID[^>]*>\s*([^<]*?)\s*</PMID>")
DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


def read_payload(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="session")
def pubmed_files(corpus_dir: Path) -> list[Path]:
    files = sorted(p for p in (corpus_dir / "pubmed").rglob("*") if p.name.endswith((".xml", ".xml.gz")))
    assert len(files) > 100, "corpus pubmed/ folder looks incomplete"
    return files


@pytest.fixture(scope="session")
def parsed(pubmed_files: list[Path], corpus_dir: Path) -> dict[str, tuple[bytes, ParsedPage]]:
    """Every corpus PubMed file → (payload, page), parsed once per session (parse speed:
    benchmarks/bench_replay.py)."""
    out = {}
    for path in pubmed_files:
        payload = read_payload(path)
        out[path.relative_to(corpus_dir).as_posix()] = (payload, parse_pubmed(payload))
    return out


def by_pmid(page: ParsedPage) -> dict[int, dict]:
    return {record["pmid"]: record for record in page.records}


def record_of(parsed, name: str, pmid: int) -> dict:
    return by_pmid(parsed[name][1])[pmid]


def article_xml(pmid: str | None = "1", pub_date: str = "<Year>2020</Year>", body: str = "",
                title: str = "A title.", citation_attrs: str = "", pubmed_data: str = "") -> str:
    pmid_xml = f'<PMID Version="1">{pmid}</PMID>' if pmid is not None else ""
    return (
        f"<PubmedArticle><MedlineCitation Status=\"MEDLINE\"{citation_attrs}>{pmid_xml}"
        f"<Article><Journal><JournalIssue><PubDate>{pub_date}</PubDate></JournalIssue>"
        f"<Title>J</Title></Journal><ArticleTitle>{title}</ArticleTitle>{body}</Article>"
        f"</MedlineCitation>{pubmed_data}</PubmedArticle>"
    )


def article_set(*articles: str, prolog: str = DOCTYPE) -> bytes:
    body = "".join(articles)
    return f'<?xml version="1.0" ?>\n{prolog}\n<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()


# --- the whole corpus -------------------------------------------------------------------------


def test_every_corpus_file_parses_with_counts_from_the_raw_bytes(parsed):
    for name, (payload, page) in parsed.items():
        articles = len(re.findall(rb"<PubmedArticle>", payload))
        legacy = len(re.findall(rb"<MedlineCitation[\s>]", payload)) if b"<MedlineCitationSet>" in payload else 0
        books = len(re.findall(rb"<PubmedBookArticle>", payload))
        assert page.rejects == [], name
        assert len(page.records) == articles + legacy + books, name
        source_pmids = Counter(int(p) for p in CITATION_PMID.findall(payload) + BOOK_PMID.findall(payload))
        assert Counter(r["pmid"] for r in page.records) == source_pmids, name
        book_pmids = Counter(int(p) for p in BOOK_PMID.findall(payload))
        assert Counter(r["pmid"] for r in page.records if r["record_type"] == "book") == book_pmids, name
        assert page.skipped == {}, name
        deleted = [p.decode() for block in re.findall(rb"<DeleteCitation>(.*?)</DeleteCitation>", payload, re.S)
                   for p in re.findall(rb"<PMID[^>]*>(\d+)</PMID>", block)]
        assert page.deleted_ids == deleted, name
        for record in page.records:
            assert set(record) == RECORD_KEYS, name
            if record["record_type"] == "article":
                assert record["book_title"] is None and record["book_publisher"] is None, name
            else:
                assert record["record_type"] == "book" and record["journal"] is None, name


def test_corpus_totals_match_sources_md(parsed):
    assert len(parsed[BULK_15K][1].records) == 15000
    legacy = parsed[LEGACY][1]
    assert len(legacy.records) == 604
    assert legacy.deleted_ids == ["26432306"]
    assert len(parsed[CURRENT][1].records) == 4


def xpath_expectation(article_set_root, citation) -> dict:
    """The fields a reader of the raw XML would expect, computed with plain xpath."""
    wrapper = citation.getparent() if citation.getparent() is not article_set_root else None

    def s(node, path):
        return norm(node.xpath(f"string({path})"))

    sections = citation.xpath("Article/Abstract/AbstractText")
    data_ids = {i.get("IdType"): i.text.strip()
                for i in (wrapper.xpath("PubmedData/ArticleIdList/ArticleId") if wrapper is not None else [])
                if i.text and i.text.strip()}
    eloc_doi = citation.xpath('string(Article/ELocationID[@EIdType="doi"][1])').strip()
    entrez = wrapper.xpath('PubmedData/History/PubMedPubDate[@PubStatus="entrez"]') if wrapper is not None else []
    return {
        "pmid": int(s(citation, "PMID")),
        "title": s(citation, "Article/ArticleTitle") or s(citation, "Article/VernacularTitle") or None,
        "journal": s(citation, "Article/Journal/Title") or None,
        "journal_iso": s(citation, "Article/Journal/ISOAbbreviation") or None,
        "sections": [(a.get("Label"), norm(a.xpath("string()"))) for a in sections],
        "authors": [tuple(s(a, tag) or None for tag in ("LastName", "ForeName", "Initials", "CollectiveName"))
                    for a in citation.xpath("Article/AuthorList/Author")],
        "mesh": [(h.xpath("string(DescriptorName/@UI)") or None, h.xpath("string(DescriptorName/@MajorTopicYN)") == "Y",
                  [q.get("UI") for q in h.xpath("QualifierName")]) for h in citation.xpath("MeshHeadingList/MeshHeading")],
        "languages": [norm(x) for x in citation.xpath("Article/Language/text()")],
        "publication_types": [t.get("UI") for t in citation.xpath("Article/PublicationTypeList/PublicationType")],
        "doi": data_ids.get("doi") or eloc_doi or None,
        "pmc": data_ids.get("pmc"),
        "entrez": date(*(int(entrez[0].findtext(t)) for t in ("Year", "Month", "Day"))) if entrez else None,
        "databank_ncts": [x.strip() for x in citation.xpath(
            'Article/DataBankList/DataBank[DataBankName="ClinicalTrials.gov"]/AccessionNumberList/AccessionNumber/text()')],
        "status": citation.get("Status"),
        "version": int(citation.xpath("string(PMID/@Version)")),
    }


def test_fields_match_an_xpath_reading_of_every_small_file_and_the_legacy_file(parsed):
    checked = 0
    for name, (payload, page) in parsed.items():
        if name == BULK_15K:
            continue  # far too big for a whole tree; checked by regex below
        root = etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
        records = by_pmid(page)
        for citation in root.xpath("/PubmedArticleSet/PubmedArticle/MedlineCitation | /MedlineCitationSet/MedlineCitation"):
            want = xpath_expectation(root, citation)
            got = records[want["pmid"]]
            assert got["title"] == want["title"], (name, want["pmid"])
            assert got["journal"] == want["journal"]
            assert got["journal_iso"] == want["journal_iso"]
            assert [(x["label"], x["text"]) for x in got["abstract_sections"]] == [
                (label, text) for label, text in want["sections"] if text]
            assert [tuple(a[k] for k in ("last_name", "fore_name", "initials", "collective_name"))
                    for a in got["authors"]] == want["authors"]
            assert [(m["ui"], m["major"], [q["ui"] for q in m["qualifiers"]])
                    for m in got["mesh_headings"]] == want["mesh"]
            assert got["languages"] == want["languages"]
            assert [p["ui"] for p in got["publication_types"]] == want["publication_types"]
            assert got["doi"] == want["doi"], (name, want["pmid"])
            if want["pmc"]:
                assert got["pmcid"] == want["pmc"]
            assert got["entrez_date"] == want["entrez"]
            assert [x["nct_id"] for x in got["nct_links"] if x["evidence"] == "databank"] == want["databank_ncts"]
            assert got["status"] == want["status"]
            assert got["record_version"] == want["version"]
            checked += 1
    assert checked == 604 + 145  # legacy records + every PubmedArticle outside the 15k file


def test_bulk_records_match_a_regex_reading_of_each_record(parsed):
    payload, page = parsed[BULK_15K]
    records = by_pmid(page)
    medline_dates = 0
    for chunk in payload.split(b"<PubmedArticle>")[1:]:
        pmid = int(CITATION_PMID.search(chunk).group(1))
        got = records[pmid]
        issue_date = re.search(rb"<PubDate>(.*?)</PubDate>", chunk, re.S).group(1)
        if medline := re.search(rb"<MedlineDate>(.*?)</MedlineDate>", issue_date):
            medline_dates += 1
            assert got["pub_date_raw"] == medline.group(1).decode()
            assert got["pub_year"] == int(medline.group(1)[:4])
        else:
            year = int(re.search(rb"<Year>(\d{4})</Year>", issue_date).group(1))
            month = re.search(rb"<Month>(\w+)</Month>", issue_date)
            day = re.search(rb"<Day>(\d+)</Day>", issue_date)
            month_no = (MONTHS.get(month.group(1).decode()) or int(month.group(1))) if month else None
            expected = date(year, month_no or 1, int(day.group(1)) if day and month_no else 1)
            if re.search(rb"<Season>", issue_date):
                assert got["pub_date_precision"] == "month" and got["pub_year"] == year
            else:
                assert got["pub_date"] == expected, pmid
        assert len(got["mesh_headings"]) == chunk.count(b"<DescriptorName ")
        assert len(got["authors"]) == len(re.findall(rb"<Author[\s>]", chunk))
        assert got["languages"] == [x.decode() for x in re.findall(rb"<Language>(.*?)</Language>", chunk)]
    assert medline_dates == 1101


# --- records read by hand ---------------------------------------------------------------------


def test_structured_abstract_databank_and_collective_author(parsed):
    record = record_of(parsed, "pubmed/biomcp/efetch_citation_22663011.xml", 22663011)
    assert record["title"] == "Improved survival with MEK inhibition in BRAF-mutated melanoma."
    assert [s["label"] for s in record["abstract_sections"]] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert record["abstract"].startswith("BACKGROUND: Activating mutations in serine-threonine protein kinase")
    assert "\n\nMETHODS: In this phase 3 open-label trial" in record["abstract"]
    assert "P<0.001" in record["abstract"]  # &lt; decoded
    assert record["nct_links"] == [
        {"nct_id": "NCT01245062", "evidence": "databank"},
        {"nct_id": "NCT01245062", "evidence": "abstract"},
    ]
    assert record["nct_ids"] == ["NCT01245062"]
    assert len(record["authors"]) == 26
    no_extras = {"affiliations": [], "identifier": None, "equal_contrib": None}
    assert record["authors"][-1] == {"last_name": None, "fore_name": None, "initials": None,
                                     "collective_name": "METRIC Study Group", **no_extras}
    assert record["authors"][17] == {"last_name": "Becker", "fore_name": "Jürgen C", "initials": "JC",
                                     "collective_name": None, **no_extras}
    assert record["authors"][0]["affiliations"] == [
        "Massachusetts General Hospital Cancer Center, Boston, USA. kflaherty@partners.org"]
    assert [link["ref_pmid"] for link in record["comments_corrections"]] == [22663012, 23034028, 23034029]
    assert {link["ref_type"] for link in record["comments_corrections"]} == {"CommentIn"}
    assert (record["journal_volume"], record["journal_issue"], record["journal_pages"]) == ("367", "2", "107-14")
    assert (record["issn_print"], record["issn_electronic"], record["nlm_journal_id"]) == (None, "1533-4406", "0255562")
    assert (record["publication_status"], record["epublish_date"]) == ("ppublish", date(2012, 6, 4))
    assert (record["retracted"], record["expression_of_concern"], record["grants"]) == (False, False, [])
    assert (record["pub_date"], record["pub_date_precision"], record["pub_date_raw"]) == (
        date(2012, 7, 12), "day", "2012 Jul 12")
    assert record["pub_year"] == 2012
    assert record["entrez_date"] == date(2012, 6, 6)
    assert record["completed_date"] == date(2012, 7, 27)
    assert record["revised_date"] == date(2026, 5, 18)
    assert record["doi"] == "10.1056/NEJMoa1203421" and record["pmcid"] is None
    assert {"ui": "C560077", "name": "trametinib", "registry_number": "33E86K87QN"} in record["chemicals"]
    melanoma = next(m for m in record["mesh_headings"] if m["name"] == "Melanoma")
    assert melanoma["ui"] == "D008545" and melanoma["major"] is False
    assert melanoma["qualifiers"][0] == {"ui": "Q000188", "name": "drug therapy", "major": True}
    assert {"ui": "D016449", "name": "Randomized Controlled Trial"} in record["publication_types"]
    assert (record["status"], record["record_version"], record["languages"]) == ("MEDLINE", 1, ["eng"])


def test_inline_markup_is_reduced_to_text(parsed):
    record = record_of(parsed, "pubmed/biopython/pubmed4.xml", 27797938)
    assert record["title"] == ("Leucocyte telomere length, genetic variants at the TERT gene region "
                               "and risk of pancreatic cancer.")
    results = next(s for s in record["abstract_sections"] if s["label"] == "RESULTS")
    assert "95% CI 1.07 to 2.78; ptrend=0.048)" in results["text"]
    assert "linkage disequilibrium r2<0.25)" in results["text"]
    assert "BMJ Publishing Group" not in record["abstract"]  # CopyrightInformation is not abstract text
    assert (record["pub_date"], record["pub_date_precision"], record["pub_date_raw"]) == (
        date(2017, 6, 1), "month", "2017 06")

    mathml = record_of(parsed, "pubmed/biopython/pubmed6.xml", 30108519)
    assert mathml["title"].startswith('A "Blood Relationship" Between the Overlooked Minimum Lactate')
    assert '"Minimum Lactate Equivalent" (LEmin)' in mathml["abstract"]
    assert "(P < 0.001; ES: 3.54)" in mathml["abstract"]  # <i>P</i> &lt; 0.001
    assert "mml" not in mathml["abstract"] and "  " not in mathml["abstract"]


def test_season_keywords_and_history_only_pubmed_record(parsed):
    spring, later = parsed["pubmed/biopython/pubmed1.xml"][1].records
    assert spring["pmid"] == 12091962
    assert (spring["pub_date"], spring["pub_date_precision"], spring["pub_date_raw"]) == (
        date(1990, 3, 1), "month", "1990 Spring")
    assert spring["keywords"] == ["Health Care and Public Health", "Legal Approach"]
    assert spring["entrez_date"] == date(1990, 4, 1)
    assert spring["doi"] is None and spring["abstract"] is None and spring["abstract_sections"] == []
    assert later["pmid"] == 9997
    assert (later["pub_date"], later["pub_date_precision"]) == (date(1976, 9, 28), "day")
    assert later["doi"] == "10.1016/0005-2795(76)90109-4"
    assert later["chemicals"][2] == {"ui": "D006418", "name": "Heme", "registry_number": "42VZT0U6YR"}


def test_legacy_medline_citation_set(parsed):
    page = parsed[LEGACY][1]
    assert page.deleted_ids == ["26432306"]
    assert 26432306 not in by_pmid(page)
    first = record_of(parsed, LEGACY, 17942999)
    assert first["title"] == ("Neuroplasticity in the processing of pitch dimensions: a multidimensional "
                              "scaling analysis of the mismatch negativity.")
    assert first["abstract_sections"][0]["label"] == "PURPOSE"
    assert first["abstract_sections"][0]["category"] == "OBJECTIVE"
    assert first["abstract"].startswith("PURPOSE: An auditory electrophysiological study")
    assert (first["pub_date"], first["pub_date_precision"], first["pub_date_raw"]) == (date(2007, 1, 1), "year", "2007")
    assert first["pmcid"] == "PMC4380289"  # legacy records carry it as OtherID
    assert first["entrez_date"] is None  # no PubmedData in this format
    assert first["completed_date"] == date(2008, 2, 7) and first["revised_date"] == date(2015, 12, 26)
    assert record_of(parsed, LEGACY, 25658195)["pmcid"] == "PMC4691190"  # "PMC4691190 [Available on 03/03/16]"

    bimonthly = record_of(parsed, LEGACY, 18621939)
    assert (bimonthly["pub_date"], bimonthly["pub_date_precision"], bimonthly["pub_date_raw"]) == (
        date(2008, 7, 1), "month", "2008 Jul-Aug")
    assert bimonthly["doi"] == "10.1176/appi.psy.49.4.332"  # from ELocationID

    two_trials = record_of(parsed, LEGACY, 26253018)
    assert two_trials["nct_links"] == [{"nct_id": "NCT01384227", "evidence": "abstract"},
                                       {"nct_id": "NCT02018367", "evidence": "abstract"}]
    assert "CLINICAL TRIAL REGISTRATION NUMBER: NCT01384227 and NCT02018367.)." in two_trials["abstract"]
    assert two_trials["doi"] == "10.1016/j.gie.2015.06.045"
    assert record_of(parsed, LEGACY, 21933749)["nct_links"][0] == {"nct_id": "NCT00585195", "evidence": "databank"}
    collective = [a["collective_name"] for r in page.records for a in r["authors"] if a["collective_name"]]
    assert len(collective) == 8 and "STOP-PD Study Group" in collective


def test_databank_and_abstract_nct_with_space_before_full_stop(parsed):
    record = record_of(parsed, "pubmed/pubmed_parser/pubmed-29768149.xml", 29768149)
    assert record["nct_links"] == [{"nct_id": "NCT02149199", "evidence": "databank"},
                                   {"nct_id": "NCT02149199", "evidence": "abstract"}]
    assert "200 μg of budesonide" in record["abstract"]  # &#956; decoded


def test_book_article_is_a_record_and_empty_set_is_empty(parsed):
    """Books are parsed, not skipped; their fields are checked in test_book_records.py."""
    book = parsed["pubmed/metapub/20301546.xml"][1]
    assert [(r["pmid"], r["record_type"]) for r in book.records] == [(20301546, "book")]
    assert (book.rejects, book.deleted_ids, book.skipped) == ([], [], {})
    assert parsed["pubmed/metapub/37909814.xml"][1] == ParsedPage()


def test_iter_pubmed_streams_a_gzip_file(corpus_dir):
    with gzip.open(corpus_dir / CURRENT) as stream:
        kinds = Counter(kind for kind, _ in iter_pubmed(stream))
    assert kinds == {"records": 4}


def test_memory_stays_flat_on_the_15k_file(corpus_dir):
    """A whole tree of this file takes ~800 MB; the stream should add only a few MB."""
    script = (
        "import gzip, resource, sys\n"
        "from extract.pubmed_parser import iter_pubmed\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "n = sum(kind == 'records' for kind, _ in iter_pubmed(gzip.open(sys.argv[1])))\n"
        "print(n, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(corpus_dir / BULK_15K)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    records, grown_mb = int(out[0]), int(out[1])
    assert records == 15000
    assert grown_mb < 64


# --- synthetic edge cases ---------------------------------------------------------------------


def test_article_date_is_the_fallback_for_an_unusable_pub_date():
    electronic = '<ArticleDate DateType="Electronic"><Year>2021</Year><Month>05</Month><Day>04</Day></ArticleDate>'
    page = parse_pubmed(article_set(
        article_xml("1", "<MedlineDate>Unknown</MedlineDate>", electronic),
        article_xml("2", "<MedlineDate>2019 Winter</MedlineDate>", electronic),
    ))
    first, second = page.records
    assert (first["pub_date"], first["pub_date_precision"], first["pub_date_raw"], first["pub_year"]) == (
        date(2021, 5, 4), "day", "2021 05 04", 2021)
    assert (second["pub_date"], second["pub_date_raw"]) == (date(2019, 12, 1), "2019 Winter")
    nothing = parse_pubmed(article_set(article_xml("3", "")))
    assert nothing.records[0]["pub_date"] is None and nothing.records[0]["pub_year"] is None


def test_vernacular_title_keywords_markup_and_invalid_elocation():
    body = ('<ELocationID EIdType="doi" ValidYN="N">10.1/bad</ELocationID>'
            '<ELocationID EIdType="doi" ValidYN="Y">10.1/good</ELocationID>'
            '<VernacularTitle>Titre <i>fran\u00e7ais</i></VernacularTitle>')
    keywords = '<KeywordList Owner="NOTNLM"><Keyword><i>In vitro</i>\n model</Keyword><Keyword> </Keyword></KeywordList>'
    xml = article_xml("5", body=body, title="").replace("</Article>", f"</Article>{keywords}")
    record = parse_pubmed(article_set(xml)).records[0]
    assert record["title"] == "Titre français"
    assert record["keywords"] == ["In vitro model"]
    assert record["doi"] == "10.1/good"


def test_nct_mentions_are_normalised_and_deduplicated():
    abstract = ("<Abstract><AbstractText>Registered as nct01234567 (see NCT01234567); not NCT012345678 "
                "nor NCT1234567.</AbstractText></Abstract>")
    bank = ("<DataBankList><DataBank><DataBankName>ISRCTN</DataBankName><AccessionNumberList>"
            "<AccessionNumber>ISRCTN123</AccessionNumber></AccessionNumberList></DataBank>"
            "<DataBank><DataBankName>ClinicalTrials.gov</DataBankName><AccessionNumberList>"
            "<AccessionNumber>NCT07654321</AccessionNumber></AccessionNumberList></DataBank></DataBankList>")
    record = parse_pubmed(article_set(article_xml("6", body=abstract + bank, title="Trial NCT07654321"))).records[0]
    assert record["nct_links"] == [
        {"nct_id": "NCT07654321", "evidence": "databank"},
        {"nct_id": "NCT07654321", "evidence": "abstract"},
        {"nct_id": "NCT01234567", "evidence": "abstract"},
    ]
    assert record["nct_ids"] == ["NCT01234567", "NCT07654321"]


# --- bad input --------------------------------------------------------------------------------


def test_truncated_payload_keeps_earlier_records_and_adds_one_reject(corpus_dir):
    payload = read_payload(corpus_dir / CURRENT)
    starts = [m.start() for m in re.finditer(rb"<PubmedArticle>", payload)]
    truncated = payload[: starts[2] + 300]
    page = parse_pubmed(truncated)
    assert [r["pmid"] for r in page.records] == [int(p) for p in CITATION_PMID.findall(payload)[:2]]
    assert len(page.rejects) == 1
    reject = page.rejects[0]
    assert (reject.source, reject.record_id) == ("pubmed", None)
    assert reject.reason == "malformed XML: truncated or garbled after the last complete record"
    assert reject.raw == truncated[starts[2]:].decode("utf-8", errors="replace")


@pytest.mark.parametrize("payload", [b"", b"garbage", b"\x1f\x8b\x08\x00\xff\xfe binary", b"<PubmedArticleSet><Pub"])
def test_garbage_never_raises(payload):
    page = parse_pubmed(payload)
    assert page.records == [] and len(page.rejects) == 1
    assert page.rejects[0].reason.startswith("malformed XML: ")


def test_other_eutils_bodies_are_rejected_not_read_as_empty(corpus_dir):
    rate_limit = next((corpus_dir / "eutils/biomcp").glob("esummary_error_rate_limit_*.json")).read_bytes()
    assert parse_pubmed(rate_limit).rejects[0].reason.startswith("malformed XML: ")
    esearch = parse_pubmed((corpus_dir / "eutils/biopython/esearch1.xml").read_bytes())
    assert esearch.records == []
    assert [r.reason for r in esearch.rejects] == ["unexpected root element: eSearchResult"]


@pytest.mark.parametrize(("written", "identifier"), [
    ("0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097"),
    ("https://orcid.org/0000-0002-1825-009X", "https://orcid.org/0000-0002-1825-009X"),
    (" https://orcid.org/0000-0002-1825-0097 ", "https://orcid.org/0000-0002-1825-0097"),
    ("http://orcid.org/0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097"),
    ("HTTPS://www.ORCID.org/0000000218250097", "https://orcid.org/0000-0002-1825-0097"),
    ("0000-0002-1825-009x", "https://orcid.org/0000-0002-1825-009X"),
    ("0000 0002 1825 0097", "https://orcid.org/0000-0002-1825-0097"),
    ("https://orcid.org/0000-0002-1825", "https://orcid.org/0000-0002-1825"),  # too short: kept as written
    ("0000-0002-1825-0097-1", "0000-0002-1825-0097-1"),
    ("", None),
])
def test_orcid_however_written(written, identifier):
    author = f'<AuthorList><Author><LastName>Carberry</LastName><Identifier Source="ORCID">{written}</Identifier></Author></AuthorList>'
    [record] = parse_pubmed(article_set(article_xml("1", body=author))).records
    assert record["authors"][0]["identifier"] == identifier


@pytest.mark.parametrize(("pub_date", "expected"), [
    ("<Year>2020</Year><Month>Feb</Month><Day>3</Day>", (date(2020, 2, 3), "day", "2020 Feb 3")),
    ("<Year> 2020 </Year><Month>\n02 </Month>", (date(2020, 2, 1), "month", "2020 02")),
    ("<Year>2020</Year><Season>Spring</Season>", (date(2020, 3, 1), "month", "2020 Spring")),  # the first month
    ("<Year>2019</Year><Year>2020</Year>", (date(2019, 1, 1), "year", "2019")),  # the first of a tag
    ("<MedlineDate>  2019 Dec-2020 Jan </MedlineDate>", (date(2019, 12, 1), "month", "2019 Dec-2020 Jan")),
])
def test_pub_date_parts_are_tidied_and_the_first_of_each_tag_read(pub_date, expected):
    [record] = parse_pubmed(article_set(article_xml("1", pub_date))).records
    assert (record["pub_date"], record["pub_date_precision"], record["pub_date_raw"]) == expected


def test_record_without_pmid_is_rejected_and_neighbours_kept():
    page = parse_pubmed(article_set(article_xml("1"), article_xml(None, title="Orphan"), article_xml("3")))
    assert [r["pmid"] for r in page.records] == [1, 3]
    [reject] = page.rejects
    assert (reject.record_id, reject.reason) == (None, "missing PMID")
    assert reject.raw.startswith("<PubmedArticle>") and "Orphan" in reject.raw


@pytest.mark.parametrize(("pub_date", "reason"), [
    ("<Year>2020</Year><Month>13</Month>", "impossible date in PubDate: Year=2020 Month=13"),
    ("<Year>2020</Year><Month>Jan</Month><Day>32</Day>", "impossible date in PubDate: Year=2020 Month=Jan Day=32"),
    ("<Year>2021</Year><Month>02</Month><Day>29</Day>", "impossible date in PubDate: Year=2021 Month=02 Day=29"),
])
def test_impossible_pub_date_is_rejected(pub_date, reason):
    page = parse_pubmed(article_set(article_xml("1"), article_xml("2", pub_date), article_xml("3")))
    assert [r["pmid"] for r in page.records] == [1, 3]
    assert [(r.source, r.record_id, r.reason) for r in page.rejects] == [("pubmed", "2", reason)]
    assert pub_date in page.rejects[0].raw


def test_impossible_history_date_and_bad_attributes_are_rejected():
    history = ('<PubmedData><History><PubMedPubDate PubStatus="entrez"><Year>2020</Year><Month>4</Month>'
               '<Day>31</Day></PubMedPubDate></History></PubmedData>')
    page = parse_pubmed(article_set(
        article_xml("7", pubmed_data=history),
        article_xml("abc"),
        article_xml("9").replace('Version="1"', 'Version="x"'),
    ))
    assert page.records == []
    assert [(r.record_id, r.reason) for r in page.rejects] == [
        ("7", "impossible date in History/entrez: Year=2020 Month=4 Day=31"),
        ("abc", "PMID is not a number: 'abc'"),
        ("9", "ValueError: invalid literal for int() with base 10: 'x'"),
    ]


def test_huge_reject_raw_is_truncated():
    page = parse_pubmed(article_set(article_xml("1", "<Year>2020</Year><Month>13</Month>", title="x" * 200_000)))
    assert len(page.rejects[0].raw) == 100_000


def test_declared_non_utf8_encoding_is_honoured_and_bad_bytes_are_rejected():
    latin1 = ('<?xml version="1.0" encoding="ISO-8859-1"?><PubmedArticleSet>'
              + article_xml("1", title="Caf\u00e9") + "</PubmedArticleSet>").encode("latin-1")
    assert parse_pubmed(latin1).records[0]["title"] == "Café"
    broken = article_set(article_xml("1"), article_xml("2", title="Cafe")).replace(b"Cafe", b"Caf\xe9")
    page = parse_pubmed(broken)
    assert [r["pmid"] for r in page.records] == [1]
    assert [(r.record_id, r.reason.split(":")[0]) for r in page.rejects] == [("2", "malformed XML in record")]


def test_a_broken_record_midpage_is_rejected_alone_and_the_records_after_it_kept():
    broken = article_set(article_xml("1"), article_xml("2", title="<b>unclosed"), article_xml("3"))
    page = parse_pubmed(broken)
    assert [r["pmid"] for r in page.records] == [1, 3]
    assert [(r.record_id, r.reason.split(":")[0]) for r in page.rejects] == [("2", "malformed XML in record")]


def test_a_repeated_pmid_is_kept_once_and_the_repeat_rejected():
    page = parse_pubmed(article_set(article_xml("1", title="First"), article_xml("1", title="Again"), article_xml("2")))
    assert [(r["pmid"], r["title"]) for r in page.records] == [(1, "First"), (2, "A title.")]
    assert [(r.record_id, r.reason) for r in page.rejects] == [("1", "duplicate PMID within page")]


def test_a_huge_abstract_is_rejected_not_stored():
    huge = article_xml("5").replace("</Article>", "<Abstract><AbstractText>" + "word " * 30_000
                                    + "</AbstractText></Abstract></Article>")
    page = parse_pubmed(article_set(article_xml("4"), huge))
    assert [r["pmid"] for r in page.records] == [4]
    assert page.rejects[0].record_id == "5" and page.rejects[0].reason.startswith("abstract too long: 149,999 characters (limit 100,000)")


def test_external_entities_and_dtds_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "LEAKED-FROM-DTD">')
    payloads = [
        article_set(article_xml("1", title="T &e;"),
                    prolog=f'<!DOCTYPE PubmedArticleSet [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'),
        article_set(article_xml("1", title="T &e;"),
                    prolog='<!DOCTYPE PubmedArticleSet [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
        article_set(article_xml("1", title="T &leak;"), prolog=f'<!DOCTYPE PubmedArticleSet SYSTEM "{dtd.as_uri()}">'),
        article_set(article_xml("1", title="T &leak;"),
                    prolog=f'<!DOCTYPE PubmedArticleSet [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]>'),
    ]
    for payload in payloads:
        page = parse_pubmed(payload)
        assert len(page.records) + len(page.rejects) == 1
        dumped = repr(page)
        assert "TOPSECRET-42" not in dumped and "LEAKED-FROM-DTD" not in dumped and "root:x:0" not in dumped


def test_billion_laughs_returns_quickly_and_small():
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10}">' for i in range(1, 10))
    payload = article_set(article_xml("1", title="&lol9;"), prolog=f"<!DOCTYPE PubmedArticleSet [{entities}]>")
    page = parse_pubmed(payload)
    assert len(repr(page)) < 10_000   # the entities were never expanded (10^9 "lol"s otherwise)
    assert len(page.records) + len(page.rejects) >= 1
