"""PubMed through NCBI E-utilities: esearch (JSON) finds PMIDs, efetch (XML) fetches records.

esearch can only reach the first 9,999 records of any query, and ketamine alone has far more,
so a complete pull splits its date range into slices, splitting again until every slice counts
under the cap (a single day still over it is cut by publication date), and checks that the slices
add up to the whole. The client yields raw efetch pages; parsing is the parser's job.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Callable, Iterable, Iterator

from extract.http import HttpClient, InvalidBody, ServiceUnavailable
from extract.pages import RawPage

log = logging.getLogger("trialwatch.pubmed")

ESEARCH_CAP = 9_999
EFETCH_BATCH = 200
EARLIEST = date(1800, 1, 1)
# A day over the cap is cut by publication date within these bounds: wide enough for any date
# PubMed could hold, so the parts together cover every record of the day (which planning checks).
PDAT_EARLIEST = date(1000, 1, 1)
PDAT_LATEST = date(3000, 12, 31)
NCBI_RATE = 3.0
NCBI_RATE_WITH_KEY = 10.0
# efetch requests in flight at once. An answer takes ~100 ms or more, so one at a time cannot
# come near NCBI's 10 req/s; the limiter (extract/http.py) keeps any number within it.
IN_FLIGHT = 2
# Planning splits a date range over the cap into this many parts per round and counts them all at
# once: each round waits for its answers, so fewer, wider rounds finish sooner (4 parts: half the
# rounds of bisecting, no more requests; more parts ask for more counts than they save).
SPLIT_PARTS = 4
EMPTY_ANSWER_RETRIES = 2
# esearch's documented datetypes go in `datetype=`; the create date is not one of them, so its
# range goes into the term as a [crdt] search field instead.
TERM_DATETYPES = frozenset({"crdt"})


_HAS_RECORD = re.compile(rb"<(?:PubmedArticle|PubmedBookArticle|DeleteCitation)[\s>]")
# esearch's ERROR during backend incidents (HTTP 200, no count): transient. The cap message starts
# the same way but is an answer, not an incident.
_BACKEND_FAILURE = "Search Backend failed"
_CAP_MESSAGE = "cannot be larger than 9998"
# (list, key, label) of the parts of the term that matched nothing or were ignored.
_WARNING_LISTS = (
    ("errorlist", "phrasesnotfound", "phrase not found"),
    ("errorlist", "fieldsnotfound", "field not found"),
    ("warninglist", "quotedphrasesnotfound", "phrase not found"),
    ("warninglist", "phrasesignored", "phrase ignored"),
)


class SearchError(RuntimeError):
    """esearch answered with an ERROR (bad term, cap exceeded) or an answer we cannot use."""


class UnsplittableSlice(SearchError):
    """A range that cannot be cut into slices under the cap holding all its records: fetching
    what esearch can reach would leave records out, so the pull fails instead."""


class IncompleteIdSet(RuntimeError):
    """The catalogue's id set could not be listed whole (reconciliation must not act on it)."""


@dataclass(frozen=True)
class DateSlice:
    datetype: str  # 'edat' | 'crdt' | 'mdat' | 'pdat'
    start: date
    end: date  # inclusive
    count: int
    # For a part of a day over the cap: its publication dates (inclusive); None otherwise.
    pdat_start: date | None = None
    pdat_end: date | None = None

    @property
    def label(self) -> str:
        """'edat 2024-01-01..2024-01-31', with its publication dates for a part of a day."""
        text = f"{self.datetype} {self.start}..{self.end}"
        return text + (f" published {self.pdat_start}..{self.pdat_end}" if self.pdat_start is not None else "")


@dataclass(frozen=True)
class SlicePlan:
    slices: list[DateSlice]
    total: int  # what esearch reports for the whole range

    @property
    def sliced_total(self) -> int:
        return sum(s.count for s in self.slices)

    @property
    def complete(self) -> bool:
        return self.sliced_total == self.total and all(s.count <= ESEARCH_CAP for s in self.slices)


def ncbi_http(base_url: str, *, api_key: str | None, email: str | None, timeout: float = 30.0,
              max_retries: int = 6, **kwargs) -> HttpClient:
    """An HttpClient within NCBI's limit (3 req/s, 10 with a key) that sends tool/email/api_key."""
    params = {"tool": "trialwatch"}
    if email:
        params["email"] = email
    if api_key:
        params["api_key"] = api_key
    return HttpClient(
        "PubMed", base_url, rate_per_second=NCBI_RATE_WITH_KEY if api_key else NCBI_RATE,
        timeout=timeout, max_retries=max_retries, default_params=params, **kwargs,
    )


