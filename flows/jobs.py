"""The jobs behind the commands — nightly ingest, backfill, replay, retag — as plain functions,
with no Prefect in them.

A one-shot command with no Prefect API configured calls these directly (`flows.runner`): it pays
for neither Prefect's import (~1.5 s) nor a temporary server. `flows.ingest` wraps the same jobs
as Prefect flows, whose steps are tasks and subflows, for a configured server, `trialwatch serve`
or a Dask task runner. A job runs each step through its `Steps`, so both ways share one body."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import duckdb

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.sources import NAMES
from extract.tagger_version import TAGGER_VERSION
from flows import digest, pipeline, reconcile
from flows.settings import Settings
from flows.workers import PageWorkers, open_workers
from warehouse import clock
from warehouse.db import WarehouseError
from warehouse.publish import unpublished_run_ids, writing
from warehouse.tag_reuse import PublishedTags, attach_published, copy_published_tags

# Entries per list in the Prefect artifact (the digest files have them all): a backfill's digest
# runs to megabytes, which Prefect refuses to publish as an event (1.5 MB) and nobody reads.
ARTIFACT_ENTRIES = 100


@dataclass
class RunReport:
    summaries: list[pipeline.SourceSummary]
    digest_markdown: str
    artifact_markdown: str  # the digest with each list cut to ARTIFACT_ENTRIES
    feeds: dict[str, bytes] | None  # Atom feeds by file name: new.xml, <drug>.xml, <drug>--<group>.xml, …;
    # None: the run changed no record, and the feeds already written stay as they are
    stamp: str


class Working:
    """The open working copy of the warehouse, and the sources' started pulls, as a job's steps
    pass them to each other.

    Prefect keeps run parameters in the run context and ships that context with every task it
    submits to a remote task runner (Dask workers). A DuckDB connection (or a pull's download
    thread) cannot be pickled, so this handle crosses process boundaries without them: remote
    tasks never touch the warehouse. (A plain class, not a dataclass: pydantic would dump a
    dataclass field by field.)"""

    __slots__ = ("conn", "pulls")

    def __init__(self, conn: duckdb.DuckDBPyConnection | None, pulls: dict[str, pipeline.Pull] | None = None):
        self.conn = conn
        self.pulls = pulls or {}

    def __repr__(self) -> str:
        return "Working(<warehouse connection>)"

    def __reduce__(self):
        return (Working, (None,))


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_window(working: Working, settings: Settings, source: str, since: date | None,
                   full: bool) -> pipeline.Window:
    window = pipeline.resolve_window(working.conn, source, since=since, full=full, overlap_days=settings.overlap_days)
    progress(f"{source}: {window.mode} pull" + (f" since {window.since}" if window.since else ""))
    return window


def store_source(working: Working, source: str, workers: PageWorkers) -> pipeline.SourceSummary:
    """Streams page by page (the HTTP layer retries its own requests), so a page is archived and
    prepared while the next one is asked for; the source's load commits or rolls back as one."""
    return pipeline.store_pull(working.conn, working.pulls[source], catalogue=Catalogue.load(),
                               progress=progress, workers=workers)


def reconcile_source(working: Working, settings: Settings, source: str) -> reconcile.ReconcileSummary:
    return reconcile.reconcile_source(working.conn, settings, source, catalogue=Catalogue.load(), progress=progress)


def digest_path(settings: Settings, stamp: str) -> Path:
    return settings.data_dir / "digests" / f"{stamp}.md"


def summarize(working: Working, settings: Settings, summaries: list[pipeline.SourceSummary]) -> RunReport:
    conn = working.conn
    now = clock.now()
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    report = digest.build_digest(conn, unpublished_run_ids(conn), now)
    feeds = None if _feeds_still_true(report, settings) else digest.render_feeds(
        conn, now, dashboard_url=settings.dashboard_url,
        drug_labels={drug.key: drug.label for drug in Catalogue.load().drugs})
    return RunReport(summaries, digest.render_markdown(report),
                     digest.render_markdown(report, limit=ARTIFACT_ENTRIES, full_digest=str(digest_path(settings, stamp))),
                     feeds, stamp)


def _feeds_still_true(report: digest.Digest, settings: Settings) -> bool:
    """The written feeds say what a new rendering would: this run added, changed and deleted no
    record, and new.xml exists and links to the configured dashboard. A reader polling an
    unchanged feed then sees an unchanged file (its `updated` does not move on a quiet night), and
    a no-op night at 50k records skips ~0.5-1 s of ranking every feed entry."""
    if not digest.changed_nothing(report):
        return False
    try:
        head = settings.feed_path.read_bytes()[:4096]
    except OSError:
        return False
    return f'href="{settings.dashboard_url}/new"'.encode() in head


def write_files(settings: Settings, report: RunReport) -> None:
    """The run's digest (stamped, and as latest.md) and, unless the run changed nothing, the Atom
    feeds: new.xml at settings.feed_path, the per-drug and per-group feeds beside it; group feeds
    this run did not write (their group has no entries any more) are removed."""
    markdown = report.digest_markdown.encode()
    digest.write_atomically(digest_path(settings, report.stamp), markdown)
    digest.write_atomically(settings.data_dir / "digests" / "latest.md", markdown)
    if report.feeds is None:
        return
    folder = settings.feed_path.parent
    for name, feed in report.feeds.items():
        digest.write_atomically(settings.feed_path if name == "new.xml" else folder / name, feed)
    digest.remove_stale_feeds(folder, report.feeds)


