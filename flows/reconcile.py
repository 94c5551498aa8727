"""Reconciliation: ask each service for every id the catalogue query matches and take the stored
records it no longer lists out of the views (warehouse/deletions.py).

Runs on its own from the nightly flow when the source's last successful reconciliation is
`reconcile_days` old (weekly by default), or when forced (`trialwatch ingest --reconcile`). Each is
a run of its own in the ledger (mode 'reconcile'). The id set is written to the raw archive
before it is applied, so `trialwatch replay` applies the same reconciliations at the same point.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.http import HttpClient
from extract.sources import SOURCES
from flows.pipeline import Progress, counted, make_http
from flows.settings import Settings
from warehouse import clock, deletions, runs
from warehouse.load import LoadCounts, transaction

log = logging.getLogger("trialwatch.reconcile")

# A full pull counts as a fresh start of the clock: it listed everything the service has.
LAST_RECONCILED = """
SELECT max(started_at) FROM ingest_runs WHERE source = ? AND mode IN ('reconcile', 'full') AND status = 'succeeded'
"""
HAS_STORED = {"articles": "SELECT count(*) FROM articles", "trials": "SELECT count(*) FROM trials"}  # by parent table


@dataclass
class ReconcileSummary:
    source: str
    run_id: str
    status: str = "running"
    remote: int = 0
    gone: int = 0
    restored: int = 0
    message: str | None = None

    def line(self) -> str:
        if self.status == "failed":
            return f"{self.source} reconcile: FAILED — {self.message}"
        return (f"{self.source} reconcile: {self.remote:,} ids at the service; {counted(self.gone, 'record')} "
                f"gone, {self.restored:,} back")


def is_due(conn: duckdb.DuckDBPyConnection, source: str, every_days: int, today: date) -> bool:
    """Whether `source` should be reconciled on `today`: it has stored records and no successful
    reconciliation (or full pull) in the last `every_days` days (0: every run)."""
    if not conn.execute(HAS_STORED[SOURCES[source].table]).fetchall()[0][0]:
        return False
    last = conn.execute(LAST_RECONCILED, [source]).fetchall()[0][0]
    return last is None or last.date() <= today - timedelta(days=every_days)


def reconcile_source(conn: duckdb.DuckDBPyConnection, settings: Settings, source: str, *, catalogue: Catalogue,
                     progress: Progress) -> ReconcileSummary:
    """Compare `source`'s stored ids with the service's, in one transaction with its ledger row.
    Any failure (the service, an incomplete id list, too many disappearing at once) deletes nothing
    and is reported in the summary."""
    summary = ReconcileSummary(source, runs.new_run_id(source))
    runs.start(conn, summary.run_id, source, "reconcile", None)
    http = make_http(source, settings)
    try:
        progress(f"{source}: listing every id the service has for the catalogue query (reconciliation)")
        ids = SOURCES[source].remote_ids(http, catalogue)
        now = clock.now()
        with transaction(conn):
            result = deletions.reconcile(conn, source, ids, run_id=summary.run_id, now=now,
                                         max_share=settings.reconcile_max_share)
            RawArchive(settings.archive_dir).write(summary.run_id, 1, deletions.id_set_page(source, ids, now))
            summary.status, summary.remote = "succeeded", result.remote
            summary.gone, summary.restored = len(result.gone), len(result.restored)
            _finish(conn, summary, http)
        for record_id in result.gone[:20]:
            log.info("%s %s is gone from the service", source, record_id)
    except Exception as error:  # noqa: BLE001 — reported in the summary, the run fails loudly
        log.debug("%s reconciliation failed", source, exc_info=True)
        summary.status, summary.message = "failed", http.scrub(f"{type(error).__name__}: {error}")
        _finish(conn, summary, http)
    finally:
        http.close()
    return summary


def _finish(conn: duckdb.DuckDBPyConnection, summary: ReconcileSummary, http: HttpClient) -> None:
    runs.finish(conn, summary.run_id, status=summary.status, fetched=summary.remote,
                counts=LoadCounts(deleted=summary.gone), http_requests=http.stats.requests,
                http_retries=http.stats.retries,
                watermark=None, message=summary.message if summary.status == "failed" else
                (f"{summary.gone:,} gone, {summary.restored:,} back" if summary.gone or summary.restored else None))
