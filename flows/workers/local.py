"""Pages prepared on this machine: in the calling process, or in a pool of worker processes."""
from __future__ import annotations

import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, Iterator

from extract.catalogue import Catalogue
from extract.pages import RawPage
from flows import prepare
from flows.prepare import PreparedPage
from flows.workers.base import PageWorkers, ordered_map


class InlineWorkers(PageWorkers):
    """Prepare each page in the calling process (small runs, tests, `TRIALWATCH_WORKERS=1`)."""

    description = "in the main process"

    def __init__(self, catalogue: Catalogue | None = None, tagged: frozenset[str] = frozenset()):
        self.catalogue = catalogue
        self.tagged = tagged

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        for page in pages:
            yield None if page is None else prepare.prepare_page(page, self.catalogue, tagged=self.tagged)


_worker_catalogue: Catalogue | None = None
_worker_tagged: frozenset[str] = frozenset()


def _start_worker(catalogue: Catalogue, tagged_file: str | None) -> None:
    """Runs once in each worker process (the tagger is built on the first page with records to
    tag). The content hashes not to tag are read from `tagged_file` once per process, not sent
    with every page, nor with the process: the start-up message goes down a pipe the parent
    writes whole, so ~2 MB of hashes in it held the parent until the child had imported its
    modules, and the workers started one after the other."""
    global _worker_catalogue, _worker_tagged
    _worker_catalogue = catalogue
    if tagged_file:
        with open(tagged_file, encoding="ascii") as hashes:
            _worker_tagged = frozenset(hashes.read().split())


def _prepare_in_worker(pages: list[RawPage]) -> list[PreparedPage]:
    return prepare.prepare_pages(pages, _worker_catalogue, _worker_tagged)


class WorkerDied(RuntimeError):
    """A local worker process ended without finishing its page."""


class ProcessWorkers(PageWorkers):
    """A pool of worker processes on this machine. Started with `spawn`, not `fork`: the main
    process has threads (HTTP prefetch, Prefect, DuckDB) and forking a threaded process can
    deadlock. As with any spawn pool, a script that runs the pipeline needs the usual
    `if __name__ == "__main__":` guard (workers re-import the main module)."""

    def __init__(self, processes: int, catalogue: Catalogue | None = None, ahead: int | None = None,
                 tagged: frozenset[str] = frozenset()):
        self.processes = processes
        self.ahead = ahead or 2 * processes + 2
        self.description = f"in {processes} worker processes"
        self._broken = False
        self._tagged_file = _write_hashes(tagged) if tagged else None
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker,
                                         initargs=(catalogue or prepare.default_catalogue(), self._tagged_file))
        # The pool's own process table (no public way to reach it); the executor forgets it on
        # shutdown, so it is kept to kill what a broken pool leaves behind.
        self._processes = self._pool._processes

    def map(self, pages: Iterable[RawPage | None]) -> Iterator[PreparedPage | None]:
        try:
            yield from ordered_map(lambda chunk: self._pool.submit(_prepare_in_worker, chunk), pages,
                                   chunk=1, ahead=self.ahead)
        except BrokenProcessPool:
            self._broken = True
            raise WorkerDied("a worker process preparing pages died (killed, or out of memory?); run again, "
                             "or set TRIALWATCH_WORKERS=1 to prepare pages in the main process") from None

    def close(self) -> None:
        """Stop the pool. After a worker died the pool is not waited for: CPython's executor can
        hang joining its manager thread when a worker is killed while pages are being handed to
        it (seen under load); its remaining processes are killed and reaped instead."""
        self._pool.shutdown(wait=not self._broken, cancel_futures=True)
        if self._broken:
            for process in list(self._processes.values()):
                process.kill()
                process.join(timeout=10)
        if self._tagged_file:
            os.unlink(self._tagged_file)
            self._tagged_file = None


def _write_hashes(hashes: frozenset[str]) -> str:
    """The hashes one per line in a private temporary file (its path is what the workers get)."""
    descriptor, path = tempfile.mkstemp(prefix="trialwatch-tagged-", suffix=".txt")
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write("\n".join(hashes))
    return path


def local_worker_count(setting: int) -> int:
    """`TRIALWATCH_WORKERS`: 0 means one per CPU core."""
    return setting or os.cpu_count() or 1
