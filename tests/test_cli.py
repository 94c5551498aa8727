"""`trialwatch` end to end: the installed console script, in a subprocess, against the stand-ins
serving the real corpus payloads."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from lxml import etree

from extract.standins import CtGovStandIn, PubMedStandIn
from tests.helpers import corpus_pubmed_records, corpus_studies

TRIALWATCH = [sys.executable, "-m", "flows.cli"]
DUMPS = {
    "articles": "SELECT * FROM articles ORDER BY pmid",
    "trials": "SELECT * FROM trials ORDER BY nct_id",
    "article_trials": "SELECT * FROM article_trials ORDER BY ALL",
    "record_drugs": "SELECT * FROM record_drugs ORDER BY ALL",
    "trial_history": "SELECT * FROM trial_history ORDER BY ALL",
}


def trialwatch(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*TRIALWATCH, *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).resolve().parents[1])


@pytest.fixture
def workdir(tmp_path) -> dict[str, str]:
    return {"TRIALWATCH_DATA_DIR": str(tmp_path / "data"), "TRIALWATCH_DB": str(tmp_path / "data" / "tw.duckdb")}


def dump(db: str) -> dict[str, list]:
    with duckdb.connect(db, read_only=True) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in DUMPS.items()}


def raw_article(record) -> etree._Element:
    return etree.fromstring(record.xml, etree.XMLParser(resolve_entities=False, no_network=True))


def test_ingest_stores_every_served_record_once_and_a_second_run_changes_nothing(corpus_dir, workdir):
    records, studies = corpus_pubmed_records(corpus_dir), corpus_studies(corpus_dir)
    with PubMedStandIn(records) as pubmed, CtGovStandIn(studies) as ctgov:
        env = {**workdir, "TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url}
        first = trialwatch("ingest", env=env)
        assert first.returncode == 0, first.stderr
        before = dump(workdir["TRIALWATCH_DB"])
        again = trialwatch("ingest", "--full", env=env)
        assert again.returncode == 0, again.stderr
        after = dump(workdir["TRIALWATCH_DB"])
    assert f"pubmed: fetched {len(records)}, new {len(records)}" in first.stdout
    assert f"unchanged {len(records)}" in again.stdout and f"unchanged {len(studies)}" in again.stdout
    assert before == after

    with duckdb.connect(workdir["TRIALWATCH_DB"], read_only=True) as conn:
        pmids = [row[0] for row in conn.execute("SELECT pmid FROM articles").fetchall()]
        ncts = [row[0] for row in conn.execute("SELECT nct_id FROM trials").fetchall()]
        assert sorted(pmids) == sorted(r.pmid for r in records)
        assert sorted(ncts) == sorted(s["protocolSection"]["identificationModule"]["nctId"] for s in studies)
        for record in records[::9]:  # titles, entrez dates, MeSH and NCT links intact
            raw = raw_article(record)
            title, entrez, mesh = conn.execute(
                "SELECT title, entrez_date, [m.name FOR m IN mesh_headings] FROM articles WHERE pmid = ?",
                [record.pmid]).fetchall()[0]
            assert title.split()[:3] == "".join(raw.find(".//ArticleTitle").itertext()).split()[:3]
            assert mesh == [" ".join("".join(d.itertext()).split())
                            for d in raw.xpath(".//MeshHeadingList/MeshHeading/DescriptorName")]
            if raw.find(".//PubMedPubDate[@PubStatus='entrez']") is not None:
                assert entrez == record.entrez_date
        databank = {(r.pmid, nct) for r in records for nct in raw_article(r).xpath(
            ".//DataBank[DataBankName='ClinicalTrials.gov']//AccessionNumber/text()")}
        stored = set(conn.execute("SELECT pmid, nct_id FROM article_trials WHERE evidence = 'databank'").fetchall())
        assert databank and databank <= stored
        runs = conn.execute("SELECT source, status, watermark IS NOT NULL FROM ingest_runs").fetchall()
        assert sorted(runs) == [("ctgov", "succeeded", True)] * 2 + [("pubmed", "succeeded", True)] * 2


def test_unknown_source_is_one_line_and_exit_2(workdir):
    result = trialwatch("ingest", "--source", "embase", env=workdir)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice: 'embase'" in result.stderr


def test_malformed_since_is_one_line_and_exit_2(workdir):
    result = trialwatch("ingest", "--since", "2024-13-45", env=workdir)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "expected YYYY-MM-DD" in result.stderr


def test_unwritable_database_path_is_one_line(tmp_path, workdir):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = trialwatch("ingest", env={**workdir, "TRIALWATCH_DB": str(blocker / "tw.duckdb")})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "set TRIALWATCH_DB to a writable path" in result.stderr


def test_corrupt_database_is_one_line(tmp_path, workdir):
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a duckdb file" * 500)
    result = trialwatch("status", env={**workdir, "TRIALWATCH_DB": str(corrupt)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not a readable DuckDB warehouse" in result.stderr


def test_bad_url_setting_is_one_line(workdir):
    result = trialwatch("ingest", env={**workdir, "TRIALWATCH_PUBMED_URL": "eutils.example"})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "TRIALWATCH_PUBMED_URL" in result.stderr


def test_unreachable_base_url_fails_clearly_and_keeps_the_watermark(workdir):
    env = {**workdir, "TRIALWATCH_PUBMED_URL": "http://127.0.0.1:9/eutils",
           "TRIALWATCH_CTGOV_URL": "http://127.0.0.1:9/api/v2", "TRIALWATCH_HTTP_RETRIES": "1"}
    result = trialwatch("ingest", env=env)
    assert result.returncode == 1
    assert "pubmed: FAILED" in result.stdout and "connection error" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("trialwatch: error: pubmed, ctgov failed")
    with duckdb.connect(workdir["TRIALWATCH_DB"], read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM ingest_runs WHERE watermark IS NOT NULL").fetchall() == [(0,)]


def test_run_demo_ingests_the_offline_sample_without_network(tmp_path):
    result = subprocess.run([*TRIALWATCH, "run", "--demo", "--no-dashboard"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "pubmed: fetched 300, new 300" in result.stdout and "ctgov: fetched 150, new 150" in result.stdout
    with duckdb.connect(str(tmp_path / "data" / "demo" / "trialwatch.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM v_trials").fetchall() == [(150,)]
        assert conn.execute("SELECT count(*) FROM record_conditions").fetchall()[0][0] > 0


def test_the_demo_nights_carry_different_days(tmp_path):
    """Night 1 is ingested on yesterday's date and night 2 today, so what is new since yesterday
    (and the night-2 digest) is exactly what night 2 brought."""
    from datetime import timedelta

    from flows.demo import NIGHT2_NEW_ARTICLES, NIGHT2_NEW_TRIALS
    from tests.helpers import utc_today

    ran_on = []   # the days the commands ran on (a run that crosses midnight UTC has two)
    for night in ("1", "2"):
        ran_on.append(utc_today())
        result = subprocess.run([*TRIALWATCH, "run", "--demo", "--night", night, "--no-dashboard"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=240)
        assert result.returncode == 0, result.stderr
        ran_on.append(utc_today())
    with duckdb.connect(str(tmp_path / "data" / "demo" / "trialwatch.duckdb"), read_only=True) as conn:
        days = conn.execute("SELECT DISTINCT CAST(started_at AS DATE) FROM ingest_runs ORDER BY 1").fetchall()
        night2 = days[-1][0]
        first_seen = dict(conn.execute("SELECT CAST(first_seen_at AS DATE), count(*) FROM articles GROUP BY 1").fetchall())
        new_today = dict(conn.execute("SELECT kind, count(*) FROM new_since(?) GROUP BY kind", [night2]).fetchall())
    assert night2 in ran_on[2:] and days == [(night2 - timedelta(days=1),), (night2,)]
    assert first_seen[night2] == NIGHT2_NEW_ARTICLES and first_seen[night2 - timedelta(days=1)] > 100
    assert new_today["new paper"] == NIGHT2_NEW_ARTICLES and new_today["new trial"] == NIGHT2_NEW_TRIALS
    digest = (tmp_path / "data" / "demo" / "digests" / "latest.md").read_text()
    assert f"## New trials ({NIGHT2_NEW_TRIALS})" in digest


# --- help ------------------------------------------------------------------------------------------

def _commands(parser):
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices, {a.dest: a.help for a in action._choices_actions}


def test_every_command_and_option_has_help(capsys):
    """Walks the parser: every subcommand has a help line (in `trialwatch --help`) and a
    description (in its own --help), every option and positional argument a help string."""
    import argparse

    from flows.cli import build_parser, main

    parser = build_parser()
    commands, helps = _commands(parser)
    assert {"run", "demo", "ingest", "backfill", "replay", "status", "retag", "evaluate-tagger", "serve",
            "dashboard", "export", "schema-docs"} <= set(commands)
    missing = []
    for name, sub in [("trialwatch", parser), *commands.items()]:
        if sub is not parser and not (helps.get(name) or "").strip():
            missing.append(f"{name}: no help line")
        if not (sub.description or "").strip():
            missing.append(f"{name}: no description")
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS or not action.help.strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}: no help")
    assert not missing, missing

    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for name, text in helps.items():
        assert f"{name} {' '.join(text.split())}" in shown or (name in shown and " ".join(text.split()) in shown), name


# --- status: stale runs -------------------------------------------------------------------------------

def _warehouse_with_runs(path: Path, runs: list[tuple[str, str, timedelta]]) -> Path:
    """A warehouse whose ingest_runs finished `age` before clock.now() (never the wall-clock date)."""
    from warehouse import clock
    from warehouse.db import open_warehouse

    now = clock.now()
    conn = open_warehouse(path)
    try:
        for number, (source, status, age) in enumerate(runs):
            conn.execute("INSERT INTO ingest_runs (run_id, source, mode, started_at, finished_at, status, fetched) "
                         "VALUES (?, ?, 'incremental', ?, ?, ?, 0)",
                         [f"run-{number}", source, now - age - timedelta(minutes=5), now - age, status])
    finally:
        conn.close()
    return path


def _warnings(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("WARNING")]


def test_status_warns_once_when_the_last_successful_run_is_older_than_two_days(tmp_path):
    from warehouse.status import status_lines

    db = _warehouse_with_runs(tmp_path / "stale.duckdb", [
        ("pubmed", "succeeded", timedelta(days=3, hours=4)), ("ctgov", "succeeded", timedelta(days=3, hours=4)),
        ("pubmed", "failed", timedelta(hours=2)), ("ctgov", "failed", timedelta(hours=2))])
    warnings = _warnings(status_lines(db))
    assert len(warnings) == 1
    assert "3 days 4 hours old" in warnings[0] and "trialwatch ingest" in warnings[0]
    assert "pubmed" in warnings[0] and "ctgov" in warnings[0]

    fresh = _warehouse_with_runs(tmp_path / "fresh.duckdb", [
        ("pubmed", "succeeded", timedelta(days=1, hours=20)), ("ctgov", "succeeded", timedelta(hours=3))])
    assert _warnings(status_lines(fresh)) == []

    one_stale = _warehouse_with_runs(tmp_path / "one.duckdb", [
        ("pubmed", "succeeded", timedelta(hours=3)), ("ctgov", "succeeded", timedelta(days=5))])
    [warning] = _warnings(status_lines(one_stale))
    assert "5 days old" in warning and "ctgov" in warning and "pubmed" not in warning

    never = _warehouse_with_runs(tmp_path / "never.duckdb", [("pubmed", "failed", timedelta(hours=1))])
    [warning] = _warnings(status_lines(never))
    assert "no run has succeeded yet" in warning and "pubmed never succeeded" in warning


def test_status_warning_follows_the_pipeline_clock(tmp_path):
    """A run that is fresh now is stale three days later (clock.on_day moves the pipeline's clock)."""
    from warehouse import clock
    from warehouse.status import status_lines

    db = _warehouse_with_runs(tmp_path / "tw.duckdb", [("pubmed", "succeeded", timedelta(hours=1))])
    assert _warnings(status_lines(db)) == []
    with clock.on_day(clock.today() + timedelta(days=3)):
        [warning] = _warnings(status_lines(db))
    assert "3 days 1 hour old" in warning  # three days on, plus the hour it already had


def test_status_command_prints_the_warning(tmp_path, workdir):
    db = _warehouse_with_runs(tmp_path / "tw.duckdb", [("pubmed", "succeeded", timedelta(days=4))])
    result = trialwatch("status", env={**workdir, "TRIALWATCH_DB": str(db)})
    assert result.returncode == 0, result.stderr
    warnings = _warnings(result.stdout.splitlines())
    assert len(warnings) == 1 and "4 days old" in warnings[0]
    assert result.stdout.splitlines()[1] == warnings[0]  # right under the warehouse's name
