"""PubMed efetch XML (`PubmedArticleSet`, or the legacy `MedlineCitationSet`) → record dicts.

The payload is streamed with `lxml.etree.iterparse`; each top-level record is turned into a dict
and then cleared, so memory stays flat on a 15,000-record baseline file. Entities are never
resolved and no DTD is loaded or fetched. A record that cannot be read becomes a `Reject`
and parsing goes on with the next one; bytes that are not XML at all end the page with one
`Reject` after the records read so far.

Journal articles (`PubmedArticle`, legacy `MedlineCitation`) and book records
(`PubmedBookArticle`: a book, or a chapter such as a StatPearls entry) become the same dict.

Record keys (None when absent, [] for empty lists):
    pmid, record_type, title, abstract, abstract_sections, journal, journal_iso,
    book_title, book_publisher,
    pub_date, pub_date_precision, pub_date_raw, pub_year,
    authors, languages, publication_types, mesh_headings, chemicals, keywords,
    doi, pmcid, nct_links, nct_ids, entrez_date, revised_date, completed_date,
    status, record_version,
    retracted, expression_of_concern, journal_volume, journal_issue, journal_pages,
    issn_print, issn_electronic, nlm_journal_id, publication_status,
    received_date, accepted_date, epublish_date, coi_statement, suppl_mesh,
    comments_corrections, grants

authors are dicts last_name, fore_name, initials, collective_name, affiliations (every
AffiliationInfo/Affiliation, in order), identifier (the author's ORCID as
https://orcid.org/XXXX-XXXX-XXXX-XXXX; an ORCID value that is not 16 digits/X is kept as written)
and equal_contrib (EqualContrib "Y" → True, "N" → False, absent → None: PubMed said nothing).
comments_corrections (dicts ref_type exactly as RefType is written, ref_pmid int or None,
ref_source) and grants (dicts grant_id, acronym, agency, country) are not articles columns:
the loader writes them to their own tables. retracted is True exactly when the record has a
RetractionIn link or the publication type Retracted Publication (D016441); a retraction notice
(Retraction of Publication) is not itself retracted. expression_of_concern is True with an
ExpressionOfConcernIn link. Both are False otherwise, never None. The history dates received,
accepted and epublish (and ArticleDate) are ancillary: one that cannot exist is left None
instead of rejecting the record.

record_type is 'article' or 'book'. A book record has no journal (nor its volume, issue, ISSNs or
NLM id), MeSH headings, supplementary MeSH, comments/corrections, chemicals, completed date or
status; instead book_title (Book/BookTitle: the book a chapter is in, or the
book itself) and book_publisher (Book/Publisher/PublisherName), which articles leave None. Its
title is the chapter's ArticleTitle, else the BookTitle; pub_date is the Book's PubDate; its
authors are the document's author lists, else the Book's, editors left out.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from functools import lru_cache
from typing import IO, Any

from lxml import etree

from extract.dates import from_medline_date, from_parts, month_number
from extract.records import ParsedPage, Reject

SOURCE = "pubmed"
RAW_LIMIT = 100_000
HEAD_LIMIT = 2_000
ROOTS = ("PubmedArticleSet", "MedlineCitationSet")
TOP_LEVEL = ("PubmedArticle", "MedlineCitation", "DeleteCitation", "PubmedBookArticle")
NCT_PATTERN = re.compile(r"\bNCT\d{8}\b", re.IGNORECASE)
# Every NCT_PATTERN match, lowercased, contains "nct" and a digit. Looking for that literal is
# fast, while the case-insensitive NCT_PATTERN is tried at every position of an abstract.
_NCT_HINT = re.compile(r"nct\d")
PMC_PATTERN = re.compile(r"^PMC\d+")
_ORCID_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_ORCID = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
_ORCID_URL = "https://orcid.org/"
# How PubMed nearly always writes an ORCID: read without the general normalisation below.
_CANONICAL_ORCID = re.compile(r"(?:https://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")
RETRACTED_PUBLICATION = ("D016441", "Retracted Publication")  # the paper was retracted (not D016440, the notice)
ABSTRACT_LIMIT = 100_000  # characters; real abstracts stay under ~10,000
_FRAGMENT = re.compile(rb"<(PubmedArticle|PubmedBookArticle|DeleteCitation)>.*?</\1>", re.DOTALL)
_PMID_IN_FRAGMENT = re.compile(rb"<PMID[^>]*>\s*(\d+)\s*</PMID>")

Element = etree._Element
PartialDate = tuple[date | None, str | None, str | None]  # (first day, precision, raw text)


class RecordError(ValueError):
    """A record-level problem whose message is the reject reason as is."""


def parse_pubmed(payload: bytes) -> ParsedPage:
    """Parse one efetch response body (or a decompressed bulk file) into a page.

    If the payload is not well-formed (a broken record, bytes that are not UTF-8), it is parsed
    again record by record, so only the broken records are rejected and the rest are kept.
    A PMID repeated within the page is kept once; the repeats are rejected.
    """
    page = _collect(iter_pubmed(io.BytesIO(payload)))
    if any(reject.reason.startswith("malformed XML") for reject in page.rejects) and _FRAGMENT.search(payload):
        page = _parse_fragments(payload)
    return _without_duplicates(page)


def _collect(items: Iterator[tuple[str, Any]], page: ParsedPage | None = None) -> ParsedPage:
    page = page or ParsedPage()
    for kind, item in items:
        getattr(page, kind).append(item)
    return page


def _parse_fragments(payload: bytes) -> ParsedPage:
    """Record-by-record recovery of a malformed payload: each complete top-level element is
    parsed on its own; a broken one, and any trailing bytes that are not a complete record
    (a truncated body), become rejects."""
    page = ParsedPage()
    end = 0
    for match in _FRAGMENT.finditer(payload):
        fragment = match.group(0)
        end = match.end()
        single = _collect(iter_pubmed(io.BytesIO(b"<PubmedArticleSet>" + fragment + b"</PubmedArticleSet>")))
        if any(reject.record_id is None and reject.reason.startswith("malformed XML") for reject in single.rejects):
            pmid = _PMID_IN_FRAGMENT.search(fragment)
            reason = "malformed XML in record: " + single.rejects[-1].reason.removeprefix("malformed XML: ")
            page.rejects.append(Reject(SOURCE, pmid.group(1).decode() if pmid else None, reason,
                                       fragment[:RAW_LIMIT].decode("utf-8", errors="replace")))
            continue
        page.records += single.records
        page.deleted_ids += single.deleted_ids
        page.rejects += single.rejects
    rest = payload[end:].strip()
    if rest and rest not in (b"</PubmedArticleSet>", b"</MedlineCitationSet>"):
        page.rejects.append(Reject(SOURCE, None, "malformed XML: truncated or garbled after the last complete record",
                                   rest[:HEAD_LIMIT].decode("utf-8", errors="replace")))
    return page


def _without_duplicates(page: ParsedPage) -> ParsedPage:
    seen: set[int] = set()
    kept = []
    for record in page.records:
        if record["pmid"] in seen:
            page.rejects.append(Reject(SOURCE, str(record["pmid"]), "duplicate PMID within page",
                                       f"<PMID>{record['pmid']}</PMID> (a later copy of a record already in this page)"))
        else:
            seen.add(record["pmid"])
            kept.append(record)
    page.records = kept
    return page


def iter_pubmed(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """Yield `(kind, item)` pairs as records complete, without holding the document.

    `kind` names the `ParsedPage` field the item belongs to: 'records' (dict), 'deleted_ids'
    (PMID str) or 'rejects' (Reject). Every top-level element is one of these, so `skipped`
    stays empty.
    """
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=TOP_LEVEL,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for _, elem in events:
            parent = elem.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # a MedlineCitation inside its PubmedArticle, handled with the wrapper
            yield from _top_level(elem)
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        yield "rejects", Reject(SOURCE, None, f"malformed XML: {exc}", _head(stream))
        return
    if events.root is not None and events.root.tag not in ROOTS:
        reason = f"unexpected root element: {events.root.tag}"
        yield "rejects", Reject(SOURCE, None, reason, _head(stream))


def _top_level(elem: Element) -> Iterator[tuple[str, Any]]:
    if elem.tag == "DeleteCitation":
        for pmid in elem.iterchildren("PMID"):
            if text := _tidy(pmid.text):
                yield "deleted_ids", text
    elif elem.tag == "PubmedBookArticle":
        yield _record_or_reject(elem, _child(elem, "BookDocument"), _book_record)
    else:
        citation = elem if elem.tag == "MedlineCitation" else _child(elem, "MedlineCitation")
        yield _record_or_reject(elem, citation, _record)


def _record_or_reject(elem: Element, holder: Element | None,
                      build: Callable[[Element, Element | None], dict[str, Any]]) -> tuple[str, Any]:
    """`build(elem, holder)` as a record, or a Reject; `holder` (MedlineCitation, BookDocument)
    is the element whose PMID names the record."""
    try:
        return "records", build(elem, holder)
    except Exception as exc:  # any failure quarantines this one record, never the page
        reason = str(exc) if isinstance(exc, RecordError) else f"{type(exc).__name__}: {exc}"
        pmid = _text(_child(holder, "PMID")) if holder is not None else None
        raw = etree.tostring(elem, encoding="unicode", with_tail=False)[:RAW_LIMIT]
        return "rejects", Reject(SOURCE, pmid, reason, raw)


def _head(stream: IO[bytes]) -> str:
    """The first HEAD_LIMIT characters of a payload that failed (UTF-8 needs ≤ 4 bytes each)."""
    if not stream.seekable():
        return ""
    stream.seek(0)
    return stream.read(HEAD_LIMIT * 4).decode("utf-8", errors="replace")[:HEAD_LIMIT]


def _record(elem: Element, citation: Element | None) -> dict[str, Any]:
    """One article as a record dict. Each container (MedlineCitation, Article, PubmedData) is
    read once into `_children`, and the fields are looked up there; the checks that can raise
    run in a fixed order, so a record with several problems always gets the same reason."""
    if citation is None:
        raise RecordError("missing MedlineCitation")
    cited = _children(citation)
    pmid_elem = _first(cited, "PMID")
    pmid = _pmid(pmid_elem)
    article_elem = _first(cited, "Article")
    if article_elem is None:
        raise RecordError("missing Article")
    article = _children(article_elem)
    pubmed_data = _child(elem, "PubmedData")  # absent in the legacy MedlineCitationSet
    data = _children(pubmed_data) if pubmed_data is not None else {}
    article_ids = _article_ids(data)
    title = _title(article)
    sections = _abstract_sections(article)
    abstract = _abstract(sections)
    _check_length(abstract)
    journal = _children(*article.get("Journal", ()))
    issue = _children(*journal.get("JournalIssue", ()))
    pub_date, precision, pub_date_raw = _pub_date(issue, article)
    nct_links = _nct_links(article, title, abstract)
    publication_types = _publication_types(article)
    links = _comments_corrections(cited)
    history = _history(data)
    issns = _issns(journal)
    journal_info = _first(cited, "MedlineJournalInfo")
    return {
        "pmid": pmid,
        "record_type": "article",
        "title": title,
        "abstract": abstract,
        "abstract_sections": sections,
        "journal": _text(_first(journal, "Title")),
        "journal_iso": _text(_first(journal, "ISOAbbreviation")),
        "book_title": None,
        "book_publisher": None,
        "pub_date": pub_date,
        "pub_date_precision": precision,
        "pub_date_raw": pub_date_raw,
        "pub_year": pub_date.year if pub_date else None,
        "authors": [_author(author) for author in _in(article.get("AuthorList", ()), "Author")],
        "languages": _languages(article),
        "publication_types": publication_types,
        "mesh_headings": _mesh_headings(cited),
        "chemicals": _chemicals(cited),
        "keywords": _keywords(cited),
        "doi": _doi(article_ids, article),
        "pmcid": _pmcid(article_ids, cited),
        "nct_links": nct_links,
        "nct_ids": sorted({link["nct_id"] for link in nct_links}),
        "entrez_date": _entrez_date(history),
        "revised_date": _day(_first(cited, "DateRevised"), "DateRevised"),
        "completed_date": _day(_first(cited, "DateCompleted"), "DateCompleted"),
        "status": citation.get("Status"),
        "record_version": _record_version(pmid_elem),
        "retracted": _retracted(publication_types, links),
        "expression_of_concern": any(link["ref_type"] == "ExpressionOfConcernIn" for link in links),
        "journal_volume": _text(_first(issue, "Volume")),
        "journal_issue": _text(_first(issue, "Issue")),
        "journal_pages": _pages(article),
        "issn_print": issns.get("Print"),
        "issn_electronic": issns.get("Electronic"),
        "nlm_journal_id": _text(_child(journal_info, "NlmUniqueID")) if journal_info is not None else None,
        "publication_status": _text(_first(data, "PublicationStatus")),
        "received_date": _lenient_day(history.get("received")),
        "accepted_date": _lenient_day(history.get("accepted")),
        "epublish_date": _epublish_date(article, history),
        "coi_statement": _clean(_first(cited, "CoiStatement")),
        "suppl_mesh": _suppl_mesh(cited),
        "comments_corrections": links,
        "grants": _grants(article),
    }


def _book_record(elem: Element, document: Element | None) -> dict[str, Any]:
    """One book or chapter (`PubmedBookArticle`) as a record dict with the article keys: what
    a book has is read from BookDocument, its Book and PubmedBookData; the rest is None or []."""
    if document is None:
        raise RecordError("missing BookDocument")
    doc = _children(document)
    pmid_elem = _first(doc, "PMID")
    pmid = _pmid(pmid_elem)
    book_elem = _first(doc, "Book")
    if book_elem is None:
        raise RecordError("missing Book")
    book = _children(book_elem)
    book_data = _child(elem, "PubmedBookData")
    data = _children(book_data) if book_data is not None else {}
    article_ids = _article_ids(data)
    for id_type, value in _article_ids(doc).items():  # BookDocument's own list, for ids PubmedBookData lacks
        article_ids.setdefault(id_type, value)
    book_title = _clean(_first(book, "BookTitle"))
    title = _title(doc) or book_title
    sections = _abstract_sections(doc)
    abstract = _abstract(sections)
    _check_length(abstract)
    pub_date_elem = _first(book, "PubDate")
    pub_date, precision, pub_date_raw = (
        _partial_date(pub_date_elem, "Book/PubDate") if pub_date_elem is not None else (None, None, None))
    publisher = _first(book, "Publisher")
    nct_links = _nct_links(doc, title, abstract)
    publication_types = [{"ui": kind.get("UI"), "name": _tidy(kind.text)} for kind in doc.get("PublicationType", ())]
    history = _history(data)
    return {
        "pmid": pmid,
        "record_type": "book",
        "title": title,
        "abstract": abstract,
        "abstract_sections": sections,
        "journal": None,
        "journal_iso": None,
        "book_title": book_title,
        "book_publisher": _text(_child(publisher, "PublisherName")) if publisher is not None else None,
        "pub_date": pub_date,
        "pub_date_precision": precision,
        "pub_date_raw": pub_date_raw,
        "pub_year": pub_date.year if pub_date else None,
        "authors": [_author(author) for author in _book_authors(doc) or _book_authors(book)],
        "languages": _languages(doc),
        "publication_types": publication_types,
        "mesh_headings": [],
        "chemicals": [],
        "keywords": _keywords(doc),
        "doi": _doi(article_ids, book),
        "pmcid": article_ids.get("pmc"),
        "nct_links": nct_links,
        "nct_ids": sorted({link["nct_id"] for link in nct_links}),
        "entrez_date": _entrez_date(history),
        "revised_date": _day(_first(doc, "DateRevised"), "DateRevised"),
        "completed_date": None,
        "status": None,
        "record_version": _record_version(pmid_elem),
        "retracted": _retracted(publication_types, []),
        "expression_of_concern": False,
        "journal_volume": None,
        "journal_issue": None,
        "journal_pages": _pages(doc),
        "issn_print": None,
        "issn_electronic": None,
        "nlm_journal_id": None,
        "publication_status": _text(_first(data, "PublicationStatus")),
        "received_date": _lenient_day(history.get("received")),
        "accepted_date": _lenient_day(history.get("accepted")),
        "epublish_date": _lenient_day(history.get("epublish")),
        "coi_statement": _clean(_first(doc, "CoiStatement")),
        "suppl_mesh": [],
        "comments_corrections": [],
        "grants": _grants(doc),
    }


def _book_authors(fields: Children) -> list[Element]:
    """The Author elements of the author lists in `fields` (BookDocument or Book), the lists
    typed 'editors' left out."""
    lists = [author_list for author_list in fields.get("AuthorList", ()) if author_list.get("Type") != "editors"]
    return _in(lists, "Author")


def _check_length(abstract: str | None) -> None:
    if abstract and len(abstract) > ABSTRACT_LIMIT:
        raise RecordError(f"abstract too long: {len(abstract):,} characters (limit {ABSTRACT_LIMIT:,})")


# Element lookups. ElementPath (`find`, `findtext`, `iterfind`) parses its path on every call,
# which dominated the parse time; these helpers give the same answers from one pass over an
# element's children. A tag name matches only un-namespaced elements, as in ElementPath, and
# comments, processing instructions or entity references never match (their `.tag` is not a
# string). Children are listed by slicing (`parent[:]`), which lxml does in C, about twice as
# fast as its child iterator.

Children = dict[Any, list[Element]]  # tag → the element's children with that tag, in document order


def _children(*parents: Element) -> Children:
    """The children of `parents` grouped by tag. With several parents (a repeated Journal) they
    are taken in turn, the order in which ElementPath's 'Parent/Tag' meets them."""
    groups: Children = {}
    for parent in parents:
        for child in parent[:]:
            tag = child.tag
            if tag in groups:
                groups[tag].append(child)
            else:
                groups[tag] = [child]
    return groups


