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


def run_python(code: str, env: dict[str, str], cwd: Path) -> str:
    """`code` in a fresh interpreter whose environment holds no Prefect settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, "PYTHONPATH": str(REPO), **env},
                            capture_output=True, text=True, timeout=240, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_one_shot_ingest_never_imports_prefect(corpus_dir, tmp_path):
    """Importing Prefect costs more than a whole no-op night (docs/benchmarks.md): with no Prefect
    API configured anywhere, the nightly job runs without it."""
    code = ("import sys; from flows import cli; code = cli.main(['ingest']); "
            "print(code, 'prefect' in sys.modules, sorted(m for m in sys.modules if m.startswith('prefect'))[:3])")
    env = {"TRIALWATCH_DATA_DIR": str(tmp_path / "data"), "TRIALWATCH_DB": str(tmp_path / "data" / "tw.duckdb"),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    with PubMedStandIn(corpus_pubmed_records(corpus_dir)[:20]) as pubmed, \
            CtGovStandIn(corpus_studies(corpus_dir)[:5]) as ctgov:
        env |= {"TRIALWATCH_PUBMED_URL": pubmed.url, "TRIALWATCH_CTGOV_URL": ctgov.url}
        output = run_python(code, env, tmp_path).splitlines()
    assert output[0].startswith("pubmed: fetched 20, new 20")
    assert output[-1] == "0 False []"
    assert (tmp_path / "data" / "digests" / "latest.md").exists()


ASK = "from flows.orchestration import orchestrated; print(orchestrated())"


def test_without_any_prefect_setting_a_command_is_not_orchestrated(tmp_path):
    assert run_python(ASK, {"PREFECT_HOME": str(tmp_path / "home")}, tmp_path) == "False"


def test_an_api_url_in_the_active_profile_makes_runs_orchestrated(tmp_path):
    """No PREFECT_API_URL in the environment, but the user's profiles file sets one: Prefect is
    asked, and it says yes (the cheap check must not answer no for it)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "profiles.toml").write_text('active = "mine"\n[profiles.mine]\n'
                                        'PREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    assert run_python(ASK, {"PREFECT_HOME": str(home)}, tmp_path) == "True"


def test_an_api_url_in_a_dotenv_of_the_working_directory_makes_runs_orchestrated(tmp_path):
    (tmp_path / ".env").write_text("PREFECT_API_URL=http://127.0.0.1:9/api\n")
    assert run_python(ASK, {"PREFECT_HOME": str(tmp_path / "home")}, tmp_path) == "True"
