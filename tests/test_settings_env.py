"""Every setting, the schedule and the deletion guard included, is read one way: the environment over `.env`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.settings import ConfigError, load_settings

SCHEDULE = ("TRIALWATCH_CRON", "TRIALWATCH_TIMEZONE")


@pytest.fixture
def dotenv(tmp_path, monkeypatch):
    """Write a `.env` in a clean folder; the test process's own schedule variables are removed."""
    for name in SCHEDULE:
        monkeypatch.delenv(name, raising=False)

    def write(**values: str) -> Path:
        path = tmp_path / ".env"
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
        return path
    return write


def test_the_schedule_in_dotenv_reaches_the_settings(dotenv):
    env_file = dotenv(TRIALWATCH_CRON="30 2 * * 1-5", TRIALWATCH_TIMEZONE="America/New_York")
    for settings in (load_settings({}, env_file=env_file), load_settings(env_file=env_file)):
        assert (settings.cron, settings.timezone) == ("30 2 * * 1-5", "America/New_York")


def test_the_environment_wins_over_dotenv_and_a_given_mapping_replaces_it(dotenv, monkeypatch):
    env_file = dotenv(TRIALWATCH_CRON="30 2 * * 1-5", TRIALWATCH_TIMEZONE="America/New_York",
                      TRIALWATCH_RECONCILE_DAYS="14")
    monkeypatch.setenv("TRIALWATCH_TIMEZONE", "Europe/Berlin")
    from_process = load_settings(env_file=env_file)
    assert (from_process.cron, from_process.timezone, from_process.reconcile_days) == \
        ("30 2 * * 1-5", "Europe/Berlin", 14)

    given = load_settings({"TRIALWATCH_CRON": "0 1 * * *"}, env_file=env_file)
    assert (given.cron, given.timezone) == ("0 1 * * *", "America/New_York")  # the process's Berlin is not read


def test_an_empty_value_means_unset(dotenv, monkeypatch):
    env_file = dotenv(TRIALWATCH_CRON="30 2 * * 1-5", TRIALWATCH_RECONCILE_MAX_SHARE="")
    monkeypatch.setenv("TRIALWATCH_CRON", "")
    settings = load_settings(env_file=env_file)
    assert (settings.cron, settings.reconcile_max_share) == ("30 2 * * 1-5", 0.05)


def test_schedule_and_reconciliation_defaults():
    settings = load_settings({}, env_file=None)
    assert (settings.cron, settings.timezone) == ("0 3 * * *", "UTC")
    assert (settings.reconcile_days, settings.reconcile_max_share) == (7, 0.05)
    assert load_settings({"TRIALWATCH_RECONCILE_DAYS": "0"}, env_file=None).reconcile_days == 0  # every run


@pytest.mark.parametrize("value, share", [("5%", 0.05), ("0.05", 0.05), ("100%", 1.0), ("0.5", 0.5)])
def test_the_reconcile_share_is_a_fraction_or_a_percentage(value, share):
    assert load_settings({"TRIALWATCH_RECONCILE_MAX_SHARE": value}, env_file=None).reconcile_max_share == share


@pytest.mark.parametrize("name, value, message", [
    ("TRIALWATCH_RECONCILE_MAX_SHARE", "5", "is not a share in (0, 1]"),
    ("TRIALWATCH_RECONCILE_MAX_SHARE", "0%", "is not a share in (0, 1]"),
    ("TRIALWATCH_RECONCILE_MAX_SHARE", "a few", "is not a share in (0, 1]"),
    ("TRIALWATCH_RECONCILE_DAYS", "-1", "must not be negative"),
    ("TRIALWATCH_RECONCILE_DAYS", "weekly", "is not a number"),
    ("TRIALWATCH_CRON", "every night", "is not a cron expression"),
    ("TRIALWATCH_TIMEZONE", "Mars/Olympus_Mons", "is not an IANA time zone"),
])
def test_an_unusable_value_in_dotenv_is_one_line_naming_it(dotenv, name, value, message):
    with pytest.raises(ConfigError) as raised:
        load_settings({}, env_file=dotenv(**{name: value}))
    text = str(raised.value)
    assert text.startswith(f"{name}={value!r} {message}") and "set it to" in text and "\n" not in text


def test_serve_defaults_to_the_settings_and_its_flags_win(dotenv, tmp_path, monkeypatch):
    import flows.ingest
    from flows.cli import build_parser, cmd_serve

    served = []
    monkeypatch.setattr(flows.ingest, "serve", lambda cron, timezone: served.append((cron, timezone)))
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env_file = dotenv(TRIALWATCH_CRON="30 2 * * 1-5", TRIALWATCH_TIMEZONE="America/New_York")
    settings = load_settings({"TRIALWATCH_DB": str(tmp_path / "w.duckdb")}, env_file=env_file)
    parser = build_parser()
    assert cmd_serve(parser.parse_args(["serve"]), settings) == 0
    assert cmd_serve(parser.parse_args(["serve", "--cron", "0 4 * * *", "--timezone", "UTC"]), settings) == 0
    assert served == [("30 2 * * 1-5", "America/New_York"), ("0 4 * * *", "UTC")]


def test_serve_with_a_bad_cron_in_dotenv_fails_in_one_line_before_any_server(tmp_path):
    (tmp_path / ".env").write_text("TRIALWATCH_CRON=every night\n")
    # Without PREFECT_API_URL, serve would print a second line about the temporary server it starts.
    env = {name: value for name, value in os.environ.items() if name not in (*SCHEDULE, "PREFECT_API_URL")}
    env["TRIALWATCH_DB"] = str(tmp_path / "w.duckdb")
    process = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # it went on to serve: stop it and the server it started
        process.communicate(timeout=30)
        pytest.fail("serve started despite the bad TRIALWATCH_CRON in .env")
    assert process.returncode == 1
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("trialwatch: error: TRIALWATCH_CRON='every night' is not a cron expression")