def _first(children: Children, tag: str) -> Element | None:
    """The first child with `tag`: what `parent.find(tag)` returns."""
    found = children.get(tag)
    return found[0] if found else None


def _first_children(parent: Element) -> dict[Any, Element]:
    """Tag → first child with that tag, for a small element read field by field (an author, a date)."""
    fields: dict[Any, Element] = {}
    for child in parent[::-1]:  # backwards, so that the first child of a tag is stored last
        fields[child.tag] = child
    return fields


def _child(parent: Element, tag: str) -> Element | None:
    """`parent.find(tag)` for a single tag name."""
    for child in parent[:]:
        if child.tag == tag:
            return child
    return None


def _in(parents: Iterable[Element], tag: str) -> list[Element]:
    """The `tag` children of each of `parents` in turn (ElementPath's 'Parent/Tag' step):
    `elem.iterfind('List/Item')` is `_in(_children(elem).get('List', ()), 'Item')`."""
    return [child for parent in parents for child in parent[:] if child.tag == tag]


def _tidy(text: str | None) -> str | None:
    """Whitespace collapsed; None for empty text."""
    if not text:
        return None
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        # Already tidy, and checked faster than split + join: the only whitespace a printable
        # string can hold is the plain space, here never doubled and never at either end.
        return text
    return " ".join(text.split()) or None


