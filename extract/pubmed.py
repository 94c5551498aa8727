"""PubMed through NCBI E-utilities: esearch (JSON) finds PMIDs, efetch (XML) fetches records.

esearch can only reach the first 9,999 records of any query, and ketamine alone has far more,
so a complete pull splits its date range into slices, splitting again until every slice counts
under the cap, and checks that the slices add up to the whole. The client yields raw efetch pages;
parsing is the parser's job.
"""
from __future__ import annotations

import json
import logging
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterable, Iterator

from extract.http import HttpClient, InvalidBody, ServiceUnavailable
from extract.pages import RawPage

log = logging.getLogger("trialwatch.pubmed")

ESEARCH_CAP = 9_999
EFETCH_BATCH = 200
EARLIEST = date(1800, 1, 1)
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


_HAS_RECORD = re.compile(rb"<(?:PubmedArticle|PubmedBookArticle|DeleteCitation)[\s>]")


class SearchError(RuntimeError):
    """esearch answered with an ERROR (bad term, cap exceeded) or an answer we cannot use."""


@dataclass(frozen=True)
class DateSlice:
    datetype: str  # 'edat' | 'mdat' | 'pdat'
    start: date
    end: date  # inclusive
    count: int


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
    try:
        result = json.loads(body)["esearchresult"]
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidBody(f"esearch answer is not esearch JSON: {error}") from None
    if "count" not in result and "ERROR" not in result:
        raise InvalidBody("esearch answer has no count")
    return result


def _efetch_complete(body: bytes) -> None:
    tail = body[-64:].rstrip()
    if not (tail.endswith(b"</PubmedArticleSet>") or tail.endswith(b"<PubmedArticleSet/>")):
        raise InvalidBody("efetch body does not end with </PubmedArticleSet> (truncated?)")


def _ncbi_date(day: date) -> str:
    return day.strftime("%Y/%m/%d")


def _split(start: date, end: date, parts: int) -> list[tuple[date, date]]:
    """[start, end] (inclusive) as up to `parts` consecutive ranges of (nearly) equal length."""
    days = (end - start).days + 1
    parts = min(parts, days)
    edges = [start + timedelta(days=days * i // parts) for i in range(parts)] + [end + timedelta(days=1)]
    return [(lo, hi - timedelta(days=1)) for lo, hi in zip(edges, edges[1:])]


def _merged(slices: Iterable[DateSlice]) -> list[DateSlice]:
    """Consecutive slices (in date order) joined while their counts fit under the cap together;
    a merged slice also covers the empty days between them."""
    merged: list[DateSlice] = []
    for piece in slices:
        last = merged[-1] if merged else None
        if last is not None and last.count + piece.count <= ESEARCH_CAP:
            merged[-1] = DateSlice(last.datetype, last.start, piece.end, last.count + piece.count)
        else:
            merged.append(piece)
    return merged


class PubMedClient:
    def __init__(self, http: HttpClient, term: str, *, batch_size: int = EFETCH_BATCH,
                 today: Callable[[], date] = date.today):
        self.http = http
        self.term = term
        self.batch_size = batch_size
        self._today = today
        # Threads for the requests asked for together (a planning round's counts, the next efetch
        # batches); they end with the client, so it needs no closing.
        self._pool = ThreadPoolExecutor(max_workers=max(IN_FLIGHT, SPLIT_PARTS), thread_name_prefix="trialwatch-pubmed")

    # --- esearch ---------------------------------------------------------------------------
    def _esearch(self, datetype: str, start: date, end: date, retstart: int = 0, retmax: int = 0) -> dict:
        params = {
            "db": "pubmed", "term": self.term, "retmode": "json", "datetype": datetype,
            "mindate": _ncbi_date(start), "maxdate": _ncbi_date(end),
            "retstart": retstart, "retmax": retmax,
        }
        result = _esearch_json(self.http.get("/esearch.fcgi", params, validate=_esearch_json).content)
        if "ERROR" in result:
            raise SearchError(f"PubMed esearch error for {datetype} {start}..{end}: {result['ERROR'][:300]}")
        return result

    def count(self, datetype: str, start: date, end: date) -> int:
        return int(self._esearch(datetype, start, end)["count"])

    def plan(self, datetype: str, start: date, end: date) -> SlicePlan:
        """Split [start, end] into date slices of at most 9,999 records each: each round splits
        every range still over the cap into SPLIT_PARTS and counts the parts together; then
        neighbours are merged while they fit under the cap together (fewer slices to list)."""
        total = self.count(datetype, start, end)
        pieces = [DateSlice(datetype, start, end, total)]
        while over := [piece for piece in pieces if piece.count > ESEARCH_CAP and piece.start < piece.end]:
            parts = {piece: _split(piece.start, piece.end, SPLIT_PARTS) for piece in over}
            asked = [part for piece in over for part in parts[piece]]
            counts = dict(zip(asked, self._pool.map(lambda part: self.count(datetype, *part), asked)))
            pieces = [new for piece in pieces
                      for new in ([DateSlice(datetype, lo, hi, counts[lo, hi]) for lo, hi in parts[piece]]
                                  if piece in parts else [piece])]
        for piece in pieces:
            if piece.count > ESEARCH_CAP:
                log.error("PubMed: %d records on the single day %s (%s) exceed the esearch cap; "
                          "only %d can be fetched", piece.count, piece.start, datetype, ESEARCH_CAP)
        plan = SlicePlan(_merged(piece for piece in pieces if piece.count), total)
        if plan.sliced_total != total:
            log.error("PubMed: date slices add up to %d but the whole range counts %d (%s %s..%s); "
                      "records may have been added during planning, or some are missing",
                      plan.sliced_total, total, datetype, start, end)
        return plan

    def slice_ids(self, piece: DateSlice) -> list[str]:
        """All PMIDs of one slice. A short id list for a non-zero count is retried, then refused."""
        wanted = min(piece.count, ESEARCH_CAP)
        for _ in range(EMPTY_ANSWER_RETRIES + 1):
            result = self._esearch(piece.datetype, piece.start, piece.end, 0, ESEARCH_CAP)
            ids = result.get("idlist", [])
            if len(ids) >= wanted or int(result["count"]) < piece.count:
                return ids
            log.warning("PubMed: esearch returned %d of %d ids for %s..%s; asking again",
                        len(ids), wanted, piece.start, piece.end)
        raise ServiceUnavailable(
            f"PubMed esearch keeps returning {len(ids)} of {wanted} ids for {piece.start}..{piece.end}"
        )

    def window_ids(self, since: date | None, until: date | None = None) -> tuple[list[str], list[SlicePlan]]:
        """PMIDs entered (edat) or revised (mdat) since `since`; everything when `since` is None."""
        end = until or self._today() + timedelta(days=1)
        plans = [self.plan("edat", since or EARLIEST, end)]
        if since is not None:
            plans.append(self.plan("mdat", since, end))
        seen: dict[str, None] = {}
        for plan in plans:
            for piece in plan.slices:
                seen.update(dict.fromkeys(self.slice_ids(piece)))
        return list(seen), plans

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


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for pmid in ids:
        batch.append(pmid)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
