"""The stored plan of a PubMed backfill: which date slices exist and which are done."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable

import duckdb

PENDING_PLAN = """
SELECT plan_id FROM backfill_slices
WHERE source = ? AND done_at IS NULL
ORDER BY plan_id DESC LIMIT 1
"""
PLAN_SLICES = """
SELECT slice_no, datetype, slice_start, slice_end, expected, done_at IS NOT NULL
FROM backfill_slices WHERE plan_id = ? ORDER BY slice_no
"""
ADD_SLICE = """
INSERT INTO backfill_slices (plan_id, slice_no, source, datetype, slice_start, slice_end, expected)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
MARK_DONE = """
UPDATE backfill_slices SET done_run_id = ?, done_at = ? WHERE plan_id = ? AND slice_no = ?
"""


def pending_plan(conn: duckdb.DuckDBPyConnection, source: str) -> str | None:
    rows = conn.execute(PENDING_PLAN, [source]).fetchall()
    return rows[0][0] if rows else None


def plan_slices(conn: duckdb.DuckDBPyConnection, plan_id: str) -> list[tuple[int, str, date, date, int, bool]]:
    """(slice_no, datetype, start, end, expected, done) for every slice of a plan, in order."""
    return conn.execute(PLAN_SLICES, [plan_id]).fetchall()


def save_plan(conn: duckdb.DuckDBPyConnection, plan_id: str, source: str,
              slices: Iterable[tuple[str, date, date, int]]) -> None:
    for number, (datetype, start, end, expected) in enumerate(slices, start=1):
        conn.execute(ADD_SLICE, [plan_id, number, source, datetype, start, end, expected])


def mark_done(conn: duckdb.DuckDBPyConnection, plan_id: str, slice_no: int, run_id: str) -> None:
    conn.execute(MARK_DONE, [run_id, datetime.now(timezone.utc).replace(tzinfo=None), plan_id, slice_no])
