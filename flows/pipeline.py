"""The pipeline as plain functions: fetch → archive → parse → load, per source.

The Prefect flows call these; keeping the logic here makes it testable without Prefect and
keeps the flows thin.
"""
from __future__ import annotations

import logging
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import duckdb

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.http import HttpClient
from extract.pages import RawPage
from extract.prefetch import Prefetch
from extract.pubmed import EARLIEST, DateSlice, PubMedClient
from extract.sources import BY_KIND, NAMES, SOURCES
from flows.prepare import PreparedPage, tag
from flows.settings import Settings
from flows.workers import InlineWorkers, PageWorkers
from warehouse import backfill, clock, deletions, runs
from warehouse.children import latest_rows, replace_children
from warehouse.load import LoadCounts, concat_batches, load_batch, transaction
from warehouse.tags import TagTables, replace_tags, store_tags

if TYPE_CHECKING:
    from extract.tagger import Tagger

log = logging.getLogger("trialwatch.pipeline")

Progress = Callable[[str], None]
REPLAY_BATCH = 25  # pages per replay transaction (~5,000 records)
LOAD_BATCH = 2_000  # records per upsert


@dataclass(frozen=True)
class Window:
    """What to ask a source for: everything ('full'), or records changed since a day."""

    mode: str  # 'full' | 'incremental' | 'since' | 'replay'
    since: date | None = None


def counted(n: int, noun: str) -> str:
    """'1 page', '1,234 pages'."""
    return f"{n:,} {noun}{'s' * (n != 1)}"


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
    query_translation: str | None = None  # PubMed: what esearch made of the catalogue term
    query_warnings: list[str] = field(default_factory=list)  # PubMed: parts of the term that matched nothing

    def keep_query(self, client: PubMedClient) -> None:
        self.query_translation, self.query_warnings = client.query_translation, list(client.query_warnings)

    def line(self) -> str:
        if self.status == "failed":
            return (f"{self.source}: FAILED — {self.message}; nothing of this source was stored and its "
                    "watermark did not move: the next run asks for the same window again")
        c = self.counts
        text = (f"{self.source}: fetched {self.fetched:,}, new {c.new:,}, updated {c.updated:,}, "
                f"unchanged {c.unchanged:,}, deleted {c.deleted:,}, rejected {c.rejected:,}")
        if self.http_requests:
            text += f" ({counted(self.http_requests, 'request')}, {self.http_retries:,} retried)"
        if self.skipped:
            text += " — skipped " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))
        return text


def _finish(conn: duckdb.DuckDBPyConnection, summary: SourceSummary, http: HttpClient | None,
            watermark: date | None) -> None:
    if http is not None:
        summary.http_requests, summary.http_retries = http.stats.requests, http.stats.retries
    runs.finish(conn, summary.run_id, status=summary.status, fetched=summary.fetched, counts=summary.counts,
                http_requests=summary.http_requests, http_retries=summary.http_retries,
                watermark=watermark, message=summary.message, query_translation=summary.query_translation,
                query_warnings=summary.query_warnings)


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
    """The source's HTTP client, within its service's limits (one seam for the fault tests)."""
    return SOURCES[source].http(settings)


def fetch_pages(source: str, http: HttpClient, catalogue: Catalogue, window: Window,
                progress: Progress, summary: SourceSummary) -> Iterator[RawPage]:
    """Pages of an incremental (or --since) pull. Full PubMed pulls go slice by slice instead
    (`_pubmed_backfill`). PubMed's reading of the query goes into `summary`."""
    yield from SOURCES[source].pages(http, catalogue, window.since, progress, summary.keep_query)


