"""Condition tagging as a pipeline stage: ingest tags what it stores, retag refreshes stale tags,
and the tagger reads text only (never MeSH indexing)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from extract.standins import pubmed_records_from_xml
from flows.prepare import default_tagger
from flows import pipeline
from flows.cli import main
from flows.demo import generate_sample
from flows.retag import retag
from flows.settings import Settings
from tests.helpers import TODAY, ingest_in_process
from warehouse.db import open_warehouse
from warehouse.load import load_page, transaction


@pytest.fixture(scope="module")
def tagged_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagged")
    sample = generate_sample(today=TODAY - timedelta(days=1), n_articles=60, n_trials=20)
    settings = Settings(db_path=folder / "w.duckdb", data_dir=folder / "data")
    ingest_in_process(settings, pubmed_records_from_xml(sample.pubmed_xml), sample.studies)
    return settings


def test_ingest_tags_every_stored_record(tagged_warehouse):
    with open_warehouse(tagged_warehouse.db_path) as conn:
        untagged = conn.execute("""
            SELECT count(*) FROM (SELECT 'article' k, CAST(pmid AS VARCHAR) id FROM articles
                                  UNION ALL SELECT 'trial', nct_id FROM trials) r
            LEFT JOIN record_tagging t ON t.record_kind = r.k AND t.record_id = r.id
            WHERE t.record_id IS NULL""").fetchall()
        about = conn.execute("SELECT record_kind, count(DISTINCT record_id) FROM record_conditions "
                             "GROUP BY ALL ORDER BY ALL").fetchall()
        offsets_ok = conn.execute("""
            SELECT bool_and(substr(a.title, c.start_offset + 1, c.end_offset - c.start_offset) = c.matched_text)
            FROM condition_tags c JOIN articles a ON c.record_id = CAST(a.pmid AS VARCHAR)
            WHERE c.record_kind = 'article' AND c.field = 'title'""").fetchall()
    assert untagged == [(0,)]
    assert dict(about)["article"] > 40 and dict(about)["trial"] > 15
    assert offsets_ok == [(True,)]


def test_conditions_say_whether_they_come_from_the_text_or_from_mesh_indexing(tmp_path):
    """The text tagger's rows stay its own: PTSD from the text, Bipolar Disorder from MeSH only,
    'Rats' (indexed, not a condition) not copied; served again without indexing, text rows only."""
    indexed = {"pmid": 42, "title": "Psilocybin for post-traumatic stress disorder in veterans",
               "abstract": "We treated veterans with PTSD.", "drugs": ["psilocybin"],
               "mesh_headings": [{"ui": "D001714", "name": "Bipolar Disorder", "major": True, "qualifiers": []},
                                 {"ui": "D013313", "name": "Stress Disorders, Post-Traumatic", "major": False,
                                  "qualifiers": []},
                                 {"ui": "D051381", "name": "Rats", "major": False, "qualifiers": []}]}
    unindexed = {**indexed, "mesh_headings": []}
    with open_warehouse(tmp_path / "w.duckdb") as conn:
        def stored(record) -> list[tuple]:
            with transaction(conn):
                load_page(conn, "article", [record], run_id="r1")
                pipeline.tag_records(conn, "article", [record], default_tagger())
            return conn.execute("SELECT mesh_id, source, condition_tags_only FROM (SELECT *, "
                                "(SELECT count(*) FROM condition_tags t WHERE t.record_id = c.record_id "
                                " AND t.mesh_id = c.mesh_id) > 0 AS condition_tags_only "
                                "FROM record_conditions c WHERE record_id = '42') ORDER BY mesh_id").fetchall()

        with_indexing, without = stored(indexed), stored(unindexed)
    assert with_indexing == [("D001714", ["mesh"], False), ("D013313", ["mesh", "text"], True)]
    assert without == [("D013313", ["text"], True)]


def test_retag_refreshes_only_records_tagged_by_another_version(tagged_warehouse):
    with open_warehouse(tagged_warehouse.db_path) as conn:
        conn.execute("UPDATE record_tagging SET tagger_version = 'old' WHERE record_id IN "
                     "(SELECT record_id FROM record_tagging WHERE record_kind = 'article' ORDER BY record_id LIMIT 3)")
        conn.execute("DELETE FROM record_conditions WHERE record_kind = 'trial'")
        conn.execute("DELETE FROM record_tagging WHERE record_kind = 'trial'")
        done = retag(conn, everything=False, tagger=default_tagger(), progress=lambda _: None)
        stale_left = conn.execute("SELECT count(*) FROM record_tagging WHERE tagger_version = 'old'").fetchall()
        trials_about = conn.execute("SELECT count(*) FROM record_conditions WHERE record_kind = 'trial'").fetchall()
    assert done == {"article": 3, "trial": 20}
    assert stale_left == [(0,)] and trials_about[0][0] > 15


def test_evaluate_tagger_prints_precision_and_recall(tagged_warehouse, monkeypatch, capsys):
    monkeypatch.setenv("TRIALWATCH_DB", str(tagged_warehouse.db_path))
    assert main(["evaluate-tagger", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "ALL GROUPS (micro)" in out and "worst false positives" in out
