"""The PubMed stand-in (NCBI E-utilities esearch and efetch, with esearch's 9,999-position reach
and NCBI's rate limit) and the records it serves, split from efetch output or NLM bulk files."""
from __future__ import annotations

import calendar
import gzip
import io
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from xml.sax.saxutils import escape

from lxml import etree

from extract.standins.faults import FaultPlan
from extract.standins.server import Answer, _json_response, _Response, _StandIn

__all__ = [
    "BACKEND_ERRORS",
    "EFETCH_PROLOG",
    "ESEARCH_CAP_ERROR",
    "ESEARCH_REACH",
    "PubMedRecord",
    "PubMedStandIn",
    "pubmed_records_from_xml",
]

# --------------------------------------------------------------------------------------------
# PubMed records
# --------------------------------------------------------------------------------------------

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class PubMedRecord:
    """One PubMed record as the stand-in stores it: the serialized article plus its dates."""

    pmid: int
    xml: bytes  # one <PubmedArticle> (or <PubmedBookArticle>) element, serialized
    entrez_date: date  # edat: when the record entered PubMed
    modified_date: date  # mdat: last revision
    publication_date: date  # pdat: the journal issue's date
    # crdt: when the record was created; None means the entrez date. They differ for a record that
    # entered PubMed more than a year after publication: its edat is then its publication date.
    create_date: date | None = None

    def __post_init__(self) -> None:
        if self.create_date is None:
            object.__setattr__(self, "create_date", self.entrez_date)


