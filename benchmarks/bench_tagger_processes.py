"""Tagging with one process vs two: the effect of spaCy's `n_process` on the condition tagger.

    .venv/bin/python benchmarks/bench_tagger_processes.py            # 50,000 synthetic abstracts
    .venv/bin/python benchmarks/bench_tagger_processes.py --n 5000   # quicker

`Tagger` calls `self.nlp.pipe(texts, as_tuples=True, batch_size=...)` with no `n_process`, and its
pipeline cannot simply be given one: spaCy sends each Doc back from a worker with
`Doc.to_bytes()`, which msgpacks `doc._` user data, and `doc._.conditions` holds `ConditionHit`
dataclasses ("TypeError: can not serialize 'ConditionHit' object" — checked below). So this
benchmark measures, on `bench_tagger.py`'s synthetic abstracts:

1. `bench_tagger.py` itself (one process; its printed figures are quoted);
2. `Tagger().nlp.pipe(abstracts, n_process=1|2)` with one extra benchmark-only component at
   the end of the pipeline that turns the hits into plain tuples so they can travel between
   processes (its cost is included in both runs);
3. `Tagger.tag_articles` + `about()` over whole records, sharded across 1 or 2 worker processes
   (a `multiprocessing` pool, fork, chunks of 1,000 records; each worker builds its own Tagger):
   what a product change would do at the record level.

It also records the machine's load average: the 2 cores are shared with other jobs, and a
second process only helps when a core is free.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from bench_tagger import synthetic_abstract  # noqa: E402
from benchlib import Result, Target, secs, table  # noqa: E402
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

if not Doc.has_extension("bench_hits"):
    Doc.set_extension("bench_hits", default=None)


@Language.component("bench_plain_hits")
def plain_hits(doc: Doc) -> Doc:
    """Copy the hits into msgpack-able tuples and drop the dataclasses (benchmark only)."""
    doc._.bench_hits = [(h.start, h.end, h.mesh_id, h.negated, h.adverse) for h in doc._.conditions or ()]
    doc._.conditions = None
    return doc


def make_records(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        title, abstract, keywords = synthetic_abstract(rng)
        records.append({"pmid": i, "title": title, "abstract": abstract, "abstract_sections": [], "keywords": keywords})
    return records


CHECK = """
from extract.tagger import Tagger
texts = ["Patients with treatment-resistant depression received ketamine."] * 20
try:
    list(Tagger().nlp.pipe(texts, n_process=2, batch_size=10))
except Exception as error:
    print(f"{type(error).__name__}: {error}")
else:
    print("no error")