def _text(elem: Element | None) -> str | None:
    """Text of a plain-text (#PCDATA) element, tidied; None if there is no element."""
    return _tidy(elem.text) if elem is not None else None


def _clean(elem: Element | None) -> str | None:
    """All text under `elem` with inline markup (<i>, <sup>, MathML…) dropped, tidied."""
    if elem is None:
        return None
    return _tidy(elem.text if len(elem) == 0 else "".join(elem.itertext()))


def _pmid(pmid_elem: Element | None) -> int:
    text = _tidy(pmid_elem.text) if pmid_elem is not None else None
    if not text:
        raise RecordError("missing PMID")
    if not text.isdigit():
        raise RecordError(f"PMID is not a number: {text!r}")
    return int(text)


def _record_version(pmid_elem: Element | None) -> int | None:
    version = pmid_elem.get("Version") if pmid_elem is not None else None
    return int(version) if version else None


def _title(article: Children) -> str | None:
    return _clean(_first(article, "ArticleTitle")) or _clean(_first(article, "VernacularTitle"))


def _abstract_sections(article: Children) -> list[dict[str, str | None]]:
    sections = []
    for part in _in(article.get("Abstract", ()), "AbstractText"):
        text = _clean(part)
        if text:
            sections.append(
                {"label": part.get("Label") or None, "category": part.get("NlmCategory"), "text": text}
            )
    return sections


