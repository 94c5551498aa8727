"""The raw archive and replay: a warehouse rebuilt from the archive equals the ingested one."""
from __future__ import annotations

import gzip
import stat
from pathlib import Path

import duckdb

from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.pages import RawPage
from extract.standins import CtGovStandIn, PubMedStandIn
from flows import pipeline
from flows.settings import Settings
from tests.helpers import corpus_pubmed_records, corpus_studies
from warehouse.db import open_warehouse

CONTENT = {
    "articles": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM articles ORDER BY pmid",
    "trials": "SELECT * EXCLUDE (first_seen_at, updated_at, first_run_id, last_run_id) FROM trials ORDER BY nct_id",
    "article_trials": "SELECT pmid, nct_id, evidence FROM article_trials ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
}


def content(conn: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {name: conn.execute(sql).fetchall() for name, sql in CONTENT.items()}


def test_archive_writes_owner_only_gzip_files_in_fetch_order(tmp_path):
    archive = RawArchive(tmp_path / "raw")
    first = archive.write("run-1", 1, RawPage("pubmed", b"<PubmedArticleSet/>", "xml"))
    archive.write("run-1", 2, RawPage("pubmed", b"<PubmedArticleSet></PubmedArticleSet>", "xml"))
    assert gzip.decompress(first.read_bytes()) == b"<PubmedArticleSet/>"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert [p.page.body for p in archive.pages(("pubmed",))] == [
        b"<PubmedArticleSet/>", b"<PubmedArticleSet></PubmedArticleSet>"]


def test_replay_rebuilds_the_same_warehouse_without_network(corpus_dir, tmp_path):
    catalogue = Catalogue.load()
    settings = Settings(db_path=tmp_path / "a.duckdb", data_dir=tmp_path / "data", http_retries=1)
    with PubMedStandIn(corpus_pubmed_records(corpus_dir)) as pubmed, CtGovStandIn(corpus_studies(corpus_dir)) as ctgov:
        served = settings.with_overrides(pubmed_url=pubmed.url, ctgov_url=ctgov.url)
        with open_warehouse(served.db_path) as conn:
            for source in ("pubmed", "ctgov"):
                summary = pipeline.ingest_source(conn, served, source, pipeline.Window("full"),
                                                 catalogue=catalogue, progress=lambda _: None)
                assert summary.status == "succeeded", summary.message
            ingested = content(conn)

    with open_warehouse(tmp_path / "b.duckdb") as conn:
        summaries = pipeline.replay_archive(conn, RawArchive(settings.archive_dir), catalogue=catalogue,
                                            progress=lambda _: None)
        assert [s.status for s in summaries] == ["succeeded", "succeeded"]
        assert content(conn) == ingested
    assert ingested["articles"] and ingested["trials"]
    assert not any("api_key" in str(path) for path in Path(settings.archive_dir).rglob("*"))
