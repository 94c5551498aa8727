"""Writing parsed pages into the warehouse: validated, in bulk through Arrow, inside the
caller's transaction.

Re-running is safe: unchanged records (same content hash) are left untouched, changed ones
replaced (their trial_history written in the same transaction), new ones inserted.
"""
from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Iterator

import duckdb
import orjson
import pyarrow as pa

from extract.records import Reject
from extract.sources import BY_KIND
from warehouse import clock

RAW_LIMIT = 100_000
_PARAM = re.compile(r"\$(\w+)")
# By parent table (extract/sources.py names each source's table and key).
STORED_KEYS = {
    "articles": "SELECT CAST(pmid AS VARCHAR), is_new FROM staged",
    "trials": "SELECT nct_id, is_new FROM staged",
}
LOAD_METADATA = frozenset({"first_seen_at", "updated_at", "first_run_id", "last_run_id"})
_EMPTY_SELECT = {
    "articles": "SELECT * FROM articles LIMIT 0",
    "trials": "SELECT * FROM trials LIMIT 0",
}


@dataclass
class LoadCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    stored_ids: list[str] = field(default_factory=list, repr=False)  # keys written (new or changed)

    def add(self, other: "LoadCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@cache
def _script(name: str) -> list[str]:
    text = resources.files("warehouse").joinpath("sql", f"{name}.sql").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]


