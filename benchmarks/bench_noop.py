"""Nightly no-op cost: a night with nothing new, against a 50k warehouse vs an empty one.

    .venv/bin/python benchmarks/bench_noop.py                  # 50,000 articles + 2,000 trials
    .venv/bin/python benchmarks/bench_noop.py --articles 5000  # smaller

Two warehouses, each with a succeeded run per source (so the night is incremental):

* **empty** — one night against stand-ins serving nothing;
* **50k** — the warehouse `bench_backfill.py` built with `trialwatch ingest --full` (reused from
  `benchmarks/.data/warehouses/`; built here in-process if it is missing).

Each then gets `--repeat` (3) nights with nothing new, against stand-ins serving the same
corpus (100 ms per answer; the corpus is dated `corpus.DEFAULT_TODAY`, so a window starting three
days before today finds nothing): the CLI (`trialwatch ingest`, Prefect included), and the same
night in-process (`writing()` → `resolve_window` + `ingest_source` per source → `summarize` →
digest files → publish, no Prefect), timed by step. Medians are reported. The no-op includes
the copy of the published warehouse to `<db>.staging` (warehouse/publish.py); its cost at this
size is measured on its own too (copy + fsync).

Targets: the 50k night ≤ 1.5× the empty night; the CLI night (no Prefect API configured, so
no Prefect at all) ≤ 1.5× the same night in-process — the in-process child, interpreter and
imports included, since a command cannot start without them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_backfill  # noqa: E402
import benchlib  # noqa: E402
import corpus as corpus_mod  # noqa: E402
from benchlib import Result, Target, mb, secs, table  # noqa: E402

RATIO_TARGET = 1.5
API_KEY = bench_backfill.API_KEY


# ----------------------------------------------------------------------- in-process (child)

def child_night(db: Path, data_dir: Path, pubmed_url: str, ctgov_url: str) -> None:
    """One nightly run without Prefect, step by step; JSON on stdout."""
    t0 = time.perf_counter()
    from extract.catalogue import Catalogue
    from flows import jobs, pipeline
    from flows.settings import load_settings
    from warehouse import publish

    imported = time.perf_counter() - t0
    timer = benchlib.StageTimer()
    spent, timed = timer.spent, timer.wrap

    publish._generation = timed("read generations", publish._generation)
    publish._copy = timed("copy published → staging", publish._copy)
    publish._fsync = timed("fsync (staging file, folder)", publish._fsync)
    settings = load_settings({"TRIALWATCH_DB": str(db), "TRIALWATCH_DATA_DIR": str(data_dir),
                              "TRIALWATCH_PUBMED_URL": pubmed_url, "TRIALWATCH_CTGOV_URL": ctgov_url,
                              "NCBI_API_KEY": API_KEY, "NCBI_EMAIL": "bench@example.org"}, env_file=None)
    summaries = []
    start = time.perf_counter()
    with publish.writing(db) as conn:
        spent["lock, open staging, migrate"] = (time.perf_counter() - start - spent["read generations"]
                                                - spent["copy published → staging"])
        for source in ("pubmed", "ctgov"):
            step = time.perf_counter()
            window = pipeline.resolve_window(conn, source, since=None, full=False, overlap_days=settings.overlap_days)
            summaries.append(pipeline.ingest_source(conn, settings, source, window, catalogue=Catalogue.load(),
                                                    progress=lambda m: None))
            spent[f"{source} ({window.mode})"] += time.perf_counter() - step
        step = time.perf_counter()
        report = jobs.summarize(jobs.Working(conn), settings, summaries)
        spent["summarize (digest, feed)"] += time.perf_counter() - step
        closing = time.perf_counter()
    spent["checkpoint + close + swap"] += time.perf_counter() - closing - spent.get("fsync (staging file, folder)", 0.0)
    step = time.perf_counter()
    jobs.write_files(settings, report)
    spent["write digest + feed files"] += time.perf_counter() - step
    total = time.perf_counter() - start
    spent["other"] = total - sum(spent.values())
    print(json.dumps({"import_s": imported, "night_s": total, "steps": dict(spent),
                      "lines": [s.line() for s in summaries], "status": [s.status for s in summaries],
                      "windows": [str(s.window) for s in summaries]}))


# ------------------------------------------------------------------------------------- main

def _night_inprocess(db: Path, data_dir: Path, served) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child-night", str(db), str(data_dir),
               served.pubmed_url, served.ctgov_url]
    child = benchlib.run_measured(command, env=benchlib.child_env()).check()
    out = json.loads(child.stdout.strip().splitlines()[-1])
    if out["status"] != ["succeeded", "succeeded"]:
        raise SystemExit(f"night failed: {out['lines']}")
    out["wall_s"] = child.wall_s
    return out


def _night_cli(db: Path, data_dir: Path, served) -> benchlib.Measured:
    env = benchlib.child_env(TRIALWATCH_DB=str(db), TRIALWATCH_DATA_DIR=str(data_dir),
                             TRIALWATCH_PUBMED_URL=served.pubmed_url, TRIALWATCH_CTGOV_URL=served.ctgov_url,
                             NCBI_API_KEY=API_KEY, NCBI_EMAIL="bench@example.org")
    return benchlib.run_measured([*benchlib.trialwatch_command(), "ingest"], env=env, cwd=db.parent).check()


def copy_cost(db: Path, repeat: int = 5) -> dict:
    """shutil.copyfile of the published file (what _copy does) and the fsync that the publish
    step pays for it later, with the file in the page cache."""
    copies, syncs = [], []
    for i in range(repeat):
        target = db.with_name(f"copy-{i}.duckdb")
        start = time.perf_counter()
        shutil.copyfile(db, target)
        copies.append(time.perf_counter() - start)
        start = time.perf_counter()
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        syncs.append(time.perf_counter() - start)
        target.unlink()
    return {"bytes": db.stat().st_size, "copy_s": statistics.median(copies), "fsync_s": statistics.median(syncs)}


def run(articles: int, trials: int, latency: float, repeat: int) -> Result:
    c = corpus_mod.ensure(articles, trials)
    cached = bench_backfill.warehouse_path(c)
    work = Path(tempfile.mkdtemp(prefix="tw-bench-noop-"))
    results: dict[str, dict] = {"empty": {"cli": [], "inproc": []}, "50k": {"cli": [], "inproc": []}}
    try:
        big, small = work / "big" / "w.duckdb", work / "small" / "w.duckdb"
        big.parent.mkdir()
        small.parent.mkdir()
        with corpus_mod.serve(c, latency=latency) as served, corpus_mod.serve(None, latency=latency) as nothing:
            print(f"noop: stand-ins ready (corpus loaded in {served.load_seconds:.1f} s)", flush=True)
            if cached.exists():
                print(f"noop: using the warehouse bench_backfill.py built: {cached}", flush=True)
                shutil.copyfile(cached, big)
            else:
                print("noop: no cached 50k warehouse; building it with a full in-process ingest", flush=True)
                first = _night_inprocess(big, work / "big" / "data", served)
                print("  " + "\n  ".join(first["lines"]), flush=True)
            _night_inprocess(small, work / "small" / "data", nothing)  # the empty warehouse's first night
            sizes = {"50k": big.stat().st_size, "empty": small.stat().st_size}
            counts = {}
            for label, db, stand in (("empty", small, nothing), ("50k", big, served)):
                stand.reset()
                _night_inprocess(db, db.parent / "data", stand)  # warm-up night: page cache, Prefect home
                counts[label] = stand.stats()
            for i in range(repeat):
                for label, db, stand in (("empty", small, nothing), ("50k", big, served)):
                    results[label]["cli"].append(_night_cli(db, db.parent / "data", stand))
                    results[label]["inproc"].append(_night_inprocess(db, db.parent / "data", stand))
                    print(f"  night {i + 1} {label}: CLI {secs(results[label]['cli'][-1].wall_s)}, in-process "
                          f"{secs(results[label]['inproc'][-1]['night_s'])}", flush=True)
            print("  " + "\n  ".join(results["50k"]["inproc"][-1]["lines"]), flush=True)
        copy = copy_cost(big)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(label: str, kind: str, key=None) -> float:
        runs = results[label][kind]
        return statistics.median([key(r) for r in runs]) if key else statistics.median(r.wall_s for r in runs)

    cli = {label: med(label, "cli") for label in results}
    night = {label: med(label, "inproc", lambda r: r["night_s"]) for label in results}
    proc = {label: med(label, "inproc", lambda r: r["wall_s"]) for label in results}
    ratio_cli, ratio_in = cli["50k"] / cli["empty"], night["50k"] / night["empty"]
    order = ["read generations", "copy published → staging", "lock, open staging, migrate", "pubmed (incremental)",
             "ctgov (incremental)", "summarize (digest, feed)", "checkpoint + close + swap",
             "fsync (staging file, folder)", "write digest + feed files", "other"]
    found = {k for label in results for r in results[label]["inproc"] for k in r["steps"]}
    steps = [k for k in order if k in found] + sorted(found - set(order))
    step_rows = [[name] + [secs(med(label, "inproc", lambda r, n=name: r["steps"].get(n, 0.0))) for label in ("empty", "50k")]
                 for name in steps]
    rows = [
        ["**`trialwatch ingest` (CLI wall)**", f"**{secs(cli['empty'])}**", f"**{secs(cli['50k'])}**", f"**{ratio_cli:.2f}×**"],
        ["in-process night (`writing` … publish, no Prefect)", secs(night["empty"]), secs(night["50k"]), f"{ratio_in:.2f}×"],
        ["in-process child process incl. interpreter + imports", secs(proc["empty"]), secs(proc["50k"]),
         f"{proc['50k'] / proc['empty']:.2f}×"],
        ["CLI share (CLI − in-process child)", secs(cli["empty"] - proc["empty"]), secs(cli["50k"] - proc["50k"]), ""],
        ["requests per night (PubMed + CT.gov)",
         f"{counts['empty']['pubmed']['requests']} + {counts['empty']['ctgov']['requests']}",
         f"{counts['50k']['pubmed']['requests']} + {counts['50k']['ctgov']['requests']}", ""],
        ["warehouse file", mb(sizes["empty"]), mb(sizes["50k"]), ""],
    ]
    section = "\n\n".join([
        f"Median of {repeat} night(s) each, interleaved, stand-ins adding {latency * 1000:.0f} ms per answer; the "
        f"{articles // 1000}k warehouse holds {articles:,} articles + {trials:,} trials from `trialwatch ingest --full`.",
        table(["measure", "empty warehouse", f"{articles // 1000}k warehouse", "ratio"], rows),
        "The in-process night, step by step (medians):",
        table(["step", "empty", f"{articles // 1000}k"], step_rows),
        f"The staging copy on its own at {articles // 1000}k ({mb(copy['bytes'])}, file in the page cache): "
        f"`shutil.copyfile` {secs(copy['copy_s'])}, then the fsync the publish step pays for those bytes "
        f"{secs(copy['fsync_s'])}.",
    ])
    return Result(
        name="noop", title="Nightly no-op cost",
        command=f"benchmarks/bench_noop.py --articles {articles} --trials {trials}", section=section,
        targets=[
            Target(f"no-op night, {articles // 1000}k vs empty warehouse (CLI)",
                   f"{secs(cli['50k'])} vs {secs(cli['empty'])} = {ratio_cli:.2f}×", f"≤ {RATIO_TARGET}×",
                   ratio_cli <= RATIO_TARGET),
            Target(f"no-op night, {articles // 1000}k vs empty (in-process, no Prefect)",
                   f"{secs(night['50k'])} vs {secs(night['empty'])} = {ratio_in:.2f}×", f"≤ {RATIO_TARGET}×",
                   ratio_in <= RATIO_TARGET),
            Target(f"no-op night at {articles // 1000}k, CLI vs the same night in-process (child incl. interpreter + imports)",
                   f"{secs(cli['50k'])} vs {secs(proc['50k'])} = {cli['50k'] / proc['50k']:.2f}×", f"≤ {RATIO_TARGET}×",
                   cli["50k"] / proc["50k"] <= RATIO_TARGET),
            Target("no-op night, CLI wall minus the in-process night (interpreter, imports, CLI)",
                   f"{secs(cli['50k'] - night['50k'])} of {secs(cli['50k'])}", "(reported)", None),
            Target(f"staging copy at {articles // 1000}k", f"{mb(copy['bytes'])}: copy {secs(copy['copy_s'])} + "
                   f"fsync {secs(copy['fsync_s'])}", "(reported)", None),
        ],
        data={"cli": cli, "night": night, "proc": proc, "copy": copy, "sizes": sizes, "counts": counts,
              "runs": {label: {"cli": [m.wall_s for m in v["cli"]], "inproc": v["inproc"]} for label, v in results.items()}},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=corpus_mod.DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=corpus_mod.DEFAULT_TRIALS)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--child-night", nargs=4, metavar=("DB", "DATA", "PUBMED", "CTGOV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_night:
        db, data, pubmed, ctgov = args.child_night
        child_night(Path(db), Path(data), pubmed, ctgov)
        return
    benchlib.publish(run(args.articles, args.trials, args.latency, args.repeat), write_docs=not args.no_docs)


if __name__ == "__main__":
    main()
