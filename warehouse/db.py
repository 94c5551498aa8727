"""Opening the warehouse and bringing its schema up to date.

Migrations are the numbered `.sql` files in `warehouse/migrations/`, applied in order, each in
one transaction together with its row in `schema_migrations`; a warehouse written by a newer
trialwatch is refused rather than half-understood.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import duckdb

from warehouse.conditions import sync_condition_concepts

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT now()
)
"""
# A writing connection's memory cap. DuckDB's default (80 % of RAM) lets a load's buffer pool keep
# hundreds of MB of blocks cached on a machine it shares with analysts' sessions, the dashboard and
# the pipeline's own worker processes; at this cap a 50k-article replay runs as fast (DuckDB spills
# to a temporary folder beside the file if an operation ever needs more). docs/benchmarks.md.
WRITER_MEMORY_LIMIT = "256MB"
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class WarehouseError(RuntimeError):
    """The warehouse cannot be used; the message says why and what to do."""


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    folder = resources.files("warehouse").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found)


def _explain(path: Path, error: Exception) -> WarehouseError:
    text = str(error)
    if "Could not set lock" in text or "Conflicting lock" in text:
        holder = re.search(r"PID (\d+)", text)
        who = f" (process {holder.group(1)})" if holder else ""
        return WarehouseError(
            f"warehouse {path} is in use by another process{who}; close that connection, or "
            "wait for the running ingest to finish, then try again"
        )
    if "not a valid DuckDB database" in text or "Corrupt" in text or "corrupt" in text:
        return WarehouseError(
            f"{path} is not a readable DuckDB warehouse ({text.splitlines()[0]}); move it aside "
            "and run `trialwatch replay` to rebuild it, or set TRIALWATCH_DB to another path"
        )
    return WarehouseError(f"cannot open warehouse {path}: {text.splitlines()[0]}; "
                          "check the path and its permissions, or set TRIALWATCH_DB")


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed, unless read-only) the warehouse file with clear errors."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path} yet; run `trialwatch ingest` (or `trialwatch demo`) first")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise WarehouseError(
                f"cannot create the folder for warehouse {path}: {error.strerror}; "
                "set TRIALWATCH_DB to a writable path"
            ) from None
    try:
        config = {} if read_only else {"memory_limit": WRITER_MEMORY_LIMIT}
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.Error as error:
        raise _explain(path, error) from None


def schema_version(conn: duckdb.DuckDBPyConnection) -> int:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


def migrate(conn: duckdb.DuckDBPyConnection, path: Path | str = "warehouse") -> int:
    """Apply pending migrations and bring the condition vocabulary up to date; return the
    resulting schema version."""
    version = apply_migrations(conn, path)
    sync_condition_concepts(conn)  # the condition vocabulary follows the shipped lexicon
    return version


def apply_migrations(conn: duckdb.DuckDBPyConnection, path: Path | str = "warehouse") -> int:
    """Apply pending migrations only (the tables' shapes, no data); return the schema version."""
    known = migrations()
    latest = known[-1][0] if known else 0
    current = schema_version(conn)
    if current > latest:
        raise WarehouseError(
            f"{path} has schema version {current}, newer than this trialwatch understands "
            f"({latest}); upgrade trialwatch, or point TRIALWATCH_DB at another warehouse"
        )
    conn.execute(MIGRATIONS_TABLE)
    for version, name, sql in known:
        if version <= current:
            continue
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    return max(current, latest)


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """Open for writing and migrate: what every writing command starts with."""
    conn = connect(path)
    try:
        migrate(conn, path)
    except duckdb.Error as error:
        conn.close()
        raise WarehouseError(f"cannot prepare warehouse {path}: {str(error).splitlines()[0]}") from None
    except WarehouseError:
        conn.close()
        raise
    return conn
