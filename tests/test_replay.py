"""The raw archive and replay: a warehouse rebuilt from the archive equals the ingested one."""
from __future__ import annotations

import gzip
import stat
from pathlib import Path


from extract.archive import RawArchive
from extract.catalogue import Catalogue
from extract.pages import RawPage
from flows import pipeline
from flows.settings import Settings
from tests.helpers import corpus_pubmed_records, corpus_studies, ingest_in_process, warehouse_content
from warehouse.db import open_warehouse

def test_archive_writes_owner_only_gzip_files_in_fetch_order(tmp_path):
    archive = RawArchive(tmp_path / "raw")
    first = archive.write("run-1", 1, RawPage("pubmed", b"<PubmedArticleSet/>", "xml"))
    archive.write("run-1", 2, RawPage("pubmed", b"<PubmedArticleSet></PubmedArticleSet>", "xml"))
    assert gzip.decompress(first.read_bytes()) == b"<PubmedArticleSet/>"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert [p.page.body for p in archive.pages(("pubmed",))] == [
        b"<PubmedArticleSet/>", b"<PubmedArticleSet></PubmedArticleSet>"]


def _ingested_archive(corpus_dir, tmp_path) -> tuple[Settings, dict]:
    """The real corpus ingested in-process (which archives its pages): settings, warehouse content."""
    settings = Settings(db_path=tmp_path / "a.duckdb", data_dir=tmp_path / "data", http_retries=1)
    return settings, ingest_in_process(settings, corpus_pubmed_records(corpus_dir), corpus_studies(corpus_dir))


def test_replay_rebuilds_the_same_warehouse_without_network(corpus_dir, tmp_path):
    settings, ingested = _ingested_archive(corpus_dir, tmp_path)

    with open_warehouse(tmp_path / "b.duckdb") as conn:
        summaries = pipeline.replay_archive(conn, RawArchive(settings.archive_dir), catalogue=Catalogue.load(),
                                            progress=lambda _: None)
        assert [s.status for s in summaries] == ["succeeded", "succeeded"]
        assert warehouse_content(conn) == ingested
    assert ingested["articles"] and ingested["trials"]
    assert not any("api_key" in str(path) for path in Path(settings.archive_dir).rglob("*"))


def test_a_source_that_fails_in_replay_is_reported_and_the_next_source_still_replays_in_full(
        corpus_dir, tmp_path, monkeypatch):
    settings, ingested = _ingested_archive(corpus_dir, tmp_path)
    store_group = pipeline.store_group

    def failing_for_articles(conn, group, run_id, summary):
        if group[0].kind == "article":
            raise OSError("disk full")
        store_group(conn, group, run_id, summary)

    monkeypatch.setattr(pipeline, "store_group", failing_for_articles)
    with open_warehouse(tmp_path / "b.duckdb") as conn:
        summaries = pipeline.replay_archive(conn, RawArchive(settings.archive_dir), catalogue=Catalogue.load(),
                                            progress=lambda _: None)
        assert [(s.source, s.status) for s in summaries] == [("pubmed", "failed"), ("ctgov", "succeeded")]
        assert summaries[0].message == "OSError: disk full"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
        assert warehouse_content(conn)["trials"] == ingested["trials"]
