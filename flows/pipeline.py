"""The pipeline as plain functions: fetch → archive → parse → load, per source.

The Prefect flows call these; keeping the logic here makes it testable without Prefect and
keeps the flows thin.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from itertools import islice
from typing import Callable, Iterator

import duckdb

from extract.archive import SOURCES, RawArchive
from extract.catalogue import Catalogue
from extract.ctgov import CtGovClient, ctgov_http
from extract.ctgov_parser import parse_ctgov_page
from extract.http import HttpClient
from extract.pages import RawPage
from extract.prefetch import prefetch
from extract.pubmed import EARLIEST, DateSlice, PubMedClient, ncbi_http
from extract.pubmed_parser import parse_pubmed
from extract.tagger import Tagger, about
from flows.settings import Settings
from warehouse import backfill, runs
from warehouse.load import LoadCounts, load_page, transaction
from warehouse.tags import RecordTags, replace_tags

log = logging.getLogger("trialwatch.pipeline")

Progress = Callable[[str], None]
RECORD_KIND = {"pubmed": "article", "ctgov": "trial"}
REPLAY_BATCH = 25  # pages per replay transaction (~5,000 records)


@dataclass(frozen=True)
class Window:
    """What to ask a source for: everything ('full'), or records changed since a day."""

    mode: str  # 'full' | 'incremental' | 'since' | 'replay'
    since: date | None = None


@dataclass
class SourceSummary:
    source: str
    run_id: str
    window: Window
    status: str = "running"
    fetched: int = 0
    pages: int = 0
    counts: LoadCounts = field(default_factory=LoadCounts)
    skipped: Counter = field(default_factory=Counter)
    http_requests: int = 0
    http_retries: int = 0
    message: str | None = None

    def line(self) -> str:
        if self.status == "failed":
            return (f"{self.source}: FAILED — {self.message}; nothing of this source was stored and its "
                    "watermark did not move: the next run asks for the same window again")
        c = self.counts
        text = (f"{self.source}: fetched {self.fetched:,}, new {c.new:,}, updated {c.updated:,}, "
                f"unchanged {c.unchanged:,}, deleted {c.deleted:,}, rejected {c.rejected:,}")
        if self.http_requests:
            text += f" ({self.http_requests:,} requests, {self.http_retries:,} retried)"
        if self.skipped:
            text += " — skipped " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))
        return text


def _finish(conn: duckdb.DuckDBPyConnection, summary: SourceSummary, http: HttpClient | None,
            watermark: date | None) -> None:
    if http is not None:
        summary.http_requests, summary.http_retries = http.stats.requests, http.stats.retries
    runs.finish(conn, summary.run_id, status=summary.status, fetched=summary.fetched, counts=summary.counts,
                http_requests=summary.http_requests, http_retries=summary.http_retries,
                watermark=watermark, message=summary.message)


def resolve_window(conn: duckdb.DuckDBPyConnection, source: str, *, since: date | None,
                   full: bool, overlap_days: int) -> Window:
    """--full, --since, or the last successful run's watermark minus the overlap; a source never
    ingested successfully gets a full pull."""
    if full:
        return Window("full")
    if since is not None:
        return Window("since", since)
    watermark = runs.last_watermark(conn, source)
    if watermark is None:
        return Window("full")
    return Window("incremental", watermark - timedelta(days=overlap_days))


def make_http(source: str, settings: Settings) -> HttpClient:
    if source == "pubmed":
        return ncbi_http(settings.pubmed_url, api_key=settings.ncbi_key, email=settings.ncbi_email,
                         timeout=settings.http_timeout, max_retries=settings.http_retries)
    return ctgov_http(settings.ctgov_url, timeout=settings.http_timeout, max_retries=settings.http_retries)


def fetch_pages(source: str, http: HttpClient, catalogue: Catalogue, window: Window,
                progress: Progress) -> Iterator[RawPage]:
    """Pages of an incremental (or --since) pull. Full PubMed pulls go slice by slice instead
    (`_pubmed_backfill`)."""
    if source == "pubmed":
        client = PubMedClient(http, catalogue.pubmed_term())
        ids, plans = client.window_ids(window.since)
        slices = sum(len(plan.slices) for plan in plans)
        progress(f"pubmed: {len(ids):,} records to fetch ({slices} date slice{'s' * (slices != 1)})")
        yield from client.fetch(ids)
    else:
        yield from CtGovClient(http, catalogue.ctgov_intervention_query()).pages(window.since)


def _pubmed_backfill(conn: duckdb.DuckDBPyConnection, http: HttpClient, catalogue: Catalogue,
                     summary: SourceSummary, archive: RawArchive, progress: Progress, today: date) -> date:
    """Everything PubMed has, one Entrez-date slice per transaction. The plan is stored first,
    so a killed or failed backfill resumes at its first unfinished slice (the plan's window
    ends on the day it was made; the next incremental run picks up from there). Pages are
    fetched ahead in the background while earlier ones are parsed and loaded."""
    client = PubMedClient(http, catalogue.pubmed_term())
    plan_id = backfill.pending_plan(conn, "pubmed")
    if plan_id is None:
        plan = client.plan("edat", EARLIEST, today + timedelta(days=1))
        plan_id = summary.run_id
        backfill.save_plan(conn, plan_id, "pubmed", [(s.datetype, s.start, s.end, s.count) for s in plan.slices])
    else:
        progress(f"pubmed: resuming the unfinished backfill planned by run {plan_id}")
    slices = backfill.plan_slices(conn, plan_id)
    pending = [DateSlice(datetype, start, end, count) for datetype, start, end, count, done in slices if not done]
    expected = sum(piece.count for piece in pending)
    progress(f"pubmed: {expected:,} records to fetch in {len(pending)} of {len(slices)} date slices")

    def slice_pages() -> Iterator[tuple[DateSlice, RawPage | None]]:
        """(slice, page) for each page, then (slice, None) when the slice is complete."""
        for piece in pending:
            for page in client.fetch(client.slice_ids(piece)):
                yield piece, page
            yield piece, None

    seq = 0
    pages = prefetch(slice_pages())
    for piece in pending:
        with transaction(conn):
            for _, page in pages:
                if page is None:
                    break
                seq += 1
                archive.write(summary.run_id, seq, page)
                store_page(conn, page, summary.run_id, catalogue, summary)
            backfill.mark_done(conn, plan_id, piece.start, summary.run_id)
        progress(f"pubmed: slice {piece.start}..{piece.end} stored; {summary.fetched:,} of {expected:,} records")
    planned_on = max((end for _, _, end, _, _ in slices), default=today + timedelta(days=1)) - timedelta(days=1)
    return min(planned_on, today)


@lru_cache(maxsize=1)
def default_tagger() -> Tagger:
    """Built once per process: the spaCy pipeline and its phrase patterns take a moment."""
    return Tagger()


def tag_records(conn: duckdb.DuckDBPyConnection, kind: str, records: list[dict], tagger: Tagger) -> int:
    """Tag records' text for conditions and store mentions + what each record is about."""
    key = "pmid" if kind == "article" else "nct_id"
    stream = tagger.tag_articles(records) if kind == "article" else tagger.tag_trials(records)
    tagged = [RecordTags(kind, str(record[key]), mentions, about(kind, mentions, tagger.lexicon))
              for record, mentions in stream]
    return replace_tags(conn, tagged, tagger.version)