def _abstract(sections: list[dict[str, str | None]]) -> str | None:
    rendered = [f"{s['label']}: {s['text']}" if s["label"] else s["text"] for s in sections]
    return "\n\n".join(rendered) or None


def _pub_date(issue: Children, article: Children) -> PartialDate:
    """The issue's PubDate; the electronic ArticleDate when PubDate gives no usable year."""
    pub_date = _first(issue, "PubDate")
    found = _partial_date(pub_date, "PubDate") if pub_date is not None else (None, None, None)
    if found[0] is None:
        for article_date in article.get("ArticleDate", ()):
            fallback = _partial_date(article_date, "ArticleDate")
            if fallback[0] is not None:
                return fallback
    return found


def _partial_date(elem: Element, where: str) -> PartialDate:
    """A PubMed date element (Year/Month|Season/Day or MedlineDate) → (date, precision, raw)."""
    texts = {child.tag: child.text for child in elem[::-1]}  # backwards: the first child of a tag wins
    medline_date = _tidy(texts.get("MedlineDate"))
    if medline_date:
        return (*from_medline_date(medline_date), medline_date)
    month_tag = "Month" if "Month" in texts else "Season"
    return _date_of_parts(where, month_tag, texts.get("Year"), texts.get(month_tag), texts.get("Day"))


