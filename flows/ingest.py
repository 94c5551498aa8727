"""The Prefect flows. Thin on purpose: the nightly flow opens the private working copy of the
warehouse, runs one subflow per source, writes the summary, and publishes; the tasks call the
plain functions in `flows.pipeline` and `flows.digest`, which hold the logic."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import duckdb
from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.sources import NAMES
from flows import digest, pipeline, reconcile
from flows.settings import Settings
from flows.workers import PageWorkers, open_workers
from warehouse import clock
from warehouse.db import WarehouseError
from warehouse.publish import unpublished_run_ids, writing

ARTIFACT_KEY = "trialwatch-digest"
# Entries per list in the Prefect artifact (the digest files have them all): a backfill's digest
# runs to megabytes, which Prefect refuses to publish as an event (1.5 MB) and nobody reads.
ARTIFACT_ENTRIES = 100


@dataclass
class RunReport:
    summaries: list[pipeline.SourceSummary]
    digest_markdown: str
    artifact_markdown: str  # the digest with each list cut to ARTIFACT_ENTRIES
    feeds: dict[str, bytes]  # Atom feeds by file name: new.xml, <drug>.xml, <drug>--<group>.xml, …
    stamp: str


class Working:
    """The open working copy of the warehouse, and the sources' started pulls, as flows and tasks
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


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def orchestrated() -> bool:
    """Whether runs report to a Prefect server: PREFECT_API_URL is set (a self-hosted server,
    Prefect Cloud), or this is already a Prefect flow run (`trialwatch serve`'s deployment)."""
    return bool(get_current_settings().api.url) or FlowRunContext.get() is not None


def _run(step, *args):
    """A task (or subflow) as Prefect orchestrates it inside an orchestrated flow run; its plain
    function (`.fn`, Prefect's idiom for running without orchestration) when the flow itself was
    called as a plain function — a one-shot command with no Prefect API configured, which would
    otherwise start a temporary Prefect server and spend seconds on it."""
    context = FlowRunContext.get()
    if context is None:
        return step.fn(*args)
    if isinstance(step, Flow):  # a subflow on the running flow's task runner: Prefect would give it
        step = step.with_options(task_runner=context.task_runner)  # its own, and Dask pages would run here
    return step(*args)


@task(name="resolve-window", cache_policy=NONE)
def resolve_window(working: Working, settings: Settings, source: str, since: date | None,
                   full: bool) -> pipeline.Window:
    window = pipeline.resolve_window(working.conn, source, since=since, full=full, overlap_days=settings.overlap_days)
    _progress(f"{source}: {window.mode} pull" + (f" since {window.since}" if window.since else ""))
    return window


@task(name="fetch-archive-parse-load", cache_policy=NONE)
def fetch_archive_parse_load(working: Working, source: str, workers: PageWorkers) -> pipeline.SourceSummary:
    """Streams page by page (the HTTP layer retries its own requests), so a page is archived and
    prepared while the next one is asked for; the source's load commits or rolls back as one."""
    return pipeline.store_pull(working.conn, working.pulls[source], catalogue=Catalogue.load(),
                               progress=_progress, workers=workers)


@flow(name="trialwatch-source", flow_run_name="ingest-{source}", validate_parameters=False)
def source_flow(working: Working, source: str, workers: PageWorkers) -> pipeline.SourceSummary:
    return _run(fetch_archive_parse_load, working, source, workers)


def digest_path(settings: Settings, stamp: str) -> Path:
    return settings.data_dir / "digests" / f"{stamp}.md"


@task(name="summarize", cache_policy=NONE)
def summarize(working: Working, settings: Settings, summaries: list[pipeline.SourceSummary]) -> RunReport:
    conn = working.conn
    now = clock.now()
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    report = digest.build_digest(conn, unpublished_run_ids(conn), now)
    feeds = digest.render_feeds(conn, now, dashboard_url=settings.dashboard_url,
                                drug_labels={drug.key: drug.label for drug in Catalogue.load().drugs})
    return RunReport(summaries, digest.render_markdown(report),
                     digest.render_markdown(report, limit=ARTIFACT_ENTRIES, full_digest=str(digest_path(settings, stamp))),
                     feeds, stamp)


