"""The ledger of ingest runs: one row per source per run, and the watermark it leaves."""
from __future__ import annotations

import os
from datetime import date

import duckdb

from warehouse import clock
from warehouse.load import LoadCounts

START_RUN = """
INSERT INTO ingest_runs (run_id, source, mode, window_start, started_at, status)
VALUES (?, ?, ?, ?, ?, 'running')
"""
FINISH_RUN = """
UPDATE ingest_runs SET finished_at = ?, status = ?, fetched = ?, new = ?, updated = ?,
       unchanged = ?, deleted = ?, rejected = ?, http_requests = ?, http_retries = ?,
       watermark = ?, message = ?, query_translation = ?, query_warnings = ?
WHERE run_id = ?
"""
LAST_WATERMARK = """
SELECT watermark FROM ingest_runs
WHERE source = ? AND status = 'succeeded' AND watermark IS NOT NULL
ORDER BY finished_at DESC LIMIT 1
"""


def new_run_id(source: str) -> str:
    """Sortable by start time, unique across processes."""
    return f"{clock.now():%Y%m%dT%H%M%S%fZ}-{source}-{os.getpid()}"


def start(conn: duckdb.DuckDBPyConnection, run_id: str, source: str, mode: str, window_start: date | None) -> None:
    conn.execute(START_RUN, [run_id, source, mode, window_start, clock.now()])


def finish(conn: duckdb.DuckDBPyConnection, run_id: str, *, status: str, fetched: int, counts: LoadCounts,
           http_requests: int, http_retries: int, watermark: date | None, message: str | None,
           query_translation: str | None = None, query_warnings: list[str] | None = None) -> None:
    conn.execute(FINISH_RUN, [
        clock.now(), status, fetched, counts.new, counts.updated, counts.unchanged, counts.deleted,
        counts.rejected, http_requests, http_retries, watermark, message, query_translation,
        query_warnings or [], run_id,
    ])


def last_watermark(conn: duckdb.DuckDBPyConnection, source: str) -> date | None:
    rows = conn.execute(LAST_WATERMARK, [source]).fetchall()
    return rows[0][0] if rows else None