def _pubmed_backfill(conn: duckdb.DuckDBPyConnection, http: HttpClient, catalogue: Catalogue,
                     summary: SourceSummary, archive: RawArchive, workers: PageWorkers, progress: Progress,
                     today: date) -> date:
    """Everything PubMed has, one Entrez-date slice (a day over the cap: one publication-date part
    of it) per transaction. The plan is stored first, so a killed or failed backfill resumes at its
    first unfinished slice (the plan's window ends on the day it was made; the next incremental run
    picks up from there). Pages are fetched (and archived) ahead in the background and prepared by
    the workers while earlier ones are loaded."""
    client = PubMedClient(http, catalogue.pubmed_term())
    plan_id = backfill.pending_plan(conn, "pubmed")
    if plan_id is None:
        plan = client.plan("edat", EARLIEST, today + timedelta(days=1))
        plan_id = summary.run_id
        backfill.save_plan(conn, plan_id, "pubmed", plan.slices)
    else:
        progress(f"pubmed: resuming the unfinished backfill planned by run {plan_id}")
    slices = backfill.plan_slices(conn, plan_id)
    pending = [(s.slice_no, DateSlice(s.datetype, s.start, s.end, s.expected, s.pdat_start, s.pdat_end))
               for s in slices if not s.done]
    expected = sum(piece.count for _, piece in pending)
    progress(f"pubmed: {expected:,} records to fetch in {len(pending)} of {len(slices)} date slices")

    def slice_pages() -> Iterator[RawPage | None]:
        """Each slice's pages, then None when the slice is complete."""
        for _, piece in pending:
            yield from client.fetch(client.slice_ids(piece))
            yield None

    pages = Prefetch(archiving(slice_pages(), archive, summary.run_id))
    groups = load_groups(workers.map(pages))
    for number, piece in pending:
        with transaction(conn):
            for group in groups:
                if group is None:
                    break
                store_group(conn, group, summary.run_id, summary)
            backfill.mark_done(conn, plan_id, number, summary.run_id)
        progress(f"pubmed: slice {piece.label} stored; {summary.fetched:,} of {expected:,} records")
    summary.keep_query(client)
    planned_on = max((s.end for s in slices), default=today + timedelta(days=1)) - timedelta(days=1)
    return min(planned_on, today)


def tag_records(conn: duckdb.DuckDBPyConnection, kind: str, records: list[dict], tagger: Tagger) -> int:
    """Tag records' text for conditions and store mentions + what each record is about."""
    return replace_tags(conn, tag(kind, records, tagger), tagger.version)


def load_groups(prepared: Iterable[PreparedPage | None], max_records: int | None = None
                ) -> Iterator[list[PreparedPage] | None]:
    """Prepared pages gathered into groups of about `max_records` records, one upsert each (a
    call has a fixed cost, so 10 pages in one call load ~2.5× faster than page by page). A page
    with deletions ends its group, so upserts and deletions keep the order they were fetched in;
    None markers pass through. `max_records` defaults to LOAD_BATCH."""
    max_records = max_records or LOAD_BATCH
    group: list[PreparedPage] = []
    size = 0
    for page in prepared:
        if page is None:
            if group:
                yield group
                group, size = [], 0
            yield None
            continue
        group.append(page)
        size += page.record_count
        if size >= max_records or page.deleted_ids:
            yield group
            group, size = [], 0
    if group:
        yield group


def store_group(conn: duckdb.DuckDBPyConnection, group: list[PreparedPage], run_id: str,
                summary: SourceSummary) -> None:
    """Load prepared pages of one source in one upsert, and store the tags of the records it
    wrote (new or changed; unchanged ones keep their tags until `retag`). In a replay, records
    the workers did not tag get theirs from the published warehouse at the end (warehouse/tag_reuse.py)."""
    kind = group[0].kind
    source = BY_KIND[kind]
    batch = concat_batches(kind, [page.batch for page in group])
    counts = load_batch(conn, kind, batch, run_id=run_id,
                        deleted_ids=[pmid for page in group for pmid in page.deleted_ids],
                        rejects=[reject for page in group for reject in page.rejects])
    if counts.stored_ids:
        tagged = [page for page in group if page.tags is not None]
        if tagged:  # none: a replay reuses every stored record's published tags
            store_tags(conn, _latest_tags(tagged, set(counts.stored_ids)), tagged[0].tagger_version)
        pages = [(page.batch.column(source.key).to_pylist(), page.children) for page in group if page.children]
        if pages:  # child tables built from the pages (trials' AACT tables)
            replace_children(conn, latest_rows(pages, set(counts.stored_ids)), counts.stored_ids,
                             run_id=run_id, now=clock.now())
    if batch is not None:  # a record a pull fetched is there: if it was gone, it is back
        deletions.restore(conn, source.name, batch.column(source.key).to_pylist(), run_id=run_id, now=clock.now())
    summary.fetched += sum(page.record_count for page in group)
    summary.pages += len(group)
    counts.stored_ids = []  # not carried into the run summary
    summary.counts.add(counts)
    for page in group:
        summary.skipped.update(page.skipped)


