"""Ordinary mistakes never destroy a user's data: replaying a folder with no archive, and running
the demo with a production environment or `.env` — through the real CLI, in subprocesses."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from extract.standins import CtGovStandIn, PubMedStandIn
from tests.helpers import corpus_pubmed_records, corpus_studies

TRIALWATCH = [sys.executable, "-m", "flows.cli"]
SETTINGS = ("TRIALWATCH_DB", "TRIALWATCH_DATA_DIR", "TRIALWATCH_PUBMED_URL", "TRIALWATCH_CTGOV_URL")


def trialwatch(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240):
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run([*TRIALWATCH, *args], env={**clean, **(env or {})}, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the SHA-256 of its bytes."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def real_warehouse(tmp_path_factory, corpus_dir) -> dict[str, str]:
    """A real warehouse (the corpus ingested through the CLI) with its data dir and raw archive."""
    home = tmp_path_factory.mktemp("real")
    env = {"TRIALWATCH_DB": str(home / "data" / "tw.duckdb"), "TRIALWATCH_DATA_DIR": str(home / "data")}
    with PubMedStandIn(corpus_pubmed_records(corpus_dir)) as pubmed, CtGovStandIn(corpus_studies(corpus_dir)) as ctgov:
        result = trialwatch("ingest", cwd=home, env={**env, "TRIALWATCH_PUBMED_URL": pubmed.url,
                                                     "TRIALWATCH_CTGOV_URL": ctgov.url})
    assert result.returncode == 0, result.stderr
    return env


def articles(db: str) -> int:
    with duckdb.connect(db, read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchall()[0][0]


@pytest.mark.parametrize("folder", ["empty", "missing", "unrelated"])
def test_replay_of_a_folder_without_an_archive_is_refused_and_keeps_every_row(real_warehouse, tmp_path, folder):
    target = tmp_path / folder
    if folder != "missing":
        target.mkdir()
    if folder == "unrelated":
        (target / "pubmed").mkdir()
        (target / "notes.txt").write_text("not an archive")
    before = tree_digest(Path(real_warehouse["TRIALWATCH_DATA_DIR"]))
    stored = articles(real_warehouse["TRIALWATCH_DB"])

    result = trialwatch("replay", str(target), cwd=tmp_path, env=real_warehouse)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("trialwatch: error: ")
    assert str(target) in result.stderr
    assert stored > 0 and articles(real_warehouse["TRIALWATCH_DB"]) == stored
    assert tree_digest(Path(real_warehouse["TRIALWATCH_DATA_DIR"])) == before


def test_replay_given_the_data_dir_finds_the_raw_archive_inside_it(real_warehouse, tmp_path):
    stored = articles(real_warehouse["TRIALWATCH_DB"])
    copy = {**real_warehouse, "TRIALWATCH_DB": str(tmp_path / "rebuilt.duckdb")}

    result = trialwatch("replay", real_warehouse["TRIALWATCH_DATA_DIR"], cwd=tmp_path, env=copy)

    assert result.returncode == 0, result.stderr
    assert articles(copy["TRIALWATCH_DB"]) == stored


def test_the_demo_leaves_a_real_warehouse_and_data_dir_byte_for_byte_unchanged(real_warehouse, tmp_path):
    data_dir = Path(real_warehouse["TRIALWATCH_DATA_DIR"])
    before = tree_digest(data_dir)
    (tmp_path / ".env").write_text(f"TRIALWATCH_DB={real_warehouse['TRIALWATCH_DB']}\n"
                                   f"TRIALWATCH_DATA_DIR={data_dir}\n")

    from_env = trialwatch("run", "--demo", "--no-dashboard", cwd=tmp_path, env=real_warehouse)
    from_dotenv = trialwatch("demo", "--no-dashboard", cwd=tmp_path)

    assert from_env.returncode == 0, from_env.stderr
    assert from_dotenv.returncode == 0, from_dotenv.stderr
    assert tree_digest(data_dir) == before
    demo_db = tmp_path / "data" / "demo" / "trialwatch.duckdb"
    assert "data/demo/trialwatch.duckdb" in from_env.stderr          # it says where it went
    assert articles(str(demo_db)) == 300


def test_after_the_demo_status_and_dashboard_point_to_the_demo_instead_of_back_to_it(tmp_path):
    assert trialwatch("demo", "--no-dashboard", cwd=tmp_path).returncode == 0

    status = trialwatch("status", cwd=tmp_path)
    # a port Streamlit refuses ends it at once, after the CLI has chosen the warehouse
    dashboard = trialwatch("dashboard", cwd=tmp_path, env={"STREAMLIT_SERVER_PORT": "not-a-port"}, timeout=60)

    assert status.returncode == 1 and status.stderr.count("\n") == 1
    assert "data/demo/trialwatch.duckdb" in status.stderr and "trialwatch demo" not in status.stderr
    assert "showing the demo's sample in data/demo/trialwatch.duckdb" in dashboard.stderr
