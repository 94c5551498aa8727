"""Records what each reliability case actually did, for the table in docs/reliability.md.

Tests call ``outcome.record(case_id, "what happened", **measurements)`` (the ``outcome`` fixture in
conftest.py). When the test ends, its records are appended as JSON lines to
``test-artifacts/reliability-results.jsonl`` (gitignored) with the test's verdict; then
``python tests/reliability/render_doc.py`` rewrites the table from the latest line of each case.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.reliability.cases import CASES_BY_ID

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path(os.environ.get("TRIALWATCH_RELIABILITY_RESULTS", REPO / "test-artifacts" / "reliability-results.jsonl"))


@dataclass
class Recorder:
    nodeid: str
    entries: list[dict[str, Any]] = field(default_factory=list)

    def record(self, case_id: str, outcome: str, **data: Any) -> None:
        """What `case_id` did this run, in words a reader of the doc understands (plus numbers)."""
        if case_id not in CASES_BY_ID:
            raise KeyError(f"unknown reliability case {case_id!r}: add it to tests/reliability/cases.py")
        self.entries.append({"case": case_id, "outcome": outcome, "data": data})

    def flush(self, verdict: str, path: Path = RESULTS) -> None:
        if not self.entries:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as out:
            for entry in self.entries:
                line = {**entry, "verdict": verdict, "test": self.nodeid, "at": at}
                out.write(json.dumps(line, default=str, sort_keys=True) + "\n")
        self.entries.clear()


def latest_results(path: Path = RESULTS) -> dict[str, dict[str, Any]]:
    """The last recorded line of every case (later runs win)."""
    latest: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                latest[entry["case"]] = entry
    return latest