@lru_cache(maxsize=4096)
def _date_of_parts(where: str, month_tag: str, year_text: str | None, month_text: str | None,
                   day_text: str | None) -> PartialDate:
    """(date, precision, raw) of a date given as the texts of its parts, as written; cached, as
    a page repeats the same few hundred dates (the tuple returned holds only immutable values).

    Raises RecordError for a date that cannot exist (Month 13, Day 32, Feb 30); `from_parts`
    alone would quietly read a numeric Month 13 as year precision.
    """
    year, month, day = _tidy(year_text), _tidy(month_text), _tidy(day_text)
    parts = (("Year", year), (month_tag, month), ("Day", day))
    if month and month.isdigit() and month_number(month) is None:
        raise _impossible_date(where, parts)
    try:
        value, precision = from_parts(year, month, day)
    except ValueError as exc:
        raise _impossible_date(where, parts) from exc
    return value, precision, " ".join(filter(None, (year, month, day))) or None


def _impossible_date(where: str, parts: tuple[tuple[str, str | None], ...]) -> RecordError:
    given = " ".join(f"{tag}={value}" for tag, value in parts if value)
    return RecordError(f"impossible date in {where}: {given}")


def _day(elem: Element | None, where: str) -> date | None:
    return _partial_date(elem, where)[0] if elem is not None else None


