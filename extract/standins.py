"""Local stand-ins for NCBI E-utilities (PubMed) and the ClinicalTrials.gov API v2.

There is no internet where trialwatch is developed and tested, so the demo and the tests run the
real HTTP clients against these servers on 127.0.0.1. They imitate what the clients depend on,
including how the real services misbehave:

* PubMed's esearch can reach only the first 9,999 positions of a result (``retstart`` > 9998 is an
  error while ``count`` still reports the full total), and NCBI answers more than 3 requests a
  second (10 with ``api_key=``) with HTTP 429 and no ``Retry-After``.
* ClinicalTrials.gov pages with an opaque ``nextPageToken`` that is only valid with otherwise
  identical parameters, and reports ``totalCount`` on the first page only.
* Both fail transiently: 429, 5xx with HTML bodies, bodies cut short behind a matching
  Content-Length, empty answers, stalls and dropped connections, and PubMed's esearch also with
  an in-band "Search Backend failed" ERROR in a 200 answer (see `FaultPlan`).

Each service is one class on a small shared base (`_StandIn`) that owns the server thread, the
request log and fault handling. Every query term matches the whole store (PubMed's date ranges
in the term, and phrases declared to match nothing, aside): a stand-in's store is the result set of
whatever the client asks for, and tests change it with ``add``/``replace`` between runs to simulate
"the next night".

Usage::

    with PubMedStandIn(records) as pubmed, CtGovStandIn(studies) as ctgov:
        client = PubMedClient(base_url=pubmed.url)   # http://127.0.0.1:PORT/entrez/eutils
        ...
        assert pubmed.rate_limited == 0
"""
from __future__ import annotations

import base64
import calendar
import gzip
import hashlib
import io
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

__all__ = [
    "ESEARCH_FAULT_KINDS",
    "FAULT_KINDS",
    "CtGovStandIn",
    "FaultPlan",
    "LoggedRequest",
    "PubMedRecord",
    "PubMedStandIn",
    "RequestLog",
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
# Faults
# --------------------------------------------------------------------------------------------

FAULT_KINDS = ("429", "retry-after", "500", "502", "503", "truncate", "empty", "stall", "drop")
# Faults only one endpoint can serve (an answer in its own format), by kind: that endpoint.
ESEARCH_FAULT_KINDS = ("backend-error",)
_IN_BAND_ENDPOINT = dict.fromkeys(ESEARCH_FAULT_KINDS, "esearch")


class FaultPlan:
    """Which requests fail, and how.

    ``script`` maps an endpoint name to fault kinds served, in order, to the next requests to that
    endpoint; once a list is used up the endpoint behaves normally. Endpoint names:
    ``esearch``, ``efetch`` (PubMed), ``studies`` (the search), ``study`` (one study by id).

    ``rate`` faults every other request independently with that probability, the kind drawn from
    ``kinds`` with a ``random.Random(seed)`` (so a seeded run repeats exactly when the requests
    arrive in the same order); ``rate_on`` limits that to the named endpoints. Scripted faults
    come first.

    Kinds: ``429`` (the service's own rate-limit answer, no Retry-After), ``retry-after`` (429
    with ``Retry-After: 1``), ``500``/``502``/``503`` (HTML error page), ``truncate`` (200, the
    body cut to half with a matching Content-Length, so only parsing notices), ``empty`` (200,
    well-formed but without results), ``stall`` (answer normally after ``stall_seconds``),
    ``drop`` (close the connection without answering).

    ``backend-error`` (esearch only, so a rate with it needs ``rate_on=["esearch"]``): HTTP 200
    with only ``esearchresult.ERROR``, alternately the two "Search Backend failed" messages NCBI
    sends during backend incidents (transient: a client should retry).
    """

    def __init__(
        self,
        script: Mapping[str, Sequence[str]] | None = None,
        *,
        rate: float = 0.0,
        seed: int | None = None,
        kinds: Sequence[str] = FAULT_KINDS,
        stall_seconds: float = 3.0,
        rate_on: Iterable[str] | None = None,
    ) -> None:
        script = dict(script or {})
        rate_on = None if rate_on is None else frozenset(rate_on)
        known = (*FAULT_KINDS, *ESEARCH_FAULT_KINDS)
        for kind in [*kinds, *(k for queue in script.values() for k in queue)]:
            if kind not in known:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(known)}")
        for endpoint, queue in script.items():
            _check_in_band(queue, {endpoint})
        if rate:
            _check_in_band(kinds, rate_on)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate}")
        if rate and not kinds:
            raise ValueError("a fault rate needs at least one kind")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.stall_seconds = stall_seconds
        self.rate_on = rate_on
        self.endpoints = frozenset(script) | (rate_on or frozenset())
        self._script = {endpoint: deque(queue) for endpoint, queue in script.items()}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def next_fault(self, endpoint: str) -> str | None:
        """The fault for the next request to ``endpoint``, or None to answer normally."""
        with self._lock:
            queue = self._script.get(endpoint)
            if queue:
                return queue.popleft()
            if self.rate and (self.rate_on is None or endpoint in self.rate_on) and self._random.random() < self.rate:
                return self._random.choice(self.kinds)
        return None


