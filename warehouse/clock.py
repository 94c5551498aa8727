"""The pipeline's clock: every stored timestamp (first_seen_at, run ledger, publications) and
every "today" (incremental windows, reconciliation) comes from here, naive UTC.

`on_day` holds it on another day (time of day kept) for as long as a block runs: the offline
demo ingests its first night on yesterday's date, so "since yesterday" and "since the last run"
mean on the demo what they mean on a real warehouse. The day is held, not shifted: a block that
runs across midnight stays on its day (a demo night started at 23:59 is still yesterday's night,
and a test session that crosses midnight keeps the "today" it started with). The system clock
is never touched.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Iterator

_held_day: date | None = None


def now() -> datetime:
    real = datetime.now(timezone.utc).replace(tzinfo=None)
    return real if _held_day is None else datetime.combine(_held_day, real.time())


def today() -> date:
    return now().date()


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """Run the block as if today were `day` (not thread-local: one pipeline run per process)."""
    global _held_day
    before = _held_day
    _held_day = day
    try:
        yield
    finally:
        _held_day = before
