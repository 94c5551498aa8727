"""One-shot commands with no Prefect API configured run the flows' plain functions: no temporary
Prefect server is started (so none can outlive the command); with a Prefect server the same
commands are Prefect flow runs (tests/test_flows.py checks their artifact)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from extract.standins import CtGovStandIn, PubMedStandIn
from tests.helpers import corpus_pubmed_records, corpus_studies

TRIALWATCH = [sys.executable, "-m", "flows.cli"]
REPO = Path(__file__).resolve().parents[1]


def trialwatch(*args: str, env: dict[str, str], prefect_home: Path) -> subprocess.CompletedProcess:
    """The command with its own PREFECT_HOME, where a temporary Prefect server would keep its database."""
    clean = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.run([*TRIALWATCH, *args], env={**clean, **env, "PREFECT_HOME": str(prefect_home)},
                          capture_output=True, text=True, timeout=240, cwd=REPO)


def test_ingest_replay_and_retag_start_no_prefect_server(corpus_dir, tmp_path):
    env = {"TRIALWATCH_DATA_DIR": str(tmp_path / "data"), "TRIALWATCH_DB": str(tmp_path / "data" / "tw.duckdb")}
    with PubMedStandIn(corpus_pubmed_records(corpus_dir)[:50]) as pubmed, \
            CtGovStandIn(corpus_studies(corpus_dir)[:10]) as ctgov:
        env |= {"TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url}
        results = {"ingest": trialwatch("ingest", env=env, prefect_home=tmp_path / "ingest")}
    results["replay"] = trialwatch("replay", str(tmp_path / "data" / "raw"), env=env, prefect_home=tmp_path / "replay")
    results["retag"] = trialwatch("retag", "--all", env=env, prefect_home=tmp_path / "retag")
    for command, result in results.items():
        assert result.returncode == 0, (command, result.stderr)
        assert "temporary server" not in result.stderr.lower(), (command, result.stderr)
        # A temporary Prefect server keeps its database under PREFECT_HOME: none was ever created.
        assert not list((tmp_path / command).rglob("*.db")), command
    assert "pubmed: fetched 50, new 50" in results["ingest"].stdout
    assert (tmp_path / "data" / "digests" / "latest.md").exists()