def pubmed_records_from_xml(payload: bytes) -> list[PubMedRecord]:
    """Split a ``PubmedArticleSet`` (efetch output or an NLM baseline/update file) into records.

    Gzipped bytes (NLM distributes its bulk files as ``.xml.gz``) are decompressed first.
    ``PubmedArticle`` and ``PubmedBookArticle`` elements become records (served by efetch as they
    came); ``DeleteCitation`` elements are skipped. The DTD is neither loaded nor fetched and
    entities are not resolved.
    """
    if payload[:2] == b"\x1f\x8b":
        payload = gzip.decompress(payload)
    records = []
    for _, article in etree.iterparse(
        io.BytesIO(payload),
        events=("end",),
        tag=("PubmedArticle", "PubmedBookArticle"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
    ):
        records.append(_record_from_element(article))
        article.clear(keep_tail=True)
        while article.getprevious() is not None:
            del article.getparent()[0]
    return records


# Where each kind of record keeps its parts: (document, history, publication year).
_RECORD_PATHS = {
    "PubmedArticle": ("MedlineCitation", "PubmedData/History", "Article/Journal/JournalIssue/PubDate/Year"),
    "PubmedBookArticle": ("BookDocument", "PubmedBookData/History", "Book/PubDate/Year"),
}


def _record_from_element(article: etree._Element) -> PubMedRecord:
    document_path, history_path, year_path = _RECORD_PATHS[article.tag]
    citation = article.find(document_path)
    history = history_path + "/PubMedPubDate[@PubStatus='{}']"
    entrez = (
        _element_date(article.find(history.format("entrez")))
        or _element_date(article.find(history.format("pubmed")))
        or _element_date(citation.find("DateCompleted"))
        or EPOCH
    )
    year = citation.findtext(year_path)
    return PubMedRecord(
        pmid=int(citation.findtext("PMID")),
        xml=etree.tostring(article, encoding="UTF-8", xml_declaration=False, with_tail=False),
        entrez_date=entrez,
        modified_date=_element_date(citation.find("DateRevised")) or entrez,
        publication_date=date(int(year), 1, 1) if year and year.strip().isdigit() else entrez,
    )


def _element_date(element: etree._Element | None) -> date | None:
    """A ``<Year>/<Month>/<Day>`` element (numeric parts, as in History and DateRevised)."""
    if element is None:
        return None
    try:
        return date(
            int(element.findtext("Year")),
            int(element.findtext("Month") or 1),
            int(element.findtext("Day") or 1),
        )
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# PubMed (NCBI E-utilities)
# --------------------------------------------------------------------------------------------

ESEARCH_REACH = 9999  # PubMed's esearch serves positions 0..9998 of any result
ESEARCH_CAP_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query. To obtain more than "
    "9,999 PubMed records, consider using EDirect that contains additional logic to batch PubMed "
    "search results automatically so that an arbitrary number can be retrieved. For details see "
    "https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)
EFETCH_PROLOG = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
ESEARCH_PROLOG = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
# What esearch answers during backend incidents (HTTP 200, only ERROR), as reported in the wild.
BACKEND_ERRORS = (
    "Search Backend failed: Couldn't resolve #pmquerysrv-mz?dbaf=pubmed, the address table is empty",
    "Search Backend failed: Database is not supported: pubmed",
)
_DATE_ATTRIBUTE = {"edat": "entrez_date", "mdat": "modified_date", "pdat": "publication_date"}
# Date ranges inside the term, ``("2020/01/01"[dp] : "2020/12/31"[dp])``, by search field.
_TERM_DATE_ATTRIBUTE = {"dp": "publication_date", "pdat": "publication_date", "crdt": "create_date",
                        "edat": "entrez_date", "mdat": "modified_date"}
_TERM_DATE_RANGE = re.compile(r'\(\s*"([^"]*)"\s*\[(\w+)\]\s*:\s*"([^"]*)"\s*\[\2\]\s*\)', re.IGNORECASE)
_NCBI_DATE = re.compile(r"^(\d{4})(?:/(\d{1,2})(?:/(\d{1,2}))?)?$")


class _RateLimiter:
    """NCBI's limit: requests per IP (3/s), or per API key (10/s), in a sliding one-second
    window. Refused requests count too, so a client that retries at once stays refused."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, limit: int) -> int | None:
        """Record a request; return the window's count if it is over ``limit``, else None."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and now - seen[0] >= 1.0:
                seen.popleft()
            seen.append(now)
            return len(seen) if len(seen) > limit else None


class PubMedStandIn(_StandIn):
    """NCBI E-utilities for ``db=pubmed``: ``esearch.fcgi`` and ``efetch.fcgi`` (GET or POST).

    ``url`` is the E-utilities base (``http://127.0.0.1:PORT/entrez/eutils``). Every ``term``
    matches the whole store, except for the date ranges in it (``("A"[dp] : "B"[dp])``, also
    ``[crdt]``, ``[edat]``, ``[mdat]``), which filter on the record's dates. ``phrases_not_found``
    are parts of a term that match nothing: when one occurs in a term (ignoring case) the answer
    names it in ``warninglist.quotedphrasesnotfound`` if quoted, else ``errorlist.phrasesnotfound``
    (the rest of the term still matches). Not imitated: the history server (``usehistory``,
    ``WebEnv``, ``query_key``), ``sort``, esummary/epost/elink, and efetch formats other than XML.
    """

    ENDPOINTS = frozenset({"esearch", "efetch"})
    BASE_PATH = "/entrez/eutils"

    def __init__(
        self,
        records: Iterable[PubMedRecord],
        *,
        faults: FaultPlan | None = None,
        enforce_rate_limit: bool = True,
        latency: float = 0.0,
        phrases_not_found: Iterable[str] = (),
    ) -> None:
        super().__init__(faults=faults, latency=latency)
        self.enforce_rate_limit = enforce_rate_limit
        self.phrases_not_found = tuple(phrases_not_found)
        self.rate_limited = 0
        self._backend_errors = 0
        self._limiter = _RateLimiter()
        self._by_pmid: dict[int, PubMedRecord] = {}
        self._ordered: tuple[PubMedRecord, ...] = ()
        self.replace(records)

    # store -----------------------------------------------------------------------------------

    def replace(self, records: Iterable[PubMedRecord]) -> None:
        """Make ``records`` the whole store (the next night's PubMed)."""
        self._set_store({record.pmid: record for record in records})

    def add(self, records: Iterable[PubMedRecord]) -> None:
        """Add records, replacing stored ones with the same PMID (a revision)."""
        with self._store_lock:
            self._set_store({**self._by_pmid, **{record.pmid: record for record in records}})

    def _set_store(self, by_pmid: dict[int, PubMedRecord]) -> None:
        ordered = sorted(by_pmid.values(), key=lambda r: (r.entrez_date, r.pmid), reverse=True)
        with self._store_lock:
            self._by_pmid, self._ordered = by_pmid, tuple(ordered)

    # routing and rate limit ------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, Answer] | None:
        return {
            f"{self.BASE_PATH}/esearch.fcgi": ("esearch", self._esearch),
            f"{self.BASE_PATH}/efetch.fcgi": ("efetch", self._efetch),
        }.get(path)

    def _limit(self, params: dict[str, str]) -> tuple[str, int]:
        api_key = params.get("api_key")
        return (api_key, 10) if api_key else ("127.0.0.1", 3)

    def _admit(self, params: dict[str, str]) -> _Response | None:
        if not self.enforce_rate_limit:
            return None
        key, limit = self._limit(params)
        count = self._limiter.check(key, limit)
        if count is None:
            return None
        with self._counter_lock:
            self.rate_limited += 1
        return self._rate_limit_body(key, count, limit)

    def _too_many_requests(self, params: dict[str, str]) -> _Response:
        key, limit = self._limit(params)
        return self._rate_limit_body(key, limit + 1, limit)

    @staticmethod
    def _rate_limit_body(key: str, count: int, limit: int) -> _Response:
        """NCBI's 429: a small JSON body naming the key (or IP) and the window's count."""
        payload = {"error": "API rate limit exceeded", "api-key": key,
                   "count": str(count), "limit": str(limit)}
        return _json_response(429, payload)

    def _in_band_error(self, kind: str, params: dict[str, str]) -> _Response:
        """``backend-error``: only ``ERROR``, no count, the two real messages in turn."""
        with self._counter_lock:
            message = BACKEND_ERRORS[self._backend_errors % len(BACKEND_ERRORS)]
            self._backend_errors += 1
        return self._esearch_reply(params.get("retmode", "xml"), {"ERROR": message})

    # esearch ---------------------------------------------------------------------------------

    def _esearch(self, params: dict[str, str], empty: bool) -> _Response:
        """Search: the whole store, newest Entrez date first, optionally limited by date.

        Paging imitates PubMed's reach of 9,999 positions: ``retstart`` beyond 9998 inside the
        result is an ERROR (200, ``count`` still the full total); a page that would run past
        position 9,999 is cut there, with the "Restrictions achieved" output message. ``retmax``
        above 10,000 is cut the same way (NCBI does not refuse it).
        """
        retmode = params.get("retmode", "xml")
        db = params.get("db", "pubmed")
        term = params.get("term", "").strip()
        if db != "pubmed":
            return self._esearch_reply(retmode, {"ERROR": f"Invalid db name specified: {db}"})
        if not term:
            return self._esearch_reply(retmode, {"ERROR": "Empty term and query_key - nothing todo"})
        try:
            retstart = _non_negative(params, "retstart", 0)
            retmax = _non_negative(params, "retmax", 20)
            windows = [window for window in [_esearch_window(params)] if window] + _term_windows(term)
        except ValueError as exc:
            return self._esearch_reply(retmode, {"ERROR": str(exc)})

        with self._store_lock:
            ordered = self._ordered
        for attribute, first, last in windows:
            ordered = [r for r in ordered if first <= getattr(r, attribute) <= last]
        count = len(ordered)
        result: dict[str, object] = {"count": str(count)}
        if ESEARCH_REACH <= retstart < count:
            result.update(retmax="0", retstart=str(retstart), idlist=[], translationset=[],
                          querytranslation=term, ERROR=ESEARCH_CAP_ERROR)
            return self._esearch_reply(retmode, result)
        stop = min(retstart + retmax, ESEARCH_REACH)
        ids = [] if empty else [str(r.pmid) for r in ordered[retstart:stop]]
        result.update(retmax=str(len(ids)), retstart=str(retstart), idlist=ids,
                      translationset=[], querytranslation=term)
        missing = [phrase for phrase in self.phrases_not_found if phrase.lower() in term.lower()]
        quoted = [phrase for phrase in missing if phrase.startswith('"')]
        unquoted = [phrase for phrase in missing if phrase not in quoted]
        messages = []
        if retstart + retmax > ESEARCH_REACH:
            adjusted = f"{retstart}, {max(0, ESEARCH_REACH - retstart)}"
            messages.append(f"Restrictions achieved. start and count adjusted to {adjusted}")
        if unquoted:
            result["errorlist"] = {"phrasesnotfound": unquoted, "fieldsnotfound": []}
        if quoted or messages:
            result["warninglist"] = {"phrasesignored": [], "quotedphrasesnotfound": quoted, "outputmessages": messages}
        return self._esearch_reply(retmode, result)

    @staticmethod
    def _esearch_reply(retmode: str, result: dict[str, object]) -> _Response:
        """The JSON envelope (numbers as strings), or the same fields as eSearchResult XML."""
        if retmode == "json":
            payload = {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}
            response = _json_response(200, payload)
            return replace(response, content_type="application/json; charset=UTF-8")
        parts = [ESEARCH_PROLOG, "<eSearchResult>"]
        tags = {"count": "Count", "retmax": "RetMax", "retstart": "RetStart",
                "querytranslation": "QueryTranslation", "ERROR": "ERROR"}
        for name, value in result.items():
            if name == "idlist":
                parts.append("<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in value) + "</IdList>")
            elif name == "translationset":
                parts.append("<TranslationSet/>")
            elif name in _XML_LISTS:
                tag, item_tags = _XML_LISTS[name]
                items = "".join(f"<{item_tags[key]}>{escape(item)}</{item_tags[key]}>"
                                for key, items in value.items() for item in items)
                parts.append(f"<{tag}>{items}</{tag}>")
            else:
                parts.append(f"<{tags[name]}>{escape(value)}</{tags[name]}>")
        parts.append("</eSearchResult>\n")
        return _Response(200, "".join(parts).encode(), "text/xml; charset=UTF-8")

    # efetch ----------------------------------------------------------------------------------

    def _efetch(self, params: dict[str, str], empty: bool) -> _Response:
        """Records by ``id=`` list, in request order; unknown ids are skipped without a word."""
        db = params.get("db", "pubmed")
        retmode = params.get("retmode", "xml")
        ids = [part.strip() for part in params.get("id", "").split(",") if part.strip()]
        if db != "pubmed" or retmode != "xml":
            return _efetch_error(f"not imitated: db={db} retmode={retmode} (only pubmed, xml)")
        if not ids:
            return _efetch_error("Empty id list - nothing todo")
        with self._store_lock:
            by_pmid = self._by_pmid
        records = [] if empty else [
            by_pmid[int(i)] for i in dict.fromkeys(ids) if i.isdigit() and int(i) in by_pmid
        ]
        body = b"".join([
            EFETCH_PROLOG,
            b"<PubmedArticleSet>\n",
            *(record.xml + b"\n" for record in records),
            b"</PubmedArticleSet>\n",
        ])
        return _Response(200, body, "text/xml; charset=UTF-8")


# esearch's JSON lists as XML: (list element, {JSON key: item element}).
_XML_LISTS = {
    "errorlist": ("ErrorList", {"phrasesnotfound": "PhraseNotFound", "fieldsnotfound": "FieldNotFound"}),
    "warninglist": ("WarningList", {"phrasesignored": "PhraseIgnored", "quotedphrasesnotfound": "QuotedPhraseNotFound",
                                    "outputmessages": "OutputMessage"}),
}


def _efetch_error(message: str) -> _Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<!DOCTYPE eEfetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
        '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
        f"<eFetchResult>\n\t<ERROR>{escape(message)}</ERROR>\n</eFetchResult>\n"
    )
    return _Response(400, body.encode(), "text/xml; charset=UTF-8")


def _non_negative(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name, "")
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"Invalid {name}: {text!r}")
    return int(text)