def _lenient_day(elem: Element | None) -> date | None:
    """An ancillary date (received, accepted, epublish): one that cannot exist is left None
    rather than quarantining the whole record."""
    if elem is None:
        return None
    try:
        return _partial_date(elem, elem.tag)[0]
    except RecordError:
        return None


def _history(data: Children) -> dict[str, Element]:
    """PubStatus → the first History/PubMedPubDate with that status."""
    found: dict[str, Element] = {}
    for history_date in _in(data.get("History", ()), "PubMedPubDate"):
        found.setdefault(history_date.get("PubStatus"), history_date)
    return found


def _entrez_date(history: dict[str, Element]) -> date | None:
    """The first 'entrez' History date, else the first 'pubmed' one."""
    if "entrez" in history:
        return _day(history["entrez"], "History/entrez")
    return _day(history.get("pubmed"), "History/pubmed")


def _epublish_date(article: Children, history: dict[str, Element]) -> date | None:
    """ArticleDate of type Electronic (the DTD's fixed and only type), else History 'epublish'."""
    for article_date in article.get("ArticleDate", ()):
        if article_date.get("DateType", "Electronic") == "Electronic":
            found = _lenient_day(article_date)
            if found is not None:
                return found
    return _lenient_day(history.get("epublish"))


def _author(author: Element) -> dict[str, Any]:
    """One Author, read in one pass over its children: names (first of each tag), every
    AffiliationInfo/Affiliation, the first ORCID Identifier."""
    fields: dict[Any, Element] = {}
    affiliations: list[str] = []
    orcid = None
    for child in author[:]:
        tag = child.tag
        if tag == "AffiliationInfo":
            for part in child[:]:
                if part.tag == "Affiliation" and (text := _clean(part)):
                    affiliations.append(text)
        elif tag == "Identifier":
            if orcid is None and child.get("Source") == "ORCID":
                orcid = _orcid(child.text)
        elif tag not in fields:
            fields[tag] = child
    equal = author.get("EqualContrib")
    return {
        "last_name": _text(fields.get("LastName")),
        "fore_name": _text(fields.get("ForeName")),
        "initials": _text(fields.get("Initials")),
        "collective_name": _clean(fields.get("CollectiveName")),
        "affiliations": affiliations,
        "identifier": orcid,
        "equal_contrib": True if equal == "Y" else False if equal == "N" else None,
    }


