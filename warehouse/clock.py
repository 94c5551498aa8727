"""The pipeline's clock: every stored timestamp (first_seen_at, run ledger, publications) and
every "today" (incremental windows, reconciliation) comes from here, naive UTC.

`on_day` moves it to another day (time of day kept) for as long as a block runs: the offline
demo ingests its first night on yesterday's date, so "since yesterday" and "since the last run"
mean on the demo what they mean on a real warehouse. The system clock is never touched.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

_shift = timedelta(0)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None) + _shift


def today() -> date:
    return now().date()


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """Run the block as if today were `day` (not thread-local: one pipeline run per process)."""
    global _shift
    before = _shift
    _shift = timedelta(days=(day - datetime.now(timezone.utc).date()).days)
    try:
        yield
    finally:
        _shift = before
