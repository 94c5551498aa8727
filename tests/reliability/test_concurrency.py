"""Readers during a nightly load: an analyst holding one read-only connection and a dashboard-like
loop of short-lived read-only connections, each in its own process, both running through a whole
`trialwatch ingest`. The load completes, no reader ever fails, and every (articles, trials) pair
a reader sees is the old load's or the new one's, never a mix.

tests/test_publish.py shows one analyst connection held across a load; this adds the dashboard's
pattern (connect, query, close, many times a second) and checks every observation."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from extract.standins import CtGovStandIn, PubMedStandIn
from tests.reliability.support import REPO, cli, cli_env, night_one, nights, serve

COUNTS = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM trials)"
READER = textwrap.dedent("""
    import json, sys, time, duckdb
    from pathlib import Path
    db, stop, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    COUNTS = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM trials)"
    seen, errors = [], []
    held = duckdb.connect(db, read_only=True) if mode == "analyst" else None
    print("ready", flush=True)
    while not stop.exists():
        try:
            if held is not None:                       # the analyst: one connection, kept open
                seen.append(list(held.execute(COUNTS).fetchall()[0]))
            else:                                      # the dashboard: a short-lived connection per query
                conn = duckdb.connect(db, read_only=True)
                try:
                    seen.append(list(conn.execute(COUNTS).fetchall()[0]))
                finally:
                    conn.close()
        except Exception as error:                     # noqa: BLE001 — any failure is what we look for
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.02)
    fresh = None
    if held is not None:
        held.close()                                   # reconnecting picks up the latest load
        with duckdb.connect(db, read_only=True) as conn:
            fresh = list(conn.execute(COUNTS).fetchall()[0])
    print(json.dumps({"seen": seen, "errors": errors, "fresh": fresh}), flush=True)
""")


def counts(db: Path) -> list[int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return list(conn.execute(COUNTS).fetchall()[0])


def test_readers_keep_working_during_a_nightly_run_and_never_see_a_partial_load(tmp_path, prefect_api, outcome):
    night1, night2 = nights(450, 40)
    stop = tmp_path / "stop"
    with PubMedStandIn(night1.records, latency=0.2) as pubmed, CtGovStandIn(night1.studies, latency=0.5) as ctgov:
        env = cli_env(tmp_path, pubmed, ctgov, prefect_api)
        db = Path(env["TRIALWATCH_DB"])
        night_one(tmp_path, pubmed, ctgov)              # in-process, without Prefect: quicker
        old = counts(db)

        readers = {mode: subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop), mode], cwd=REPO,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for mode in ("analyst", "dashboard")}
        for reader in readers.values():
            assert reader.stdout.readline().strip() == "ready"
        serve(pubmed, ctgov, night2)
        started = time.monotonic()
        nightly = cli("ingest", env=env)
        seconds = time.monotonic() - started
        time.sleep(1.0)                                 # let the readers look at the new load too
        stop.touch()
        seen = {}
        for mode, reader in readers.items():
            out, err = reader.communicate(timeout=60)
            assert reader.returncode == 0, err
            seen[mode] = json.loads(out.strip().splitlines()[-1])
        new = counts(db)

    dashboard, analyst = seen["dashboard"], seen["analyst"]
    observed = [tuple(pair) for pair in dashboard["seen"]]
    switched = next((i for i, pair in enumerate(observed) if pair == tuple(new)), len(observed))
    outcome.record("readers-during-run",
                   f"run exit {nightly.returncode} in {seconds:.1f} s; dashboard loop: {len(observed)} connections, "
                   f"{len(dashboard['errors'])} errors, saw only {sorted(set(observed))} (old {tuple(old)}, new "
                   f"{tuple(new)}), switching once; analyst: {len(analyst['seen'])} queries, "
                   f"{len(analyst['errors'])} errors, all on the old load until it reconnected",
                   dashboard_queries=len(observed), analyst_queries=len(analyst["seen"]),
                   errors=dashboard["errors"] + analyst["errors"])

    assert nightly.returncode == 0, nightly.stderr
    assert new != old                                   # the night really changed the counts
    assert dashboard["errors"] == [] and analyst["errors"] == []
    assert len(observed) >= 50 and len(analyst["seen"]) >= 50
    assert set(observed) <= {tuple(old), tuple(new)}    # never a partial load
    assert observed[0] == tuple(old) and observed[-1] == tuple(new)
    assert set(observed[switched:]) == {tuple(new)}     # once the new load is seen, never the old one again
    assert {tuple(pair) for pair in analyst["seen"]} == {tuple(old)}   # the held connection: its whole old snapshot
    assert analyst["fresh"] == new
