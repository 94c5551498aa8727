"""Warehouse: migrations and page loads against real DuckDB files."""
from __future__ import annotations

import copy
from datetime import date

import duckdb
import pytest

from extract.records import Reject
from warehouse.db import WarehouseError, connect, migrate, migrations, open_warehouse, schema_version
from warehouse.load import load_page as load_unwrapped, transaction


def article(pmid: int, title: str = "Ketamine for depression", **extra) -> dict:
    record = {
        "pmid": pmid, "title": title, "abstract": "BACKGROUND: text", "abstract_sections": [
            {"label": "BACKGROUND", "category": "BACKGROUND", "text": "text"}],
        "journal": "J Psych", "journal_iso": "J Psych", "pub_date": date(2024, 3, 1),
        "pub_date_precision": "month", "pub_date_raw": "2024 Mar", "pub_year": 2024,
        "authors": [{"last_name": "Doe", "fore_name": "Jane", "initials": "J", "collective_name": None}],
        "languages": ["eng"], "publication_types": [{"ui": "D016449", "name": "Randomized Controlled Trial"}],
        "mesh_headings": [{"ui": "D007649", "name": "Ketamine", "major": True, "qualifiers": []}],
        "chemicals": [], "keywords": ["ketamine"], "doi": None, "pmcid": None,
        "nct_links": [{"nct_id": "NCT01234567", "evidence": "databank"}], "nct_ids": ["NCT01234567"],
        "entrez_date": date(2024, 3, 5), "revised_date": None, "completed_date": None,
        "status": "MEDLINE", "record_version": 1, "drugs": ["ketamine"],
    }
    record.update(extra)
    return record


def load_page(conn, *args, **kwargs):
    with transaction(conn):
        return load_unwrapped(conn, *args, **kwargs)


@pytest.fixture
def conn(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def rows(conn, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_migrations_run_once_and_record_their_version(tmp_path):
    path = tmp_path / "w.duckdb"
    open_warehouse(path).close()
    with connect(path) as again:
        assert migrate(again) == migrations()[-1][0]
        assert rows(again, "SELECT count(*) FROM schema_migrations") == [(len(migrations()),)]


def test_a_warehouse_from_a_newer_trialwatch_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    open_warehouse(path).close()
    with duckdb.connect(str(path)) as raw:
        raw.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')")
    with pytest.raises(WarehouseError, match="newer than this trialwatch"):
        open_warehouse(path)


def test_a_foreign_file_is_refused_with_advice(tmp_path):
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"PK\x03\x04 a zip, not a database" * 100)
    with pytest.raises(WarehouseError, match="not a readable DuckDB warehouse"):
        open_warehouse(path)


def test_loading_the_same_page_twice_changes_nothing(conn):
    page = [article(1), article(2, "Psilocybin and MDMA", drugs=["psilocybin", "mdma"])]
    first = load_page(conn, "article", copy.deepcopy(page), run_id="r1")
    snapshot = rows(conn, "SELECT * FROM articles ORDER BY pmid")
    second = load_page(conn, "article", copy.deepcopy(page), run_id="r2")
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 2)
    assert rows(conn, "SELECT * FROM articles ORDER BY pmid") == snapshot
    assert rows(conn, "SELECT record_id, drug FROM record_drugs ORDER BY ALL") == [
        ("1", "ketamine"), ("2", "mdma"), ("2", "psilocybin")]
    assert rows(conn, "SELECT count(*) FROM article_trials") == [(2,)]


def test_a_changed_record_is_replaced_and_keeps_when_it_was_first_seen(conn):
    load_page(conn, "article", [article(1)], run_id="r1")
    (first_seen,), = rows(conn, "SELECT first_seen_at FROM articles")
    counts = load_page(conn, "article", [article(1, "Esketamine revised", nct_links=[], nct_ids=[])], run_id="r2")
    assert (counts.new, counts.updated) == (0, 1)
    assert rows(conn, "SELECT title, first_seen_at, first_run_id, last_run_id FROM articles") == [
        ("Esketamine revised", first_seen, "r1", "r2")]
    assert rows(conn, "SELECT count(*) FROM article_trials") == [(0,)]