def store_page(conn: duckdb.DuckDBPyConnection, page: RawPage, run_id: str, catalogue: Catalogue,
               summary: SourceSummary, tagger: Tagger | None = None) -> None:
    """Parse one raw page, label its records with drugs, load it, and tag the records it
    stored (new or changed; unchanged ones keep their tags until `retag`)."""
    kind = RECORD_KIND[page.source]
    if page.source == "pubmed":
        parsed = parse_pubmed(page.body)
        for record in parsed.records:
            record["drugs"] = catalogue.drugs_for_article(record)
    else:
        parsed = parse_ctgov_page(page.body)
        for record in parsed.records:
            record["drugs"] = catalogue.drugs_for_trial(record)
    counts = load_page(conn, kind, parsed.records, run_id=run_id,
                       deleted_ids=parsed.deleted_ids, rejects=parsed.rejects)
    if counts.stored_ids:
        key = "pmid" if kind == "article" else "nct_id"
        stored = set(counts.stored_ids)
        tag_records(conn, kind, [r for r in parsed.records if str(r[key]) in stored], tagger or default_tagger())
    summary.fetched += len(parsed.records)
    summary.pages += 1
    counts.stored_ids = []  # not carried into the run summary
    summary.counts.add(counts)
    summary.skipped.update(parsed.skipped)


