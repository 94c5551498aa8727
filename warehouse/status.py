"""What `trialwatch status` prints: last runs per source, watermarks, row counts, rejects."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from warehouse import clock
from warehouse.db import WarehouseError, connect

STALE_AFTER = timedelta(days=2)
LAST_SUCCESS = """
SELECT source, max(finished_at) FILTER (status = 'succeeded') FROM ingest_runs GROUP BY source ORDER BY source
"""

LAST_RUNS = """
SELECT source, mode, status, started_at, fetched, new, updated, rejected, http_retries, message
FROM ingest_runs ORDER BY started_at DESC LIMIT 6
"""
ROW_COUNTS = """
SELECT 'articles', count(*) FROM articles UNION ALL
SELECT 'trials', count(*) FROM trials UNION ALL
SELECT 'article_trials', count(*) FROM article_trials UNION ALL
SELECT 'rejects', count(*) FROM rejects UNION ALL
SELECT 'gone from the services (deleted_records, not restored)', count(*) FROM v_deleted_records
"""
LAST_QUERY = """
SELECT query_translation, query_warnings FROM ingest_runs
WHERE source = 'pubmed' AND query_translation IS NOT NULL ORDER BY started_at DESC LIMIT 1
"""
QUERY_SHOWN = 400  # characters of PubMed's query translation shown (it runs to thousands)
WATERMARKS = """
SELECT source, max(watermark) FROM ingest_runs WHERE status = 'succeeded' GROUP BY source ORDER BY source
"""


def status_lines(db_path: Path) -> list[str]:
    conn = connect(db_path, read_only=True)
    try:
        return _lines(conn, db_path)
    except duckdb.CatalogException:
        raise WarehouseError(f"{db_path} is a DuckDB file but not a trialwatch warehouse; "
                             "set TRIALWATCH_DB to the right file") from None
    finally:
        conn.close()


def _age(age: timedelta) -> str:
    days, hours = age.days, age.seconds // 3600
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} hour{'s' if hours != 1 else ''}" if hours else "")


def staleness_warning(last_success: dict[str, datetime | None], now: datetime | None = None) -> str | None:
    """One WARNING line when a source's last successful run is older than STALE_AFTER (or it never
    succeeded), with the age and what to do; None when every source is fresh or nothing ran yet."""
    if not last_success:
        return None
    now = clock.now() if now is None else now
    stale = {source: when for source, when in last_success.items() if when is None or now - when > STALE_AFTER}
    if not stale:
        return None
    oldest = [when for when in stale.values() if when is not None]
    what = f"the last successful run is {_age(now - min(oldest))} old" if oldest else "no run has succeeded yet"
    detail = ", ".join(f"{source} {f'{when:%Y-%m-%d %H:%M} UTC' if when else 'never succeeded'}"
                       for source, when in sorted(stale.items()))
    return (f"WARNING: {what} ({detail}; older than {STALE_AFTER.days} days is stale): "
            "the nightly job may have stopped or be failing. See the last runs below, check the "
            "scheduler (`trialwatch serve`, docs/operations.md), and run `trialwatch ingest` to catch up.")


def _lines(conn: duckdb.DuckDBPyConnection, db_path: Path) -> list[str]:
    lines = [f"warehouse: {db_path}"]
    warning = staleness_warning(dict(conn.execute(LAST_SUCCESS).fetchall()))
    if warning:
        lines.append(warning)
    lines += [f"  {name}: {count:,}" for name, count in conn.execute(ROW_COUNTS).fetchall()]
    lines.append("watermarks (the next incremental run starts here minus the overlap):")
    lines += [f"  {source}: {mark}" for source, mark in conn.execute(WATERMARKS).fetchall()] or ["  none yet"]
    for translation, warnings in conn.execute(LAST_QUERY).fetchall():
        shown = translation if len(translation) <= QUERY_SHOWN else translation[:QUERY_SHOWN] + "…"
        lines.append(f"pubmed query, as PubMed read it on the last run: {shown}")
        lines.append("  warnings: " + ("; ".join(warnings) if warnings else "none (every part of the term matched)"))
    lines.append("last runs:")
    for (source, mode, status, started, fetched, new, updated, rejected, retries,
         message) in conn.execute(LAST_RUNS).fetchall():
        line = (f"  {started:%Y-%m-%d %H:%M} {source:<6} {mode:<11} {status:<9} fetched {fetched or 0:,} "
                f"new {new or 0:,} updated {updated or 0:,} rejected {rejected or 0:,} retries {retries or 0:,}")
        lines.append(line + (f" — {message}" if message else ""))
    return lines
