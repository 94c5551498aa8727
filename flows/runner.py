"""How a command runs a job: as a Prefect flow where Prefect has somewhere to report it, or as
the plain function of `flows.jobs` otherwise — without importing Prefect at all (its import
alone costs ~1.5 s, more than a whole no-op night; issue #19)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from flows.orchestration import orchestrated
from flows.settings import Settings, quiet_prefect


@contextmanager
def job(name: str, settings: Settings) -> Iterator[Callable]:
    """The job `name` ("nightly", "backfill", "replay", "retag") to call with the arguments of
    its function in `flows.jobs`: that function itself when no Prefect API is configured and no
    Dask task runner chosen (no temporary Prefect server is started, so none outlives the
    command); otherwise its Prefect flow (`flows.ingest`) on the task runner the settings choose."""
    if settings.task_runner != "dask" and not orchestrated():
        from flows import jobs

        yield getattr(jobs, name)
        return
    quiet_prefect()
    from flows import ingest

    with ingest.on_task_runner(getattr(ingest, f"{name}_flow"), settings) as run:
        yield run
