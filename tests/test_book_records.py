"""PubMed book records (`PubmedBookArticle`: books and chapters such as StatPearls entries) are
parsed into the article record shape, marked record_type 'book', and fit the warehouse.

Expected values were read by hand from the XML (the real file, or the synthetic records below),
never from the parser's output.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from extract.catalogue import Catalogue
from extract.pubmed_parser import parse_pubmed
from warehouse.db import open_warehouse
from warehouse.load import build_batch, load_page, transaction

BOOK_FILE = "pubmed/metapub/20301546.xml"  # a GeneReviews chapter
ARTICLE_FILE = "pubmed/biomcp/efetch_citation_22663011.xml"  # a journal article with a DataBank NCT id


def element(payload: bytes, tag: bytes) -> bytes:
    return re.search(rb"<%s>.*?</%s>" % (tag, tag), payload, re.S).group(0)


def article_set(*records: bytes | str) -> bytes:
    body = b"".join(r.encode() if isinstance(r, str) else r for r in records)
    return b'<?xml version="1.0" ?>\n<PubmedArticleSet>' + body + b"</PubmedArticleSet>"


def book_xml(pmid: str | None = "28613598", *, article_title: str | None = "Ketamine",
             book_title: str = "StatPearls", pub_date: str = "<Year>2025</Year><Month>01</Month>",
             book_authors: str = "", document: str = "", history: str | None = None, ids: str = "") -> str:
    """A book record shaped like PubMed's StatPearls chapters (DTD pubmed_250101)."""
    pmid_xml = f'<PMID Version="1">{pmid}</PMID>' if pmid is not None else ""
    title_xml = f'<ArticleTitle book="statpearls">{article_title}</ArticleTitle>' if article_title else ""
    if history is None:
        history = ('<PubMedPubDate PubStatus="pubmed"><Year>2017</Year><Month>6</Month><Day>15</Day></PubMedPubDate>'
                   '<PubMedPubDate PubStatus="entrez"><Year>2017</Year><Month>6</Month><Day>14</Day></PubMedPubDate>')
    return (
        f"<PubmedBookArticle><BookDocument>{pmid_xml}"
        '<ArticleIdList><ArticleId IdType="bookaccession">NBK470357</ArticleId></ArticleIdList>'
        "<Book><Publisher><PublisherName>StatPearls Publishing</PublisherName>"
        "<PublisherLocation>Treasure Island (FL)</PublisherLocation></Publisher>"
        f'<BookTitle book="statpearls">{book_title}</BookTitle><PubDate>{pub_date}</PubDate>{book_authors}</Book>'
        f"{title_xml}<Language>eng</Language>{document}</BookDocument>"
        f"<PubmedBookData><History>{history}</History><PublicationStatus>ppublish</PublicationStatus>"
        f'<ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>{ids}</ArticleIdList></PubmedBookData>'
        "</PubmedBookArticle>"
    )


@pytest.fixture(scope="module")
def real_book(corpus_dir) -> bytes:
    return (corpus_dir / BOOK_FILE).read_bytes()


def test_the_real_genereviews_chapter_is_one_book_record(real_book):
    page = parse_pubmed(real_book)
    assert (page.rejects, page.deleted_ids, page.skipped) == ([], [], {})
    [record] = page.records
    assert record["pmid"] == 20301546 and record["record_version"] == 1
    assert record["record_type"] == "book"
    assert record["title"] == "Hereditary Motor and Sensory Neuropathy with Agenesis of the Corpus Callosum"
    assert record["book_title"] == "GeneReviews®"  # GeneReviews<sup>&#174;</sup>
    assert record["book_publisher"] == "University of Washington, Seattle"
    assert (record["journal"], record["journal_iso"]) == (None, None)
    # The chapter's authors; the book's editors (Adam, Bick, Mirzaa, ...) are not authors.
    assert [(a["last_name"], a["fore_name"], a["initials"]) for a in record["authors"]] == [
        ("Gauvreau", "Claudie", "C"), ("Brisson", "Jean-Denis", "JD"), ("Dupré", "Nicolas", "N")]
    assert record["authors"][0]["collective_name"] is None
    assert (record["pub_date"], record["pub_date_precision"], record["pub_date_raw"], record["pub_year"]) == (
        date(1993, 1, 1), "year", "1993", 1993)
    assert record["entrez_date"] == date(2020, 9, 17)
    assert record["revised_date"] == date(2020, 9, 17)
    assert record["languages"] == ["eng"]
    assert record["publication_types"] == [{"ui": "D016454", "name": "Review"}]
    assert [s["label"] for s in record["abstract_sections"]] == [
        "CLINICAL CHARACTERISTICS", "DIAGNOSIS/TESTING", "MANAGEMENT", "GENETIC COUNSELING"]
    assert record["abstract"].startswith("CLINICAL CHARACTERISTICS: Hereditary motor and sensory neuropathy")
    assert "biallelic pathogenic variants in SLC12A6 identified" in record["abstract"]  # <i> dropped
    assert "All rights reserved" not in record["abstract"]  # CopyrightInformation is not abstract text
    assert record["keywords"][:2] == ["Agenesis of Corpus Callosum with Peripheral Neuropathy (ACCPN)",
                                      "Andermann Syndrome"]
    assert len(record["keywords"]) == 7
    # The ids of its references (PMC4578331, ...) are not its own.
    assert (record["doi"], record["pmcid"]) == (None, None)
    assert (record["mesh_headings"], record["chemicals"], record["nct_links"], record["nct_ids"]) == ([], [], [], [])
    assert (record["completed_date"], record["status"]) == (None, None)


