"""Records gone from a service: found by comparing stored ids with the service's full id set for
the catalogue query, logged in `deleted_records`, restored when they come back.

E-utilities never send PubMed's DeleteCitation (only NLM's FTP update files carry it) and
ClinicalTrials.gov drops studies without a word, so nothing in a pull says a record is gone. Gone
records keep their rows (and their history) in articles/trials; `live_articles`/`live_trials`
and the analyst views leave them out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import duckdb
import pyarrow as pa

from extract.pages import RawPage

ID_SET_SUFFIX = "ids"  # raw-archive pages that hold a reconciliation's id set, not records
# Per source, over the service's id set registered as `remote` (record_id as text): how many
# stored records are not gone, which of them the service no longer lists, which gone ones are back.
LIVE_COUNT = {
    "pubmed": "SELECT count(*) FROM live_articles",
    "ctgov": "SELECT count(*) FROM live_trials",
}
VANISHED = {
    "pubmed": "SELECT CAST(pmid AS VARCHAR) FROM live_articles EXCEPT SELECT record_id FROM remote ORDER BY 1",
    "ctgov": "SELECT nct_id FROM live_trials EXCEPT SELECT record_id FROM remote ORDER BY 1",
}
RETURNED = """
SELECT record_id FROM v_deleted_records WHERE source = $source
INTERSECT SELECT record_id FROM remote ORDER BY 1
"""
ANY_GONE = "SELECT count(*) FROM v_deleted_records WHERE source = ?"
LOG_GONE = """
INSERT INTO deleted_records (source, record_id, detected_at, reason, run_id)
SELECT $source, record_id, $now, $reason, $run_id FROM vanished
"""
RESTORE = """
UPDATE deleted_records SET restored_at = $now, restored_run_id = $run_id
WHERE source = $source AND restored_at IS NULL AND record_id IN (SELECT record_id FROM returned)
"""
REASON = {
    "pubmed": "not in PubMed's id set for the catalogue query (deleted, or no longer matching it)",
    "ctgov": "not in ClinicalTrials.gov's id set for the catalogue query (removed, or no longer matching it)",
}


class MassDisappearance(RuntimeError):
    """More of the stored ids would vanish at once than the configured share allows."""


@dataclass
class Reconciliation:
    stored: int  # ids stored and not gone before this reconciliation
    remote: int  # ids the service listed
    gone: list[str]
    restored: list[str]


def _ids_table(ids: Iterable[str]) -> pa.Table:
    return pa.table({"record_id": pa.array(sorted(set(map(str, ids))), pa.string())})


def reconcile(conn: duckdb.DuckDBPyConnection, source: str, remote_ids: Iterable[str], *, run_id: str,
              now: datetime, max_share: float | None) -> Reconciliation:
    """Log stored ids missing from `remote_ids` as gone and restore gone ids that are back, inside
    the caller's transaction. With `max_share`, refuse (MassDisappearance, nothing written) when
    more than that share of the stored ids would go at once."""
    remote = _ids_table(remote_ids)
    conn.register("remote", remote)
    try:
        stored = conn.execute(LIVE_COUNT[source]).fetchall()[0][0]
        gone = conn.execute(VANISHED[source]).fetchall()
        back = conn.execute(RETURNED, {"source": source}).fetchall()
    finally:
        conn.unregister("remote")
    result = Reconciliation(stored, remote.num_rows, [r for (r,) in gone], [r for (r,) in back])
    if max_share is not None and result.gone and len(result.gone) > max_share * result.stored:
        raise MassDisappearance(
            f"{len(result.gone):,} of {result.stored:,} stored {source} records "
            f"({len(result.gone) / result.stored:.0%}) would be taken out at once, more than the "
            f"{max_share:.0%} TRIALWATCH_RECONCILE_MAX_SHARE allows; nothing was deleted — check the service's "
            "answer, or raise the share if the records really are gone")
    if result.gone:
        conn.register("vanished", _ids_table(result.gone))
        try:
            conn.execute(LOG_GONE, {"source": source, "now": now, "reason": REASON[source], "run_id": run_id})
        finally:
            conn.unregister("vanished")
    restore(conn, source, result.restored, run_id=run_id, now=now)
    return result


def restore(conn: duckdb.DuckDBPyConnection, source: str, ids: Iterable[str], *, run_id: str, now: datetime) -> None:
    """Mark gone records among `ids` as back (a pull fetched them, or the service lists them again)."""
    returned = _ids_table(ids)
    if not returned.num_rows or not conn.execute(ANY_GONE, [source]).fetchall()[0][0]:
        return
    conn.register("returned", returned)
    try:
        conn.execute(RESTORE, {"source": source, "now": now, "run_id": run_id})
    finally:
        conn.unregister("returned")


def id_set_page(source: str, ids: list[str], at: datetime) -> RawPage:
    """A reconciliation's id set as a raw-archive page (JSON), so replay can apply it again."""
    body = json.dumps({"source": source, "listed_at": at.isoformat(), "ids": ids}).encode()
    return RawPage(source, body, ID_SET_SUFFIX, {"ids": len(ids)})


def id_set(page: RawPage) -> bool:
    return page.suffix == ID_SET_SUFFIX


def apply_id_set(conn: duckdb.DuckDBPyConnection, page: RawPage, run_id: str) -> Reconciliation:
    """A reconciliation replayed from the archive, applied as when it was made (it passed the
    guard then: only id sets that did are archived)."""
    listed = json.loads(page.body)
    return reconcile(conn, page.source, listed["ids"], run_id=run_id,
                     now=datetime.fromisoformat(listed["listed_at"]), max_share=None)
