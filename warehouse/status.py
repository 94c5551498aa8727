"""What `trialwatch status` prints: last runs per source, watermarks, row counts, rejects."""
from __future__ import annotations

from pathlib import Path

from warehouse.db import connect

LAST_RUNS = """
SELECT source, run_id, mode, status, started_at, finished_at, fetched, new, updated, rejected, watermark, message
FROM ingest_runs ORDER BY started_at DESC LIMIT 6
"""
ROW_COUNTS = """
SELECT 'articles', count(*) FROM articles UNION ALL
SELECT 'trials', count(*) FROM trials UNION ALL
SELECT 'article_trials', count(*) FROM article_trials UNION ALL
SELECT 'rejects', count(*) FROM rejects
"""
WATERMARKS = """
SELECT source, max(watermark) FROM ingest_runs WHERE status = 'succeeded' GROUP BY source ORDER BY source
"""


def status_lines(db_path: Path) -> list[str]:
    conn = connect(db_path, read_only=True)
    try:
        lines = [f"warehouse: {db_path}"]
        lines += [f"  {name}: {count:,}" for name, count in conn.execute(ROW_COUNTS).fetchall()]
        lines.append("watermarks (next incremental run starts here minus the overlap):")
        lines += [f"  {source}: {mark}" for source, mark in conn.execute(WATERMARKS).fetchall()] or ["  none yet"]
        lines.append("last runs:")
        for (source, run_id, mode, status, started, finished, fetched, new, updated, rejected,
             watermark, message) in conn.execute(LAST_RUNS).fetchall():
            line = (f"  {started:%Y-%m-%d %H:%M} {source:<6} {mode:<11} {status:<9} fetched {fetched or 0:,} "
                    f"new {new or 0:,} updated {updated or 0:,} rejected {rejected or 0:,}")
            lines.append(line + (f" — {message}" if message else ""))
        return lines
    finally:
        conn.close()
