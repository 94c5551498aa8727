"""Scale-out: `trialwatch replay` of the scale corpus with pages prepared by the default local
worker processes vs on a Dask cluster of 2 workers through prefect-dask's `DaskTaskRunner`.

    .venv/bin/python benchmarks/bench_scaleout.py                  # 50,000 articles + 2,000 trials
    .venv/bin/python benchmarks/bench_scaleout.py --articles 5000  # smaller

Three CLI runs of the same replay (each a subprocess with its own temporary warehouse):

1. **local** — the default: `TRIALWATCH_TASK_RUNNER=local`, one worker process per core;
2. **dask, cluster started by the command** — `TRIALWATCH_TASK_RUNNER=dask` with no address:
   the CLI starts a local Dask cluster of `TRIALWATCH_WORKERS=2` single-threaded worker
   processes and stops it at the end (its start-up is in the wall time);
3. **dask, existing cluster** — `TRIALWATCH_DASK_ADDRESS` pointing at a cluster of 2 workers
   this benchmark started beforehand: what pointing trialwatch at a real cluster looks like.

The three runs share one Prefect server started by the benchmark (`PREFECT_API_URL`), and so do
the Dask workers, which report their task runs to it — as they must on a real cluster; the wall
times therefore exclude starting a temporary Prefect server. All three must build the same warehouse (checked: row counts of articles, trials and
condition_tags). The figures are reported, no target: on one 2-core machine a cluster can only
add overhead; it pays off when the workers are other machines.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import corpus as corpus_mod  # noqa: E402
from benchlib import Result, Target, mb, secs, table  # noqa: E402

COUNTS = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM trials), (SELECT count(*) FROM condition_tags)"


def replay(archive: Path, work: Path, name: str, **env: str) -> tuple[benchlib.Measured, tuple]:
    import duckdb

    db = work / f"{name}.duckdb"
    measured = benchlib.run_measured(
        [*benchlib.trialwatch_command(), "replay", str(archive)],
        env=benchlib.child_env(TRIALWATCH_DB=str(db), TRIALWATCH_DATA_DIR=str(work / f"{name}-data"), **env),
        cwd=work).check()
    with duckdb.connect(str(db), read_only=True) as conn:
        counts = conn.execute(COUNTS).fetchall()[0]
    print(f"  {name}: {secs(measured.wall_s)}, peak RSS {mb(measured.peak_tree_rss)} over {measured.processes} "
          f"processes; articles, trials, tags = {counts}", flush=True)
    return measured, counts


def run(articles: int, trials: int) -> Result:
    from distributed import LocalCluster

    c = corpus_mod.ensure(articles, trials)
    work = Path(tempfile.mkdtemp(prefix="tw-bench-scaleout-"))
    print(f"scale-out: replay of {articles:,} articles + {trials:,} trials", flush=True)
    with benchlib.prefect_server() as api_url:
        os.environ["PREFECT_API_URL"] = api_url  # for the runs and the Dask workers started below
        try:
            local, local_counts = replay(c.archive_dir, work, "local", TRIALWATCH_TASK_RUNNER="local")
            started, started_counts = replay(c.archive_dir, work, "dask-started", TRIALWATCH_TASK_RUNNER="dask",
                                             TRIALWATCH_WORKERS="2")
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                existing, existing_counts = replay(c.archive_dir, work, "dask-existing", TRIALWATCH_TASK_RUNNER="dask",
                                                   TRIALWATCH_DASK_ADDRESS=cluster.scheduler_address)
        finally:
            os.environ.pop("PREFECT_API_URL", None)
            shutil.rmtree(work, ignore_errors=True)
    same = local_counts == started_counts == existing_counts
    if not same:
        raise SystemExit(f"the runners built different warehouses: {local_counts}, {started_counts}, {existing_counts}")

    def row(label: str, m: benchlib.Measured) -> list[str]:
        return [label, secs(m.wall_s), f"{m.wall_s / local.wall_s:.2f}×", mb(m.peak_tree_rss), str(m.processes)]

    rows = [
        row("local worker processes (default, one per core)", local),
        row("Dask, local cluster of 2 workers started by the command", started),
        row("Dask, existing cluster of 2 workers (`TRIALWATCH_DASK_ADDRESS`)", existing),
    ]
    section = "\n\n".join([
        f"`trialwatch replay` of {articles:,} articles + {trials:,} trials (CLI wall; one Prefect server, already "
        "running, for all three). "
        f"All three built the same warehouse ({local_counts[0]:,} articles, {local_counts[1]:,} trials, "
        f"{local_counts[2]:,} condition tags).",
        table(["pages prepared by", "wall", "vs local", "peak RSS (tree)", "processes"], rows),
    ])
    return Result(
        name="scaleout", title="Scale-out with prefect-dask",
        command=f"benchmarks/bench_scaleout.py --articles {articles} --trials {trials}", section=section,
        targets=[
            Target("scale-out, replay on a 2-worker Dask cluster vs local workers",
                   f"{secs(existing.wall_s)} (existing cluster), {secs(started.wall_s)} (started by the command) "
                   f"vs {secs(local.wall_s)}", "(reported)", None),
        ],
        data={"local_s": local.wall_s, "dask_started_s": started.wall_s, "dask_existing_s": existing.wall_s,
              "counts": local_counts, "articles": articles, "trials": trials},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=corpus_mod.DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=corpus_mod.DEFAULT_TRIALS)
    parser.add_argument("--no-docs", action="store_true", help="print only; do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    benchlib.publish(run(args.articles, args.trials), write_docs=not args.no_docs)


if __name__ == "__main__":
    main()
