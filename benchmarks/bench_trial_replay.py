"""Trials at AACT depth: a 2,000-trial replay at a base commit vs at the current code (issue #15).

    .venv/bin/python benchmarks/bench_trial_replay.py                      # 1b45ce0 vs HEAD, 2,000 trials
    .venv/bin/python benchmarks/bench_trial_replay.py --repeats 5          # more rounds
    .venv/bin/python benchmarks/bench_trial_replay.py --base-tree ../a --head-tree .   # existing checkouts
    .venv/bin/python benchmarks/bench_trial_replay.py --realistic DIR      # also a stand-in built from real v2 records
                                                            # (default $BENCH_CTGOV_RECORDS)
    .venv/bin/python benchmarks/bench_trial_replay.py --profile --no-docs  # cProfile the head's in-process replay

The target (issue #15): a 2,000-trial replay at AACT depth (22 AACT-named tables, outcome
switching) must not take more than 1.5× the trial part of replay before that work (base
`1b45ce0`, the commit before 0bbf220).

Each side runs its own code: the script makes a detached `git worktree` of each ref in a
temporary folder (removed at the end) unless `--base-tree` / `--head-tree` name a checkout, and
runs every measured process with that tree first on `PYTHONPATH` and as its working directory,
with this virtualenv's interpreter (its editable install points at the main checkout, so each
child checks that `flows`, `extract` and `warehouse` were imported from its tree).

Archives (the same bytes for both sides, written once with this checkout's code; the layout is
the raw CT.gov v2 `/studies` JSON pages, which did not change):

* **synthetic** — `benchmarks/corpus.py`'s trials (`flows.demo.generate_sample`, same seed
  and date, at 20 articles, the fewest it makes, + N trials), the articles left out. Its
  trials have arms, interventions, one primary outcome and 1–14 sites but no `resultsSection`,
  so the result tables (result_groups, outcome_measurements, reported_events, …) stay empty;
* **realistic** (`--realistic DIR`) — every complete v2 study object found in DIR's `*.json`
  files (a study, a `/studies` page or a list; field-filtered search answers under 3 kB and
  records with more than 200 sites left out), replicated under new NCT ids (`NCT9…`) up to N
  trials, in `/studies` pages of 1,000. Written to a temporary folder, never into the repo.

Measures, interleaved base/head/base/head… for `--repeats` rounds (medians reported):

1. **in-process** — `flows.pipeline.replay_archive` inside `warehouse.publish.writing` with the
   default page workers, then publish, in a child process (no Prefect): wall time, CPU time of
   the process and its page workers (getrusage; steadier than wall time on a busy machine), and
   the main process's time split by stage (waiting for workers, trial upsert, tags, AACT tables);
2. **CLI** — `python -m flows.cli replay <archive>` (Prefect's temporary server included), and
   the same on an archive of one empty `/studies` page (start-up: replay refuses a folder with no
   pages; first round only), so "CLI minus start-up" is the replay's share; wall and CPU of the
   process tree;
3. **prepare cost** — every page prepared in one process, split by step (JSON, parse, labels,
   Arrow batch, AACT rows, tagging): the CPU the workers share.

With `--profile`, one more in-process replay and one prepare run per side under cProfile
(`benchmarks/.data/profiles/trial_replay-*.pstats`, `trial_prepare-*.pstats`), summaries printed.

The load average is recorded with every run. The section "Trials at AACT depth: 2,000-trial
replay" of docs/benchmarks.md is rewritten (its region only) unless `--no-docs`.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import Result, Target, mb, secs, table  # noqa: E402

TREE_ENV = "TW_BENCH_TREE"
if os.environ.get(TREE_ENV):  # a measured child, or a page worker it spawned (which re-imports this
    # module as __mp_main__): the tree under test must come before the main checkout benchlib added
    _tree = str(Path(os.environ[TREE_ENV]).resolve())
    sys.path[:] = [_tree] + [p for p in sys.path if p not in (str(benchlib.ROOT), "", _tree)]

NAME = "trial_replay"
TITLE = "Trials at AACT depth: 2,000-trial replay"
TARGET = 1.5
DEFAULT_BASE = "1b45ce0"
CTGOV_PAGE = 1_000
ARCHIVE_RUN = "20260630T030000000000Z-ctgov-1"
MAX_SITES = 200
PACKAGES = ("flows", "extract", "warehouse")


# ------------------------------------------------------------------------------ child side

def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _use_tree(tree: Path) -> None:
    """Make `tree` win over the main checkout (benchlib puts it on sys.path) and check it did."""
    root = str(benchlib.ROOT)
    if Path(root).resolve() != tree.resolve():
        sys.path[:] = [p for p in sys.path if p not in (root, "")]
    sys.path.insert(0, str(tree))
    import importlib

    for name in PACKAGES:
        module = importlib.import_module(name)
        if not Path(module.__file__).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"{name} imported from {module.__file__}, not from {tree}")


def child_inprocess(tree: Path, db: Path, archive: Path, profile: Path | None) -> None:
    """replay_archive + publish in this process, pages prepared by the default workers; JSON out."""
    _use_tree(tree)
    from extract.archive import RawArchive
    from extract.catalogue import Catalogue
    from flows import pipeline
    from flows.settings import load_settings
    from flows.workers import open_workers
    from warehouse import publish

    timer = benchlib.StageTimer()
    timed = timer.wrap
    pipeline.load_batch = timed("upsert trials", pipeline.load_batch)
    pipeline.store_tags = timed("store tags", pipeline.store_tags)
    if hasattr(pipeline, "replace_children"):  # the AACT tables (head only)
        from warehouse import children

        children.record_changes = timed("  of which outcome switching", children.record_changes)
        pipeline.replace_children = timed("AACT tables (replace_children)", pipeline.replace_children)
        pipeline.latest_rows = timed("AACT rows chosen (latest_rows)", pipeline.latest_rows)
    original_store = pipeline.store_group

    def store_group(*args, **kwargs):  # the first error of a failed source (the summary keeps the last)
        try:
            return original_store(*args, **kwargs)
        except Exception:
            import traceback

            traceback.print_exc()
            raise

    pipeline.store_group = store_group
    original_groups = pipeline.load_groups
    pipeline.load_groups = lambda prepared, *a, **k: timer.iterate("waiting for workers",
                                                                   original_groups(prepared, *a, **k))
    settings = load_settings(env_file=None)
    catalogue = Catalogue.load()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu_main, cpu_workers = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with publish.writing(db, fresh=True) as conn:
        with open_workers(settings.workers, settings.task_runner, catalogue) as workers:
            summaries = pipeline.replay_archive(conn, RawArchive(archive), catalogue=catalogue,
                                                progress=lambda m: None, workers=workers)
    total = time.perf_counter() - start
    # CPU (user + system) of this process and of its page workers, reaped when the pool shut down:
    # steadier than wall time on a shared machine
    cpu_main, cpu_workers = _cpu(resource.RUSAGE_SELF) - cpu_main, _cpu(resource.RUSAGE_CHILDREN) - cpu_workers
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
        # names from the catalogue, opened through the relation API: no SQL is built from them
        rows = {t: conn.table(t).count("*").fetchall()[0][0] for t in sorted(tables)}
    stages = dict(timer.spent)
    stages["other (open, ledger, commits, workers, publish)"] = total - sum(
        v for k, v in stages.items() if not k.startswith(("  ", "AACT rows")))
    print(json.dumps({"replay_s": total, "cpu_s": cpu_main + cpu_workers, "cpu_main_s": cpu_main,
                      "cpu_workers_s": cpu_workers, "workers": workers.description, "stages": stages, "rows": rows,
                      "summaries": [s.line() for s in summaries], "statuses": [s.status for s in summaries]}))


def child_prepare(tree: Path, archive: Path, profile: Path | None = None) -> None:
    """Every archived page prepared in one process, timed by step; JSON out."""
    _use_tree(tree)
    from extract.archive import RawArchive
    from flows import prepare

    prepare.default_tagger()
    timer = benchlib.StageTimer()
    timed = timer.wrap
    prepare.parse_ctgov_page = timed("parse (trial records)", prepare.parse_ctgov_page)
    if hasattr(prepare, "_json_or_bytes"):
        prepare._json_or_bytes = timed("json.loads", prepare._json_or_bytes)
    if hasattr(prepare, "aact_tables"):
        prepare.aact_tables = timed("AACT rows + Arrow tables (aact_tables)", prepare.aact_tables)
    catalogue = prepare.default_catalogue()
    catalogue.drugs_for_trial = timed("drug labels", catalogue.drugs_for_trial)
    prepare.build_batch = timed("Arrow batch (validate, content hash)", prepare.build_batch)
    prepare.tag = timed("tag (spaCy + about)", prepare.tag)
    prepare.tag_tables = timed("tag tables (Arrow)", prepare.tag_tables)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    total = cpu = 0.0
    for archived in RawArchive(archive).pages(("ctgov",)):
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        prepare.prepare_page(archived.page, catalogue)
        if profiler:
            profiler.disable()
        total += time.perf_counter() - start
        cpu += time.process_time() - cpu_start
    if profiler:
        profiler.dump_stats(str(profile))
    print(json.dumps({"total_s": total, "cpu_s": cpu, "stages": dict(timer.spent)}))


# ----------------------------------------------------------------------------- archives

def _write_pages(studies: list[dict], target: Path) -> Path:
    from extract.archive import RawArchive
    from extract.pages import RawPage

    (target / "pubmed").mkdir(parents=True, exist_ok=True)  # trials only: no PubMed pages
    archive = RawArchive(target)
    ordered = sorted(studies, key=lambda s: s["protocolSection"]["identificationModule"]["nctId"])
    for seq, i in enumerate(range(0, max(len(ordered), 1), CTGOV_PAGE), start=1):  # none: one empty page
        page: dict = {"studies": ordered[i:i + CTGOV_PAGE]}
        if i == 0:
            page["totalCount"] = len(ordered)
        if i + CTGOV_PAGE < len(ordered):
            page["nextPageToken"] = f"bench-{i + CTGOV_PAGE}"
        body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
        archive.write(ARCHIVE_RUN, seq, RawPage("ctgov", body, "json"))
    return target


def synthetic_studies(trials: int) -> list[dict]:
    """The scale corpus's trials (`flows.demo.generate_sample`, as `benchmarks/corpus.py`
    makes them, at the generator's fewest articles, 20, which are left out)."""
    import corpus as corpus_mod
    from flows.demo import generate_sample

    return generate_sample(seed=corpus_mod.DEFAULT_SEED, today=corpus_mod.DEFAULT_TODAY, n_articles=20,
                           n_trials=trials).studies


