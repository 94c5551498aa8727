"""Crash safety: `trialwatch ingest` killed with SIGKILL (the whole process group) at seeded random
moments, one kill after another on the same warehouse. After every kill the published warehouse
opens, passes every consistency invariant, and holds either the previous load or the new one,
whole; the staging copy left behind is owner-only; a final run converges to exactly the rows of
an uninterrupted run.

tests/test_resume.py kills at chosen progress lines (each on a fresh copy) and
tests/test_publish.py kills inside `writing()`; this kills by the clock, repeatedly."""
from __future__ import annotations

import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

import duckdb

from extract.standins import CtGovStandIn, PubMedStandIn
from tests.reliability.cases import KILL_POINTS
from tests.reliability.support import REPO, cli, cli_env, content, night_one, nights, serve, violations
from warehouse.publish import staging_path

SEED = 2026
SINCE = ("ingest", "--since", "2000-01-01")


class Ingest:
    """`trialwatch ingest` in its own session (so killpg reaches Prefect's children too), with its
    stderr progress lines collected as they come."""

    def __init__(self, env: dict[str, str]):
        self.lines: list[tuple[float, str]] = []  # (seconds since start, line)
        self.started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "flows.cli", *SINCE], env=env, cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append((time.monotonic() - self.started, line.rstrip()))

    def kill_after(self, seconds: float) -> int | None:
        """SIGKILL the process group after `seconds`; the exit status if it ended before that."""
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            return None
        finally:
            self._reader.join(timeout=10)

    def kill_at_line(self, pattern: str, timeout: float = 120) -> int | None:
        """SIGKILL the process group as soon as a stderr line matches `pattern`; the exit status
        if it ended (or `timeout` passed) without one."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if any(wanted.search(line) for _, line in list(self.lines)):
                return self.kill_after(0)
            time.sleep(0.01)
        return self.kill_after(max(0.0, deadline - time.monotonic()))

    @property
    def progress(self) -> list[tuple[float, str]]:
        return [(at, line) for at, line in self.lines if line.startswith(("pubmed:", "ctgov:"))]

    @property
    def last_progress(self) -> str:
        return self.progress[-1][1] if self.progress else "none yet (starting up)"


def generation(db) -> int:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("SELECT coalesce(max(generation), 0) FROM publications").fetchall()[0][0]


def test_kill_9_at_random_points_keeps_the_published_warehouse_consistent_and_a_rerun_converges(
        tmp_path, prefect_api, outcome):
    night1, night2 = nights(450, 40)
    with PubMedStandIn(night1.records, latency=0.3) as pubmed, CtGovStandIn(night1.studies, latency=1.0) as ctgov:
        clean_env = cli_env(tmp_path / "clean", pubmed, ctgov, prefect_api)
        crash_env = cli_env(tmp_path / "crash", pubmed, ctgov, prefect_api)
        clean_db, db = tmp_path / "clean" / "data" / "w.duckdb", tmp_path / "crash" / "data" / "w.duckdb"

        night_one(tmp_path / "clean", pubmed, ctgov)              # in-process, without Prefect: quicker
        shutil.copytree(tmp_path / "clean" / "data", tmp_path / "crash" / "data")   # both at night 1
        before = content(clean_db)

        serve(pubmed, ctgov, night2)
        uninterrupted = Ingest(clean_env)
        assert uninterrupted.kill_after(300) == 0, uninterrupted.lines
        duration = time.monotonic() - uninterrupted.started
        work_starts = uninterrupted.progress[0][0]            # Prefect's start-up is over
        after = content(clean_db)
        assert after != before and after["trial_history"]          # night 2 really changes things

        rng = random.Random(SEED)
        kills = []
        staging_modes: dict[str, int] = {}
        for point in range(1, KILL_POINTS + 1):
            # stratified: one seeded point in each fifth of the stretch of a clean run from just before
            # its first progress line to its end (fetching, loading, publishing, writing the digest)
            low = max(0.5, work_starts - 1.0)
            delay = low + (duration - low) * (point - 1 + rng.random()) / KILL_POINTS
            run = Ingest(crash_env)
            status = run.kill_after(delay)
            broken = violations(db)                                 # opens, and is consistent
            published = content(db)
            holds = "night 1" if published == before else "night 2" if published == after else "A MIX"
            staging = staging_path(db)
            if staging.exists():
                for path in (staging, staging.with_name(staging.name + ".wal"), db.with_name(db.name + ".lock")):
                    if path.exists():
                        staging_modes[path.name] = stat.S_IMODE(path.stat().st_mode)
            kills.append((delay, status, broken, holds, run.last_progress, staging.exists()))
            outcome.record(f"kill-9-{point}",
                           (f"killed after {delay:.1f} s, last progress \"{run.last_progress[:60]}\"" if status is None
                            else f"run finished (exit {status}) before the kill at {delay:.1f} s")
                           + f"; published warehouse opens, {'consistent' if not broken else f'BROKEN {broken}'}, "
                             f"holds the {holds} load (generation {generation(db)})"
                           + ("; staging copy left for the next run" if staging.exists() else ""),
                           delay=delay, status=status, violations=broken, holds=holds)

        # and one kill that surely lands inside a source's load (its run is in the ledger as running)
        run = Ingest(crash_env)
        status = run.kill_at_line(r"^pubmed: [\d,]+ records stored")
        broken, published = violations(db), content(db)
        kills.append((None, status, broken, "night 1" if published == before else "night 2" if published == after
                      else "A MIX", run.last_progress, staging_path(db).exists()))
        outcome.record("kill-9-mid-load",
                       (f"killed at \"{run.last_progress[:60]}\"" if status is None else f"run finished (exit {status})")
                       + f"; published warehouse opens, {'consistent' if not broken else f'BROKEN {broken}'}"
                       + ("; staging copy left for the next run" if staging_path(db).exists() else ""),
                       status=status, violations=broken)

        final = cli(*SINCE, env=crash_env)
        converged = content(db)
        with duckdb.connect(str(db), read_only=True) as conn:
            interrupted = conn.execute("SELECT count(*) FROM ingest_runs WHERE status = 'failed' "
                                       "AND message LIKE 'interrupted%'").fetchall()[0][0]
        leftovers = sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name + "."))

    killed = sum(1 for k in kills[:KILL_POINTS] if k[1] is None)
    outcome.record("kill-9-rerun", f"exit {final.returncode}; rows {'identical to' if converged == after else 'DIFFER from'} "
                                   f"the uninterrupted run; {interrupted} interrupted run(s) marked failed; "
                                   f"{killed} of {KILL_POINTS} runs killed mid-way (clean run {duration:.1f} s)",
                   interrupted=interrupted, leftovers=leftovers)
    outcome.record("owner-only-staging", ", ".join(f"{name} {oct(mode)}" for name, mode in sorted(staging_modes.items()))
                   or "no staging copy was left by any kill")

    assert killed >= KILL_POINTS - 2, kills                        # (almost) every seeded point lands inside a run
    assert all(not broken for _, _, broken, _, _, _ in kills), kills
    assert all(holds in ("night 1", "night 2") for _, _, _, holds, _, _ in kills), kills
    assert any(left for *_, left in kills)                         # some kill really left a half-done load behind
    assert set(staging_modes.values()) == {0o600}, staging_modes
    assert final.returncode == 0, final.stderr
    assert converged == after
    assert violations(db) == {}
    assert kills[-1][1] is None and kills[-1][5], kills[-1]         # the mid-load kill left its load behind…
    assert interrupted >= 1, kills                                 # …whose run the rerun marked interrupted
    assert leftovers == ["w.duckdb.lock"]                          # the staging copy was used up and swapped in