def _latest_tags(group: list[PreparedPage], stored: set[str]) -> TagTables:
    """The tags of the stored records, each from the last page that carried tags for it (the
    version the upsert kept, unless a later page's version of it is one whose tags a replay
    reuses: that copy replaces these)."""
    parts, remaining = [], set(stored)
    for page in reversed(group):
        if page.tags is not None and remaining:
            mine = remaining.intersection(page.tags.records["record_id"].to_pylist())
            if mine:
                parts.append(page.tags.only(mine))
                remaining -= mine
    return TagTables.concat(parts)


def archiving(pages: Iterable[RawPage | None], archive: RawArchive, run_id: str) -> Iterator[RawPage | None]:
    """Pass pages through, writing each to the raw archive first (so a page is kept even if
    preparing or loading it fails); None markers pass through."""
    seq = 0
    for page in pages:
        if page is not None:
            seq += 1
            archive.write(run_id, seq, page)
        yield page


@dataclass
class Pull:
    """A source's pull, started: its run in the ledger, its HTTP client, and (except for a full
    PubMed pull, which plans its date slices first) its pages already being fetched and
    archived by a background thread, however long its turn to be stored takes — and, when
    started with workers, prepared by them as they arrive."""

    source: str
    window: Window
    summary: SourceSummary
    http: HttpClient
    archive: RawArchive
    pages: Prefetch[RawPage] | None
    prepared: Prefetch[PreparedPage] | None = None

    @property
    def is_backfill(self) -> bool:
        return SOURCES[self.source].backfill_in_slices and self.window.mode == "full"

    def close(self) -> None:
        for stream in (self.pages, self.prepared):  # ending `pages` first ends the preparing thread's wait
            if stream is not None:
                stream.close()
        self.http.close()


def start_pull(conn: duckdb.DuckDBPyConnection, settings: Settings, source: str, window: Window, *,
               catalogue: Catalogue, progress: Progress, workers: PageWorkers | None = None) -> Pull:
    """Record the run and start fetching `source`'s pages for `window` in the background (and
    preparing them with `workers`, if given and they can work from a background thread)."""
    summary = SourceSummary(source, runs.new_run_id(source), window)
    runs.start(conn, summary.run_id, source, window.mode, window.since)
    archive = RawArchive(settings.archive_dir)
    http = make_http(source, settings)
    pull = Pull(source, window, summary, http, archive, None)
    if not pull.is_backfill:
        pull.pages = Prefetch(archiving(fetch_pages(source, http, catalogue, window, progress, summary), archive, summary.run_id))
        if workers is not None and workers.in_background:
            pull.prepared = Prefetch(workers.map(pull.pages))
    return pull


@contextmanager
def started_pulls(conn: duckdb.DuckDBPyConnection, settings: Settings, windows: dict[str, Window], *,
                  catalogue: Catalogue, progress: Progress, workers: PageWorkers | None = None
                  ) -> Iterator[dict[str, Pull]]:
    """Every source's pull started at once, so a source stored later (ClinicalTrials.gov after
    PubMed) downloads — and, with `workers`, is prepared — meanwhile: the two services have
    separate rate limits, and the workers idle while PubMed is planned and downloaded. Storing
    stays one source at a time, on one writer. All are stopped when the block ends."""
    pulls: dict[str, Pull] = {}
    try:
        for source, window in windows.items():
            pulls[source] = start_pull(conn, settings, source, window, catalogue=catalogue, progress=progress,
                                       workers=workers)
        yield pulls
    finally:
        for pull in pulls.values():
            pull.close()


