"""`trialwatch export`: every table and view of the warehouse as Parquet or CSV files.

The list comes from the warehouse's own catalogue, so a table or view added by a migration is
exported without anyone remembering to add it here. Relations are opened by name through
DuckDB's relation API (no SQL is built from the names)."""
from __future__ import annotations

from pathlib import Path

from warehouse.db import WarehouseError, connect

FORMATS = ("parquet", "csv")
RELATIONS = """
SELECT table_name, 'table' FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary AND NOT internal
UNION ALL
SELECT view_name, 'view' FROM duckdb_views() WHERE schema_name = 'main' AND NOT temporary AND NOT internal
ORDER BY 1
"""


def exported_relations(conn) -> list[tuple[str, str]]:
    """(name, 'table' | 'view') of every relation an analyst can query, by name."""
    return conn.execute(RELATIONS).fetchall()


def export(db_path: Path, out_dir: Path, fmt: str, *, force: bool = False) -> list[Path]:
    """Write each table and view to `out_dir/<name>.<fmt>` from the published warehouse
    (read-only). Refuses, before writing anything, when a file would be overwritten (unless
    `force`) or the warehouse does not exist."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if not db_path.exists():
        raise WarehouseError(f"no warehouse at {db_path}; run `trialwatch ingest` (or `trialwatch run --demo`) "
                             "first, or set TRIALWATCH_DB")
    conn = connect(db_path, read_only=True)
    try:
        relations = exported_relations(conn)
        targets = [(name, kind, out_dir / f"{name}.{fmt}") for name, kind in relations]
        existing = [target.name for _, _, target in targets if target.exists()]
        if existing and not force:
            raise WarehouseError(f"{out_dir} already holds {len(existing)} of the export's files "
                                 f"({', '.join(existing[:3])}{', …' if len(existing) > 3 else ''}); "
                                 "use --force to overwrite them, or choose another folder")
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, kind, target in targets:
            relation = conn.table(name) if kind == "table" else conn.view(name)
            if fmt == "parquet":
                relation.write_parquet(str(target))
            else:
                relation.write_csv(str(target))
    finally:
        conn.close()
    return [target for _, _, target in targets]
