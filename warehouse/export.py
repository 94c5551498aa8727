"""`trialwatch export`: every analyst table and view as Parquet or CSV files."""
from __future__ import annotations

from pathlib import Path

from extract.aact import AACT_TABLES
from warehouse.db import connect

# Fixed whitelist: these names are the only identifiers that reach SQL here.
EXPORTED = ("articles", "trials", "article_trials", "record_drugs", "trial_history", "ingest_runs",
            "rejects", "deleted_records", "comments_corrections", "grants", "outcome_changes", *AACT_TABLES,
            "v_trials", "v_articles", "v_trial_changes", "v_overdue_trials", "v_trial_design", "v_outcome_changes")
SELECT_ALL = {name: f"SELECT * FROM {name}" for name in EXPORTED}  # names from the whitelist above


def export(db_path: Path, out_dir: Path, fmt: str) -> list[Path]:
    """Write each table/view to `out_dir/<name>.<fmt>` from the published warehouse (read-only)."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = connect(db_path, read_only=True)
    written = []
    try:
        for name in EXPORTED:
            target = out_dir / f"{name}.{fmt}"
            relation = conn.sql(SELECT_ALL[name])
            if fmt == "parquet":
                relation.write_parquet(str(target))
            else:
                relation.write_csv(str(target))
            written.append(target)
    finally:
        conn.close()
    return written
