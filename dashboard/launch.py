"""Start the dashboard: `streamlit run dashboard/app.py` on the given warehouse.

Streamlit's own environment settings are honoured (STREAMLIT_SERVER_PORT, STREAMLIT_SERVER_ADDRESS,
STREAMLIT_SERVER_HEADLESS, …); unless they say otherwise the server listens on 127.0.0.1 only and
does not try to open a browser. Usage statistics are never sent.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Mapping

APP = Path(__file__).resolve().with_name("app.py")
DEFAULTS = {
    "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",  # localhost only unless the user opens it up
    "STREAMLIT_SERVER_HEADLESS": "true",
    "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",  # an installed app, not a script being edited
    "STREAMLIT_CLIENT_TOOLBAR_MODE": "viewer",  # no "Deploy" or developer menu items for readers
}


def streamlit_command(extra_args: list[str] | tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP), *extra_args]


def streamlit_env(db_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for the Streamlit process: the caller's, plus the warehouse and safe defaults."""
    env = dict(os.environ if environ is None else environ)
    for name, value in DEFAULTS.items():
        env.setdefault(name, value)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["TRIALWATCH_DB"] = str(Path(db_path).expanduser().resolve())
    return env


def launch(db_path: Path, extra_args: list[str] = []) -> int:  # noqa: B006 (never mutated)
    """Run the dashboard on `db_path` until interrupted; return Streamlit's exit status."""
    env = streamlit_env(db_path)
    if not Path(env["TRIALWATCH_DB"]).exists():
        print(f"trialwatch: note: no warehouse at {env['TRIALWATCH_DB']} yet; the dashboard will say how to "
              "make one (`trialwatch ingest` or `trialwatch demo`)", file=sys.stderr)
    process = subprocess.Popen(streamlit_command(list(extra_args)), env=env)
    forwarding = threading.current_thread() is threading.main_thread()
    if forwarding:  # a service manager's SIGTERM stops Streamlit too, instead of orphaning it
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signum))
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches Streamlit too (same process group); let it finish
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            return process.wait()
    finally:
        if forwarding:
            signal.signal(signal.SIGTERM, previous)
