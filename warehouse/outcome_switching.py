"""Outcome switching: registered outcome measures that changed between two stored versions of a
trial (ClinicalTrials.gov keeps no history we can ask for, so trialwatch compares each version it
stores with the one before). Written to `outcome_changes` in the same transaction as the trial."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from difflib import SequenceMatcher

import duckdb
import pyarrow as pa

REWORDED_AT = 0.8  # similarity at which a removed and an added measure are one measure reworded
OLD_OUTCOMES = """
SELECT nct_id, outcome_type, measure FROM design_outcomes WHERE nct_id IN (SELECT record_id FROM stored)
"""
STARTS = "SELECT nct_id, start_date FROM trials WHERE nct_id IN (SELECT record_id FROM stored)"
STORE_CHANGES = "INSERT INTO outcome_changes BY NAME SELECT * FROM changes"
CHANGES_SCHEMA = pa.schema([
    ("nct_id", pa.string()), ("detected_at", pa.timestamp("us")), ("outcome_type", pa.string()),
    ("change", pa.string()), ("old_measure", pa.string()), ("new_measure", pa.string()),
    ("after_start", pa.bool_()), ("run_id", pa.string()),
])

Outcomes = dict[str, dict[str, list[str]]]  # nct_id → outcome_type → measures in order


def _tidy(measure: str | None) -> str:
    return " ".join((measure or "").split())


def _grouped(rows) -> Outcomes:
    grouped: Outcomes = defaultdict(lambda: defaultdict(list))
    for nct_id, outcome_type, measure in rows:
        if _tidy(measure):
            grouped[nct_id][outcome_type or "other"].append(_tidy(measure))
    return grouped


def diff(old: list[str], new: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(change, old_measure, new_measure) between two lists of one outcome type's measures: the
    same measure (ignoring case and spacing) is no change; a removed and an added one that are
    close rewordings of each other are one 'reworded'."""
    def key(measure: str) -> str:
        return _tidy(measure).casefold()

    removed = [m for m in old if key(m) not in {key(n) for n in new}]
    added = [m for m in new if key(m) not in {key(o) for o in old}]
    changes = []
    for before in removed:
        ratio, after = max(((SequenceMatcher(None, key(before), key(a)).ratio(), a) for a in added),
                           default=(0.0, None))
        if after is not None and ratio >= REWORDED_AT:
            added.remove(after)
            changes.append(("reworded", before, after))
        else:
            changes.append(("removed", before, None))
    return changes + [("added", None, after) for after in added]


def record_changes(conn: duckdb.DuckDBPyConnection, new_rows: pa.Table, *, run_id: str, now: datetime) -> int:
    """Compare the stored outcomes of the trials registered as `stored` with `new_rows` (their
    design_outcomes about to replace them) and log what changed. Call before the old rows go."""
    old = _grouped(conn.execute(OLD_OUTCOMES).fetchall())
    if not old:
        return 0
    new = _grouped(zip(*(new_rows.column(name).to_pylist() for name in ("nct_id", "outcome_type", "measure"))))
    starts: dict[str, date | None] = dict(conn.execute(STARTS).fetchall())
    rows = []
    for nct_id, before in old.items():  # a trial with no outcome rows before is not compared
        after = new.get(nct_id, {})
        started = starts.get(nct_id)
        for outcome_type in sorted(set(before) | set(after)):
            for change, old_measure, new_measure in diff(before.get(outcome_type, []), after.get(outcome_type, [])):
                rows.append({"nct_id": nct_id, "detected_at": now, "outcome_type": outcome_type, "change": change,
                             "old_measure": old_measure, "new_measure": new_measure,
                             "after_start": started is not None and started <= now.date(), "run_id": run_id})
    if rows:
        conn.register("changes", pa.Table.from_pylist(rows, schema=CHANGES_SCHEMA))
        try:
            conn.execute(STORE_CHANGES)
        finally:
            conn.unregister("changes")
    return len(rows)
