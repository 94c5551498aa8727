"""The Prefect flows. Thin on purpose: each task opens the warehouse, calls the plain pipeline
functions, and hands back a summary."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from flows import pipeline
from flows.settings import Settings
from warehouse.db import open_warehouse


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@task(name="ingest-source", cache_policy=NONE)
def ingest_source(settings: Settings, source: str, since: date | None, full: bool) -> pipeline.SourceSummary:
    conn = open_warehouse(settings.db_path)
    try:
        window = pipeline.resolve_window(conn, source, since=since, full=full, overlap_days=settings.overlap_days)
        _progress(f"{source}: {window.mode} pull" + (f" since {window.since}" if window.since else ""))
        return pipeline.ingest_source(conn, settings, source, window, catalogue=Catalogue.load(), progress=_progress)
    finally:
        conn.close()


@flow(name="trialwatch-ingest")
def ingest_flow(settings: Settings, sources: tuple[str, ...] = ("pubmed", "ctgov"),
                since: date | None = None, full: bool = False) -> list[pipeline.SourceSummary]:
    """Fetch, archive, parse and load each source in turn (DuckDB allows one writer)."""
    return [ingest_source(settings, source, since, full) for source in sources]


@task(name="replay-archive", cache_policy=NONE)
def replay_task(settings: Settings, archive_dir: Path) -> list[pipeline.SourceSummary]:
    conn = open_warehouse(settings.db_path)
    try:
        return pipeline.replay_archive(conn, RawArchive(archive_dir), catalogue=Catalogue.load(), progress=_progress)
    finally:
        conn.close()


@flow(name="trialwatch-replay")
def replay_flow(settings: Settings, archive_dir: Path) -> list[pipeline.SourceSummary]:
    """Rebuild the warehouse from the raw archive, with no network."""
    return replay_task(settings, archive_dir)