def run_script(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    """Run `warehouse/sql/<name>.sql` statement by statement, each with the parameters it names."""
    for statement in _script(name):
        used = {key: params[key] for key in _PARAM.findall(statement)}
        conn.execute(statement, used)


_HASH_OPTIONS = orjson.OPT_SORT_KEYS


def content_hash(record: dict[str, Any]) -> str:
    """sha1 of the record serialised with sorted keys: the same for the same values, different
    when any field changes. orjson (compact UTF-8, dates as ISO text) is ~5× faster than
    `json.dumps`; what it cannot serialise (lone surrogates, integers beyond 64 bits, keys that
    are not strings) falls back to `json.dumps(sort_keys=True, default=str)`, which is what every
    hash was before 2026-12: the switch changed every record's hash once (the next load re-stores
    each record once; history rows are written only for fields whose values changed)."""
    try:
        serialised = orjson.dumps(record, default=str, option=_HASH_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        serialised = json.dumps(record, sort_keys=True, default=str).encode()
    return hashlib.sha1(serialised).hexdigest()


@cache
def _table_schemas() -> dict[str, pa.Schema]:
    """Every parent table's Arrow schema from one in-memory migration (each process runs the
    migrations once, not once per kind; without the condition vocabulary, which is data)."""
    from warehouse.db import apply_migrations

    with duckdb.connect() as scratch:
        apply_migrations(scratch, ":memory:")
        return {table: scratch.sql(select).to_arrow_table().schema for table, select in _EMPTY_SELECT.items()}


@cache
def batch_schema(kind: str) -> pa.Schema:
    """The Arrow schema of a batch of `kind` records: every record column of its table, typed as
    the migrations define it (read from an in-memory warehouse, so types live in the migrations
    only and no connection is needed: workers build batches too), plus the extra columns that
    feed the link tables."""
    source = BY_KIND[kind]
    fields = [f for f in _table_schemas()[source.table] if f.name not in LOAD_METADATA]
    fields += [pa.field(name, data_type) for name, data_type in source.batch_extras]
    return pa.schema(fields)


def _dedupe(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The last version of each key wins (a page may repeat a record)."""
    return list({record[key]: record for record in records}.values())


def validate(kind: str, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Split a batch into records fit to store and rejects (with reasons), before any write."""
    source = BY_KIND[kind]
    valid, rejects = [], []
    for record in records:
        problem = source.problem(record)
        if problem is None:
            valid.append(record)
        else:
            raw = json.dumps(record, default=str)
            rejects.append(Reject(source.name, str(record.get(source.key)), f"failed validation: {problem}", raw))
    return valid, rejects


def _reject_table(rejects: list[Reject]) -> pa.Table:
    rows = []
    for reject in rejects:
        raw = (reject.raw or "")[:RAW_LIMIT]
        rows.append({
            "source": reject.source, "record_id": reject.record_id, "reason": reject.reason, "raw": raw,
            "raw_sha1": hashlib.sha1(f"{reject.record_id}|{raw}".encode("utf-8", "replace")).hexdigest(),
        })
    rows = list({(row["source"], row["raw_sha1"]): row for row in rows}.values())
    return pa.Table.from_pylist(rows, schema=pa.schema(
        [(name, pa.string()) for name in ("source", "record_id", "reason", "raw", "raw_sha1")]
    ))


def build_batch(kind: str, records: list[dict[str, Any]]) -> tuple[pa.Table | None, list[Reject]]:
    """Validated records → one Arrow table typed like the warehouse table, each row with its
    content hash; records that fail validation, or whose values do not fit the column types, are
    quarantined on their own instead of failing the whole page. Needs no connection."""
    source = BY_KIND[kind]
    records, rejects = validate(kind, records)
    prepared = []
    for record in _dedupe([dict(r) for r in records], source.key):
        for name in source.defaulted:
            record.setdefault(name, [])
        record["content_hash"] = content_hash(record)
        prepared.append(record)
    if not prepared:
        return None, rejects
    schema = batch_schema(kind)
    unknown = {name for record in prepared for name in record} - set(schema.names)
    if unknown:
        raise ValueError(f"records carry fields the {source.table} table does not have: {sorted(unknown)}")
    try:
        return pa.Table.from_pylist(prepared, schema=schema), rejects
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    fitting = []
    for record in prepared:
        try:
            pa.Table.from_pylist([record], schema=schema)
            fitting.append(record)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:
            reason = f"value does not fit the warehouse column types: {str(error).splitlines()[0][:200]}"
            rejects.append(Reject(source.name, str(record.get(source.key)), reason, json.dumps(record, default=str)))
    return (pa.Table.from_pylist(fitting, schema=schema) if fitting else None), rejects


def concat_batches(kind: str, batches: list[pa.Table | None]) -> pa.Table | None:
    """Several pages' batches as one; a record on more than one page keeps its last version
    (as loading the pages one after another would)."""
    tables = [batch for batch in batches if batch is not None and batch.num_rows]
    if not tables:
        return None
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    keys = table.column(BY_KIND[kind].key).to_pylist()
    last = {key: index for index, key in enumerate(keys)}
    return table if len(last) == len(keys) else table.take(sorted(last.values()))


def _upsert(conn: duckdb.DuckDBPyConnection, kind: str, batch: pa.Table, run_id: str, now: datetime) -> LoadCounts:
    conn.register("batch", batch)
    try:
        table = BY_KIND[kind].table
        run_script(conn, f"upsert_{table}", {"now": now, "run_id": run_id})
        stored = conn.execute(STORED_KEYS[table]).fetchall()
    finally:
        conn.unregister("batch")
    new = sum(1 for _, is_new in stored if is_new)
    return LoadCounts(new=new, updated=len(stored) - new, unchanged=batch.num_rows - len(stored),
                      stored_ids=[key for key, _ in stored])


def load_page(
    conn: duckdb.DuckDBPyConnection,
    kind: str,
    records: list[dict[str, Any]],
    *,
    run_id: str,
    deleted_ids: list[str] = (),
    rejects: list[Reject] = (),
) -> LoadCounts:
    """Validate and write one parsed page (kind 'article' or 'trial'); records that fail
    validation join the page's rejects. Run it inside `transaction(conn)`: the caller decides
    how much is all-or-nothing (a page, or a whole source's run)."""
    batch, unfit = build_batch(kind, records)
    return load_batch(conn, kind, batch, run_id=run_id, deleted_ids=deleted_ids, rejects=[*rejects, *unfit])


def load_batch(
    conn: duckdb.DuckDBPyConnection,
    kind: str,
    batch: pa.Table | None,
    *,
    run_id: str,
    deleted_ids: list[str] = (),
    rejects: list[Reject] = (),
) -> LoadCounts:
    """Write a batch made by `build_batch` (possibly elsewhere, e.g. in a worker process), the
    page's deletions and its rejects, inside the caller's transaction."""
    now = clock.now()
    counts = LoadCounts()
    if batch is not None and batch.num_rows:
        counts.add(_upsert(conn, kind, batch, run_id, now))
    if deleted_ids:
        conn.register("deleted", pa.table({"pmid": pa.array([str(i) for i in deleted_ids], pa.string())}))
        before = conn.execute("SELECT count(*) FROM articles").fetchall()[0][0]
        run_script(conn, "delete_articles", {})
        counts.deleted = before - conn.execute("SELECT count(*) FROM articles").fetchall()[0][0]
        conn.unregister("deleted")
    if rejects:
        conn.register("rejected", _reject_table(rejects))
        run_script(conn, "upsert_rejects", {"now": now, "run_id": run_id})
        conn.unregister("rejected")
        counts.rejected = len(rejects)
    return counts


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK if the block raises."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
