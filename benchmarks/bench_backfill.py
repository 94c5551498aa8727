"""Backfill over HTTP: a full pull of the scale corpus from the stand-ins, against the rate floor.

    .venv/bin/python benchmarks/bench_backfill.py                  # 50,000 articles + 2,000 trials
    .venv/bin/python benchmarks/bench_backfill.py --articles 5000  # smaller

The stand-ins (`PubMedStandIn` enforcing NCBI's 10 req/s for API-key requests, `CtGovStandIn`)
serve the corpus from a child process and add `--latency` (100 ms) to every answer. Measured:

1. **in-process**, per source: `flows.pipeline.ingest_source(conn, settings, source,
   Window("full"))` into a fresh warehouse (PubMed, then CT.gov), each in a child process, with
   the time split into request pacing (the client's rate limiter), waiting for answers, and
   storing prepared pages (load + tags, in the main process; parsing and tagging run in the
   worker processes `TRIALWATCH_WORKERS` chooses, as in a real run), and the requests counted
   from the stand-ins' logs;
2. **end to end**: `trialwatch ingest --full` as a subprocess (Prefect, both sources, digest,
   publish) with `NCBI_API_KEY` set: once as a user types it (Prefect starts a temporary server),
   once with `PREFECT_API_URL` at a server the benchmark started (as scheduled runs have).

Floor: the PubMed requests the client made ÷ 10 req/s (NCBI's limit with a key); for CT.gov its
own 50 requests/minute budget, (requests − 1) × 1.2 s; for a run of both, the larger of the two
(the services have separate limits and are pulled side by side). Targets: wall ≤ 1.3× the floor; no 429
received (`PubMedStandIn.rate_limited == 0`). The CLI's warehouse is kept under
`benchmarks/.data/warehouses/` for `bench_noop.py`.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import corpus as corpus_mod  # noqa: E402
from benchlib import Result, Target, mb, secs, table  # noqa: E402

RATIO_TARGET = 1.3
NCBI_RATE = 10.0
CTGOV_INTERVAL = 60 / 50
API_KEY = "bench-api-key"
STORE = "store prepared pages (load + tags)"


# Where a CLI backfill's wall time goes, read off the progress lines it prints: each phase ends
# at the first line matching its pattern (None: the end of the run).
CLI_PHASES = [
    ("start-up: interpreter, imports (Prefect and its flow run only with a server), windows (until the first progress line)",
     r"^(pubmed|ctgov): "),
    ("pulls started, PubMed's subflow run started, its date slices planned (esearch counts)",
     r"^pubmed: [\d,]+ records to fetch in"),
    ("PubMed fetched and stored, slice by slice (CT.gov downloaded and prepared meanwhile)",
     r"^pubmed: slice .* stored; ([\d,]+) of \1 records"),
    ("CT.gov stored (its prepared pages loaded)", r"^ctgov: [\d,]+ records stored"),
    ("summary, digest, feed, publish, exit", None),
]


def cli_phases(run: benchlib.Measured) -> list[float | None]:
    """Seconds spent in each of CLI_PHASES (None if its line never came)."""
    spent, last = [], 0.0
    for _, pattern in CLI_PHASES:
        if pattern is None:
            at = run.wall_s
        else:
            at = next((t for t, line in run.stderr_lines if re.search(pattern, line)), None)
        spent.append(None if at is None else at - last)
        last = at if at is not None else last
    return spent


def warehouse_path(c: corpus_mod.Corpus) -> Path:
    return benchlib.DATA_DIR / "warehouses" / f"ingested-{c.root.name}.duckdb"


def floor_seconds(pubmed_requests: int, ctgov_requests: int) -> float:
    return pubmed_requests / NCBI_RATE + max(0, ctgov_requests - 1) * CTGOV_INTERVAL


# ----------------------------------------------------------------------- in-process (child)

def child_ingest(source: str, db: Path, data_dir: Path, pubmed_url: str, ctgov_url: str,
                 profile: Path | None) -> None:
    """ingest_source(source, full) into `db` with timers; JSON on stdout."""
    from extract import http as http_mod
    from extract.archive import RawArchive
    from extract.catalogue import Catalogue
    from flows import pipeline
    from flows.settings import load_settings
    from flows.workers import open_workers
    from warehouse.db import open_warehouse

    timer = benchlib.StageTimer()
    spent, threads, timed = timer.spent, timer.threads, timer.wrap

    slot = http_mod.RateLimiter.slot

    @contextmanager
    def timed_slot(limiter):
        start = time.perf_counter()
        with slot(limiter):
            timer.add("pacing (rate limiter)", time.perf_counter() - start)
            yield

    http_mod.RateLimiter.slot = timed_slot
    http_mod.HttpClient._request = timed("request incl. pacing", http_mod.HttpClient._request)
    pipeline.store_group = timed(STORE, pipeline.store_group)
    RawArchive.write = timed("archive write", RawArchive.write)
    settings = load_settings({"TRIALWATCH_DB": str(db), "TRIALWATCH_DATA_DIR": str(data_dir),
                              "TRIALWATCH_PUBMED_URL": pubmed_url, "TRIALWATCH_CTGOV_URL": ctgov_url,
                              "NCBI_API_KEY": API_KEY, "NCBI_EMAIL": "bench@example.org"}, env_file=None)
    catalogue = Catalogue.load()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    conn = open_warehouse(db)
    try:
        start = time.perf_counter()
        with open_workers(settings.workers, settings.task_runner, catalogue) as workers:
            summary = pipeline.ingest_source(conn, settings, source, pipeline.Window("full"), catalogue=catalogue,
                                             progress=lambda m: None, workers=workers)
        wall = time.perf_counter() - start
    finally:
        conn.close()
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    stages = dict(spent)
    stages["waiting for answers"] = stages.pop("request incl. pacing", 0.0) - stages.get("pacing (rate limiter)", 0.0)
    print(json.dumps({"wall_s": wall, "stages": stages,  "threads": {k: sorted(v) for k, v in threads.items()},
                      "status": summary.status, "message": summary.message, "line": summary.line(),
                      "http_requests": summary.http_requests, "http_retries": summary.http_retries}))


# ------------------------------------------------------------------------------------- main

def run(articles: int, trials: int, latency: float, profile: bool, keep: bool = True) -> Result:
    c = corpus_mod.ensure(articles, trials)
    work = Path(tempfile.mkdtemp(prefix="tw-bench-backfill-"))
    inproc: dict[str, dict] = {}
    counted: dict[str, dict] = {}
    try:
        print(f"backfill: serving {articles:,} articles + {trials:,} trials, latency {latency * 1000:.0f} ms", flush=True)
        with corpus_mod.serve(c, latency=latency) as served:
            print(f"  stand-ins loaded the corpus in {served.load_seconds:.1f} s", flush=True)
            for source in ("pubmed", "ctgov"):
                served.reset()
                command = [sys.executable, str(Path(__file__).resolve()), "--child-ingest", source,
                           str(work / "i.duckdb"), str(work / "idata"), served.pubmed_url, served.ctgov_url]
                if profile:
                    benchlib.PROFILES_DIR.mkdir(parents=True, exist_ok=True)
                    command += ["--child-profile", str(benchlib.PROFILES_DIR / f"backfill-{source}.pstats")]
                child = benchlib.run_measured(command, env=benchlib.child_env()).check()
                inproc[source] = json.loads(child.stdout.strip().splitlines()[-1])
                inproc[source]["peak_rss"] = child.peak_tree_rss
                counted[source] = served.stats()
                if inproc[source]["status"] != "succeeded":
                    raise SystemExit(f"{source} ingest failed: {inproc[source]['message']}")
                print(f"  in-process {source}: {secs(inproc[source]['wall_s'])}, "
                      f"{counted[source][source]['requests']} requests — {inproc[source]['line']}", flush=True)

            served.reset()
            env = benchlib.child_env(
                TRIALWATCH_DB=str(work / "w.duckdb"), TRIALWATCH_DATA_DIR=str(work / "data"),
                TRIALWATCH_PUBMED_URL=served.pubmed_url, TRIALWATCH_CTGOV_URL=served.ctgov_url,
                NCBI_API_KEY=API_KEY, NCBI_EMAIL="bench@example.org")
            cli = benchlib.run_measured([*benchlib.trialwatch_command(), "ingest", "--full"], env=env, cwd=work).check()
            cli_counts = served.stats()
            print(f"  CLI ingest --full: {secs(cli.wall_s)}, peak RSS {mb(cli.peak_tree_rss)}", flush=True)
            print("  " + cli.stdout.strip().replace("\n", "\n  "), flush=True)

            served.reset()
            with benchlib.prefect_server() as api_url:
                env.update(TRIALWATCH_DB=str(work / "s.duckdb"), TRIALWATCH_DATA_DIR=str(work / "sdata"),
                           PREFECT_API_URL=api_url)
                on_server = benchlib.run_measured([*benchlib.trialwatch_command(), "ingest", "--full"], env=env,
                                                  cwd=work).check()
            server_counts = served.stats()
            print(f"  CLI ingest --full with a running Prefect server: {secs(on_server.wall_s)}", flush=True)
        if keep:
            target = warehouse_path(c)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "w.duckdb", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    pm_req = counted["pubmed"]["pubmed"]["requests"]
    ct_req = counted["ctgov"]["ctgov"]["requests"]
    pm_floor, ct_floor = floor_seconds(pm_req, 0), floor_seconds(0, ct_req)
    pm_ratio = inproc["pubmed"]["wall_s"] / pm_floor
    cli_pm, cli_ct = cli_counts["pubmed"]["requests"], cli_counts["ctgov"]["requests"]
    cli_floor = max(floor_seconds(cli_pm, 0), floor_seconds(0, cli_ct))  # the two services run side by side
    cli_ratio = cli.wall_s / cli_floor
    srv_pm, srv_ct = server_counts["pubmed"]["requests"], server_counts["ctgov"]["requests"]
    srv_floor = max(floor_seconds(srv_pm, 0), floor_seconds(0, srv_ct))
    srv_ratio = on_server.wall_s / srv_floor
    limited = (counted["pubmed"]["pubmed"]["rate_limited"], cli_counts["pubmed"]["rate_limited"],
               server_counts["pubmed"]["rate_limited"])
    endpoints = counted["pubmed"]["pubmed"]["by_endpoint"]

    def stage_rows(source: str) -> list[list[str]]:
        data = inproc[source]
        rows = []
        for name in ("pacing (rate limiter)", "waiting for answers", STORE, "archive write"):
            value = data["stages"].get(name, 0.0)
            where = ", ".join(data["threads"].get("request incl. pacing" if name == "waiting for answers" else name, []))
            rows.append([f"{source}: {name}", secs(value), f"{value / data['wall_s']:.2f}", where])
        return rows

    rows = [
        ["PubMed, in-process `ingest_source(full)`", f"{pm_req} ({', '.join(f'{k} {v}' for k, v in sorted(endpoints.items()))})",
         secs(pm_floor), secs(inproc["pubmed"]["wall_s"]), f"**{pm_ratio:.2f}×**", limited[0]],
        ["CT.gov, in-process `ingest_source(full)`", str(ct_req), secs(ct_floor), secs(inproc["ctgov"]["wall_s"]),
         f"{inproc['ctgov']['wall_s'] / ct_floor:.2f}×" if ct_floor else "—", "—"],
        ["**`trialwatch ingest --full`** (CLI, both sources, publish; no Prefect API configured, so no Prefect)", f"{cli_pm} + {cli_ct}", secs(cli_floor),
         secs(cli.wall_s), f"**{cli_ratio:.2f}×**", limited[1]],
        ["the same with a running Prefect server (`PREFECT_API_URL`, as under `trialwatch serve`)",
         f"{srv_pm} + {srv_ct}", secs(srv_floor), secs(on_server.wall_s), f"**{srv_ratio:.2f}×**", limited[2]],
    ]
    section = "\n\n".join([
        f"Corpus: {articles:,} articles + {trials:,} trials served by the stand-ins in a separate process, "
        f"{latency * 1000:.0f} ms added to every answer, NCBI's 10 req/s enforced (API key sent). The client paces "
        "itself so that no one-second window can hold more than 10 of its requests wherever in its span the "
        "service counts each one (a request starts only a second after the one ten places back has finished), "
        "with two requests in flight. The two services have separate limits and a night pulls them side by "
        "side, so a run's floor is the slower service's.",
        table(["run", "requests", "floor", "wall", "× floor", "429s"], rows),
        f"Peak RSS: in-process PubMed {mb(inproc['pubmed']['peak_rss'])}, CLI {mb(cli.peak_tree_rss)} "
        f"(process tree).",
        "Where the in-process time goes (timers around the rate limiter, the HTTP request, `store_group` "
        "and the archive write, summed over the threads that ran them — PubMed keeps two requests in flight, "
        "so its waiting can approach twice the wall time; the thread column says whether fetching overlapped "
        "with storing — the same thread means it did not):",
        table(["stage", "time (all threads)", "÷ wall", "threads"], stage_rows("pubmed") + stage_rows("ctgov")),
        "Where the CLI runs' wall time goes, from the times their progress lines arrived:",
        table(["phase", "no Prefect API (plain jobs)", "running Prefect server (Prefect flow runs)"],
              [[name, *(secs(v) if v is not None else "—" for v in values)]
               for (name, _), *values in zip(CLI_PHASES, cli_phases(cli), cli_phases(on_server))]
              + [["**wall**", secs(cli.wall_s), secs(on_server.wall_s)]]),
    ])
    return Result(
        name="backfill", title="Backfill over HTTP",
        command=f"benchmarks/bench_backfill.py --articles {articles} --trials {trials}", section=section,
        targets=[
            Target(f"backfill {articles // 1000}k PubMed, in-process vs floor",
                   f"{secs(inproc['pubmed']['wall_s'])} vs {secs(pm_floor)} = {pm_ratio:.2f}×", f"≤ {RATIO_TARGET}×",
                   pm_ratio <= RATIO_TARGET),
            Target("backfill, `ingest --full` CLI vs floor", f"{secs(cli.wall_s)} vs {secs(cli_floor)} = {cli_ratio:.2f}×",
                   f"≤ {RATIO_TARGET}×", cli_ratio <= RATIO_TARGET),
            Target("backfill, `ingest --full` CLI with a running Prefect server vs floor",
                   f"{secs(on_server.wall_s)} vs {secs(srv_floor)} = {srv_ratio:.2f}×", f"≤ {RATIO_TARGET}×",
                   srv_ratio <= RATIO_TARGET),
            Target("backfill, 429s received", f"{limited[0]} in-process, {limited[1]} + {limited[2]} CLI", "0",
                   sum(limited) == 0),
        ],
        data={"inprocess": inproc, "counted": counted, "cli_counts": cli_counts, "cli_wall_s": cli.wall_s,
              "server_counts": server_counts, "server_wall_s": on_server.wall_s,
              "cli_phases": dict(zip([n for n, _ in CLI_PHASES], cli_phases(cli))),
              "server_phases": dict(zip([n for n, _ in CLI_PHASES], cli_phases(on_server))),
              "cli_peak_tree_rss": cli.peak_tree_rss, "floors": {"pubmed": pm_floor, "ctgov": ct_floor, "cli": cli_floor, "server": srv_floor},
              "latency": latency, "articles": articles, "trials": trials},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=corpus_mod.DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=corpus_mod.DEFAULT_TRIALS)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the stand-ins add to every answer")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process runs (benchmarks/.data/profiles/)")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--child-ingest", nargs=5, metavar=("SOURCE", "DB", "DATA", "PUBMED", "CTGOV"), help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ingest:
        source, db, data, pubmed, ctgov = args.child_ingest
        child_ingest(source, Path(db), Path(data), pubmed, ctgov, Path(args.child_profile) if args.child_profile else None)
        return
    result = run(args.articles, args.trials, args.latency, args.profile)
    benchlib.publish(result, write_docs=not args.no_docs)


if __name__ == "__main__":
    main()