def child_archive(tree: Path, kind: str, trials: int, target: Path, source: Path | None) -> None:
    """Write a trials-only archive with `tree`'s code (generator, archive writer); JSON out."""
    _use_tree(tree)
    if kind == "empty":  # one /studies page with no studies (replay refuses a folder with no pages)
        studies, originals = [], []
    elif kind == "synthetic":
        studies, originals = synthetic_studies(trials), []
    else:
        studies, originals = realistic_studies(source, trials)
    _write_pages(studies, target)
    print(json.dumps({"describe": describe(studies) if studies else {}, "originals": originals}))


def _study_objects(payload) -> list[dict]:
    if isinstance(payload, dict) and "protocolSection" in payload:
        return [payload]
    if isinstance(payload, dict) and isinstance(payload.get("studies"), list):
        return [s for s in payload["studies"] if isinstance(s, dict) and "protocolSection" in s]
    if isinstance(payload, list):
        return [s for s in payload if isinstance(s, dict) and "protocolSection" in s]
    return []


def realistic_studies(source: Path, trials: int) -> tuple[list[dict], list[str]]:
    """Complete real records from `source`, replicated under new NCT ids up to `trials`."""
    best: dict[str, tuple[int, dict]] = {}
    for path in sorted(source.rglob("*.json")):
        try:
            payload = json.loads(path.read_bytes())
        except ValueError:
            continue
        for study in _study_objects(payload):
            nct = study["protocolSection"].get("identificationModule", {}).get("nctId")
            size = len(json.dumps(study))
            sites = len(study["protocolSection"].get("contactsLocationsModule", {}).get("locations", []))
            if nct and size >= 3000 and sites <= MAX_SITES and size > best.get(nct, (0, None))[0]:
                best[nct] = (size, study)
    if not best:
        raise SystemExit(f"no complete v2 study objects under {source}")
    originals = [best[k][1] for k in sorted(best)]
    studies = []
    for i in range(trials):
        study = json.loads(json.dumps(originals[i % len(originals)]))
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT9{i:07d}"
        studies.append(study)
    return studies, sorted(best)