def _orcid(text: str | None) -> str | None:
    """An ORCID as https://orcid.org/XXXX-XXXX-XXXX-XXXX, whichever way PubMed wrote it (bare,
    http:// or https:// URL, with or without dashes, lowercase x); a value that is not an ORCID's
    16 characters is kept as written rather than guessed at."""
    if text and (canonical := _CANONICAL_ORCID.fullmatch(text)):
        return _ORCID_URL + canonical.group(1)
    text = _tidy(text)
    if text is None:
        return None
    match = _ORCID.match(_ORCID_PREFIX.sub("", text).replace(" ", "").upper())
    return _ORCID_URL + "-".join(match.groups()) if match else text


def _retracted(publication_types: list[dict[str, str | None]], links: list[dict[str, Any]]) -> bool:
    return (any(link["ref_type"] == "RetractionIn" for link in links)
            or any(kind["ui"] == RETRACTED_PUBLICATION[0] or kind["name"] == RETRACTED_PUBLICATION[1]
                   for kind in publication_types))


def _comments_corrections(cited: Children) -> list[dict[str, Any]]:
    """MedlineCitation/CommentsCorrectionsList links, RefType exactly as written."""
    links = []
    for link in _in(cited.get("CommentsCorrectionsList", ()), "CommentsCorrections"):
        ref_type = link.get("RefType")
        if not ref_type:
            raise RecordError("CommentsCorrections without RefType")
        fields = _first_children(link)
        ref_pmid = _text(fields.get("PMID"))
        links.append({
            "ref_type": ref_type,
            "ref_pmid": int(ref_pmid) if ref_pmid and ref_pmid.isdigit() else None,
            "ref_source": _clean(fields.get("RefSource")),
        })
    return links


def _grants(fields: Children) -> list[dict[str, str | None]]:
    grants = []
    for grant in _in(fields.get("GrantList", ()), "Grant"):
        parts = _first_children(grant)
        grants.append({
            "grant_id": _text(parts.get("GrantID")),
            "acronym": _text(parts.get("Acronym")),
            "agency": _text(parts.get("Agency")),
            "country": _text(parts.get("Country")),
        })
    return grants


def _pages(fields: Children) -> str | None:
    """Pagination/MedlinePgn, else StartPage-EndPage (StartPage alone without an EndPage)."""
    pagination = _first(fields, "Pagination")
    if pagination is None:
        return None
    parts = _first_children(pagination)
    if pages := _text(parts.get("MedlinePgn")):
        return pages
    start, end = _text(parts.get("StartPage")), _text(parts.get("EndPage"))
    return f"{start}-{end}" if start and end else start or end


def _issns(journal: Children) -> dict[str, str]:
    """IssnType (Print, Electronic) → the first ISSN of that type."""
    issns: dict[str, str] = {}
    for issn in journal.get("ISSN", ()):
        if text := _tidy(issn.text):
            issns.setdefault(issn.get("IssnType") or "", text)
    return issns


