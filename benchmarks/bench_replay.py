"""Replay throughput: `trialwatch replay <archive>` of the scale corpus against a bare lxml floor.

    .venv/bin/python benchmarks/bench_replay.py                  # 50,000 articles + 2,000 trials
    .venv/bin/python benchmarks/bench_replay.py --articles 5000  # smaller
    .venv/bin/python benchmarks/bench_replay.py --profile        # also cProfile the in-process replay

In one run it measures:

1. **floor** — read + gunzip every archived page and a bare `lxml.etree.iterparse` over the
   PubMed pages (end events on `PubmedArticle`, elements cleared, as the parser does) plus
   `json.loads` of the CT.gov pages: the least any replay must do (best of 3);
2. **CLI** — `trialwatch replay <archive>` as a subprocess with `TRIALWATCH_DB` /
   `TRIALWATCH_DATA_DIR` in a temporary folder (parse + tag + load + publish): wall time and
   peak RSS of the whole process tree, sampled from /proc; then the same command again over the
   warehouse it published (a rebuild after an upgrade: the published tags are reused);
3. **start-up** — the same command on an empty archive (no Prefect API configured, so no Prefect);
4. **in-process** — `flows.pipeline.replay_archive` inside `warehouse.publish.writing` with the
   default workers (what the flow's task runs) in a child process, the main process's time split
   by stage (waiting for workers, load, tag storage, publish);
5. **prepare cost** — every page prepared in one process, split by step (parse, drug labels,
   Arrow batch, tagging): the CPU the workers share.

Targets: CLI wall ≤ 4× the floor; peak RSS ≤ 1.5 GB. The warehouse the CLI built is kept under
`benchmarks/.data/warehouses/` for `bench_dashboard.py`.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import corpus as corpus_mod  # noqa: E402
from benchlib import Result, Target, mb, secs, table  # noqa: E402

RATIO_TARGET = 4.0
RSS_TARGET = 1.5e9


def warehouse_path(c: corpus_mod.Corpus) -> Path:
    return benchlib.DATA_DIR / "warehouses" / f"replay-{c.root.name}.duckdb"


# ------------------------------------------------------------------------------------- floor

def floor(c: corpus_mod.Corpus) -> dict:
    from lxml import etree

    read = parse = 0.0
    articles = studies = 0
    for path in c.archive_files():
        start = time.perf_counter()
        body = gzip.decompress(path.read_bytes())
        read += time.perf_counter() - start
        start = time.perf_counter()
        if path.name.endswith(".xml.gz"):
            for _, element in etree.iterparse(io.BytesIO(body), events=("end",), tag="PubmedArticle",
                                              resolve_entities=False, no_network=True, load_dtd=False,
                                              huge_tree=True):
                articles += 1
                element.clear(keep_tail=True)
                while element.getprevious() is not None:
                    del element.getparent()[0]
        else:
            studies += len(json.loads(body)["studies"])
        parse += time.perf_counter() - start
    return {"read_gunzip_s": read, "parse_s": parse, "total_s": read + parse, "articles": articles,
            "studies": studies}


# ----------------------------------------------------------------------- in-process (child)

def child_inprocess(db: Path, archive: Path, profile: Path | None) -> None:
    """Run replay_archive in this process, pages prepared by the default workers (as the flow's
    task does), with timers on the main process's stages; print JSON on stdout."""
    t0 = time.perf_counter()
    from extract.archive import RawArchive
    from extract.catalogue import Catalogue
    from flows import pipeline
    from flows.settings import load_settings
    from flows.workers import open_workers
    from warehouse import publish

    imported = time.perf_counter() - t0
    timer = benchlib.StageTimer()
    spent, timed = timer.spent, timer.wrap

    pipeline.load_batch = timed("load (upsert records)", pipeline.load_batch)
    pipeline.store_tags = timed("store tags", pipeline.store_tags)
    pipeline.concat_batches = timed("concatenate batches", pipeline.concat_batches)
    original_pages = RawArchive.pages
    RawArchive.pages = lambda self, sources=("pubmed", "ctgov"): timer.iterate(
        "read + gunzip (fetch thread)", original_pages(self, sources))
    original_groups = pipeline.load_groups
    pipeline.load_groups = lambda prepared, *args, **kwargs: timer.iterate(  # waiting for prepared pages
        "waiting for workers", original_groups(prepared, *args, **kwargs))
    settings = load_settings(env_file=None)
    catalogue = Catalogue.load()

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    with publish.writing(db, fresh=True) as conn:
        opened = time.perf_counter() - start
        with open_workers(settings.workers, settings.task_runner, catalogue) as workers:
            summaries = pipeline.replay_archive(conn, RawArchive(archive), catalogue=catalogue,
                                                progress=lambda m: None, workers=workers)
        before_publish = time.perf_counter()
    published = time.perf_counter() - before_publish
    total = time.perf_counter() - start
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    stages = dict(spent)
    stages["open + migrate"] = opened
    stages["checkpoint + publish"] = published
    main_thread = sum(v for k, v in stages.items() if "fetch thread" not in k)
    stages["other (ledger, loop, commits, worker start/stop)"] = total - main_thread
    print(json.dumps({"import_s": imported, "replay_s": total, "workers": workers.description,
                      "stages": stages, "summaries": [s.line() for s in summaries]}))