def describe(studies: list[dict]) -> dict:
    n = len(studies)
    ps = [s["protocolSection"] for s in studies]
    return {
        "trials": n,
        "mean_json_kb": sum(len(json.dumps(s)) for s in studies) / n / 1e3,
        "with_results": sum("resultsSection" in s for s in studies),
        "arms": sum(len(p.get("armsInterventionsModule", {}).get("armGroups", [])) for p in ps) / n,
        "interventions": sum(len(p.get("armsInterventionsModule", {}).get("interventions", [])) for p in ps) / n,
        "outcomes": sum(len(p.get("outcomesModule", {}).get(k, [])) for p in ps
                        for k in ("primaryOutcomes", "secondaryOutcomes", "otherOutcomes")) / n,
        "sites": sum(len(p.get("contactsLocationsModule", {}).get("locations", [])) for p in ps) / n,
    }


# ------------------------------------------------------------------------------ parent side

def make_tree(ref: str, parent: Path) -> Path:
    path = parent / f"tree-{ref.replace('/', '_')}"
    subprocess.run(["git", "-C", str(benchlib.ROOT), "worktree", "add", "--detach", str(path), ref],
                   check=True, capture_output=True)
    return path


def remove_tree(path: Path) -> None:
    subprocess.run(["git", "-C", str(benchlib.ROOT), "worktree", "remove", "--force", str(path)],
                   capture_output=True)