def _esearch_json(body: bytes) -> dict:
    """The esearchresult of a usable answer. A backend failure reported in-band is as much a
    failed request as a 503 (InvalidBody, so the HTTP layer retries it); other ERRORs are answers."""
    try:
        result = json.loads(body)["esearchresult"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidBody(f"esearch answer is not esearch JSON: {error}") from None
    error = result.get("ERROR")
    if "count" not in result:
        if error is None:
            raise InvalidBody("esearch answer has no count")
        if error.startswith(_BACKEND_FAILURE) and _CAP_MESSAGE not in error:
            raise InvalidBody(f"esearch backend failure: {error[:200]}")
    return result


def _efetch_complete(body: bytes) -> None:
    tail = body[-64:].rstrip()
    if not (tail.endswith(b"</PubmedArticleSet>") or tail.endswith(b"<PubmedArticleSet/>")):
        raise InvalidBody("efetch body does not end with </PubmedArticleSet> (truncated?)")


def _ncbi_date(day: date) -> str:
    return day.strftime("%Y/%m/%d")


def _term_range(start: date, end: date, field: str) -> str:
    return f'("{_ncbi_date(start)}"[{field}] : "{_ncbi_date(end)}"[{field}])'


def _query_warnings(result: dict) -> list[str]:
    """The parts of the term an answer says matched nothing or were ignored, distinct, in order."""
    found = [f"{label}: {phrase}" for group, key, label in _WARNING_LISTS
             for phrase in (result.get(group) or {}).get(key) or []]
    return list(dict.fromkeys(found))


def _split(start: date, end: date, parts: int) -> list[tuple[date, date]]:
    """[start, end] (inclusive) as up to `parts` consecutive ranges of (nearly) equal length."""
    days = (end - start).days + 1
    parts = min(parts, days)
    edges = [start + timedelta(days=days * i // parts) for i in range(parts)] + [end + timedelta(days=1)]
    return [(lo, hi - timedelta(days=1)) for lo, hi in zip(edges, edges[1:])]


def _parts(piece: DateSlice) -> list[DateSlice]:
    """`piece` cut into SPLIT_PARTS (counts to be asked): by its own date while it spans several
    days, then by publication date. One publication day of one day cannot be cut."""
    if piece.start < piece.end:
        return [replace(piece, start=lo, end=hi, count=0) for lo, hi in _split(piece.start, piece.end, SPLIT_PARTS)]
    first, last = piece.pdat_start or PDAT_EARLIEST, piece.pdat_end or PDAT_LATEST
    if piece.datetype == "pdat" or first == last:
        raise UnsplittableSlice(
            f"PubMed: {piece.count:,} records of {piece.label} exceed the esearch cap of {ESEARCH_CAP:,} "
            "and cannot be cut further; only part of them could be fetched"
        )
    return [replace(piece, pdat_start=lo, pdat_end=hi, count=0) for lo, hi in _split(first, last, SPLIT_PARTS)]


def _mergeable(last: DateSlice, piece: DateSlice) -> bool:
    """Neighbours that one slice can cover: two date ranges, or two publication-date parts of one day."""
    if (last.pdat_start is None) != (piece.pdat_start is None):
        return False
    return last.pdat_start is None or last.start == piece.start


def _merged(slices: Iterable[DateSlice]) -> list[DateSlice]:
    """Consecutive slices (in date order) joined while their counts fit under the cap together;
    a merged slice also covers the empty days (or publication dates) between them."""
    merged: list[DateSlice] = []
    for piece in slices:
        last = merged[-1] if merged else None
        if last is not None and last.count + piece.count <= ESEARCH_CAP and _mergeable(last, piece):
            merged[-1] = replace(last, end=piece.end, count=last.count + piece.count, pdat_end=piece.pdat_end)
        else:
            merged.append(piece)
    return merged


class PubMedClient:
    """esearch and efetch for one catalogue term. `query_translation` (what PubMed searched for
    the term) and `query_warnings` (parts of it that matched nothing or were ignored) are kept from
    its esearch answers for the run ledger."""

    def __init__(self, http: HttpClient, term: str, *, batch_size: int = EFETCH_BATCH,
                 today: Callable[[], date] = date.today, warn: bool = True):
        self.http = http
        self.term = term
        self.warn = warn  # log new warnings (off for a second client of the same run: said once)
        self.batch_size = batch_size
        self.query_translation: str | None = None
        self.query_warnings: list[str] = []
        self._today = today
        self._notes_lock = threading.Lock()
        # Threads for the requests asked for together (a planning round's counts, the next efetch
        # batches); they end with the client, so it needs no closing.
        self._pool = ThreadPoolExecutor(max_workers=max(IN_FLIGHT, SPLIT_PARTS), thread_name_prefix="trialwatch-pubmed")

    # --- esearch ---------------------------------------------------------------------------
    def _esearch(self, piece: DateSlice, retstart: int = 0, retmax: int = 0) -> dict:
        """One esearch for a slice, POSTed (the term with its date clauses can grow long)."""
        form = {"db": "pubmed", "retmode": "json", "retstart": retstart, "retmax": retmax}
        clauses = []
        if piece.datetype in TERM_DATETYPES:
            clauses.append(_term_range(piece.start, piece.end, piece.datetype))
        else:
            form.update(datetype=piece.datetype, mindate=_ncbi_date(piece.start), maxdate=_ncbi_date(piece.end))
        if piece.pdat_start is not None:
            clauses.append(_term_range(piece.pdat_start, piece.pdat_end, "dp"))
        form["term"] = " AND ".join([f"({self.term})", *clauses]) if clauses else self.term
        result = _esearch_json(self.http.post("/esearch.fcgi", form, validate=_esearch_json).content)
        self._take_notes(result, plain_term=not clauses)
        if "ERROR" in result:
            raise SearchError(f"PubMed esearch error for {piece.label}: {result['ERROR'][:300]}")
        return result

    def _take_notes(self, result: dict, *, plain_term: bool) -> None:
        """Keep the query translation (of the bare term) and any new warnings, logged once."""
        with self._notes_lock:
            if plain_term and "querytranslation" in result:
                self.query_translation = result["querytranslation"]
            new = [warning for warning in _query_warnings(result) if warning not in self.query_warnings]
            self.query_warnings.extend(new)
        if new and self.warn:
            log.warning("PubMed: part of the query matches nothing: %s (`trialwatch status` shows how PubMed "
                        "read the whole query)", "; ".join(new))

    def count(self, datetype: str, start: date, end: date) -> int:
        return self._count(DateSlice(datetype, start, end, 0))

    def _count(self, piece: DateSlice) -> int:
        return int(self._esearch(piece)["count"])

    def plan(self, datetype: str, start: date, end: date) -> SlicePlan:
        """Split [start, end] into slices of at most 9,999 records each: each round cuts every
        slice still over the cap into SPLIT_PARTS and counts the parts together (`_parts`: by
        date, a single day by publication date); then neighbours are merged while they fit under
        the cap together (fewer slices to list). Raises UnsplittableSlice rather than plan a
        slice that cannot be listed whole."""
        total = self.count(datetype, start, end)
        pieces = [DateSlice(datetype, start, end, total)]
        while over := [piece for piece in pieces if piece.count > ESEARCH_CAP]:
            cut = self._cut(over)
            pieces = [new for piece in pieces for new in cut.get(piece, [piece])]
        plan = SlicePlan(_merged(piece for piece in pieces if piece.count), total)
        if plan.sliced_total != total:
            log.error("PubMed: date slices add up to %d but the whole range counts %d (%s %s..%s); "
                      "records may have been added during planning, or some are missing",
                      plan.sliced_total, total, datetype, start, end)
        return plan

    def _cut(self, over: list[DateSlice]) -> dict[DateSlice, list[DateSlice]]:
        """One planning round: every slice over the cap cut into parts, all counted at once."""
        parts = {piece: _parts(piece) for piece in over}
        asked = [part for piece in over for part in parts[piece]]
        counts = dict(zip(asked, self._pool.map(self._count, asked)))
        cut = {piece: [replace(part, count=counts[part]) for part in parts[piece]] for piece in over}
        for piece, its_parts in cut.items():
            if piece.start == piece.end and piece.pdat_start is None:
                _check_day_cut(piece, its_parts)
        return cut

    def slice_ids(self, piece: DateSlice) -> list[str]:
        """All PMIDs of one slice. A short id list for a non-zero count is retried, then refused."""
        return self._listing(piece)[0]

    def _listing(self, piece: DateSlice) -> tuple[list[str], int]:
        """A slice's PMIDs and the count esearch reported with them."""
        wanted = min(piece.count, ESEARCH_CAP)
        for _ in range(EMPTY_ANSWER_RETRIES + 1):
            result = self._esearch(piece, 0, ESEARCH_CAP)
            ids, count = result.get("idlist", []), int(result["count"])
            if len(ids) >= wanted or count < piece.count:
                return ids, count
            log.warning("PubMed: esearch returned %d of %d ids for %s; asking again", len(ids), wanted, piece.label)
        raise ServiceUnavailable(f"PubMed esearch keeps returning {len(ids)} of {wanted} ids for {piece.label}")

    def window_ids(self, since: date | None, until: date | None = None) -> tuple[list[str], list[SlicePlan]]:
        """PMIDs new since `since` (entered, edat, or created, crdt) or revised since then (mdat);
        everything when `since` is None. The create date matters because a record that enters
        PubMed more than a year after publication gets its publication date as its Entrez date."""
        end = until or self._today() + timedelta(days=1)
        datetypes = ("edat", "crdt", "mdat") if since is not None else ("edat",)
        plans = [self.plan(datetype, since or EARLIEST, end) for datetype in datetypes]
        seen: dict[str, None] = {}
        for plan in plans:
            for piece in plan.slices:
                seen.update(dict.fromkeys(self.slice_ids(piece)))
        return list(seen), plans

    def catalogue_ids(self) -> list[str]:
        """Every PMID the term matches, for reconciliation: whole, or IncompleteIdSet — a partial
        set would make the missing records look deleted."""
        plan = self.plan("edat", EARLIEST, self._today() + timedelta(days=1))
        if not plan.complete:
            raise IncompleteIdSet(f"PubMed: the Entrez-date slices count {plan.sliced_total:,} records but the "
                                  f"term matches {plan.total:,}; not reconciling against a partial id set")
        seen: dict[str, None] = {}
        for piece in plan.slices:
            ids, count = self._listing(piece)
            if len(ids) != count:
                raise IncompleteIdSet(f"PubMed: esearch listed {len(ids):,} of the {count:,} records of "
                                      f"{piece.label}; not reconciling against a partial id set")
            seen.update(dict.fromkeys(ids))
        return list(seen)

    # --- efetch ----------------------------------------------------------------------------
    def fetch(self, pmids: Iterable[str]) -> Iterator[RawPage]:
        """efetch XML for `pmids`, POSTed in batches; one RawPage per batch, in order, with up
        to IN_FLIGHT batches asked for at once."""
        asked: deque = deque()
        for batch in _batches(pmids, self.batch_size):
            asked.append(self._pool.submit(self._fetch_batch, batch))
            if len(asked) == IN_FLIGHT:
                yield asked.popleft().result()
        while asked:
            yield asked.popleft().result()

    def _fetch_batch(self, pmids: list[str]) -> RawPage:
        form = {"db": "pubmed", "retmode": "xml", "id": ",".join(pmids)}
        for _ in range(EMPTY_ANSWER_RETRIES + 1):
            body = self.http.post("/efetch.fcgi", form, validate=_efetch_complete).content
            if _HAS_RECORD.search(body):
                return RawPage("pubmed", body, "xml", {"ids": len(pmids), "first_id": pmids[0]})
            log.warning("PubMed: efetch returned no records for %d ids; asking again", len(pmids))
        if len(pmids) == 1:  # one record deleted between esearch and efetch: nothing to fetch
            return RawPage("pubmed", body, "xml", {"ids": 1, "first_id": pmids[0]})
        raise ServiceUnavailable(
            f"PubMed efetch keeps answering no records for {len(pmids)} ids (first {pmids[0]}); "
            "not treating it as 'nothing there': try again later"
        )


def _check_day_cut(day: DateSlice, parts: list[DateSlice]) -> None:
    """A day first cut by publication date: its parts must hold every record of it. Fewer means
    some records have a publication date outside PDAT_EARLIEST..PDAT_LATEST (or none), which no
    part reaches."""
    held = sum(part.count for part in parts)
    log.info("PubMed: %d records on the single day %s exceed the esearch cap; cut by publication date",
             day.count, day.label)
    if held < day.count:
        raise UnsplittableSlice(
            f"PubMed: the publication-date parts of {day.label} hold {held:,} of its {day.count:,} records "
            f"(the rest have no publication date within {PDAT_EARLIEST}..{PDAT_LATEST}); not fetching the day incomplete"
        )


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for pmid in ids:
        batch.append(pmid)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