def test_a_page_repeating_a_record_stores_it_once(conn):
    counts = load_page(conn, "article", [article(1, "old"), article(1, "new")], run_id="r1")
    assert counts.new == 1 and rows(conn, "SELECT title FROM articles") == [("new",)]


def test_deletions_remove_the_article_its_labels_and_its_links(conn):
    load_page(conn, "article", [article(1), article(2)], run_id="r1")
    counts = load_page(conn, "article", [], run_id="r2", deleted_ids=["1", "999"])
    assert counts.deleted == 1
    assert rows(conn, "SELECT pmid FROM articles") == [(2,)]
    assert rows(conn, "SELECT record_id FROM record_drugs") == [("2",)]
    assert rows(conn, "SELECT pmid FROM article_trials") == [(2,)]


def test_invalid_records_are_quarantined_and_the_rest_stored(conn):
    bad = article(3, nct_links=[{"nct_id": "NCT123", "evidence": "databank"}])
    counts = load_page(conn, "article", [article(1), bad], run_id="r1",
                       rejects=[Reject("pubmed", "7", "impossible date in PubDate: Month=13", "<PubmedArticle/>")])
    assert (counts.new, counts.rejected) == (1, 2)
    assert rows(conn, "SELECT record_id, reason LIKE 'failed validation: malformed NCT id%' FROM rejects "
                      "WHERE record_id = '3'") == [("3", True)]
    load_page(conn, "article", [], run_id="r2",
              rejects=[Reject("pubmed", "7", "impossible date in PubDate: Month=13", "<PubmedArticle/>")])
    assert rows(conn, "SELECT times_seen, run_id FROM rejects WHERE record_id = '7'") == [(2, "r2")]


def test_trial_references_become_article_links(conn):
    trial = {"nct_id": "NCT07654321", "brief_title": "Psilocybin for TRD", "phases": ["PHASE2"],
             "references": [{"pmid": "12345", "type": "RESULT", "citation": "x"},
                            {"pmid": None, "type": "BACKGROUND", "citation": "y"}],
             "has_results": False, "drugs": ["psilocybin"]}
    counts = load_page(conn, "trial", [trial], run_id="r1")
    assert counts.new == 1
    assert rows(conn, "SELECT pmid, nct_id, evidence FROM article_trials") == [(12345, "NCT07654321", "ctgov_reference")]
    assert rows(conn, "SELECT phases FROM trials") == [(["PHASE2"],)]


def test_a_record_that_does_not_fit_the_column_types_is_quarantined_alone(conn):
    counts = load_page(conn, "article", [article(1), article(2, pub_year="not a year")], run_id="r1")
    assert (counts.new, counts.rejected) == (1, 1)
    assert rows(conn, "SELECT pmid FROM articles") == [(1,)]
    assert rows(conn, "SELECT record_id, reason LIKE 'value does not fit%' FROM rejects") == [("2", True)]


def test_a_page_that_fails_midway_leaves_nothing_behind(conn):
    load_page(conn, "article", [article(1)], run_id="r1")
    conn.execute("DROP TABLE rejects")  # the page's last statement will fail
    with pytest.raises(duckdb.Error):
        load_page(conn, "article", [article(2)], run_id="r2", rejects=[Reject("pubmed", "9", "bad", "<x/>")])
    assert rows(conn, "SELECT pmid FROM articles") == [(1,)]
    assert rows(conn, "SELECT count(*) FROM record_drugs") == [(1,)]


def test_schema_version_of_a_new_file_is_zero(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as raw:
        assert schema_version(raw) == 0


def test_links_that_still_hold_keep_when_they_were_first_seen(conn):
    load_page(conn, "article", [article(1)], run_id="r1")
    moved = article(1, "revised", nct_links=[{"nct_id": "NCT01234567", "evidence": "databank"},
                                             {"nct_id": "NCT07654321", "evidence": "abstract"}])
    load_page(conn, "article", [moved], run_id="r2")
    assert rows(conn, "SELECT nct_id, run_id FROM article_trials ORDER BY nct_id") == [
        ("NCT01234567", "r1"), ("NCT07654321", "r2")]
    load_page(conn, "article", [article(1, "again", nct_links=[{"nct_id": "NCT07654321", "evidence": "abstract"}])],
              run_id="r3")
    assert rows(conn, "SELECT nct_id, run_id FROM article_trials") == [("NCT07654321", "r2")]