def tree_env(tree: Path, **extra: str) -> dict[str, str]:
    env = benchlib.child_env(**extra)
    env["PYTHONPATH"] = str(tree)  # this tree only, never the main checkout
    env[TREE_ENV] = str(tree)
    return env


def check_imports(tree: Path) -> str:
    code = "import flows, extract, warehouse; print(flows.__file__, extract.__file__, warehouse.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=tree_env(tree), cwd=tree, check=True,
                         capture_output=True, text=True).stdout.split()
    for path in out:
        if not Path(path).resolve().is_relative_to(tree.resolve()):
            raise SystemExit(f"{tree}: imported {path} from outside the tree")
    return out[0]


def commit_of(tree: Path) -> str:
    line = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], check=True,
                          capture_output=True, text=True).stdout.strip()
    return line if len(line) <= 72 else line[:71].rsplit(" ", 1)[0] + " …"


def build_archive(tree: Path, kind: str, trials: int, work: Path, source: Path | None) -> tuple[Path, dict, list]:
    target = work / f"{kind}-archive"
    command = [sys.executable, str(Path(__file__).resolve()), "--child-archive", str(tree), kind, str(trials),
               str(target)] + ([str(source)] if source else [])
    out = subprocess.run(command, env=tree_env(tree), cwd=tree, check=True, capture_output=True, text=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return target, data["describe"], data["originals"]


def run_inprocess(tree: Path, archive: Path, work: Path, profile: Path | None = None) -> dict:
    db = work / f"inproc-{time.monotonic_ns()}.duckdb"
    command = [sys.executable, str(Path(__file__).resolve()), "--child-inprocess", str(tree), str(db), str(archive)]
    if profile:
        command += ["--child-profile", str(profile)]
    load = os.getloadavg()[0]
    child = benchlib.run_measured(command, env=tree_env(tree), cwd=tree).check()
    out = json.loads(child.stdout.strip().splitlines()[-1])
    if set(out["statuses"]) != {"succeeded"}:
        raise SystemExit(f"replay failed: {out['summaries']}\n{child.stderr[-4000:]}")
    for path in work.glob(db.name + "*"):
        path.unlink()
    return {**out, "load": load, "peak_rss": child.peak_tree_rss}


def run_cli(tree: Path, archive: Path, work: Path) -> dict:
    tag = time.monotonic_ns()
    env = tree_env(tree, TRIALWATCH_DB=str(work / f"cli-{tag}.duckdb"), TRIALWATCH_DATA_DIR=str(work / f"data-{tag}"))
    load, cpu = os.getloadavg()[0], _cpu(resource.RUSAGE_CHILDREN)
    done = benchlib.run_measured([sys.executable, "-m", "flows.cli", "replay", str(archive)], env=env, cwd=tree).check()
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu  # the CLI and every process it reaped (server, workers)
    shutil.rmtree(work / f"data-{tag}", ignore_errors=True)
    for path in work.glob(f"cli-{tag}.duckdb*"):
        path.unlink()
    return {"wall_s": done.wall_s, "cpu_s": cpu, "load": load, "peak_rss": done.peak_tree_rss, "stdout": done.stdout.strip()}


def run_prepare(tree: Path, archive: Path, profile: Path | None = None) -> dict:
    load = os.getloadavg()[0]
    command = [sys.executable, str(Path(__file__).resolve()), "--child-prepare", str(tree), str(archive)]
    if profile:
        command += ["--child-profile", str(profile)]
    child = benchlib.run_measured(command, env=tree_env(tree), cwd=tree).check()
    return {**json.loads(child.stdout.strip().splitlines()[-1]), "load": load}


def med(values: list[float]) -> float:
    return statistics.median(values)


def measure(label: str, archive: Path, trees: dict[str, Path], repeats: int, work: Path, empty: Path) -> dict:
    runs: dict[str, dict[str, list]] = {side: {"inproc": [], "cli": [], "empty": [], "prepare": []} for side in trees}
    for round_ in range(1, repeats + 1):
        for kind, fn in (("inproc", lambda t: run_inprocess(t, archive, work)),
                         ("cli", lambda t: run_cli(t, archive, work)),
                         ("empty", lambda t: run_cli(t, empty, work)),
                         ("prepare", lambda t: run_prepare(t, archive))):
            if kind == "empty" and round_ > 1:  # Prefect's start-up, not the code under test: once
                continue
            for side, tree in trees.items():
                result = fn(tree)
                runs[side][kind].append(result)
                figure = result.get("replay_s", result.get("wall_s", result.get("total_s")))
                print(f"  [{label} round {round_}] {side:4} {kind:7} {secs(figure):>8} wall, {secs(result['cpu_s']):>8} "
                      f"CPU  (load {result['load']:.2f})", flush=True)
    return {"runs": runs}


def summarise(m: dict) -> dict:
    out = {}
    for side, runs in m["runs"].items():
        inproc = [r["replay_s"] for r in runs["inproc"]]
        cli = [r["wall_s"] for r in runs["cli"]]
        empty = [r["wall_s"] for r in runs["empty"]]
        stage_names = {k for r in runs["inproc"] for k in r["stages"]}
        prep_names = {k for r in runs["prepare"] for k in r["stages"]}
        prepare = {"total_s": med([r["total_s"] for r in runs["prepare"]]),
                   "cpu": med([r["cpu_s"] for r in runs["prepare"]]),
                   "all": [r["total_s"] for r in runs["prepare"]],
                   "stages": {k: med([r["stages"].get(k, 0.0) for r in runs["prepare"]]) for k in prep_names}}
        cpu = {kind: med([r["cpu_s"] for r in runs[kind]]) for kind in ("inproc", "cli", "empty", "prepare")}
        cpu["inproc_all"] = [r["cpu_s"] for r in runs["inproc"]]
        cpu["cli_all"] = [r["cpu_s"] for r in runs["cli"]]
        cpu["cli_minus_startup"] = cpu["cli"] - cpu["empty"]
        cpu["inproc_workers"] = med([r["cpu_workers_s"] for r in runs["inproc"]])
        cpu["inproc_main"] = med([r["cpu_main_s"] for r in runs["inproc"]])
        out[side] = {"cpu": cpu, "inproc": med(inproc), "inproc_all": inproc, "cli": med(cli), "cli_all": cli,
                     "empty": med(empty), "cli_minus_startup": med(cli) - med(empty),
                     "stages": {k: med([r["stages"].get(k, 0.0) for r in runs["inproc"]]) for k in stage_names},
                     "loads": [r["load"] for kind in runs.values() for r in kind],
                     "rows": runs["inproc"][-1]["rows"], "summaries": runs["inproc"][-1]["summaries"],
                     "workers": runs["inproc"][-1]["workers"], "prepare": prepare}
    return out


STAGE_ORDER = ["waiting for workers", "upsert trials", "store tags", "AACT tables (replace_children)",
               "  of which outcome switching", "AACT rows chosen (latest_rows)",
               "other (open, ledger, commits, workers, publish)"]
PREP_ORDER = ["json.loads", "parse (trial records)", "drug labels", "Arrow batch (validate, content hash)",
              "AACT rows + Arrow tables (aact_tables)", "tag (spaCy + about)", "tag tables (Arrow)"]


def section_for(label: str, about: str, s: dict, repeats: int) -> tuple[str, dict]:
    b, h = s["base"], s["head"]
    ratio = {k: h[k] / b[k] for k in ("inproc", "cli", "cli_minus_startup")}
    ratio.update({f"cpu_{k}": h["cpu"][k] / b["cpu"][k] for k in ("inproc", "cli", "cli_minus_startup", "prepare")})
    bc, hc = b["cpu"], h["cpu"]
    loads = b["loads"] + h["loads"]

    def runs(v):
        return ", ".join(f"{x:.2f}" for x in v)

    rows = [
        ["**in-process replay + publish** (no Prefect)", f"**{secs(b['inproc'])}**", f"**{secs(h['inproc'])}**",
         f"**{ratio['inproc']:.2f}×**", f"{runs(b['inproc_all'])} / {runs(h['inproc_all'])}"],
        ["`trialwatch replay` (CLI, wall)", secs(b["cli"]), secs(h["cli"]), f"{ratio['cli']:.2f}×",
         f"{runs(b['cli_all'])} / {runs(h['cli_all'])}"],
        ["CLI on an empty archive (start-up; one run)", secs(b["empty"]), secs(h["empty"]),
         f"{h['empty'] / b['empty']:.2f}×", ""],
        ["CLI minus start-up", secs(b["cli_minus_startup"]), secs(h["cli_minus_startup"]),
         f"{ratio['cli_minus_startup']:.2f}×", ""],
        ["preparing every page in one process", secs(b["prepare"]["total_s"]), secs(h["prepare"]["total_s"]),
         f"{h['prepare']['total_s'] / b['prepare']['total_s']:.2f}×",
         f"{runs(b['prepare']['all'])} / {runs(h['prepare']['all'])}"],
        ["**CPU, in-process replay** (main + page workers)", f"**{secs(bc['inproc'])}**", f"**{secs(hc['inproc'])}**",
         f"**{ratio['cpu_inproc']:.2f}×**", f"{runs(bc['inproc_all'])} / {runs(hc['inproc_all'])}"],
        ["… of which page workers", secs(bc["inproc_workers"]), secs(hc["inproc_workers"]),
         f"{hc['inproc_workers'] / bc['inproc_workers']:.2f}×", ""],
        ["… of which main process (load, AACT tables, publish)", secs(bc["inproc_main"]), secs(hc["inproc_main"]),
         f"{hc['inproc_main'] / bc['inproc_main']:.2f}×", ""],
        ["CPU, CLI (every process)", secs(bc["cli"]), secs(hc["cli"]), f"{ratio['cpu_cli']:.2f}×",
         f"{runs(bc['cli_all'])} / {runs(hc['cli_all'])}"],
        ["CPU, CLI minus the empty-archive CLI", secs(bc["cli_minus_startup"]), secs(hc["cli_minus_startup"]),
         f"{ratio['cpu_cli_minus_startup']:.2f}×", ""],
        ["CPU, preparing every page in one process", secs(bc["prepare"]), secs(hc["prepare"]),
         f"{ratio['cpu_prepare']:.2f}×", ""],
    ]
    stage_rows = [[name.replace("  ", "… "), secs(b["stages"].get(name, 0.0)) if name in b["stages"] else "—",
                   secs(h["stages"].get(name, 0.0))] for name in STAGE_ORDER]
    prep_rows = [[name, secs(b["prepare"]["stages"][name]) if name in b["prepare"]["stages"] else "—",
                  secs(h["prepare"]["stages"].get(name, 0.0))] for name in PREP_ORDER]
    aact = {k: v for k, v in h["rows"].items() if k not in b["rows"]}
    filled = ", ".join(f"{k} {v:,}" for k, v in sorted(aact.items()) if v)
    empty_tables = ", ".join(k for k, v in sorted(aact.items()) if not v) or "none"
    text = "\n\n".join([
        f"### {label}\n\n{about}",
        table(["measure (median of " + str(repeats) + "; wall unless CPU)", "base", "head", "head / base",
               "runs, s (base / head)"], rows),
        f"Load average (1-minute) at the start of each run: {min(loads):.2f}–{max(loads):.2f} "
        f"(median {med(loads):.2f}). Pages prepared {h['workers']}. Trials stored: base "
        f"`{b['summaries'][-1]}`; head `{h['summaries'][-1]}`.",
        "Main process of the in-process replay, by stage (medians):",
        table(["main process", "base", "head"], stage_rows),
        "What the workers do (every page prepared in one process, medians):",
        table(["preparing the pages", "base", "head"], prep_rows),
        f"AACT rows the head wrote: {filled or 'none'}; empty: {empty_tables}.",
    ])
    return text, ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--articles", type=int, help="ignored (run_all.py passes it): the archive holds trials only")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"base ref (default {DEFAULT_BASE})")
    parser.add_argument("--head", default="HEAD", help="head ref (default HEAD)")
    parser.add_argument("--base-tree", type=Path, help="an existing checkout of the base instead of a worktree")
    parser.add_argument("--head-tree", type=Path, help="an existing checkout of the head (e.g. . for the working tree)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--realistic", type=Path, default=os.environ.get("BENCH_CTGOV_RECORDS") or None,
                        help="folder of real v2 study JSON to build the realistic stand-in from "
                             "(default $BENCH_CTGOV_RECORDS; none: the synthetic archive only)")
    parser.add_argument("--no-synthetic", action="store_true", help="only the realistic stand-in")
    parser.add_argument("--profile", action="store_true", help="also cProfile one in-process replay per side "
                        "(benchmarks/.data/profiles/trial_replay-<side>-<archive>.pstats)")
    parser.add_argument("--no-docs", action="store_true", help="print only; do not rewrite docs/benchmarks.md")
    parser.add_argument("--from-results", action="store_true", help="rewrite the docs section from the stored "
                        "result (benchmarks/.data/results/trial_replay.json) without measuring")
    parser.add_argument("--child-inprocess", nargs=3, metavar=("TREE", "DB", "ARCHIVE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-prepare", nargs=2, metavar=("TREE", "ARCHIVE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-archive", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_inprocess:
        tree, db, archive = map(Path, args.child_inprocess)
        child_inprocess(tree, db, archive, Path(args.child_profile) if args.child_profile else None)
        return
    if args.child_prepare:
        child_prepare(*map(Path, args.child_prepare), Path(args.child_profile) if args.child_profile else None)
        return
    if args.from_results:
        from_results()
        return
    if args.child_archive:
        tree, kind, trials, target, *source = args.child_archive
        child_archive(Path(tree), kind, int(trials), Path(target), Path(source[0]) if source else None)
        return

    work = Path(tempfile.mkdtemp(prefix="tw-bench-trials-"))
    made: list[Path] = []
    try:
        trees = {}
        for side, ref, given in (("base", args.base, args.base_tree), ("head", args.head, args.head_tree)):
            if given:
                trees[side] = given.resolve()
            else:
                trees[side] = make_tree(ref, work)
                made.append(trees[side])
        for side, tree in trees.items():
            _COMMITS[tree] = commit_of(tree)
            print(f"{side}: {tree} — {_COMMITS[tree]}; imports {check_imports(tree)}", flush=True)
        empty, _, _ = build_archive(trees["head"], "empty", 0, work, None)
        archives = []
        if not args.no_synthetic:
            path, d, _ = build_archive(trees["head"], "synthetic", args.trials, work, None)
            archives.append(("synthetic", LABELS["synthetic"], path, d,
                             "its trials have no `resultsSection`, so the 10 result tables stay empty"))
        if args.realistic:
            path, d, originals = build_archive(trees["head"], "realistic", args.trials, work, args.realistic.resolve())
            archives.append(("realistic", LABELS["realistic"], path, d,
                             f"{len(originals)} complete real records from `{args.realistic}` "
                             f"({', '.join(originals)}), replicated under new NCT ids"))
        figures = {}
        for key, label, path, d, note in archives:
            gz = sum(p.stat().st_size for p in path.rglob("*.gz"))
            about = (f"{d['trials']:,} trials, {len(list(path.rglob('*.gz')))} `/studies` pages ({mb(gz)} gzip), no "
                     f"articles; mean {d['mean_json_kb']:.1f} kB of JSON a trial, per trial {d['arms']:.1f} arms, "
                     f"{d['interventions']:.1f} interventions, {d['outcomes']:.1f} registered outcomes, "
                     f"{d['sites']:.1f} sites; {d['with_results']:,} with a `resultsSection`; {note}.")
            print(f"\n{label}: {about}", flush=True)
            m = measure(key, path, trees, args.repeats, work, empty)
            s = summarise(m)
            if args.profile:
                benchlib.PROFILES_DIR.mkdir(parents=True, exist_ok=True)
                for side, tree in trees.items():
                    target = benchlib.PROFILES_DIR / f"trial_replay-{side}-{key}.pstats"
                    run_inprocess(tree, path, work, profile=target)
                    print(benchlib.profile_summary(target, 25, "tottime"))
                    target = benchlib.PROFILES_DIR / f"trial_prepare-{side}-{key}.pstats"
                    run_prepare(tree, path, profile=target)
                    print(benchlib.profile_summary(target, 30, "cumulative"))
            text, ratio = section_for(label, about, s, args.repeats)
            print("\n" + text, flush=True)
            figures[key] = {"summary": s, "ratio": ratio, "about": about, "runs": m["runs"]}
    finally:
        for tree in made:
            remove_tree(tree)
        shutil.rmtree(work, ignore_errors=True)

    meta = {"trials": args.trials, "repeats": args.repeats, "base": args.base, "head": args.head,
            "base_commit": commit_of_safe(trees["base"]), "head_commit": commit_of_safe(trees["head"]),
            "realistic": bool(args.realistic)}
    result = build_result(figures, meta)
    benchlib.publish(result, write_docs=False)
    if not args.no_docs:
        benchlib.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        from dataclasses import asdict

        (benchlib.RESULTS_DIR / f"{NAME}.json").write_text(json.dumps(asdict(result), indent=1, default=str))
        write_section(result)
        print(f"wrote the '{TITLE}' section of {benchlib.DOCS.relative_to(benchlib.ROOT)}")


def quietest_round(runs: dict, kind: str = "inproc") -> tuple[float, float, float, int] | None:
    """(head / base wall, base load, head load, round) of the round whose two runs of `kind` saw
    the lowest load."""
    pairs = list(zip(runs["base"][kind], runs["head"][kind]))
    if not pairs:
        return None
    index, (b, h) = min(enumerate(pairs), key=lambda item: max(item[1][0]["load"], item[1][1]["load"]))
    wall = "replay_s" if kind == "inproc" else "wall_s"
    return h[wall] / b[wall], b["load"], h["load"], index + 1


def build_result(figures: dict, meta: dict, **result_fields) -> Result:
    """The result (targets, section) from the measured figures; also used by --from-results."""
    nproc = len(os.sched_getaffinity(0))
    targets, sections = [], []
    for key, f in figures.items():
        s, ratio, runs = f["summary"], f["ratio"], f["runs"]
        loads = s["base"]["loads"] + s["head"]["loads"]
        busy = med(loads) > nproc  # more runnable work than cores: wall time measures the neighbours
        text, _ = section_for(LABELS[key], f["about"], s, meta["repeats"])
        quiet = quietest_round(runs)
        if quiet:
            text += (f"\n\nQuietest round (round {quiet[3]}, load {quiet[1]:.2f} / {quiet[2]:.2f}): in-process wall "
                     f"head / base = **{quiet[0]:.2f}×**.")
        sections.append(text)
        name = f"{meta['trials']:,}-trial replay ({key}), head vs {meta['base']}"
        note = f" (median load {med(loads):.1f} on {nproc} cores: not judged)" if busy else ""
        targets += [
            Target(f"{name}, CPU of the in-process replay (main + workers)",
                   f"{secs(s['head']['cpu']['inproc'])} vs {secs(s['base']['cpu']['inproc'])} = {ratio['cpu_inproc']:.2f}×",
                   f"≤ {TARGET}×", ratio["cpu_inproc"] <= TARGET),
            Target(f"{name}, CPU of the CLI minus the empty-archive CLI",
                   f"{secs(s['head']['cpu']['cli_minus_startup'])} vs {secs(s['base']['cpu']['cli_minus_startup'])} = "
                   f"{ratio['cpu_cli_minus_startup']:.2f}×", f"≤ {TARGET}×", ratio["cpu_cli_minus_startup"] <= TARGET),
            Target(f"{name}, in-process wall" + (", quietest round" if quiet else ""),
                   (f"{quiet[0]:.2f}× (load {max(quiet[1], quiet[2]):.1f}); median of {meta['repeats']}: "
                    f"{ratio['inproc']:.2f}× (median load {med(loads):.1f})" if quiet else f"{ratio['inproc']:.2f}×"),
                   f"≤ {TARGET}×", None if quiet is None or max(quiet[1], quiet[2]) > nproc * 1.25
                   else quiet[0] <= TARGET),
            Target(f"{name}, CLI wall (minus start-up)", f"{ratio['cli']:.2f}× ({ratio['cli_minus_startup']:.2f}×)" + note,
                   f"≤ {TARGET}×", None if busy else ratio["cli_minus_startup"] <= TARGET),
        ]
    verdict = table(["measure", "figure", "target", "verdict"], [[t.measure, t.figure, t.target, t.verdict]
                                                                   for t in targets])
    return Result(name=NAME, title=TITLE,
                  command=f"benchmarks/bench_trial_replay.py --trials {meta['trials']} --repeats {meta['repeats']}"
                          + (" --realistic DIR" if meta["realistic"] else ""),
                  section=f"Base `{meta['base']}` ({meta['base_commit']}) vs head `{meta['head']}` "
                          f"({meta['head_commit']}), each run from its own tree. CPU time (user + system, "
                          f"getrusage) is the figure to judge on a shared machine; a wall verdict is given only "
                          f"when the load allowed one.\n\n" + verdict + "\n\n" + "\n\n".join(sections),
                  targets=targets, data={"meta": meta, **figures}, **result_fields)


def from_results() -> None:
    """Rebuild the section from benchmarks/.data/results/trial_replay.json (no measuring)."""
    stored = json.loads((benchlib.RESULTS_DIR / f"{NAME}.json").read_text())
    data = stored["data"]
    meta = data.pop("meta", None) or {"trials": 2000, "repeats": 3, "base": DEFAULT_BASE, "head": "HEAD",
                                      "base_commit": "?", "head_commit": "?", "realistic": "realistic" in data}
    result = build_result(data, meta, when=stored["when"], machine=stored["machine"], load=tuple(stored["load"]))
    from dataclasses import asdict

    (benchlib.RESULTS_DIR / f"{NAME}.json").write_text(json.dumps(asdict(result), indent=1, default=str))
    write_section(result)
    for t in result.targets:
        print(f"  {t.measure}: {t.figure}  (target {t.target}: {t.verdict})")


LABELS = {"synthetic": "Synthetic corpus (`benchmarks/corpus.py`)",
          "realistic": "Realistic stand-in (real v2 records replicated)"}


_COMMITS: dict[Path, str] = {}


def commit_of_safe(tree: Path) -> str:
    return _COMMITS.get(tree, "?")


def write_section(result: Result) -> None:
    """Rewrite only this benchmark's region of docs/benchmarks.md (benchlib.ORDER does not list it,
    so the summary table and other sections are left alone)."""
    load = result.load
    body = (f"## {result.title}\n\n`{result.command}` — run {result.when} on {result.machine['nproc']} × "
            f"{result.machine['cpu']}, {result.machine['ram']} RAM; 1-minute load average {load[0]:.2f} at the "
            f"start, {load[1]:.2f} at the end (per run below).\n\n{result.section}")
    text = benchlib.DOCS.read_text()
    benchlib.DOCS.write_text(benchlib._replace_region(text, NAME, body))


if __name__ == "__main__":
    main()
