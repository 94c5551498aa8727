"""Concurrency and crash safety of the publish-by-swap design (warehouse/publish.py), with real
DuckDB files and real separate processes."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from extract.standins import CtGovStandIn, PubMedStandIn, pubmed_records_from_xml
from flows.demo import generate_sample
from warehouse.db import WarehouseError, migrate, migrations, open_warehouse
from tests.helpers import TODAY
from warehouse.publish import staging_path, writing

REPO = Path(__file__).resolve().parents[1]


COUNT = {
    "articles": "SELECT count(*) FROM articles",
    "ingest_runs": "SELECT count(*) FROM ingest_runs",
    "publications": "SELECT count(*) FROM publications",
}


def count(db: Path, table: str = "articles") -> int:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(COUNT[table]).fetchall()[0][0]


def test_a_load_succeeds_while_an_analyst_process_holds_the_warehouse_open(tmp_path):
    db = tmp_path / "data" / "tw.duckdb"
    sample = generate_sample(today=TODAY - timedelta(days=1), night=1, n_articles=60, n_trials=20)
    later = generate_sample(today=TODAY, night=2, n_articles=60, n_trials=20)
    analyst_script = textwrap.dedent("""
        import sys, time, duckdb
        con = duckdb.connect(sys.argv[1], read_only=True)
        print(con.execute("SELECT count(*) FROM articles").fetchall()[0][0], flush=True)
        sys.stdin.readline()                      # hold the connection until told to go on
        print(con.execute("SELECT count(*) FROM articles").fetchall()[0][0], flush=True)
    """)
    with PubMedStandIn(pubmed_records_from_xml(sample.pubmed_xml)) as pubmed, CtGovStandIn(sample.studies) as ctgov:
        env = {**os.environ, "TRIALWATCH_DB": str(db), "TRIALWATCH_DATA_DIR": str(tmp_path / "data"),
               "TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url}
        cli = [sys.executable, "-m", "flows.cli", "ingest"]
        assert subprocess.run(cli, env=env, cwd=REPO, capture_output=True).returncode == 0
        before = count(db)

        analyst = subprocess.Popen([sys.executable, "-c", analyst_script, str(db)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert int(analyst.stdout.readline()) == before   # the analyst is connected, read-only

        pubmed.replace(pubmed_records_from_xml(later.pubmed_xml))
        ctgov.replace(later.studies)
        second = subprocess.run(cli, env=env, cwd=REPO, capture_output=True, text=True)
        analyst.stdin.write("go on\n")
        analyst.stdin.flush()
        still_working = int(analyst.stdout.readline())
        assert analyst.wait(timeout=30) == 0

    assert second.returncode == 0, second.stderr
    assert count(db) > before                      # a fresh connection sees the new load…
    assert still_working == before                 # …the analyst's open one its whole old snapshot
    assert not staging_path(db).exists()


def test_a_second_writer_is_refused_with_the_first_ones_pid(tmp_path):
    db = tmp_path / "tw.duckdb"
    with writing(db):
        with pytest.raises(WarehouseError, match=f"another trialwatch load is writing .*pid {os.getpid()}"):
            with writing(db):
                pass


def test_a_crashed_load_publishes_nothing_and_the_next_run_resumes_it(tmp_path):
    db = tmp_path / "tw.duckdb"
    with writing(db) as conn:
        conn.execute("INSERT INTO ingest_runs (run_id, source, mode, started_at, status) "
                     "VALUES ('old', 'pubmed', 'full', now(), 'succeeded')")
    crash = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from warehouse.publish import writing
        with writing(Path(sys.argv[1])) as conn:
            conn.execute("INSERT INTO ingest_runs (run_id, source, mode, started_at, status) "
                         "VALUES ('killed', 'ctgov', 'full', now(), 'running')")
            conn.execute("CHECKPOINT")
            os.kill(os.getpid(), 9)
    """)
    result = subprocess.run([sys.executable, "-c", crash, str(db)], cwd=REPO)
    assert result.returncode == -9
    assert staging_path(db).exists()
    assert count(db, "ingest_runs") == 1           # published: untouched by the killed load

    with writing(db) as conn:                      # resumes the staging copy
        rows = conn.execute("SELECT run_id, status, message FROM ingest_runs ORDER BY run_id").fetchall()
    assert rows == [("killed", "failed", "interrupted: the process ended before the run finished"),
                    ("old", "succeeded", None)]
    assert count(db, "publications") == 2