def _check_in_band(kinds: Iterable[str], endpoints: frozenset[str] | None) -> None:
    """Refuse a kind that only one endpoint can serve planned for others (None: every endpoint)."""
    for kind in kinds:
        only = _IN_BAND_ENDPOINT.get(kind)
        if only is not None and endpoints != {only}:
            raise ValueError(f"fault kind {kind!r} is served by {only} only: script it for {only!r} "
                             f"or give rate_on=[{only!r}]")


# --------------------------------------------------------------------------------------------
# Shared server machinery
# --------------------------------------------------------------------------------------------


@dataclass
class LoggedRequest:
    """One request as the stand-in saw it. ``params`` merges the query string and a form body
    (the last value wins for a repeated name), ``form`` is the form body alone; ``status`` is
    None for a dropped connection."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    endpoint: str | None = None
    status: int | None = None
    form: dict[str, str] = field(default_factory=dict)


class RequestLog:
    """Thread-safe, append-only list of `LoggedRequest` (iterate, index, ``len``, ``clear``)."""

    def __init__(self) -> None:
        self._items: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> LoggedRequest:
        with self._lock:
            return self._items[index]


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _json_response(status: int, payload: object) -> _Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Response(status, body, "application/json")


def _html_error(status: int) -> _Response:
    """The kind of HTML page a load balancer or web server returns instead of the API's body."""
    title = f"{status} {HTTPStatus(status).phrase}"
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"
    return _Response(status, body.encode(), "text/html")


Answer = Callable[[dict[str, str], bool], _Response]  # (params, empty) -> response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services
    server: _Server

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the stand-in's `RequestLog` is the record of what arrived."""


