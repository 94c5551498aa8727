"""Fixtures shared by the dashboard tests (a pytest plugin, registered in conftest.py): the
two-night demo warehouse, built once per session, and a real dashboard server with headless
Debian Chromium driven by Playwright."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.helpers import TODAY

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "<script>alert(1)</script>"
NIGHT_ONE_AGE = timedelta(days=10)

# Night 1 of the demo, aged 10 days (so "new this week" means night 2 only), then night 2, on
# the test run's TODAY (a suite that crosses midnight still builds the demo its tests expect).
# Run in a child process so Prefect's temporary server stays out of the test process.
BUILD_DEMO = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    import duckdb
    from flows.demo import run_demo
    from flows.settings import Settings

    db, data_dir, age_days, today = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), date.fromisoformat(sys.argv[4])
    settings = Settings(db_path=db, data_dir=data_dir)
    run_demo(settings, night=1, today=today, demo_dir=data_dir)
    with duckdb.connect(str(db)) as conn:
        for table in ("trials", "articles", "article_trials"):
            conn.execute("UPDATE " + table + " SET first_seen_at = first_seen_at - to_days(?)", [age_days])
    run_demo(settings, night=2, today=today, demo_dir=data_dir)
""")
_BUILT: dict[Path, Path] = {}


def build_demo_warehouse(base: Path) -> Path:
    """The two-night demo warehouse under `base`, built once per test session (~15 s)."""
    if base in _BUILT:
        return _BUILT[base]
    data_dir = base / "dashboard-demo"
    db = data_dir / "trialwatch.duckdb"
    result = subprocess.run([sys.executable, "-c", BUILD_DEMO, str(db), str(data_dir), str(NIGHT_ONE_AGE.days),
                             TODAY.isoformat()],
                            cwd=REPO, capture_output=True, text=True, timeout=240,
                            env={**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"})
    assert result.returncode == 0, result.stderr[-3000:]
    _BUILT[base] = db
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    return build_demo_warehouse(tmp_path_factory.getbasetemp())


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
LAUNCH = ("import sys; from pathlib import Path; from dashboard.launch import launch; "
          "sys.exit(launch(Path(sys.argv[1])))")
WAIT_MS = 30_000
# The script run is over and every element has rendered: no running icon, no loading skeletons.
FINISHED = ("() => !document.querySelector("
            "'[data-testid=\"stStatusWidgetRunningIcon\"], [data-testid=\"stSkeleton\"]')")


@pytest.fixture(scope="module")
def browser_db(demo_db, tmp_path_factory) -> tuple[Path, int]:
    """A copy of the demo warehouse with a script tag in one paper's abstract."""
    db = tmp_path_factory.mktemp("browser") / "trialwatch.duckdb"
    shutil.copyfile(demo_db, db)
    with duckdb.connect(str(db)) as conn:
        pmid = conn.execute("SELECT min(pmid) FROM articles").fetchall()[0][0]
        conn.execute("UPDATE articles SET abstract = 'Improved ' || ? || ' a lot.', "
                     "abstract_sections = [{'label': 'RESULTS', 'category': 'RESULTS', "
                     "'text': 'Improved ' || ? || ' a lot.'}] WHERE pmid = ?", [SCRIPT, SCRIPT, pmid])
    return db, pmid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(browser_db, tmp_path_factory):
    """`trialwatch dashboard`'s launch() in a child process group; stopped with Ctrl-C (SIGINT)."""
    db, _ = browser_db
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("STREAMLIT_SERVER_ADDRESS", "STREAMLIT_SERVER_HEADLESS")}
    env["STREAMLIT_SERVER_PORT"] = str(port)
    log_path = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-c", LAUNCH, str(db)], cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the dashboard exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not become healthy:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # our own child's group: launch() and Streamlit
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the `playwright` Python package is missing: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()