def ingest_source(conn: duckdb.DuckDBPyConnection, settings: Settings, source: str, window: Window, *,
                  catalogue: Catalogue, progress: Progress, today: date | None = None) -> SourceSummary:
    """Pull one source for `window`, all or nothing: its pages load in one transaction that
    commits with the run's ledger row and watermark (a full PubMed backfill commits slice by
    slice instead). A failure rolls the source back and is reported in the summary, not raised,
    so the other source still runs; the pages fetched so far stay in the raw archive."""
    today = today or datetime.now(timezone.utc).date()
    summary = SourceSummary(source, runs.new_run_id(source), window)
    runs.start(conn, summary.run_id, source, window.mode, window.since)
    archive = RawArchive(settings.archive_dir)
    http = make_http(source, settings)
    try:
        if source == "pubmed" and window.mode == "full":
            watermark = _pubmed_backfill(conn, http, catalogue, summary, archive, progress, today)
            summary.status = "succeeded"
            _finish(conn, summary, http, watermark=watermark)
        else:
            with transaction(conn):
                pages = prefetch(fetch_pages(source, http, catalogue, window, progress))
                for seq, page in enumerate(pages, start=1):
                    archive.write(summary.run_id, seq, page)
                    store_page(conn, page, summary.run_id, catalogue, summary)
                    progress(f"{source}: page {seq}: {summary.fetched:,} records parsed")
                summary.status = "succeeded"
                _finish(conn, summary, http, watermark=today)
    except Exception as error:  # noqa: BLE001 — any failure ends this source, reported below
        log.debug("%s ingest failed", source, exc_info=True)
        summary.status, summary.message = "failed", http.scrub(f"{type(error).__name__}: {error}")
        if not (source == "pubmed" and window.mode == "full"):
            summary.counts = LoadCounts()  # rolled back; a backfill keeps its finished slices
        _finish(conn, summary, http, watermark=None)
    finally:
        http.close()
    return summary


def replay_archive(conn: duckdb.DuckDBPyConnection, archive: RawArchive, *, catalogue: Catalogue,
                   progress: Progress, sources: tuple[str, ...] = SOURCES) -> list[SourceSummary]:
    """Load archived pages, oldest run first, with no network. Commits every REPLAY_BATCH pages:
    a replay builds a fresh working copy that is published only when it ends, so bigger
    transactions would buy nothing but memory (DuckDB holds uncommitted rows in RAM)."""
    summaries = []
    for source in sources:
        summary = SourceSummary(source, runs.new_run_id(source), Window("replay"))
        runs.start(conn, summary.run_id, source, "replay", None)
        try:
            pages = iter(archive.pages((source,)))
            while True:
                with transaction(conn):
                    batch = list(islice(pages, REPLAY_BATCH))
                    for archived in batch:
                        store_page(conn, archived.page, summary.run_id, catalogue, summary)
                if not batch:
                    break
                progress(f"{source}: replayed {summary.pages:,} pages, {summary.fetched:,} records")
            summary.status = "succeeded"
            _finish(conn, summary, None, watermark=None)
        except Exception as error:  # noqa: BLE001
            summary.status, summary.message = "failed", f"{type(error).__name__}: {error}"
            _finish(conn, summary, None, watermark=None)
        summaries.append(summary)
    return summaries