"""


def check_plain_pipe() -> str:
    """`Tagger().nlp.pipe(..., n_process=2)` as shipped, in a child (the workers' tracebacks stay
    out of the console); the last line it prints."""
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=benchlib.child_env(),
                          cwd=benchlib.ROOT, timeout=300)
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else f"exit {done.returncode}"


def time_pipe(texts: list[str], n_process: int, batch_size: int) -> tuple[float, int]:
    from extract.tagger import Tagger

    tagger = Tagger()
    tagger.nlp.add_pipe("bench_plain_hits", last=True)
    list(tagger.nlp.pipe(texts[:200]))  # warm up
    start = time.perf_counter()
    hits = sum(len(doc._.bench_hits) for doc in tagger.nlp.pipe(texts, n_process=n_process, batch_size=batch_size))
    return time.perf_counter() - start, hits


_WORKER_TAGGER = None


def _tag_chunk(chunk: list[dict]) -> tuple[int, int]:
    global _WORKER_TAGGER
    from extract.tagger import Tagger, about

    if _WORKER_TAGGER is None:
        _WORKER_TAGGER = Tagger()
    mentions = conditions = 0
    for _record, found in _WORKER_TAGGER.tag_articles(chunk):
        mentions += len(found)
        conditions += len(about("article", found))
    return mentions, conditions


def time_records(records: list[dict], processes: int, chunk: int = 1000) -> tuple[float, int]:
    chunks = [records[i:i + chunk] for i in range(0, len(records), chunk)]
    if processes == 1:
        _tag_chunk(records[:200])  # build + warm up
        start = time.perf_counter()
        mentions = sum(_tag_chunk(c)[0] for c in chunks)
        return time.perf_counter() - start, mentions
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        pool.map(_tag_chunk, [records[:200]] * processes)  # build + warm up each worker
        start = time.perf_counter()
        mentions = sum(m for m, _ in pool.imap(_tag_chunk, chunks))
        return time.perf_counter() - start, mentions


def run_bench_tagger(n: int) -> dict:
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_tagger.py")), "--n", str(n)],
                         capture_output=True, text=True, env=benchlib.child_env(), cwd=benchlib.ROOT, check=True).stdout
    pipe = re.search(r"nlp.pipe, abstracts only: ([\d,]+) docs/s, ([\d,]+) tokens/s", out)
    recs = re.search(r"about\(\), title\+abstract\+keywords: ([\d,]+) records/s", out)
    return {"stdout": out.strip(), "pipe_docs_s": int(pipe.group(1).replace(",", "")),
            "pipe_tokens_s": int(pipe.group(2).replace(",", "")), "records_s": int(recs.group(1).replace(",", ""))}


def run(n: int, seed: int, batch_size: int) -> Result:
    load_before = os.getloadavg()
    print(f"tagger: bench_tagger.py --n {n}", flush=True)
    base = run_bench_tagger(n)
    print("  " + base["stdout"].replace("\n", "\n  "), flush=True)
    records = make_records(n, seed)
    texts = [r["abstract"] for r in records]
    failure = check_plain_pipe()
    print(f"  Tagger().nlp.pipe(n_process=2) as shipped: {failure}", flush=True)
    pipe = {k: time_pipe(texts, k, batch_size) for k in (1, 2)}
    for k, (s, hits) in pipe.items():
        print(f"  nlp.pipe n_process={k}: {n / s:,.0f} abstracts/s ({secs(s)}, {hits} hits)", flush=True)
    recs = {k: time_records(records, k) for k in (1, 2)}
    for k, (s, m) in recs.items():
        print(f"  tag_articles + about, {k} process(es): {n / s:,.0f} records/s ({secs(s)}, {m} mentions)", flush=True)
    load_after = os.getloadavg()
    assert pipe[1][1] == pipe[2][1] and recs[1][1] == recs[2][1], "results differ between 1 and 2 processes"
    rows = [
        ["`bench_tagger.py`: `nlp.pipe`, abstracts (1 process)",
         f"{base['pipe_docs_s']:,} abstracts/s ({base['pipe_tokens_s']:,} tokens/s)", ""],
        ["`bench_tagger.py`: `tag_articles` + `about()` (1 process)", f"{base['records_s']:,} records/s", ""],
        ["`nlp.pipe(n_process=1)` + plain-hits component", f"{n / pipe[1][0]:,.0f} abstracts/s", "1.00×"],
        ["`nlp.pipe(n_process=2)` + plain-hits component", f"{n / pipe[2][0]:,.0f} abstracts/s",
         f"{pipe[1][0] / pipe[2][0]:.2f}×"],
        ["`tag_articles` + `about()`, 1 process", f"{n / recs[1][0]:,.0f} records/s", "1.00×"],
        ["`tag_articles` + `about()`, 2 worker processes (pool, chunks of 1,000)", f"{n / recs[2][0]:,.0f} records/s",
         f"{recs[1][0] / recs[2][0]:.2f}×"],
    ]
    section = "\n\n".join([
        f"{n:,} synthetic abstracts from `bench_tagger.py` (seed {seed}), batch size {batch_size}. Load average "
        f"before / after: {load_before[0]:.2f} / {load_after[0]:.2f} on {benchlib.machine()['nproc']} cores.",
        f"`Tagger().nlp.pipe(texts, n_process=2)` as shipped fails: `{failure[:160]}` — the Doc goes back from the "
        "worker through msgpack and `doc._.conditions` holds `ConditionHit` dataclasses. The rows below add a "
        "benchmark-only last component that turns them into tuples.",
        table(["measure", "throughput", "speed-up"], rows),
    ])
    return Result(
        name="tagger", title="Tagging: one process vs two",
        command=f"benchmarks/bench_tagger_processes.py --n {n}", section=section,
        targets=[
            Target("tagging, abstracts per second per core (`nlp.pipe`, one process)",
                   f"{base['pipe_docs_s']:,} abstracts/s, {base['pipe_tokens_s']:,} tokens/s", "≥ 5,000 abstracts/s",
                   base["pipe_docs_s"] >= 5000),
            Target("tagging, `nlp.pipe` n_process 2 vs 1", f"{n / pipe[1][0]:,.0f} → {n / pipe[2][0]:,.0f} abstracts/s "
                   f"({pipe[1][0] / pipe[2][0]:.2f}×)", "(reported)", None),
            Target("tagging, records across 2 processes vs 1", f"{n / recs[1][0]:,.0f} → {n / recs[2][0]:,.0f} records/s "
                   f"({recs[1][0] / recs[2][0]:.2f}×)", "(reported)", None),
        ],
        data={"base": base, "pipe": pipe, "records": recs, "failure": failure, "load": [load_before, load_after]},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--articles", type=int, dest="n", default=argparse.SUPPRESS,
                        help="alias of --n (run_all passes it)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    benchlib.publish(run(args.n, args.seed, args.batch_size), write_docs=not args.no_docs)


if __name__ == "__main__":
    main()
