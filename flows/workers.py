"""Where pages are prepared (parsed, drug-labelled, tagged): in the main process, in a local
pool of worker processes, or on a Dask cluster through Prefect's task runner.

Preparing a page is pure CPU work (`flows.prepare`); loading it is DuckDB's single writer. So
the main process hands pages to workers a few ahead, takes the prepared pages back **in order**
and loads them while the workers go on. Every kind of workers has one method, `map`, and the
same guarantees: input order is kept, at most `ahead` chunks are in flight (memory stays
bounded however long the stream), a worker's exception is raised in the caller at that page,
and `None` items pass through untouched (the backfill uses them to mark a date slice's end).

Chosen by settings (`TRIALWATCH_WORKERS`, `TRIALWATCH_TASK_RUNNER`, `TRIALWATCH_DASK_ADDRESS`);
see docs/operations.md.
"""
from __future__ import annotations

import multiprocessing
import os
from abc import ABC, abstractmethod
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from extract.catalogue import Catalogue
from extract.pages import RawPage
from flows import prepare
from flows.prepare import PreparedPage
from flows.settings import ConfigError

Submit = Callable[[list[RawPage]], "Future | object"]  # returns something with .result()


class PageWorkers(ABC):
    """Prepares pages somewhere; `map` yields them prepared, in order (see the module doc)."""

    description: str
    # Whether `map` may run in a background thread (to prepare a source's pages before its turn).
    in_background: bool = True

    @abstractmethod
    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        ...


def _chunks(pages: Iterable[RawPage | None], size: int) -> Iterator[list[RawPage] | None]:
    """Pages grouped `size` at a time; a None item ends the current chunk and passes through."""
    chunk: list[RawPage] = []
    for page in pages:
        if page is None:
            if chunk:
                yield chunk
                chunk = []
            yield None
            continue
        chunk.append(page)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def ordered_map(submit: Submit, pages: Iterable[RawPage | None], *, chunk: int, ahead: int
                ) -> Iterator[PreparedPage | None]:
    """Submit chunks of pages up to `ahead` in flight; yield the prepared pages in input order."""
    in_flight: deque = deque()

    def drain_one() -> Iterator[PreparedPage | None]:
        future = in_flight.popleft()
        if future is None:
            yield None
        else:
            yield from future.result()

    try:
        for item in _chunks(pages, chunk):
            in_flight.append(None if item is None else submit(item))
            while len(in_flight) > ahead:
                yield from drain_one()
        while in_flight:
            yield from drain_one()
    finally:
        for future in in_flight:  # the consumer stopped early: drop work not started yet
            if isinstance(future, Future):
                future.cancel()


class InlineWorkers(PageWorkers):
    """Prepare each page in the calling process (small runs, tests, `TRIALWATCH_WORKERS=1`)."""

    description = "in the main process"

    def __init__(self, catalogue: Catalogue | None = None):
        self.catalogue = catalogue

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        for page in pages:
            yield None if page is None else prepare.prepare_page(page, self.catalogue)


_worker_catalogue: Catalogue | None = None


def _start_worker(catalogue: Catalogue) -> None:
    """Runs once in each worker process (the tagger is built on the first page with records)."""
    global _worker_catalogue
    _worker_catalogue = catalogue


def _prepare_in_worker(pages: list[RawPage]) -> list[PreparedPage]:
    return prepare.prepare_pages(pages, _worker_catalogue)


class WorkerDied(RuntimeError):
    """A local worker process ended without finishing its page."""


class ProcessWorkers(PageWorkers):
    """A pool of worker processes on this machine. Started with `spawn`, not `fork`: the main
    process has threads (HTTP prefetch, Prefect, DuckDB) and forking a threaded process can
    deadlock. As with any spawn pool, a script that runs the pipeline needs the usual
    `if __name__ == "__main__":` guard (workers re-import the main module)."""

    def __init__(self, processes: int, catalogue: Catalogue | None = None, ahead: int | None = None):
        self.processes = processes
        self.ahead = ahead or 2 * processes + 2
        self.description = f"in {processes} worker processes"
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker,
                                         initargs=(catalogue or prepare.default_catalogue(),))

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        try:
            yield from ordered_map(lambda chunk: self._pool.submit(_prepare_in_worker, chunk), pages,
                                   chunk=1, ahead=self.ahead)
        except BrokenProcessPool:
            raise WorkerDied("a worker process preparing pages died (killed, or out of memory?); run again, "
                             "or set TRIALWATCH_WORKERS=1 to prepare pages in the main process") from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class TaskRunnerWorkers(PageWorkers):
    """Chunks of pages submitted as Prefect tasks to the running flow's task runner (a
    `prefect_dask.DaskTaskRunner` when `TRIALWATCH_TASK_RUNNER=dask`). Chunks are bigger than
    for local processes: each task run costs a few API calls."""

    in_background = False  # Prefect submits tasks from the flow's own thread only

    def __init__(self, catalogue: Catalogue | None = None, chunk: int = 10, ahead: int = 4):
        from flows.ingest import prepare_pages_task

        self.task = prepare_pages_task
        self.catalogue = catalogue
        self.chunk, self.ahead = chunk, ahead
        self.description = "as Prefect tasks on the flow's task runner"

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        return ordered_map(lambda chunk: self.task.submit(chunk, self.catalogue), pages,
                           chunk=self.chunk, ahead=self.ahead)


def local_worker_count(setting: int) -> int:
    """`TRIALWATCH_WORKERS`: 0 means one per CPU core."""
    return setting or os.cpu_count() or 1


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


@contextmanager
def open_workers(workers: int, task_runner: str, catalogue: Catalogue | None = None) -> Iterator[PageWorkers]:
    """The workers a run prepares its pages with, shut down when the run ends."""
    if task_runner == "dask":
        yield TaskRunnerWorkers(catalogue)
        return
    count = local_worker_count(workers)
    if count <= 1:
        yield InlineWorkers(catalogue)
        return
    pool = ProcessWorkers(count, catalogue)
    try:
        yield pool
    finally:
        pool.close()
