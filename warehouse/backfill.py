"""The stored plan of a PubMed backfill: which date slices exist and which are done."""
from __future__ import annotations

from datetime import date
from typing import Iterable, NamedTuple, Protocol

import duckdb

from warehouse import clock

PENDING_PLAN = """
SELECT plan_id FROM backfill_slices
WHERE source = ? AND done_at IS NULL
ORDER BY plan_id DESC LIMIT 1
"""
PLAN_SLICES = """
SELECT slice_no, datetype, slice_start, slice_end, pdat_start, pdat_end, expected, done_at IS NOT NULL
FROM backfill_slices WHERE plan_id = ? ORDER BY slice_no
"""
ADD_SLICE = """
INSERT INTO backfill_slices (plan_id, slice_no, source, datetype, slice_start, slice_end, pdat_start, pdat_end, expected)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
MARK_DONE = """
UPDATE backfill_slices SET done_run_id = ?, done_at = ? WHERE plan_id = ? AND slice_no = ?
"""


class SliceLike(Protocol):
    """What a plan stores of a slice (extract.pubmed.DateSlice is one)."""

    datetype: str
    start: date
    end: date
    count: int
    pdat_start: date | None
    pdat_end: date | None


class StoredSlice(NamedTuple):
    slice_no: int
    datetype: str
    start: date
    end: date
    pdat_start: date | None  # a part of a day over the cap: its publication dates; else None
    pdat_end: date | None
    expected: int
    done: bool


def pending_plan(conn: duckdb.DuckDBPyConnection, source: str) -> str | None:
    rows = conn.execute(PENDING_PLAN, [source]).fetchall()
    return rows[0][0] if rows else None


def plan_slices(conn: duckdb.DuckDBPyConnection, plan_id: str) -> list[StoredSlice]:
    """Every slice of a plan, in order."""
    return [StoredSlice(*row) for row in conn.execute(PLAN_SLICES, [plan_id]).fetchall()]


def save_plan(conn: duckdb.DuckDBPyConnection, plan_id: str, source: str,
              slices: Iterable[SliceLike | tuple]) -> None:
    """Store a plan's slices, numbered in order: DateSlices, or tuples (datetype, start, end,
    expected[, pdat_start, pdat_end])."""
    for number, piece in enumerate(slices, start=1):
        datetype, start, end, expected, pdat_start, pdat_end = _fields(piece)
        conn.execute(ADD_SLICE, [plan_id, number, source, datetype, start, end, pdat_start, pdat_end, expected])


def _fields(piece: SliceLike | tuple) -> tuple:
    if isinstance(piece, tuple):
        return (*piece, None, None)[:6]
    return piece.datetype, piece.start, piece.end, piece.count, piece.pdat_start, piece.pdat_end


def mark_done(conn: duckdb.DuckDBPyConnection, plan_id: str, slice_no: int, run_id: str) -> None:
    conn.execute(MARK_DONE, [run_id, clock.now(), plan_id, slice_no])