def test_a_page_mixing_an_article_and_a_book_gives_both(corpus_dir, real_book):
    article = element((corpus_dir / ARTICLE_FILE).read_bytes(), b"PubmedArticle")
    book = element(real_book, b"PubmedBookArticle")
    page = parse_pubmed(article_set(book, article, book_xml()))
    assert page.rejects == [] and page.skipped == {}
    assert [(r["pmid"], r["record_type"]) for r in page.records] == [
        (20301546, "book"), (22663011, "article"), (28613598, "book")]
    genereviews, nejm, statpearls = page.records
    assert set(genereviews) == set(nejm) == set(statpearls)
    assert (nejm["book_title"], nejm["book_publisher"]) == (None, None)
    assert nejm["title"] == "Improved survival with MEK inhibition in BRAF-mutated melanoma."
    assert nejm["nct_ids"] == ["NCT01245062"]
    assert (statpearls["title"], statpearls["book_title"], statpearls["book_publisher"]) == (
        "Ketamine", "StatPearls", "StatPearls Publishing")
    assert (statpearls["pub_date"], statpearls["pub_date_precision"]) == (date(2025, 1, 1), "month")
    assert statpearls["entrez_date"] == date(2017, 6, 14)  # 'entrez', though 'pubmed' comes first
    assert Catalogue.load().drugs_for_article(statpearls) == ["ketamine"]


def test_the_batch_of_articles_and_books_fits_the_warehouse(corpus_dir, real_book, tmp_path):
    article = element((corpus_dir / ARTICLE_FILE).read_bytes(), b"PubmedArticle")
    records = parse_pubmed(article_set(article, element(real_book, b"PubmedBookArticle"))).records
    batch, rejects = build_batch("article", records)
    assert rejects == [] and batch.num_rows == 2
    assert batch.column("record_type").to_pylist() == ["article", "book"]
    assert batch.column("book_title").to_pylist() == [None, "GeneReviews®"]
    assert batch.column("book_publisher").to_pylist() == [None, "University of Washington, Seattle"]

    conn = open_warehouse(tmp_path / "w.duckdb")
    try:
        with transaction(conn):
            counts = load_page(conn, "article", records, run_id="r1")
        assert (counts.new, counts.rejected) == (2, 0)
        stored = conn.execute("SELECT pmid, record_type, book_title, book_publisher, journal, pub_date "
                              "FROM articles ORDER BY pmid").fetchall()
        assert stored == [
            (20301546, "book", "GeneReviews®", "University of Washington, Seattle", None, date(1993, 1, 1)),
            (22663011, "article", None, None, "The New England journal of medicine", date(2012, 7, 12)),
        ]
        assert conn.execute("SELECT pmid, record_type, book_title FROM v_articles ORDER BY pmid").fetchall() == [
            (20301546, "book", "GeneReviews®"), (22663011, "article", None)]
    finally:
        conn.close()