class _Server(ThreadingHTTPServer):
    """Threaded server that tracks its open connections so that stopping closes them too
    (keep-alive connections and stalled answers would otherwise outlive the stand-in)."""

    daemon_threads = True

    def __init__(self, standin: _StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (or we closed the connection while stopping)
        super().handle_error(request, client_address)


class _StandIn:
    """Server thread lifecycle, request log and fault handling shared by both services.

    Subclasses set ``ENDPOINTS`` and ``BASE_PATH`` and implement `_route` (and optionally
    `_admit` for a rate limiter and `_too_many_requests` for the service's 429 body).
    """

    ENDPOINTS: frozenset[str] = frozenset()
    BASE_PATH = ""

    def __init__(self, *, faults: FaultPlan | None, latency: float) -> None:
        if faults is not None and not faults.endpoints <= self.ENDPOINTS:
            unknown = ", ".join(sorted(faults.endpoints - self.ENDPOINTS))
            raise ValueError(f"{type(self).__name__} has no endpoint(s) {unknown}")
        self.faults = faults
        self.latency = latency
        self.requests = RequestLog()
        self.faults_served: Counter[str] = Counter()
        self._store_lock = threading.RLock()  # add() holds it across read-modify-write
        self._counter_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (stalled answers are abandoned)."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("stand-in not started; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.BASE_PATH}"

    # request handling ------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        split = urlsplit(handler.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        form: dict[str, str] = {}
        if handler.command == "POST":
            body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            params.update(form)
        entry = LoggedRequest(handler.command, split.path, params, dict(handler.headers.items()), form=form)
        self.requests.append(entry)

        route = self._route(handler.command, split.path)
        if route is None:
            response = _json_response(404, {"message": f"no such resource: {split.path}"})
        else:
            entry.endpoint, answer = route
            response = self._admit(params)
            if response is None:
                self._pause(self.latency)
                response = self._answer(entry.endpoint, answer, params)
        if response is None:  # "drop": close the socket without a word
            handler.close_connection = True
            return
        entry.status = response.status
        handler.send_response(response.status)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(response.body)

    def _answer(self, endpoint: str, answer: Answer, params: dict[str, str]) -> _Response | None:
        """The normal answer, or the fault the plan picks for this request."""
        kind = self.faults.next_fault(endpoint) if self.faults else None
        if kind is None:
            return answer(params, False)
        with self._counter_lock:
            self.faults_served[kind] += 1
        if kind == "drop":
            return None
        if kind == "stall":
            self._pause(self.faults.stall_seconds)
            return answer(params, False)
        if kind == "empty":
            return answer(params, True)
        if kind == "truncate":
            normal = answer(params, False)
            return replace(normal, body=normal.body[: len(normal.body) // 2])
        if kind == "429":
            return self._too_many_requests(params)
        if kind == "retry-after":
            refused = self._too_many_requests(params)
            return replace(refused, headers={**refused.headers, "Retry-After": "1"})
        if kind in ESEARCH_FAULT_KINDS:
            return self._in_band_error(kind, params)
        return _html_error(int(kind))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    # service-specific hooks ------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, Answer] | None:
        raise NotImplementedError

    def _admit(self, params: dict[str, str]) -> _Response | None:
        """A refusal before any work is done (rate limiting), or None to proceed."""
        return None

    def _too_many_requests(self, params: dict[str, str]) -> _Response:
        raise NotImplementedError

    def _in_band_error(self, kind: str, params: dict[str, str]) -> _Response:
        """A failure the service reports inside a normal answer (see ``ESEARCH_FAULT_KINDS``)."""
        raise NotImplementedError


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


# --------------------------------------------------------------------------------------------
# ClinicalTrials.gov API v2
# --------------------------------------------------------------------------------------------

_STUDIES_PARAMS = frozenset({
    "format", "pageSize", "pageToken", "countTotal", "fields",
    "query.intr", "query.term", "query.cond", "query.titles", "filter.advanced",
})
# Parameters a pageToken does not pin: the token itself, and countTotal (first page only anyway).
_TOKEN_FREE_PARAMS = frozenset({"pageToken", "countTotal"})
_LAST_UPDATE_RANGE = re.compile(
    r"^\s*AREA\[LastUpdatePostDate\]\s*RANGE\[\s*(MIN|\d{4}-\d{2}-\d{2})\s*,"
    r"\s*(MAX|\d{4}-\d{2}-\d{2})\s*\]\s*$"
)
_STUDY_PATH = re.compile(r"^/api/v2/studies/([^/]+)$")


class CtGovStandIn(_StandIn):
    """ClinicalTrials.gov API v2: ``GET /studies`` (search, paged) and ``GET /studies/{nctId}``.

    ``url`` is the API base (``http://127.0.0.1:PORT/api/v2``). Studies are whole v2 study
    objects, served in nctId order; every ``query.*`` value matches the whole store. Parameters
    outside ``format``, ``pageSize``, ``pageToken``, ``countTotal``, ``query.intr|term|cond|
    titles`` and ``filter.advanced`` are refused with 400 rather than silently ignored.
    """

    ENDPOINTS = frozenset({"studies", "study"})
    BASE_PATH = "/api/v2"

    def __init__(
        self,
        studies: Iterable[dict],
        *,
        faults: FaultPlan | None = None,
        latency: float = 0.0,
    ) -> None:
        super().__init__(faults=faults, latency=latency)
        self._by_nct: dict[str, dict] = {}
        self._ordered: tuple[dict, ...] = ()
        self.replace(studies)

    # store -----------------------------------------------------------------------------------

    def replace(self, studies: Iterable[dict]) -> None:
        """Make ``studies`` the whole registry."""
        self._set_store({_nct_id(study): study for study in studies})

    def add(self, studies: Iterable[dict]) -> None:
        """Add studies, replacing stored versions with the same nctId (an update)."""
        with self._store_lock:
            self._set_store({**self._by_nct, **{_nct_id(study): study for study in studies}})

    def _set_store(self, by_nct: dict[str, dict]) -> None:
        ordered = tuple(by_nct[nct] for nct in sorted(by_nct))
        with self._store_lock:
            self._by_nct, self._ordered = by_nct, ordered

    # routing ---------------------------------------------------------------------------------

    def _route(self, method: str, path: str) -> tuple[str, Answer] | None:
        if method != "GET":
            return None
        if path.rstrip("/") == f"{self.BASE_PATH}/studies":
            return "studies", self._studies
        match = _STUDY_PATH.match(path)
        if match:
            return "study", lambda params, empty: self._study(match.group(1), empty)
        return None

    def _too_many_requests(self, params: dict[str, str]) -> _Response:
        return _json_response(429, {"message": "Too Many Requests"})

    # endpoints -------------------------------------------------------------------------------

    def _studies(self, params: dict[str, str], empty: bool) -> _Response:
        """One page of the search. ``totalCount`` (with ``countTotal=true``) comes on the first
        page only; ``nextPageToken`` is absent on the last page. A token is valid only with the
        parameters it was issued for (``countTotal`` aside) — anything else is a 400."""
        try:
            page_size, keep = _studies_query(params)
            token = params.get("pageToken")
            offset = _token_offset(token, params) if token else 0
        except ValueError as exc:
            return _json_response(400, {"message": str(exc)})
        if empty:
            return _json_response(200, {"studies": []})
        with self._store_lock:
            ordered = self._ordered
        matching = [study for study in ordered if keep(study)]
        payload: dict[str, object] = {"studies": [_only_fields(study, params.get("fields"))
                                                  for study in matching[offset: offset + page_size]]}
        if params.get("countTotal") == "true" and not token:
            payload["totalCount"] = len(matching)
        if offset + page_size < len(matching):
            payload["nextPageToken"] = _page_token(offset + page_size, params)
        return _json_response(200, payload)

    def _study(self, nct_id: str, empty: bool) -> _Response:
        with self._store_lock:
            study = self._by_nct.get(nct_id.upper())
        if study is None:
            return _json_response(404, {"message": f"Study {nct_id} not found"})
        return _json_response(200, {} if empty else study)


def _nct_id(study: dict) -> str:
    return study["protocolSection"]["identificationModule"]["nctId"]


def _only_fields(study: dict, fields: str | None) -> dict:
    """The study as `fields=` asks for it: whole when absent; `NCTId` alone is imitated (what
    reconciliation asks for), as the real API nests it."""
    if fields is None:
        return study
    return {"protocolSection": {"identificationModule": {"nctId": _nct_id(study)}}}


def _studies_query(params: dict[str, str]) -> tuple[int, Callable[[dict], bool]]:
    """Validate a search's parameters: (page size, predicate over studies)."""
    unknown = sorted(set(params) - _STUDIES_PARAMS)
    if unknown:
        raise ValueError(f"unsupported parameter(s) {', '.join(unknown)} (stand-in supports "
                         f"{', '.join(sorted(_STUDIES_PARAMS))})")
    if params.get("fields") not in (None, "NCTId"):
        raise ValueError(f"fields={params['fields']} is not imitated by the stand-in; only fields=NCTId")
    if params.get("format", "json") != "json":
        raise ValueError(f"format={params['format']} is not served by the stand-in; use json")
    if params.get("countTotal", "false") not in ("true", "false"):
        raise ValueError(f"countTotal must be true or false, got {params['countTotal']!r}")
    size_text = params.get("pageSize", "10")
    if not size_text.isdigit() or not 1 <= int(size_text) <= 1000:
        raise ValueError(f"pageSize must be an integer from 1 to 1000, got {size_text!r}")
    return int(size_text), _advanced_filter(params.get("filter.advanced"))


def _advanced_filter(expression: str | None) -> Callable[[dict], bool]:
    """``AREA[LastUpdatePostDate]RANGE[from,to]`` (dates or MIN/MAX, inclusive) — the one Essie
    expression imitated. Partial study dates (``2021-09``) compare as their first day."""
    if expression is None:
        return lambda study: True
    match = _LAST_UPDATE_RANGE.match(expression)
    if not match:
        raise ValueError(f"filter.advanced not supported by the stand-in: {expression!r}; "
                         "only AREA[LastUpdatePostDate]RANGE[YYYY-MM-DD|MIN,YYYY-MM-DD|MAX]")
    low, high = (None if bound in ("MIN", "MAX") else date.fromisoformat(bound)
                 for bound in match.groups())

    def keep(study: dict) -> bool:
        status = study.get("protocolSection", {}).get("statusModule", {})
        text = status.get("lastUpdatePostDateStruct", {}).get("date")
        try:
            parts = [int(p) for p in text.split("-")] + [1, 1]
            updated = date(parts[0], parts[1], parts[2])
        except (AttributeError, ValueError):
            return False  # no date, or not one: outside every range
        return (low is None or low <= updated) and (high is None or updated <= high)

    return keep


def _params_fingerprint(params: dict[str, str]) -> str:
    pinned = sorted((k, v) for k, v in params.items() if k not in _TOKEN_FREE_PARAMS)
    return hashlib.sha256(json.dumps(pinned).encode()).hexdigest()[:16]


def _page_token(offset: int, params: dict[str, str]) -> str:
    """Opaque to clients: urlsafe base64 of the next offset and a hash of the query."""
    raw = f"{offset}:{_params_fingerprint(params)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token_offset(token: str, params: dict[str, str]) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        offset_text, fingerprint = raw.split(":")
        offset = int(offset_text)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError(f"invalid pageToken {token!r}") from exc
    if fingerprint != _params_fingerprint(params):
        raise ValueError("pageToken does not match the query: send it back with otherwise "
                         "identical parameters")
    return offset