def child_prepare(archive: Path, profile: Path | None) -> None:
    """The CPU cost of preparing every archived page in one process, split by step; JSON out."""
    from extract.archive import RawArchive
    from flows import prepare

    import dataclasses

    from extract import sources

    prepare.default_tagger()
    timer = benchlib.StageTimer()
    spent, timed = timer.spent, timer.wrap
    catalogue = prepare.default_catalogue()
    # the sources are frozen declarations: time their steps through wrapped copies
    for name, source in list(prepare.SOURCES.items()):
        drug_labels = source.drug_labels
        wrapped = dataclasses.replace(
            source, read=timed("parse", source.read), parse=timed("parse", source.parse),
            drug_labels=lambda cat, _labels=drug_labels: timed("drug labels", _labels(cat)),
            children=timed("child tables (AACT, Arrow)", source.children))
        prepare.SOURCES[name] = wrapped
        sources.BY_KIND[wrapped.kind] = wrapped
    prepare.derive_article = timed("derive (design, drug roles)", prepare.derive_article)
    prepare.build_batch = timed("Arrow batch (validate, content hash)", prepare.build_batch)
    prepare.tag = timed("tag (spaCy + about)", prepare.tag)
    prepare.tag_tables = timed("tag tables (Arrow)", prepare.tag_tables)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    total = 0.0
    cpu_start = time.process_time()
    for archived in RawArchive(archive).pages():
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        prepare.prepare_page(archived.page, catalogue)
        if profiler:
            profiler.disable()
        total += time.perf_counter() - start
    if profiler:
        profiler.dump_stats(str(profile))
    # CPU time as well as wall: on a shared machine the wall time of a busy process swings with the load
    print(json.dumps({"total_s": total, "cpu_s": time.process_time() - cpu_start, "stages": dict(spent)}))


# ------------------------------------------------------------------------------------- main

