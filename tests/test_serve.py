"""`trialwatch serve` registers the nightly deployment with its cron schedule and time zone."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.settings import PREFECT_API_URL

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


async def _deployment(name: str):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployment_by_name(name)


def test_serve_registers_a_deployment_with_the_schedule(tmp_path, prefect_api):
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "TRIALWATCH_DB": str(tmp_path / "w.duckdb"),
           "TRIALWATCH_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--cron", "30 2 * * 1-5",
                                "--timezone", "America/New_York"], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        deployment = None
        while deployment is None and time.monotonic() < deadline and process.poll() is None:
            try:
                deployment = asyncio.run(_deployment("trialwatch-scheduled/trialwatch-nightly"))
            except Exception:  # noqa: BLE001 — not registered yet
                time.sleep(1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert deployment is not None, "the deployment never appeared"
    schedule = deployment.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("30 2 * * 1-5", "America/New_York")
    assert deployment.schedules[0].active


@pytest.mark.parametrize("args, message", [
    (["--cron", "every night"], "is not a cron expression"),
    (["--timezone", "Mars/Olympus_Mons"], "is not an IANA time zone"),
])
def test_serve_rejects_a_bad_schedule_in_one_line(args, message):
    result = subprocess.run([sys.executable, "-m", "flows.cli", "serve", *args], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and message in result.stderr
