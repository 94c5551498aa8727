"""Storing condition tags: mentions (`condition_tags`), what each record is about
(`record_conditions`) and which tagger version looked at it (`record_tagging`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from warehouse import clock
from warehouse.load import run_script

TAG_SCHEMA = pa.schema([
    ("record_kind", pa.string()), ("record_id", pa.string()), ("mesh_id", pa.string()),
    ("concept", pa.string()), ("category", pa.string()), ("field", pa.string()),
    ("start_offset", pa.int32()), ("end_offset", pa.int32()), ("matched_text", pa.string()),
    ("negated", pa.bool_()), ("adverse", pa.bool_()), ("tagger_version", pa.string()),
])
CONDITION_SCHEMA = pa.schema([
    ("record_kind", pa.string()), ("record_id", pa.string()), ("mesh_id", pa.string()),
    ("concept", pa.string()), ("category", pa.string()), ("evidence", pa.string()),
    ("tagger_version", pa.string()), ("source", pa.list_(pa.string())),
])
RECORD_SCHEMA = pa.schema([("record_kind", pa.string()), ("record_id", pa.string())])


@dataclass
class RecordTags:
    """The tagger's output for one record, ready to store."""

    kind: str
    record_id: str
    mentions: list[Any] = field(default_factory=list)  # extract.tagger.Mention
    conditions: list[Any] = field(default_factory=list)  # extract.indexed_conditions.SourcedCondition


@dataclass
class TagTables:
    """Tags of a set of records as Arrow tables, the form they are stored (and shipped between
    processes) in: which records were tagged, their mentions, and what each is about."""

    records: pa.Table
    mentions: pa.Table
    conditions: pa.Table

    def only(self, record_ids: set[str]) -> "TagTables":
        """The tags of these records alone."""
        keep = pa.array(sorted(record_ids), pa.string())
        return TagTables(*(table.filter(pc.is_in(table["record_id"], keep))
                           for table in (self.records, self.mentions, self.conditions)))

    @staticmethod
    def concat(parts: list["TagTables"]) -> "TagTables":
        return TagTables(*(pa.concat_tables(tables) for tables in zip(
            *((part.records, part.mentions, part.conditions) for part in parts))))


def tag_tables(tagged: Iterable[RecordTags], tagger_version: str) -> TagTables:
    """RecordTags → Arrow tables (the tagger version is stored on every row). Built column by
    column: the same tables as `from_pylist` of row dicts, without a dict per row."""
    tagged = list(tagged)
    mentions = [(t, m) for t in tagged for m in t.mentions]
    conditions = [(t, c) for t in tagged for c in t.conditions]
    records = list({(t.kind, t.record_id): None for t in tagged})
    tag_columns = {
        "record_kind": [t.kind for t, _ in mentions], "record_id": [t.record_id for t, _ in mentions],
        "mesh_id": [m.mesh_id for _, m in mentions], "concept": [m.concept for _, m in mentions],
        "category": [m.category for _, m in mentions], "field": [m.field for _, m in mentions],
        "start_offset": [m.start for _, m in mentions], "end_offset": [m.end for _, m in mentions],
        "matched_text": [m.text for _, m in mentions], "negated": [m.negated for _, m in mentions],
        "adverse": [getattr(m, "adverse", False) for _, m in mentions],
        "tagger_version": [tagger_version] * len(mentions),
    }
    condition_columns = {
        "record_kind": [t.kind for t, _ in conditions], "record_id": [t.record_id for t, _ in conditions],
        "mesh_id": [c.mesh_id for _, c in conditions], "concept": [c.concept for _, c in conditions],
        "category": [c.category for _, c in conditions], "evidence": [c.evidence for _, c in conditions],
        "tagger_version": [tagger_version] * len(conditions),
        "source": [list(getattr(c, "source", ("text",))) for _, c in conditions],
    }
    return TagTables(
        pa.Table.from_pydict({"record_kind": [kind for kind, _ in records],
                              "record_id": [rid for _, rid in records]}, schema=RECORD_SCHEMA),
        pa.Table.from_pydict(tag_columns, schema=TAG_SCHEMA),
        pa.Table.from_pydict(condition_columns, schema=CONDITION_SCHEMA),
    )


def store_tags(conn: duckdb.DuckDBPyConnection, tables: TagTables, tagger_version: str) -> int:
    """Replace the stored tags of `tables.records` with these (inside the caller's transaction)."""
    if not tables.records.num_rows:
        return 0
    conn.register("tag_rows", tables.mentions)
    conn.register("condition_rows", tables.conditions)
    conn.register("tagged_records", tables.records)
    try:
        run_script(conn, "replace_tags", {"tagger_version": tagger_version,
                                          "now": clock.now()})
    finally:
        for name in ("tag_rows", "condition_rows", "tagged_records"):
            conn.unregister(name)
    return tables.records.num_rows


def replace_tags(conn: duckdb.DuckDBPyConnection, tagged: Iterable[RecordTags], tagger_version: str) -> int:
    """Replace the stored tags of these records (inside the caller's transaction)."""
    return store_tags(conn, tag_tables(tagged, tagger_version), tagger_version)