def run(articles: int, trials: int, profile: bool, keep: bool = True) -> Result:
    c = corpus_mod.ensure(articles, trials)
    archive = c.archive_dir
    archive_bytes = sum(p.stat().st_size for p in c.archive_files())
    raw_bytes = c.meta["pubmed_xml_bytes"] + c.meta["ctgov_json_bytes"]
    print(f"replay: corpus {articles:,} articles + {trials:,} trials, archive {len(c.archive_files())} pages, "
          f"{mb(archive_bytes)} gz / {mb(raw_bytes)} raw", flush=True)

    floors = [floor(c) for _ in range(3)]
    best = min(floors, key=lambda f: f["total_s"])
    assert best["articles"] == articles, best
    print(f"floor (gunzip + iterparse/json.loads), best of 3: {secs(best['total_s'])} "
          f"(gunzip {secs(best['read_gunzip_s'])}, parse {secs(best['parse_s'])})", flush=True)

    work = Path(tempfile.mkdtemp(prefix="tw-bench-replay-"))
    try:
        env = benchlib.child_env(TRIALWATCH_DB=str(work / "w.duckdb"), TRIALWATCH_DATA_DIR=str(work / "data"))
        cli = benchlib.run_measured([*benchlib.trialwatch_command(), "replay", str(archive)], env=env, cwd=work).check()
        print(f"CLI replay: {secs(cli.wall_s)}, peak RSS tree {mb(cli.peak_tree_rss)} "
              f"(largest process {mb(cli.peak_process_rss)}, {cli.processes} processes)", flush=True)
        print("  " + cli.stdout.strip().replace("\n", "\n  "), flush=True)
        # again over what it published: the rebuild a user runs after an upgrade, every record's
        # content unchanged, so the published tags are reused (warehouse/tag_reuse.py)
        warm = benchlib.run_measured([*benchlib.trialwatch_command(), "replay", str(archive)], env=env, cwd=work).check()
        print(f"CLI replay over the published warehouse (tags reused): {secs(warm.wall_s)}, "
              f"peak RSS tree {mb(warm.peak_tree_rss)}", flush=True)
        if keep:
            target = warehouse_path(c)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "w.duckdb", target)
        db_bytes = (work / "w.duckdb").stat().st_size

        empty = corpus_mod.empty_archive(work / "empty-archive")
        env_empty = benchlib.child_env(TRIALWATCH_DB=str(work / "e.duckdb"), TRIALWATCH_DATA_DIR=str(work / "edata"))
        trivial = benchlib.run_measured([*benchlib.trialwatch_command(), "replay", str(empty)], env=env_empty,
                                        cwd=work).check()
        print(f"CLI replay of an empty archive (start-up): {secs(trivial.wall_s)}", flush=True)

        profile_path = benchlib.PROFILES_DIR / "replay.pstats" if profile else None
        if profile_path:
            profile_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--child-inprocess", str(work / "i.duckdb"), str(archive)]
        if profile_path:
            command += ["--child-profile", str(profile_path)]
        child = benchlib.run_measured(command, env=benchlib.child_env(), cwd=work).check()
        inproc = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"in-process replay_archive, pages prepared {inproc['workers']}: {secs(inproc['replay_s'])} "
              f"(+ imports {secs(inproc['import_s'])}); peak RSS {mb(child.peak_tree_rss)}"
              + (" [main process under cProfile]" if profile else ""), flush=True)
        prep_command = [sys.executable, str(Path(__file__).resolve()), "--child-prepare", str(archive)]
        if profile_path:
            prep_command += ["--child-profile", str(benchlib.PROFILES_DIR / "prepare.pstats")]
        prep_child = benchlib.run_measured(prep_command, env=benchlib.child_env(), cwd=work).check()
        prep = json.loads(prep_child.stdout.strip().splitlines()[-1])
        print(f"preparing every page in one process: {secs(prep['total_s'])} (CPU {secs(prep['cpu_s'])})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = cli.wall_s / best["total_s"]
    warm_ratio = warm.wall_s / best["total_s"]
    startup = trivial.wall_s
    rows = [
        ["floor: read + gunzip", secs(best["read_gunzip_s"]), ""],
        ["floor: iterparse (PubMed) + json.loads (CT.gov)", secs(best["parse_s"]), ""],
        ["**floor total** (best of 3)", f"**{secs(best['total_s'])}**", "1.0×"],
        ["**`trialwatch replay` into an empty folder (CLI, wall; every record tagged)**", f"**{secs(cli.wall_s)}**",
         f"**{ratio:.1f}×**"],
        ["**`trialwatch replay` over the warehouse it published (CLI, wall; tags of unchanged records reused)**",
         f"**{secs(warm.wall_s)}**", f"**{warm_ratio:.1f}×**"],
        ["`trialwatch replay` of an empty archive (CLI start-up, publish)", secs(startup),
         f"{startup / best['total_s']:.1f}×"],
        ["CLI minus that start-up", secs(cli.wall_s - startup), f"{(cli.wall_s - startup) / best['total_s']:.1f}×"],
        [f"in-process `replay_archive` + publish (no Prefect; pages prepared {inproc['workers']})"
         + (" [cProfile]" if profile else ""), secs(inproc["replay_s"]), f"{inproc['replay_s'] / best['total_s']:.1f}×"],
        ["preparing every page (parse, labels, batch, tags) in one process, for comparison", secs(prep["total_s"]),
         f"{prep['total_s'] / best['total_s']:.1f}×"],
    ]
    order = ["waiting for workers", "concatenate batches", "load (upsert records)", "store tags", "open + migrate",
             "checkpoint + publish", "other (ledger, loop, commits, worker start/stop)", "read + gunzip (fetch thread)"]
    stages = inproc["stages"]
    stage_rows = [[name, secs(stages.get(name, 0.0)), f"{100 * stages.get(name, 0.0) / inproc['replay_s']:.0f} %",
                   f"{stages.get(name, 0.0) / best['total_s']:.1f}×"] for name in order]
    prep_order = ["parse", "drug labels", "derive (design, drug roles)", "Arrow batch (validate, content hash)",
                  "child tables (AACT, Arrow)", "tag (spaCy + about)", "tag tables (Arrow)"]
    prep_rows = [[name, secs(prep["stages"].get(name, 0.0)), f"{100 * prep['stages'].get(name, 0.0) / prep['total_s']:.0f} %",
                  f"{prep['stages'].get(name, 0.0) / best['total_s']:.1f}×"] for name in prep_order]
    section = "\n\n".join([
        f"Corpus: {articles:,} articles + {trials:,} trials; archive of {len(c.archive_files())} pages "
        f"({mb(archive_bytes)} gzip, {mb(raw_bytes)} uncompressed); the warehouse it builds is {mb(db_bytes)}.",
        table(["measure", "time", "× floor"], rows),
        f"Peak RSS of the CLI's process tree: **{mb(cli.peak_tree_rss)}** (sum over {cli.processes} processes, "
        f"sampled every 50 ms; largest single process {mb(cli.peak_process_rss)}). The empty-archive run peaks at "
        f"{mb(trivial.peak_tree_rss)}. In-process child: {mb(child.peak_tree_rss)}.",
        "Where the in-process replay's main process spends its time (stage timers, one run"
        + (", under cProfile so inflated" if profile else "") + f"; interpreter imports {secs(inproc['import_s'])} "
        "come on top). Parsing and tagging run in the workers; the main process loads and waits for them:",
        table(["main process", "time", "share", "× floor"], stage_rows),
        "What the workers do, measured by preparing every page in one process (CPU time per step):",
        table(["preparing a page", "time", "share", "× floor"], prep_rows),
    ])
    result = Result(
        name="replay", title="Replay throughput",
        command=f"benchmarks/bench_replay.py --articles {articles} --trials {trials}", section=section,
        targets=[
            Target(f"replay {articles // 1000}k into an empty folder, CLI wall vs floor",
                   f"{secs(cli.wall_s)} vs {secs(best['total_s'])} = {ratio:.1f}×", f"≤ {RATIO_TARGET:.0f}×",
                   ratio <= RATIO_TARGET),
            Target(f"replay {articles // 1000}k over the published warehouse (tags reused), CLI wall vs floor",
                   f"{secs(warm.wall_s)} vs {secs(best['total_s'])} = {warm_ratio:.1f}×", f"≤ {RATIO_TARGET:.0f}×",
                   warm_ratio <= RATIO_TARGET),
            Target("replay, peak RSS (process tree)", mb(cli.peak_tree_rss), "≤ 1.5 GB", cli.peak_tree_rss <= RSS_TARGET),
            Target("replay, CLI start-up (empty archive; no Prefect API configured, so no Prefect)", secs(startup), "(reported)", None),
        ],
        data={"floor": best, "floors": floors, "cli_wall_s": cli.wall_s, "cli_peak_tree_rss": cli.peak_tree_rss,
              "cli_reusing_tags_wall_s": warm.wall_s,
              "cli_peak_process_rss": cli.peak_process_rss, "startup_s": startup, "inprocess": inproc,
              "ratio": ratio, "articles": articles, "trials": trials, "inprocess_peak_rss": child.peak_tree_rss,
              "prepare": prep},
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=corpus_mod.DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=corpus_mod.DEFAULT_TRIALS)
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process replay's main process "
                        "and the one-process prepare run (benchmarks/.data/profiles/replay.pstats, prepare.pstats); "
                        "their stage times are then inflated")
    parser.add_argument("--no-docs", action="store_true", help="print only; do not rewrite docs/benchmarks.md")
    parser.add_argument("--child-inprocess", nargs=2, metavar=("DB", "ARCHIVE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", help=argparse.SUPPRESS)
    parser.add_argument("--child-prepare", metavar="ARCHIVE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_prepare:
        child_prepare(Path(args.child_prepare), Path(args.child_profile) if args.child_profile else None)
        return
    if args.child_inprocess:
        db, archive = args.child_inprocess
        child_inprocess(Path(db), Path(archive), Path(args.child_profile) if args.child_profile else None)
        return
    result = run(args.articles, args.trials, args.profile)
    if args.profile:
        print(benchlib.profile_summary(benchlib.PROFILES_DIR / "replay.pstats", 30, "tottime"))
        print(benchlib.profile_summary(benchlib.PROFILES_DIR / "prepare.pstats", 30, "tottime"))
    if args.no_docs:  # a trial run: show the section it would have written
        print(result.section)
    benchlib.publish(result, write_docs=not args.no_docs)


if __name__ == "__main__":
    main()