def store_pull(conn: duckdb.DuckDBPyConnection, pull: Pull, *, catalogue: Catalogue, progress: Progress,
               today: date | None = None, workers: PageWorkers | None = None) -> SourceSummary:
    """Store a started pull, all or nothing: its pages load in one transaction that commits with
    the run's ledger row and watermark (a full PubMed backfill commits slice by slice instead).
    A failure rolls the source back and is reported in the summary, not raised, so the other
    source still runs; the pages fetched so far stay in the raw archive. Pages are prepared by
    `workers` (default: in this process), unless the pull was started with its own."""
    today = today or clock.today()
    workers = workers or InlineWorkers(catalogue)
    source, summary, http = pull.source, pull.summary, pull.http
    try:
        if pull.is_backfill:
            watermark = _pubmed_backfill(conn, http, catalogue, summary, pull.archive, workers, progress, today)
            summary.status = "succeeded"
            _finish(conn, summary, http, watermark=watermark)
        else:
            prepared = pull.prepared if pull.prepared is not None else workers.map(pull.pages)
            with transaction(conn):
                for group in load_groups(prepared):
                    store_group(conn, group, summary.run_id, summary)
                    progress(f"{source}: {summary.fetched:,} records stored ({counted(summary.pages, 'page')})")
                summary.status = "succeeded"
                _finish(conn, summary, http, watermark=today)
    except Exception as error:  # noqa: BLE001 — any failure ends this source, reported below
        log.debug("%s ingest failed", source, exc_info=True)
        summary.status, summary.message = "failed", http.scrub(f"{type(error).__name__}: {error}")
        if not pull.is_backfill:
            summary.counts = LoadCounts()  # rolled back; a backfill keeps its finished slices
        _finish(conn, summary, http, watermark=None)
    finally:
        pull.close()
    return summary


def ingest_source(conn: duckdb.DuckDBPyConnection, settings: Settings, source: str, window: Window, *,
                  catalogue: Catalogue, progress: Progress, today: date | None = None,
                  workers: PageWorkers | None = None) -> SourceSummary:
    """Pull one source for `window` and store it (`start_pull`, then `store_pull`)."""
    pull = start_pull(conn, settings, source, window, catalogue=catalogue, progress=progress)
    return store_pull(conn, pull, catalogue=catalogue, progress=progress, today=today, workers=workers)


def _replay_until_id_set(conn: duckdb.DuckDBPyConnection, archived: Iterator[RawPage], summary: SourceSummary,
                         workers: PageWorkers, progress: Progress) -> RawPage | None:
    """Load archived record pages until the next reconciliation id set (returned) or the end
    (None), committing every REPLAY_BATCH pages."""
    found: list[RawPage] = []

    def record_pages() -> Iterator[RawPage]:
        for page in archived:
            if deletions.id_set(page):
                found.append(page)
                return
            yield page

    groups = load_groups(workers.map(Prefetch(record_pages())))
    finished = False
    while not finished:
        finished = True
        with transaction(conn):
            committed_at = summary.pages
            for group in groups:
                store_group(conn, group, summary.run_id, summary)
                if summary.pages - committed_at >= REPLAY_BATCH:
                    finished = False
                    break
        progress(f"{summary.source}: replayed {summary.pages:,} pages, {summary.fetched:,} records")
    return found[0] if found else None


def replay_archive(conn: duckdb.DuckDBPyConnection, archive: RawArchive, *, catalogue: Catalogue,
                   progress: Progress, sources: tuple[str, ...] = NAMES,
                   workers: PageWorkers | None = None) -> list[SourceSummary]:
    """Load archived pages, oldest run first, with no network. Commits every REPLAY_BATCH pages:
    a replay builds a fresh working copy that is published only when it ends, so bigger
    transactions would buy nothing but memory (DuckDB holds uncommitted rows in RAM)."""
    workers = workers or InlineWorkers(catalogue)
    summaries = []
    for source in sources:
        summary = SourceSummary(source, runs.new_run_id(source), Window("replay"))
        runs.start(conn, summary.run_id, source, "replay", None)
        try:
            archived = (entry.page for entry in archive.pages((source,)))
            while True:
                id_set = _replay_until_id_set(conn, archived, summary, workers, progress)
                if id_set is None:
                    break
                with transaction(conn):  # a reconciliation, at the point of the archive it was made
                    summary.counts.deleted += len(deletions.apply_id_set(conn, id_set, summary.run_id).gone)
            summary.status = "succeeded"
            _finish(conn, summary, None, watermark=None)
        except Exception as error:  # noqa: BLE001
            summary.status, summary.message = "failed", f"{type(error).__name__}: {error}"
            _finish(conn, summary, None, watermark=None)
        summaries.append(summary)
    return summaries
