"""Pages prepared on a Dask cluster, as Prefect tasks on the flow's task runner
(`TRIALWATCH_TASK_RUNNER=dask`): for users who outgrow one machine. The only module that knows
about Dask; the optional packages are imported when a runner is asked for."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

from prefect import task
from prefect.cache_policies import NONE

from extract.catalogue import Catalogue
from extract.pages import RawPage
from flows import prepare
from flows.prepare import PreparedPage
from flows.settings import ConfigError
from flows.workers.base import PageWorkers, ordered_map
from flows.workers.local import local_worker_count


@task(name="prepare-pages", cache_policy=NONE, persist_result=False)
def prepare_pages_task(pages: list[RawPage], catalogue: Catalogue | None) -> list[PreparedPage]:
    """Parse, drug-label and tag a chunk of pages: what runs on the Dask workers."""
    return prepare.prepare_pages(pages, catalogue)


class TaskRunnerWorkers(PageWorkers):
    """Chunks of pages submitted as Prefect tasks to the running flow's task runner (a
    `prefect_dask.DaskTaskRunner` when `TRIALWATCH_TASK_RUNNER=dask`). Chunks are bigger than
    for local processes: each task run costs a few API calls."""

    in_background = False  # Prefect submits tasks from the flow's own thread only

    def __init__(self, catalogue: Catalogue | None = None, chunk: int = 10, ahead: int = 4):
        self.task = prepare_pages_task
        self.catalogue = catalogue
        self.chunk, self.ahead = chunk, ahead
        self.description = "as Prefect tasks on the flow's task runner"

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        return ordered_map(lambda chunk: self.task.submit(chunk, self.catalogue), pages,
                           chunk=self.chunk, ahead=self.ahead)


class DaskMissing(ConfigError):
    """TRIALWATCH_TASK_RUNNER=dask without the optional Dask packages installed."""


@contextmanager
def dask_task_runner(workers: int, address: str | None) -> Iterator[object]:
    """A `prefect_dask.DaskTaskRunner` on the cluster at `address`, or on a local cluster of
    `workers` single-threaded worker processes started here (and stopped at the end). The
    runner always gets an address: subflows duplicate their parent's runner, and a runner
    without one would start a cluster of its own for every subflow."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise DaskMissing("TRIALWATCH_TASK_RUNNER=dask needs the Dask extras: pip install 'trialwatch[dask]' "
                          "(or set TRIALWATCH_TASK_RUNNER=local)") from None
    if address:
        yield DaskTaskRunner(address=address)
        return
    import logging

    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its INFO chatter is not ours to show
    with LocalCluster(n_workers=local_worker_count(workers), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield DaskTaskRunner(address=cluster.scheduler_address)
