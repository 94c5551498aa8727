"""The Prefect flows: the jobs of `flows.jobs`, with each step a Prefect task (or a subflow per
source), so a Prefect server records runs, task states and the digest as an artifact. Used when a
Prefect API is configured, under `trialwatch serve`, and with the Dask task runner; one-shot
commands without a Prefect API call `flows.jobs` directly (`flows.runner`)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, get_current_settings, temporary_settings

from extract.sources import NAMES
from flows import jobs, pipeline, reconcile
from flows.jobs import RunReport, Working
from flows.settings import Settings
from flows.workers import PageWorkers

ARTIFACT_KEY = "trialwatch-digest"


def _run(step, *args):
    """A task, or a subflow on the running flow's task runner (Prefect would give a subflow its
    own, and Dask pages would run in this process). Plain runs never get here: they call
    `flows.jobs` directly."""
    context = FlowRunContext.get()
    if isinstance(step, Flow) and context is not None:
        step = step.with_options(task_runner=context.task_runner)
    return step(*args)


resolve_window = task(name="resolve-window", cache_policy=NONE)(jobs.resolve_window)
fetch_archive_parse_load = task(name="fetch-archive-parse-load", cache_policy=NONE)(jobs.store_source)
summarize = task(name="summarize", cache_policy=NONE)(jobs.summarize)
reconcile_task = task(name="reconcile-ids", cache_policy=NONE)(jobs.reconcile_source)
retag_task = task(name="retag", cache_policy=NONE)(jobs.retag_records)
replay_task = task(name="replay-archive", cache_policy=NONE)(jobs.replay_pages)


@flow(name="trialwatch-source", flow_run_name="ingest-{source}", validate_parameters=False)
def source_flow(working: Working, source: str, workers: PageWorkers) -> pipeline.SourceSummary:
    return _run(fetch_archive_parse_load, working, source, workers)


@task(name="write-digest-and-feed", cache_policy=NONE)
def write_outputs(settings: Settings, report: RunReport) -> None:
    """The digest files and feeds, and — where a Prefect server records the run — the digest as
    its markdown artifact."""
    jobs.write_files(settings, report)
    if TaskRunContext.get() is not None:
        create_markdown_artifact(key=ARTIFACT_KEY, markdown=report.artifact_markdown,
                                 description="What the last trialwatch run changed")


def _as_prefect_step(step) -> Callable:
    return lambda *args: _run(step, *args)


PREFECT_STEPS = jobs.Steps(
    resolve_window=_as_prefect_step(resolve_window),
    store_source=_as_prefect_step(source_flow),
    reconcile_source=_as_prefect_step(reconcile_task),
    summarize=_as_prefect_step(summarize),
    write_outputs=_as_prefect_step(write_outputs),
    retag=_as_prefect_step(retag_task),
    replay=_as_prefect_step(replay_task),
)


@flow(name="trialwatch-nightly", validate_parameters=False)
def nightly_flow(settings: Settings, sources: tuple[str, ...] = NAMES,
                 since: date | None = None, full: bool = False,
                 reconcile_now: bool = False) -> list[pipeline.SourceSummary | reconcile.ReconcileSummary]:
    """`flows.jobs.nightly`: each source a subflow run, each step a task run."""
    return jobs.nightly(settings, sources, since, full, reconcile_now, steps=PREFECT_STEPS)


@flow(name="trialwatch-backfill", validate_parameters=False)
def backfill_flow(settings: Settings, sources: tuple[str, ...] = NAMES) -> list[pipeline.SourceSummary]:
    """`flows.jobs.backfill`: the nightly flow as a subflow, with everything asked for."""
    return _run(nightly_flow, settings, sources, None, True)


@flow(name="trialwatch-retag", validate_parameters=False)
def retag_flow(settings: Settings, everything: bool = False) -> dict[str, int]:
    """`flows.jobs.retag`: re-run the condition tagger over stored records and publish."""
    return jobs.retag(settings, everything, steps=PREFECT_STEPS)


@flow(name="trialwatch-replay", validate_parameters=False)
def replay_flow(settings: Settings, archive_dir: Path, tag_all: bool = False) -> list[pipeline.SourceSummary]:
    """`flows.jobs.replay`: rebuild the warehouse from the raw archive and publish it."""
    return jobs.replay(settings, archive_dir, tag_all, steps=PREFECT_STEPS)


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
    pages), else as it is. `flows.runner.job` comes here only for Dask or an orchestrated run
    (a configured Prefect API, or inside `trialwatch serve`'s flow run); every other command
    runs `flows.jobs` without Prefect."""
    if settings.task_runner == "dask":
        from flows.workers.dask import dask_task_runner

        with without_heartbeats_on_a_temporary_server(), \
                dask_task_runner(settings.workers, settings.dask_address) as runner:
            yield chosen.with_options(task_runner=runner)
    else:
        yield chosen


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