def test_commits_of_a_killed_load_kept_only_in_its_log_are_resumed_and_published(tmp_path):
    """The working copy is checkpointed only when it is published: a commit far past DuckDB's
    16 MB auto-checkpoint stays in the log, and a run killed after it loses none of it."""
    db = tmp_path / "tw.duckdb"
    with writing(db):
        pass
    crash = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from warehouse.publish import writing
        with writing(Path(sys.argv[1])) as conn:
            conn.execute("INSERT INTO ingest_runs (run_id, source, mode, started_at, status) "
                         "SELECT 'run-' || i || repeat('x', 1000), 'pubmed', 'full', now(), 'succeeded' "
                         "FROM range(40000) t(i)")
            os.kill(os.getpid(), 9)
    """)
    result = subprocess.run([sys.executable, "-c", crash, str(db)], cwd=REPO)
    assert result.returncode == -9
    wal = staging_path(db).with_name(staging_path(db).name + ".wal")
    assert wal.stat().st_size > 30_000_000          # ~40 MB of commits, not checkpointed
    with writing(db) as conn:                      # resumes the staging copy, log replayed
        assert conn.execute(COUNT["ingest_runs"]).fetchall()[0][0] == 40_000
    assert count(db, "ingest_runs") == 40_000
    assert not wal.exists()


def test_a_full_disk_during_a_load_leaves_the_published_warehouse_intact(tmp_path):
    db = tmp_path / "tw.duckdb"
    with writing(db):
        pass
    size = db.stat().st_size
    fill = textwrap.dedent("""
        import resource, signal, sys
        from datetime import date
        from pathlib import Path
        from extract.pubmed_parser import parse_pubmed
        from flows.demo import generate_sample
        from warehouse.db import WarehouseError
        from warehouse.load import load_page, transaction
        from warehouse.publish import writing
        records = parse_pubmed(generate_sample(today=date.today(), n_articles=3000, n_trials=20).pubmed_xml).records
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # a write past the limit fails with EFBIG
        limit = int(sys.argv[2])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            with writing(Path(sys.argv[1])) as conn:
                with transaction(conn):
                    load_page(conn, "article", records, run_id="r1")
        except WarehouseError as error:
            print(error)
            sys.exit(1)
    """)
    result = subprocess.run([sys.executable, "-c", fill, str(db), str(size + 512 * 1024)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "the disk is full" in result.stdout and "published warehouse" in result.stdout and "is unchanged" in result.stdout
    assert count(db) == 0 and count(db, "publications") == 1


def test_an_older_warehouse_is_upgraded_with_its_data_intact(tmp_path):
    db = tmp_path / "v1.duckdb"
    version, name, sql = migrations()[0]
    with duckdb.connect(str(db)) as conn:      # a warehouse as trialwatch 0.1 left it: only migration 001
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                     "applied_at TIMESTAMP NOT NULL DEFAULT now())")
        conn.execute(sql)
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
        conn.execute("INSERT INTO trials (nct_id, overall_status, content_hash, first_seen_at, updated_at, "
                     "first_run_id, last_run_id) VALUES ('NCT01234567', 'RECRUITING', 'h', now(), now(), 'r', 'r')")
    with open_warehouse(db) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchall() == [(migrations()[-1][0],)]
        assert conn.execute("SELECT nct_id, overall_status FROM v_trials").fetchall() == [("NCT01234567", "RECRUITING")]


def test_migrating_an_empty_in_memory_database_creates_every_documented_object():
    conn = duckdb.connect()
    migrate(conn)
    names = {row[0] for row in conn.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"articles", "trials", "article_trials", "record_drugs", "trial_history", "ingest_runs",
            "rejects", "v_trials", "v_articles", "v_trial_changes", "v_overdue_trials"} <= names
    undocumented = conn.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE comment IS NULL "
                                "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE table_name <> 'schema_migrations')").fetchall()
    assert undocumented == []
