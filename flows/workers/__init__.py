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

The package: `base` (the interface), `local` (inline and process pools), `dask` (a cluster,
through Prefect's task runner; imported only when chosen).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from extract.catalogue import Catalogue
from flows.workers.base import PageWorkers, ordered_map
from flows.workers.local import InlineWorkers, ProcessWorkers, WorkerDied, local_worker_count

__all__ = ["PageWorkers", "ordered_map", "InlineWorkers", "ProcessWorkers", "WorkerDied", "local_worker_count",
           "open_workers"]


@contextmanager
def open_workers(workers: int, task_runner: str, catalogue: Catalogue | None = None,
                 tagged: frozenset[str] = frozenset()) -> Iterator[PageWorkers]:
    """The workers a run prepares its pages with, shut down when the run ends. Local workers do
    not tag records whose content hash is in `tagged` (a replay reusing published tags); Dask
    workers tag every record (the set would travel with every task)."""
    if task_runner == "dask":
        from flows.workers.dask import TaskRunnerWorkers

        yield TaskRunnerWorkers(catalogue)
        return
    count = local_worker_count(workers)
    if count <= 1:
        yield InlineWorkers(catalogue, tagged)
        return
    pool = ProcessWorkers(count, catalogue, tagged=tagged)
    try:
        yield pool
    finally:
        pool.close()
