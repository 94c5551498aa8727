"""trial_history, the analyst views, schema docs and export, on real DuckDB files."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from warehouse.db import open_warehouse
from warehouse.export import export
from warehouse.load import load_page, transaction
from warehouse.schema_docs import render

REPO = Path(__file__).resolve().parents[1]
TODAY = date.today()


def trial(nct_id: str, **fields) -> dict:
    record = {
        "nct_id": nct_id, "brief_title": f"Psilocybin study {nct_id}", "overall_status": "RECRUITING",
        "phases": ["PHASE2"], "enrollment_count": 40, "enrollment_type": "ESTIMATED",
        "start_date": date(2023, 9, 1), "start_date_precision": "month",
        "primary_completion_date": date(2025, 6, 1), "primary_completion_date_precision": "month",
        "completion_date": date(2025, 12, 1), "completion_date_precision": "month",
        "last_update_posted_date": date(2024, 1, 10), "last_update_posted_date_precision": "day",
        "has_results": False, "why_stopped": None, "references": [], "drugs": ["psilocybin"],
    }
    record.update(fields)
    return record


def load(conn, kind, records, run_id):
    with transaction(conn):
        return load_page(conn, kind, records, run_id=run_id)


@pytest.fixture
def conn(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def test_history_records_exactly_the_fields_that_changed(conn):
    load(conn, "trial", [trial("NCT00000001"), trial("NCT00000002")], "run-a")
    version_b = trial("NCT00000001", overall_status="COMPLETED", phases=["PHASE2", "PHASE3"],
                      enrollment_count=52, enrollment_type="ACTUAL", brief_title="Renamed",
                      primary_completion_date=date(2025, 7, 14), primary_completion_date_precision="day")
    counts = load(conn, "trial", [version_b, trial("NCT00000002")], "run-b")
    history = conn.execute("SELECT nct_id, field, old_value, new_value, run_id FROM trial_history ORDER BY field").fetchall()
    assert counts.updated == 1 and counts.unchanged == 1
    assert history == [
        ("NCT00000001", "enrollment_count", "40", "52", "run-b"),
        ("NCT00000001", "enrollment_type", "ESTIMATED", "ACTUAL", "run-b"),
        ("NCT00000001", "overall_status", "RECRUITING", "COMPLETED", "run-b"),
        ("NCT00000001", "phases", "PHASE2", "PHASE2/PHASE3", "run-b"),
        ("NCT00000001", "primary_completion_date", "2025-06", "2025-07-14", "run-b"),
    ]  # the title changed too, but it is not a tracked field
    assert conn.execute("SELECT count(*) FROM v_trial_changes WHERE brief_title = 'Renamed'").fetchall() == [(5,)]


def test_overdue_trials_are_flagged_by_each_rule_separately(conn):
    """results_due: FDAAA 801 as TrialsTracker approximates it; unpublished: done over two years ago,
    no paper. Dates derive from today, so the test does not age."""
    year_and_half = TODAY - timedelta(days=550)
    three_years = TODAY - timedelta(days=3 * 365 + 30)
    act = dict(study_type="INTERVENTIONAL", phases=["PHASE2"], countries=["United States"],
               overall_status="COMPLETED", primary_completion_date=year_and_half, primary_completion_date_precision="day",
               completion_date=year_and_half, completion_date_precision="day")
    old = dict(act, primary_completion_date=three_years, completion_date=three_years)
    load(conn, "trial", [
        trial("NCT00000010", **act),                                               # results due
        trial("NCT00000011", **act, has_results=True),                             # results posted
        trial("NCT00000012", **act, results_first_submitted_date=TODAY),          # submitted, in QC
        trial("NCT00000013", **act, disposition_first_submitted_date=year_and_half),  # certificate of delay
        trial("NCT00000014", **dict(act, countries=["Canada"])),                   # no US site …
        trial("NCT00000015", **dict(act, countries=["Canada"]), is_fda_regulated_drug=True),  # … but FDA-regulated
        trial("NCT00000016", **dict(act, phases=["PHASE1"])),                      # phase 1: not an ACT
        trial("NCT00000017", **dict(act, phases=["PHASE1", "PHASE2"])),            # phase 1/2 is
        trial("NCT00000018", **dict(act, overall_status="TERMINATED")),            # terminated counts
        trial("NCT00000019", **dict(act, primary_completion_date=TODAY - timedelta(days=200))),  # < 12 months
        trial("NCT00000020", **dict(old, countries=["Germany"])),                  # unpublished only
        trial("NCT00000021", **old),                                               # both
        trial("NCT00000022", **dict(old, countries=["Germany"])),                  # has a paper
        trial("NCT00000023", **dict(old, countries=["Germany"], overall_status="RECRUITING")),  # not done
    ], "r1")
    load(conn, "article", [{"pmid": 777, "title": "Results of NCT00000022", "drugs": ["psilocybin"],
                            "nct_links": [{"nct_id": "NCT00000022", "evidence": "abstract"}]}], "r1")
    rows = conn.execute("SELECT nct_id, results_due, unpublished, drugs, reason FROM v_overdue_trials "
                        "ORDER BY nct_id").fetchall()
    flags = [(nct, due, unpublished) for nct, due, unpublished, _, _ in rows]
    assert flags == [("NCT00000010", True, False), ("NCT00000015", True, False), ("NCT00000017", True, False),
                     ("NCT00000018", True, False), ("NCT00000020", False, True), ("NCT00000021", True, True)]
    assert all(drugs == ["psilocybin"] for _, _, _, drugs, _ in rows)
    reasons = {nct: reason for nct, _, _, _, reason in rows}
    assert reasons["NCT00000010"].startswith("results due under FDAAA 801") and "unpublished" not in reasons["NCT00000010"]
    assert reasons["NCT00000020"].startswith("unpublished: completed")
    assert "results due" in reasons["NCT00000021"] and "; unpublished" in reasons["NCT00000021"]


def test_new_since_lists_new_records_changes_and_links(conn):
    load(conn, "trial", [trial("NCT00000001")], "r1")
    load(conn, "trial", [trial("NCT00000001", overall_status="COMPLETED")], "r2")
    load(conn, "article", [{"pmid": 9, "title": "Paper", "drugs": [],
                            "nct_links": [{"nct_id": "NCT00000001", "evidence": "abstract"}]}], "r2")
    kinds = conn.execute("SELECT kind, count(*) FROM new_since(current_date - 1) GROUP BY kind ORDER BY kind").fetchall()
    assert kinds == [("new link", 1), ("new paper", 1), ("new trial", 1), ("trial change", 1)]
    assert conn.execute("SELECT count(*) FROM new_since(current_date + 1)").fetchall() == [(0,)]


def test_schema_docs_match_the_live_schema():
    assert (REPO / "docs" / "schema.md").read_text() == render(), "run `trialwatch schema-docs`"


def test_schema_docs_check_fails_when_stale(tmp_path, capsys):
    stale = tmp_path / "schema.md"
    stale.write_text("old")
    assert main(["schema-docs", "--output", str(stale), "--check"]) == 1
    assert main(["schema-docs", "--output", str(stale)]) == 0
    assert main(["schema-docs", "--output", str(stale), "--check"]) == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_every_table_and_view_readably(tmp_path, fmt):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as conn:
        load(conn, "trial", [trial("NCT00000001")], "r1")
        every = {name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database()").fetchall()}
    written = export(db, tmp_path / "out", fmt)
    assert sorted(p.name for p in written) == sorted(f"{name}.{fmt}" for name in every)
    assert {"record_conditions", "condition_tags", "record_tagging", "publications", "designs",
            "v_record_condition_groups"} <= every   # what the README promises, the old hand-kept list missed
    read_back = {"parquet": "SELECT nct_id FROM read_parquet(?)", "csv": "SELECT nct_id FROM read_csv_auto(?)"}
    with duckdb.connect() as conn:
        rows = conn.execute(read_back[fmt], [str(tmp_path / "out" / f"v_trials.{fmt}")]).fetchall()
    assert rows == [("NCT00000001",)]


def test_every_exported_file_has_the_warehouses_row_count(tmp_path):
    """On a two-night demo warehouse (rows in most tables): each Parquet file holds exactly the
    rows its table or view holds."""
    from flows.demo import run_demo
    from flows.settings import Settings

    data_dir = tmp_path / "demo"
    run_demo(Settings(db_path=data_dir / "trialwatch.duckdb", data_dir=data_dir), night=1, demo_dir=data_dir)
    db = data_dir / "trialwatch.duckdb"
    written = export(db, tmp_path / "out", "parquet")
    with duckdb.connect(str(db), read_only=True) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_catalog = current_database()").fetchall()]
        counts = {name: conn.table(name).count("*").fetchall()[0][0] for name in names}
    with duckdb.connect() as reader:
        exported = {path.stem: reader.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchall()[0][0]
                    for path in written}
    assert exported == counts
    assert sum(1 for n in counts.values() if n) > 20   # the check covers real rows, not empty tables


def test_export_into_an_earlier_export_is_one_clear_error_unless_forced(tmp_path, capsys, monkeypatch):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as conn:
        load(conn, "trial", [trial("NCT00000001")], "r1")
    monkeypatch.setenv("TRIALWATCH_DB", str(db))
    out = tmp_path / "out"
    assert main(["export", "--format", "csv", str(out)]) == 0
    before = (out / "trials.csv").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["export", "--format", "csv", str(out)]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "already holds" in error[0] and "--force" in error[0]
    assert (out / "trials.csv").stat().st_mtime_ns == before
    assert main(["export", "--format", "csv", "--force", str(out)]) == 0


def test_export_without_a_warehouse_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TRIALWATCH_DB", str(tmp_path / "missing.duckdb"))
    assert main(["export", str(tmp_path / "out")]) != 0
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "no warehouse at" in error[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "missing.duckdb").exists()