def write_files(settings: Settings, report: RunReport) -> None:
    """The run's digest (stamped, and as latest.md) and the Atom feeds: new.xml at
    settings.feed_path, the per-drug and per-group feeds beside it; group feeds this run did not
    write (their group has no entries any more) are removed."""
    markdown = report.digest_markdown.encode()
    digest.write_atomically(digest_path(settings, report.stamp), markdown)
    digest.write_atomically(settings.data_dir / "digests" / "latest.md", markdown)
    folder = settings.feed_path.parent
    for name, feed in report.feeds.items():
        digest.write_atomically(settings.feed_path if name == "new.xml" else folder / name, feed)
    digest.remove_stale_feeds(folder, report.feeds)


@task(name="write-digest-and-feed", cache_policy=NONE)
def write_outputs(settings: Settings, report: RunReport) -> None:
    """The digest files and feeds, and — where a Prefect server records the run — the digest as
    its markdown artifact."""
    write_files(settings, report)
    if TaskRunContext.get() is not None:
        create_markdown_artifact(key=ARTIFACT_KEY, markdown=report.artifact_markdown,
                                 description="What the last trialwatch run changed")


@task(name="reconcile-ids", cache_policy=NONE)
def reconcile_task(working: Working, settings: Settings, source: str) -> reconcile.ReconcileSummary:
    return reconcile.reconcile_source(working.conn, settings, source, catalogue=Catalogue.load(), progress=_progress)


def _to_reconcile(working: Working, settings: Settings, summaries: list[pipeline.SourceSummary],
                  forced: bool) -> list[str]:
    """Sources to reconcile after their pulls: forced, or due (settings.reconcile_days); never a
    source whose pull failed this run (its service is not answering well)."""
    today = clock.today()
    return [summary.source for summary in summaries if summary.status == "succeeded"
            and (forced or reconcile.is_due(working.conn, summary.source, settings.reconcile_days, today))]


@flow(name="trialwatch-nightly", validate_parameters=False)
def nightly_flow(settings: Settings, sources: tuple[str, ...] = NAMES,
                 since: date | None = None, full: bool = False,
                 reconcile_now: bool = False) -> list[pipeline.SourceSummary | reconcile.ReconcileSummary]:
    """fetch → archive → parse → load per source into a private copy of the warehouse, reconcile
    the sources that are due (or all, with `reconcile_now`), then summarize and publish it
    atomically (see warehouse/publish.py), then write digest and feed. Every source downloads from
    the start; they are stored one after the other."""
    with writing(settings.db_path) as conn, open_workers(settings.workers, settings.task_runner) as workers:
        # one pool of workers for both sources: started (and its tagger built) once
        working = Working(conn)
        windows = {source: _run(resolve_window, working, settings, source, since, full) for source in sources}
        with pipeline.started_pulls(conn, settings, windows, catalogue=Catalogue.load(), progress=_progress,
                                    workers=workers) as pulls:
            working.pulls = pulls
            summaries = [_run(source_flow, working, source, workers) for source in sources]
        summaries += [_run(reconcile_task, working, settings, source)
                      for source in _to_reconcile(working, settings, summaries, reconcile_now)]
        report = _run(summarize, working, settings, summaries)
    _run(write_outputs, settings, report)
    return summaries


@flow(name="trialwatch-backfill", validate_parameters=False)
def backfill_flow(settings: Settings, sources: tuple[str, ...] = NAMES) -> list[pipeline.SourceSummary]:
    """Full history of each source (PubMed date-sliced under the esearch cap, resumable slice by
    slice), published like a nightly run."""
    return _run(nightly_flow, settings, sources, None, True)


@task(name="retag", cache_policy=NONE)
def retag_task(working: Working, everything: bool) -> dict[str, int]:
    from extract.tagger import Tagger
    from flows.retag import rederive, retag

    done = retag(working.conn, everything=everything, tagger=Tagger(), progress=_progress)
    done["derived"] = rederive(working.conn, everything=everything, catalogue=Catalogue.load(), progress=_progress)
    return done


