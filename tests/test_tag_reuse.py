"""A replay reuses the published warehouse's tags for records it rebuilds unchanged
(warehouse/tag_reuse.py), and builds exactly the warehouse that tagging every record builds."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from extract.sources import SOURCES
from flows import jobs, prepare
from flows.settings import Settings
from tests.helpers import corpus_pubmed_records, corpus_studies, ingest_in_process, warehouse_content

RECORD_TAGGING = "SELECT * FROM record_tagging ORDER BY ALL"
TAGGED_ARTICLES = ("SELECT record_id FROM record_tagging WHERE record_kind = 'article' "
                   "AND record_id IN (SELECT record_id FROM condition_tags) ORDER BY record_id LIMIT 2")


CHILD_ROWS = "SELECT * FROM query_table(?) ORDER BY ALL"


def content(settings: Settings) -> tuple[dict, list]:
    """The warehouse content (with every source's child tables, AACT's for trials) and record_tagging."""
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        children = {table: conn.execute(CHILD_ROWS, [table]).fetchall()
                    for source in SOURCES.values() for table in source.child_tables}
        return {**warehouse_content(conn), **children}, conn.execute(RECORD_TAGGING).fetchall()


@pytest.fixture(scope="module")
def built(corpus_dir, tmp_path_factory):
    """The real corpus ingested, then replayed tagging every record: (settings, what it built)."""
    root = tmp_path_factory.mktemp("reuse")
    settings = Settings(db_path=root / "tw.duckdb", data_dir=root / "data", http_retries=1, workers=1)
    ingest_in_process(settings, corpus_pubmed_records(corpus_dir), corpus_studies(corpus_dir))
    jobs.replay(settings, settings.archive_dir, tag_all=True)
    return settings, content(settings)


@pytest.fixture
def replayed(built, tmp_path):
    """A copy of that published warehouse of this test's own, replayed from the same archive."""
    settings, what = built
    shutil.copyfile(settings.db_path, tmp_path / "tw.duckdb")
    return settings.with_overrides(db_path=tmp_path / "tw.duckdb"), what


@pytest.fixture
def tagged_ids(monkeypatch):
    """The ids of the records the replay tags (the tagger still runs)."""
    seen: list[str] = []
    original = prepare.tag

    def counting(kind, records, tagger):
        seen.extend(str(record["pmid" if kind == "article" else "nct_id"]) for record in records)
        return original(kind, records, tagger)

    monkeypatch.setattr(prepare, "tag", counting)
    return seen


def test_a_replay_over_the_published_warehouse_tags_nothing_and_builds_the_same_warehouse(replayed, monkeypatch, capsys):
    settings, built = replayed

    def no_tagger():
        raise AssertionError("the tagger was built")

    monkeypatch.setattr(prepare, "default_tagger", no_tagger)
    jobs.replay(settings, settings.archive_dir)
    assert content(settings) == built
    assert built[0]["condition_tags"] and built[0]["record_conditions"] and built[0]["design_groups"]
    records = len(built[0]["articles"]) + len(built[0]["trials"])
    assert f"tags of {records:,} unchanged records copied from the published warehouse" in capsys.readouterr().err


def test_records_changed_or_tagged_by_another_version_are_tagged_again(replayed, tagged_ids):
    settings, built = replayed
    with duckdb.connect(str(settings.db_path)) as conn:
        old_version, changed = (row[0] for row in conn.execute(TAGGED_ARTICLES).fetchall())
        conn.execute("UPDATE record_tagging SET tagger_version = '0.1' WHERE record_kind = 'article' AND record_id = ?",
                     [old_version])
        conn.execute("UPDATE articles SET content_hash = 'edited since' WHERE pmid = ?", [int(changed)])
        conn.execute("DELETE FROM condition_tags WHERE record_id IN (?, ?)", [old_version, changed])
    jobs.replay(settings, settings.archive_dir)
    assert sorted(tagged_ids) == sorted([old_version, changed])
    assert content(settings)[0] == built[0]


def test_published_tag_tables_of_another_shape_lend_nothing(replayed, tagged_ids, capsys):
    settings, built = replayed
    with duckdb.connect(str(settings.db_path)) as conn:
        conn.execute("ALTER TABLE condition_tags ADD COLUMN confidence DOUBLE")
    jobs.replay(settings, settings.archive_dir)
    assert "tagging every record (the published warehouse's condition_tags table is shaped differently" \
        in capsys.readouterr().err
    assert len(tagged_ids) == len(built[0]["articles"]) + len(built[0]["trials"])
    assert content(settings)[0] == built[0]