def test_a_whole_book_takes_its_title_and_authors_from_the_book():
    authors = ('<AuthorList Type="editors"><Author><LastName>Editor</LastName><ForeName>Ed</ForeName>'
               '<Initials>E</Initials></Author></AuthorList>'
               '<AuthorList Type="authors"><Author><CollectiveName>National Guideline Centre (UK)</CollectiveName>'
               '</Author></AuthorList>')
    ids = '<ArticleId IdType="doi">10.1000/book.1</ArticleId><ArticleId IdType="pmc">PMC1234567</ArticleId>'
    history = '<PubMedPubDate PubStatus="pubmed"><Year>2019</Year><Month>3</Month><Day>2</Day></PubMedPubDate>'
    xml = book_xml("31000001", article_title=None, book_title="Depression in adults: <i>treatment</i>",
                   pub_date="<Year>2019</Year><Month>Mar</Month><Day>1</Day>", book_authors=authors,
                   history=history, ids=ids)
    [record] = parse_pubmed(article_set(xml)).records
    assert record["title"] == record["book_title"] == "Depression in adults: treatment"
    assert record["authors"] == [{"last_name": None, "fore_name": None, "initials": None,
                                  "collective_name": "National Guideline Centre (UK)", "affiliations": [],
                                  "identifier": None, "equal_contrib": None}]
    assert (record["pub_date"], record["pub_date_precision"], record["pub_date_raw"]) == (
        date(2019, 3, 1), "day", "2019 Mar 1")
    assert record["entrez_date"] == date(2019, 3, 2)  # no 'entrez' date: the 'pubmed' one
    assert (record["doi"], record["pmcid"]) == ("10.1000/book.1", "PMC1234567")
    assert record["abstract"] is None and record["abstract_sections"] == []


def test_nct_ids_in_a_book_abstract_are_linked():
    document = ('<AuthorList Type="authors"><Author><LastName>Doe</LastName><ForeName>Jane</ForeName>'
                '<Initials>J</Initials></Author></AuthorList>'
                '<PublicationType UI="D016454">Review</PublicationType>'
                '<Abstract><AbstractText Label="EVIDENCE">The esketamine trial nct01234567 (and NCT07654321).'
                '</AbstractText></Abstract>'
                '<KeywordList Owner="NOTNLM"><Keyword>esketamine</Keyword></KeywordList>'
                "<DateRevised><Year>2024</Year><Month>02</Month><Day>29</Day></DateRevised>")
    [record] = parse_pubmed(article_set(book_xml("28613598", document=document))).records
    assert record["nct_links"] == [{"nct_id": "NCT01234567", "evidence": "abstract"},
                                   {"nct_id": "NCT07654321", "evidence": "abstract"}]
    assert record["nct_ids"] == ["NCT01234567", "NCT07654321"]
    assert record["abstract"] == "EVIDENCE: The esketamine trial nct01234567 (and NCT07654321)."
    assert record["authors"][0]["last_name"] == "Doe"
    assert record["publication_types"] == [{"ui": "D016454", "name": "Review"}]
    assert record["keywords"] == ["esketamine"]
    assert record["revised_date"] == date(2024, 2, 29)


def test_broken_books_are_rejected_alone_and_their_neighbours_kept():
    page = parse_pubmed(article_set(
        book_xml("1"),
        book_xml(None, article_title="Orphan"),
        book_xml("3", pub_date="<Year>2023</Year><Month>02</Month><Day>30</Day>"),
        "<PubmedBookArticle><PubmedBookData><History/></PubmedBookData></PubmedBookArticle>",
        book_xml("5"),
    ))
    assert [(r["pmid"], r["record_type"]) for r in page.records] == [(1, "book"), (5, "book")]
    assert [(r.source, r.record_id, r.reason) for r in page.rejects] == [
        ("pubmed", None, "missing PMID"),
        ("pubmed", "3", "impossible date in Book/PubDate: Year=2023 Month=02 Day=30"),
        ("pubmed", None, "missing BookDocument"),
    ]
    assert page.rejects[0].raw.startswith("<PubmedBookArticle>") and "Orphan" in page.rejects[0].raw


def test_a_malformed_book_midpage_is_rejected_with_its_pmid():
    payload = article_set(book_xml("1"), book_xml("2", article_title="<b>unclosed"), book_xml("3"))
    page = parse_pubmed(payload)
    assert [r["pmid"] for r in page.records] == [1, 3]
    assert [(r.record_id, r.reason.split(":")[0]) for r in page.rejects] == [("2", "malformed XML in record")]