def retag_records(working: Working, everything: bool) -> dict[str, int]:
    from extract.tagger import Tagger
    from flows.retag import rederive, retag

    done = retag(working.conn, everything=everything, tagger=Tagger(), progress=progress)
    done["derived"] = rederive(working.conn, everything=everything, catalogue=Catalogue.load(), progress=progress)
    return done


def replay_pages(working: Working, settings: Settings, archive_dir: Path, tag_all: bool = False
                 ) -> list[pipeline.SourceSummary]:
    """Replay the archive into the working copy. Records whose rebuilt content the published
    warehouse tagged with this tagger version keep those tags instead of being tagged again
    (warehouse/tag_reuse.py), unless `tag_all`."""
    published = PublishedTags(frozenset(), "--tag-all") if tag_all else attach_published(
        working.conn, settings.db_path, TAGGER_VERSION)
    if published.reason:
        progress(f"tagging every record ({published.reason})")
    else:
        progress(f"tags of unchanged records are reused from {settings.db_path} "
                 f"({len(published.hashes):,} records tagged by tagger {TAGGER_VERSION})")
    with open_workers(settings.workers, settings.task_runner, tagged=published.hashes) as workers:
        summaries = pipeline.replay_archive(working.conn, RawArchive(archive_dir), catalogue=Catalogue.load(),
                                            progress=progress, workers=workers)
    if published.hashes:
        reused = copy_published_tags(working.conn, TAGGER_VERSION)
        progress(f"tags of {reused:,} unchanged records copied from the published warehouse")
    return summaries


@dataclass(frozen=True)
class Steps:
    """How a job runs each step: these plain functions, or (flows.ingest) the Prefect tasks and
    subflows that wrap them."""

    resolve_window: Callable = resolve_window
    store_source: Callable = store_source
    reconcile_source: Callable = reconcile_source
    summarize: Callable = summarize
    write_outputs: Callable = write_files
    retag: Callable = retag_records
    replay: Callable = replay_pages


PLAIN = Steps()


def _to_reconcile(working: Working, settings: Settings, summaries: list[pipeline.SourceSummary],
                  forced: bool) -> list[str]:
    """Sources to reconcile after their pulls: forced, or due (settings.reconcile_days); never a
    source whose pull failed this run (its service is not answering well)."""
    today = clock.today()
    return [summary.source for summary in summaries if summary.status == "succeeded"
            and (forced or reconcile.is_due(working.conn, summary.source, settings.reconcile_days, today))]


def nightly(settings: Settings, sources: tuple[str, ...] = NAMES, since: date | None = None, full: bool = False,
            reconcile_now: bool = False, *, steps: Steps = PLAIN
            ) -> list[pipeline.SourceSummary | reconcile.ReconcileSummary]:
    """fetch → archive → parse → load per source into a private copy of the warehouse, reconcile
    the sources that are due (or all, with `reconcile_now`), then summarize and publish it
    atomically (see warehouse/publish.py), then write digest and feed. Every source downloads from
    the start; they are stored one after the other."""
    with writing(settings.db_path) as conn, open_workers(settings.workers, settings.task_runner) as workers:
        # one pool of workers for both sources: started (and its tagger built) once
        working = Working(conn)
        windows = {source: steps.resolve_window(working, settings, source, since, full) for source in sources}
        with pipeline.started_pulls(conn, settings, windows, catalogue=Catalogue.load(), progress=progress,
                                    workers=workers) as pulls:
            working.pulls = pulls
            summaries = [steps.store_source(working, source, workers) for source in sources]
        summaries += [steps.reconcile_source(working, settings, source)
                      for source in _to_reconcile(working, settings, summaries, reconcile_now)]
        report = steps.summarize(working, settings, summaries)
    steps.write_outputs(settings, report)
    return summaries


def backfill(settings: Settings, sources: tuple[str, ...] = NAMES) -> list[pipeline.SourceSummary]:
    """Full history of each source (PubMed date-sliced under the esearch cap, resumable slice by
    slice), published like a nightly run."""
    return nightly(settings, sources, None, True)


def retag(settings: Settings, everything: bool = False, *, steps: Steps = PLAIN) -> dict[str, int]:
    """Re-run the condition tagger over stored records (no refetching) and publish."""
    with writing(settings.db_path) as conn:
        return steps.retag(Working(conn), everything)


def replay(settings: Settings, archive_dir: Path, tag_all: bool = False, *, steps: Steps = PLAIN
           ) -> list[pipeline.SourceSummary]:
    """Rebuild the warehouse from the raw archive, with no network, and publish it — only if every
    source replayed and something was replayed: a rebuild that lost a source, or found no pages,
    must not replace the published warehouse. `tag_all`: tag every record, reusing no published tags."""
    with writing(settings.db_path, fresh=True) as conn:
        summaries = steps.replay(Working(conn), settings, archive_dir, tag_all)
        failed = [summary for summary in summaries if summary.status != "succeeded"]
        if failed:
            raise WarehouseError(f"replay of {', '.join(s.source for s in failed)} failed ({failed[0].message}); "
                                 f"nothing was published and {settings.db_path} is unchanged")
        if not any(summary.pages for summary in summaries):
            raise WarehouseError(f"{archive_dir} holds no archived pages; nothing was published and "
                                 f"{settings.db_path} is unchanged")
        return summaries
