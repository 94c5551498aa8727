"""The Prefect flows. Thin on purpose: a flow opens the private working copy of the warehouse,
its tasks call the plain pipeline functions, and the flow publishes the result."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
from prefect import flow, task
from prefect.cache_policies import NONE

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from flows import pipeline
from flows.settings import Settings
from warehouse.publish import writing


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@task(name="ingest-source", cache_policy=NONE)
def ingest_source(conn: duckdb.DuckDBPyConnection, settings: Settings, source: str, since: date | None,
                  full: bool) -> pipeline.SourceSummary:
    window = pipeline.resolve_window(conn, source, since=since, full=full, overlap_days=settings.overlap_days)
    _progress(f"{source}: {window.mode} pull" + (f" since {window.since}" if window.since else ""))
    return pipeline.ingest_source(conn, settings, source, window, catalogue=Catalogue.load(), progress=_progress)


@flow(name="trialwatch-ingest")
def ingest_flow(settings: Settings, sources: tuple[str, ...] = ("pubmed", "ctgov"),
                since: date | None = None, full: bool = False) -> list[pipeline.SourceSummary]:
    """Fetch, archive, parse and load each source in turn into a private copy of the warehouse,
    then publish it atomically (see warehouse/publish.py)."""
    with writing(settings.db_path) as conn:
        return [ingest_source(conn, settings, source, since, full) for source in sources]


@task(name="replay-archive", cache_policy=NONE)
def replay_task(conn: duckdb.DuckDBPyConnection, archive_dir: Path) -> list[pipeline.SourceSummary]:
    return pipeline.replay_archive(conn, RawArchive(archive_dir), catalogue=Catalogue.load(), progress=_progress)


@flow(name="trialwatch-replay")
def replay_flow(settings: Settings, archive_dir: Path) -> list[pipeline.SourceSummary]:
    """Rebuild the warehouse from the raw archive, with no network, and publish it."""
    with writing(settings.db_path, fresh=True) as conn:
        return replay_task(conn, archive_dir)
