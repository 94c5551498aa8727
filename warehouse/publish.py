"""How the nightly load and its readers coexist: build in a private copy, swap it in atomically.

DuckDB lets one process write a file and, while it does, no other process may even open it;
a process holding it read-only blocks writers too. So the load never writes the published file:

1. take the writer lock (`<db>.lock`, one load at a time);
2. copy the published warehouse to `<db>.staging` — or resume a staging copy a killed run left,
   if nothing was published since it was made;
3. run the whole load against the staging copy;
4. CHECKPOINT, close, fsync, and `os.replace` it over the published path.

The staging copy is checkpointed once, there: until then its commits stay in its write-ahead
log (durable, replayed when a killed run's copy is resumed). DuckDB by default checkpoints
whenever the log passes 16 MB, and each checkpoint rewrites the tables' indexes: 20 of them cost
a 50k-record replay ~3 s (docs/benchmarks.md).

Readers (the dashboard, an analyst's `read_only=True` connection) never see a half-finished load:
a connection opened before the swap keeps reading the old file, whole, until it reconnects; one
opened after sees the new load, whole.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from warehouse import clock
from warehouse.db import WarehouseError, connect, migrate, migrations, schema_version

log = logging.getLogger("trialwatch.publish")

LATEST_GENERATION = "SELECT coalesce(max(generation), 0) FROM publications"
RECORD_PUBLICATION = """
INSERT INTO publications (generation, published_at, run_ids)
SELECT coalesce(max(generation), 0) + 1, ?, ? FROM publications
"""
RUNS_SINCE_LAST_PUBLICATION = """
SELECT coalesce(list(run_id ORDER BY run_id), []) FROM ingest_runs
WHERE started_at > coalesce((SELECT max(published_at) FROM publications), TIMESTAMP '1900-01-01')
"""
MARK_INTERRUPTED = """
UPDATE ingest_runs SET status = 'failed', finished_at = ?,
       message = 'interrupted: the process ended before the run finished'
WHERE status = 'running'
"""
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
CHECKPOINT_ONLY_AT_PUBLICATION = "SET checkpoint_threshold = '1TB'"


def staging_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".staging")


@contextmanager
def writer_lock(db_path: Path) -> Iterator[None]:
    """One load at a time: a second `trialwatch ingest` is refused, not queued behind the first."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise WarehouseError(f"cannot create {lock_path}: {error.strerror}; set TRIALWATCH_DB to a writable path") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "another process"
        os.close(handle)
        raise WarehouseError(
            f"another trialwatch load is writing {db_path} (pid {holder}); wait for it to finish"
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, str(os.getpid()).encode(), 0)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _generation(path: Path, *, read_only: bool) -> int | None:
    """The publication generation stored in a warehouse file; None if it has none yet."""
    conn = connect(path, read_only=read_only)
    try:
        exists = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'publications'"
        ).fetchall()[0][0]
        return conn.execute(LATEST_GENERATION).fetchall()[0][0] if exists else None
    finally:
        conn.close()


def _copy(source: Path, target: Path) -> None:
    temp = target.with_name(target.name + ".part")
    shutil.copyfile(source, temp)
    os.chmod(temp, 0o600)
    os.replace(temp, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def _discard(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".part")):
        stale.unlink(missing_ok=True)


def _prepare_staging(db_path: Path, staging: Path, fresh: bool) -> str:
    """Make the staging copy; return how ('resumed', 'copied', 'new')."""
    published = None
    if db_path.exists():
        published = _generation(db_path, read_only=True)  # also fails clearly if a writer holds it
    if staging.exists() and not fresh:
        try:
            if _generation(staging, read_only=False) == published:
                return "resumed"
        except WarehouseError as error:
            log.warning("discarding unusable staging copy %s: %s", staging, error)
    _discard(staging)
    if db_path.exists() and not fresh:
        _copy(db_path, staging)
        return "copied"
    return "new"


def preflight(db_path: Path) -> None:
    """Check, without writing, that a load could start: the folder can be made and an existing
    warehouse is a DuckDB file this version understands. Cheap, and fails before any fetching."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise WarehouseError(f"cannot create the folder for warehouse {db_path}: {error.strerror}; "
                             "set TRIALWATCH_DB to a writable path") from None
    if not os.access(db_path.parent, os.W_OK):
        raise WarehouseError(f"cannot write to {db_path.parent}; set TRIALWATCH_DB to a writable path")
    if db_path.exists():
        conn = connect(db_path, read_only=True)
        try:
            version, latest = schema_version(conn), migrations()[-1][0]
        finally:
            conn.close()
        if version > latest:
            raise WarehouseError(f"{db_path} has schema version {version}, newer than this trialwatch "
                                 f"understands ({latest}); upgrade trialwatch, or point TRIALWATCH_DB elsewhere")


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _explain_write_failure(db_path: Path, error: BaseException) -> WarehouseError:
    text = str(error)
    out_of_space = (isinstance(error, OSError) and error.errno in NO_SPACE) or any(
        phrase in text for phrase in ("No space left", "File too large", "Disk quota"))
    what = "the disk is full" if out_of_space else text.splitlines()[0]
    return WarehouseError(
        f"the load could not be written ({what}); the published warehouse {db_path} is unchanged — "
        + ("free some space and run again" if out_of_space else "fix the cause and run again")
    )


def unpublished_run_ids(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Runs in this working copy that no publication has included yet (what the next publish adds)."""
    return conn.execute(RUNS_SINCE_LAST_PUBLICATION).fetchall()[0][0]


@contextmanager
def writing(db_path: Path, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private working copy, published atomically when the block ends cleanly.

    `fresh=True` starts from an empty warehouse (a rebuild) instead of a copy of the published one.
    If the block raises, nothing is published and the staging copy stays for the next run to resume.
    """
    db_path = Path(db_path)
    staging = staging_path(db_path)
    with writer_lock(db_path):
        try:
            how = _prepare_staging(db_path, staging, fresh)
            conn = connect(staging)
            conn.execute(CHECKPOINT_ONLY_AT_PUBLICATION)
        except OSError as error:
            raise _explain_write_failure(db_path, error) from None
        try:
            migrate(conn, db_path)
            interrupted = conn.execute(MARK_INTERRUPTED, [clock.now()]).fetchall()[0][0]
            if how == "resumed":
                log.warning("resuming the load a previous run left unfinished (%d interrupted run(s))", interrupted)
            yield conn
            conn.execute(RECORD_PUBLICATION, [clock.now(), unpublished_run_ids(conn)])
            conn.execute("CHECKPOINT")
            conn.close()
            _fsync(staging)
            os.replace(staging, db_path)
            _fsync(db_path.parent)
        except (duckdb.Error, OSError) as error:
            conn.close()
            raise _explain_write_failure(db_path, error) from None
        except BaseException:
            conn.close()
            raise