def _suppl_mesh(cited: Children) -> list[dict[str, str | None]]:
    return [{"ui": name.get("UI"), "name": _clean(name), "type": name.get("Type")}
            for name in _in(cited.get("SupplMeshList", ()), "SupplMeshName")]


def _languages(article: Children) -> list[str]:
    return [text for language in article.get("Language", ()) if (text := _tidy(language.text))]


def _publication_types(article: Children) -> list[dict[str, str | None]]:
    return [
        {"ui": kind.get("UI"), "name": _tidy(kind.text)}
        for kind in _in(article.get("PublicationTypeList", ()), "PublicationType")
    ]


def _mesh_headings(cited: Children) -> list[dict[str, Any]]:
    headings = []
    for heading in _in(cited.get("MeshHeadingList", ()), "MeshHeading"):
        descriptor, qualifiers = None, []
        for term in heading[:]:  # the first DescriptorName, every QualifierName
            tag = term.tag
            if tag == "DescriptorName":
                if descriptor is None:
                    descriptor = _mesh_term(term)
            elif tag == "QualifierName":
                qualifiers.append(_mesh_term(term))
        if descriptor is None:
            raise RecordError("MeshHeading without DescriptorName")
        descriptor["qualifiers"] = qualifiers
        headings.append(descriptor)
    return headings


def _mesh_term(elem: Element) -> dict[str, Any]:
    return {"ui": elem.get("UI"), "name": _tidy(elem.text), "major": elem.get("MajorTopicYN") == "Y"}


def _chemicals(cited: Children) -> list[dict[str, str | None]]:
    chemicals = []
    for chemical in _in(cited.get("ChemicalList", ()), "Chemical"):
        fields = _first_children(chemical)
        substance = fields.get("NameOfSubstance")
        chemicals.append({
            "ui": substance.get("UI") if substance is not None else None,
            "name": _tidy(substance.text) if substance is not None else None,
            "registry_number": _text(fields.get("RegistryNumber")),
        })
    return chemicals


def _keywords(cited: Children) -> list[str]:
    return [text for text in map(_clean, _in(cited.get("KeywordList", ()), "Keyword")) if text]


def _article_ids(data: Children) -> dict[str, str]:
    """IdType → id from the record's own ArticleIdList (not those of its references)."""
    ids: dict[str, str] = {}
    for article_id in _in(data.get("ArticleIdList", ()), "ArticleId"):
        text = _tidy(article_id.text)
        if text:
            ids.setdefault(article_id.get("IdType") or "", text)
    return ids


def _doi(article_ids: dict[str, str], article: Children) -> str | None:
    if "doi" in article_ids:
        return article_ids["doi"]
    for location in article.get("ELocationID", ()):
        if location.get("EIdType") == "doi" and location.get("ValidYN") != "N":
            return _tidy(location.text)
    return None


def _pmcid(article_ids: dict[str, str], cited: Children) -> str | None:
    """ArticleIdList's pmc id; legacy records carry it only as `OtherID` ('PMC123 [Available on …]')."""
    if "pmc" in article_ids:
        return article_ids["pmc"]
    for other_id in cited.get("OtherID", ()):
        match = PMC_PATTERN.match((other_id.text or "").strip())
        if match:
            return match.group()
    return None


def _nct_links(article: Children, title: str | None, abstract: str | None) -> list[dict[str, str]]:
    links: list[tuple[str, str]] = []
    for bank in _in(article.get("DataBankList", ()), "DataBank"):
        if _text(_child(bank, "DataBankName")) == "ClinicalTrials.gov":
            for accession in _in(bank.iterchildren("AccessionNumberList"), "AccessionNumber"):
                if text := _tidy(accession.text):
                    links.append((text.upper(), "databank"))
    prose = f"{title or ''}\n{abstract or ''}"
    if _NCT_HINT.search(prose.lower()):
        for match in NCT_PATTERN.finditer(prose):
            links.append((match.group().upper(), "abstract"))
    return [{"nct_id": nct_id, "evidence": evidence} for nct_id, evidence in dict.fromkeys(links)]