def _esearch_window(params: dict[str, str]) -> tuple[str, date, date] | None:
    """(record attribute, first day, last day) for a date-limited search, or None.

    As at NCBI, ``mindate`` and ``maxdate`` only act together (one alone is ignored), and
    ``reldate=N`` means the last N days. ``datetype`` defaults to ``pdat`` like PubMed's.
    A partial ``maxdate`` (``2024``, ``2024/03``) reaches the end of that year or month.
    """
    datetype = params.get("datetype", "pdat")
    if datetype not in _DATE_ATTRIBUTE:
        raise ValueError(f"Invalid datetype: {datetype!r}")
    mindate, maxdate = params.get("mindate"), params.get("maxdate")
    if mindate and maxdate:
        first, last = _ncbi_date(mindate, end=False), _ncbi_date(maxdate, end=True)
    elif params.get("reldate"):
        last = date.today()
        first = last - timedelta(days=_non_negative(params, "reldate", 0))
    else:
        return None
    return _DATE_ATTRIBUTE[datetype], first, last


def _term_windows(term: str) -> list[tuple[str, date, date]]:
    """(record attribute, first day, last day) of each date range in the term, e.g.
    ``("2020/01/01"[dp] : "2020/12/31"[dp])``; ranges on other fields are not recognised."""
    return [(_TERM_DATE_ATTRIBUTE[field.lower()], _ncbi_date(low, end=False), _ncbi_date(high, end=True))
            for low, field, high in _TERM_DATE_RANGE.findall(term) if field.lower() in _TERM_DATE_ATTRIBUTE]


def _ncbi_date(text: str, *, end: bool) -> date:
    match = _NCBI_DATE.match(text.strip())
    if not match:
        raise ValueError(f"Invalid date: {text!r} (expected YYYY/MM/DD, YYYY/MM or YYYY)")
    year, month, day = (int(part) if part else None for part in match.groups())
    if end:
        month = month or 12
        day = day or calendar.monthrange(year, month)[1]
    return date(year, month or 1, day or 1)