@flow(name="trialwatch-retag", validate_parameters=False)
def retag_flow(settings: Settings, everything: bool = False) -> dict[str, int]:
    """Re-run the condition tagger over stored records (no refetching) and publish."""
    with writing(settings.db_path) as conn:
        return _run(retag_task, Working(conn), everything)


@task(name="replay-archive", cache_policy=NONE)
def replay_task(working: Working, settings: Settings, archive_dir: Path) -> list[pipeline.SourceSummary]:
    with open_workers(settings.workers, settings.task_runner) as workers:
        return pipeline.replay_archive(working.conn, RawArchive(archive_dir), catalogue=Catalogue.load(),
                                       progress=_progress, workers=workers)


@flow(name="trialwatch-replay", validate_parameters=False)
def replay_flow(settings: Settings, archive_dir: Path) -> list[pipeline.SourceSummary]:
    """Rebuild the warehouse from the raw archive, with no network, and publish it — only if every
    source replayed and something was replayed: a rebuild that lost a source, or found no pages,
    must not replace the published warehouse."""
    with writing(settings.db_path, fresh=True) as conn:
        summaries = _run(replay_task, Working(conn), settings, archive_dir)
        failed = [summary for summary in summaries if summary.status != "succeeded"]
        if failed:
            raise WarehouseError(f"replay of {', '.join(s.source for s in failed)} failed ({failed[0].message}); "
                                 f"nothing was published and {settings.db_path} is unchanged")
        if not any(summary.pages for summary in summaries):
            raise WarehouseError(f"{archive_dir} holds no archived pages; nothing was published and "
                                 f"{settings.db_path} is unchanged")
        return summaries


@flow(name="trialwatch-scheduled", log_prints=True)
def scheduled_nightly(sources: list[str] = ["pubmed", "ctgov"]) -> None:  # noqa: B006 — Prefect parameter
    """What the deployment runs: settings from the worker's environment, then the nightly flow.
    A failed source fails the flow run, so Prefect's notifications can alert on it."""
    from flows.settings import load_settings

    settings = load_settings()
    with on_task_runner(nightly_flow, settings) as nightly:
        summaries = nightly(settings, tuple(sources))
    for summary in summaries:
        print(summary.line())
    failed = [s.source for s in summaries if s.status != "succeeded"]
    if failed:
        raise RuntimeError(f"trialwatch nightly: {', '.join(failed)} failed (see the run summary)")


@contextmanager
def on_task_runner(chosen: Flow, settings: Settings) -> Iterator[Callable]:
    """`chosen` as configured, for a command to call: on a Dask cluster's task runner when
    TRIALWATCH_TASK_RUNNER=dask (the cluster lives as long as this block; Prefect ships the
    pages); a Prefect flow run where a Prefect server records it (`orchestrated`); otherwise its
    plain function, so no temporary Prefect server is started and none outlives the command."""
    if settings.task_runner == "dask":
        from flows.workers.dask import dask_task_runner

        with without_heartbeats_on_a_temporary_server(), \
                dask_task_runner(settings.workers, settings.dask_address) as runner:
            yield chosen.with_options(task_runner=runner)
    elif orchestrated():
        yield chosen
    else:
        yield chosen.fn


@contextmanager
def without_heartbeats_on_a_temporary_server() -> Iterator[None]:
    """Flow-run heartbeats off while no PREFECT_API_URL is set.

    Heartbeats let a long-lived Prefect server notice a crashed run. Without PREFECT_API_URL a
    command talks to a temporary server that ends with it, so nothing is there to notice; yet
    every flow run waits, as it ends, for its heartbeat thread to finish a 1-second sleep: ~1 s
    per flow, 2–4 s of a CLI backfill (docs/benchmarks.md). With a real server they stay on."""
    if get_current_settings().api.url:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def serve(cron: str, timezone_name: str, name: str = "trialwatch-nightly") -> None:
    """Register the nightly deployment with its schedule and run it in this process (blocks)."""
    from prefect.schedules import Cron

    scheduled_nightly.serve(name=name, schedules=[Cron(cron, timezone=timezone_name)],
                            description="Nightly incremental pull of PubMed and ClinicalTrials.gov into the warehouse",
                            tags=["trialwatch"])
