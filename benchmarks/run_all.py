"""Run every benchmark, one after the other, and rewrite docs/benchmarks.md.

    .venv/bin/python benchmarks/run_all.py                   # 50,000 articles + 2,000 trials, ~10 min
    .venv/bin/python benchmarks/run_all.py --articles 5000   # smaller (and the tagger on 5,000 abstracts)
    .venv/bin/python benchmarks/run_all.py --only replay dashboard

Order matters: `bench_replay.py` builds the warehouse `bench_dashboard.py` opens, and
`bench_backfill.py` the one `bench_noop.py` starts from (each builds its own if it is missing).
`bench_trial_replay.py` compares the trial part of replay at 1b45ce0 (before the AACT tables)
with HEAD, each in a temporary git worktree (set BENCH_CTGOV_RECORDS to a folder of real v2 study
JSON to add its realistic stand-in); it rewrites only its own section.
Every benchmark runs as its own process and stores its result under `benchmarks/.data/results/`;
the document is rewritten once at the end from all stored results (and after each benchmark, so
an interrupted run keeps what it measured).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import benchlib  # noqa: E402
import corpus as corpus_mod  # noqa: E402

BENCHMARKS = {  # name in the results → script
    "replay": "bench_replay.py",
    "backfill": "bench_backfill.py",
    "noop": "bench_noop.py",
    "tagger": "bench_tagger_processes.py",
    "dashboard": "bench_dashboard.py",
    "scaleout": "bench_scaleout.py",
    "trial_replay": "bench_trial_replay.py",  # trials only, base 1b45ce0 vs HEAD in their own worktrees
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=corpus_mod.DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=corpus_mod.DEFAULT_TRIALS)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run just these")
    args = parser.parse_args()
    chosen = args.only or list(BENCHMARKS)
    corpus_mod.ensure(args.articles, args.trials)
    failed, started = [], time.perf_counter()
    for name in chosen:
        command = [sys.executable, str(HERE / BENCHMARKS[name]), "--articles", str(args.articles)]
        if name != "tagger":
            command += ["--trials", str(args.trials)]
        print(f"\n### {name}: {' '.join(command[1:])}  (load average {os.getloadavg()[0]:.2f})", flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=benchlib.ROOT)
        print(f"### {name}: {'ok' if done.returncode == 0 else f'FAILED ({done.returncode})'} in "
              f"{time.perf_counter() - start:,.0f} s", flush=True)
        if done.returncode:
            failed.append(name)
    benchlib.render_docs()
    print(f"\nall done in {time.perf_counter() - started:,.0f} s; wrote {benchlib.DOCS.relative_to(benchlib.ROOT)}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
