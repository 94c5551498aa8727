"""A trial's AACT-named child tables (designs, design_groups, outcomes, reported_events, …;
extract/aact.py), replaced together with their trial in the caller's transaction.

Only trials the upsert wrote (new or changed) get fresh rows; an unchanged re-fetch leaves its
rows as they are, as it leaves the trial itself.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from extract.aact import AACT_TABLES
from warehouse.outcome_switching import record_changes

# Table names come from AACT_TABLES only (a fixed whitelist), never from input.
DELETE_ROWS = {table: f"DELETE FROM {table} WHERE nct_id IN (SELECT record_id FROM stored)" for table in AACT_TABLES}
INSERT_ROWS = {table: f"INSERT INTO {table} BY NAME SELECT * FROM child WHERE nct_id IN (SELECT record_id FROM stored)"
               for table in AACT_TABLES}


def latest_rows(pages: Iterable[tuple[list[str], dict[str, pa.Table]]], stored: set[str]) -> dict[str, pa.Table]:
    """Per table, the rows of the stored trials, each trial's from the last page that carried it
    (the version the upsert kept), as one Arrow table. `pages`: (the page's trial ids, its rows)."""
    chosen: dict[str, list[pa.Table]] = {table: [] for table in AACT_TABLES}
    remaining = set(stored)
    for ids, tables in reversed(list(pages)):
        mine = remaining.intersection(ids)
        if not mine:
            continue
        keep = pa.array(sorted(mine), pa.string())
        for table, rows in tables.items():
            chosen[table].append(rows.filter(pc.is_in(rows.column("nct_id"), value_set=keep)))
        remaining -= mine
    return {table: pa.concat_tables(parts) if parts else AACT_TABLES[table].empty_table()
            for table, parts in chosen.items()}


def replace_children(conn: duckdb.DuckDBPyConnection, rows: dict[str, pa.Table], stored_ids: list[str], *,
                     run_id: str, now: datetime) -> None:
    """Delete the child rows of `stored_ids` and insert their new ones, table by table, after
    logging how their registered outcomes changed (outcome switching)."""
    if not stored_ids:
        return
    conn.register("stored", pa.table({"record_id": pa.array(stored_ids, pa.string())}))
    try:
        record_changes(conn, rows["design_outcomes"], run_id=run_id, now=now)
        for table in AACT_TABLES:
            conn.execute(DELETE_ROWS[table])
            if rows[table].num_rows:
                conn.register("child", rows[table])
                try:
                    conn.execute(INSERT_ROWS[table])
                finally:
                    conn.unregister("child")
    finally:
        conn.unregister("stored")
