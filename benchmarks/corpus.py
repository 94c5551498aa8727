"""Scale corpus for the benchmarks: deterministic PubMed XML and ClinicalTrials.gov JSON.

    .venv/bin/python benchmarks/corpus.py                      # 50,000 articles + 2,000 trials
    .venv/bin/python benchmarks/corpus.py --articles 5000      # smaller

The corpus is `flows.demo.generate_sample` at a chosen size (same generator as the demo:
real efetch/v2 formats, MeSH lag, links between papers and trials, every status), dated
`DEFAULT_TODAY` so it does not depend on the wall clock, and cached under
`benchmarks/.data/corpus-a<N>-t<M>-s<seed>-<today>/`:

* `pubmed.xml` — one `PubmedArticleSet` with every article (≈ 6.2 kB an article);
* `ctgov.json` — the list of v2 study objects;
* `archive/` — the same records as a trialwatch raw archive (`RawArchive` layout), as a backfill
  would have stored them: efetch-like pages of 200 articles (newest Entrez date first, as esearch
  lists them) and `/studies` pages of 1,000 studies with `totalCount` / `nextPageToken`;
* `meta.json` — sizes, written last (a cache without it is regenerated).

50,000 articles take ~15 s and ~1.4 GB of memory to generate in one go, so the corpus is not
generated in chunks (chunks would need PMIDs and NCT ids made unique across them).

Serving: `serve(corpus, latency=0.1)` starts `PubMedStandIn` (NCBI's 10 req/s enforced for
API-key requests) and `CtGovStandIn` **in a child process**, so the stand-ins' serving threads do
not compete with the code being measured for the GIL, and returns their URLs and request logs.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import DATA_DIR  # noqa: E402  (also puts the repo root on sys.path)

DEFAULT_ARTICLES = 50_000
DEFAULT_TRIALS = 2_000
DEFAULT_SEED = 2026
DEFAULT_TODAY = date(2026, 6, 30)  # fixed: nights run later than this find nothing new
EFETCH_PAGE = 200
CTGOV_PAGE = 1_000
ARCHIVE_RUN = {"pubmed": "20260630T030000000000Z-pubmed-1", "ctgov": "20260630T030000000000Z-ctgov-1"}


@dataclass(frozen=True)
class Corpus:
    root: Path
    articles: int
    trials: int
    seed: int
    today: date

    @property
    def pubmed_path(self) -> Path:
        return self.root / "pubmed.xml"

    @property
    def ctgov_path(self) -> Path:
        return self.root / "ctgov.json"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def meta(self) -> dict:
        return json.loads((self.root / "meta.json").read_text())

    def pubmed_xml(self) -> bytes:
        return self.pubmed_path.read_bytes()

    def studies(self) -> list[dict]:
        return json.loads(self.ctgov_path.read_bytes())

    def pubmed_records(self):
        from extract.standins import pubmed_records_from_xml

        return pubmed_records_from_xml(self.pubmed_xml())

    def archive_files(self, source: str | None = None) -> list[Path]:
        sources = (source,) if source else ("pubmed", "ctgov")
        return [p for s in sources for p in sorted((self.archive_dir / s).glob("*/*.gz"))]


def corpus_dir(articles: int, trials: int, seed: int, today: date, cache: Path = DATA_DIR) -> Path:
    return cache / f"corpus-a{articles}-t{trials}-s{seed}-{today:%Y%m%d}"


def ensure_gitignore(cache: Path = DATA_DIR) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# benchmark corpora, warehouses, results and profiles: generated, never committed\n*\n"
                          "!.gitignore\n")


def ensure(articles: int = DEFAULT_ARTICLES, trials: int = DEFAULT_TRIALS, *, seed: int = DEFAULT_SEED,
           today: date = DEFAULT_TODAY, cache: Path = DATA_DIR, quiet: bool = False) -> Corpus:
    """The cached corpus of that size, generated (and archived) first if it is not there yet."""
    ensure_gitignore(cache)
    root = corpus_dir(articles, trials, seed, today, cache)
    corpus = Corpus(root, articles, trials, seed, today)
    if (root / "meta.json").exists():
        return corpus
    say = (lambda *_: None) if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    from flows.demo import generate_sample

    root.mkdir(parents=True, exist_ok=True)
    say(f"corpus: generating {articles:,} articles + {trials:,} trials (seed {seed}, today {today}) in {root}")
    start = time.perf_counter()
    sample = generate_sample(seed=seed, today=today, n_articles=articles, n_trials=trials)
    generated = time.perf_counter() - start
    corpus.pubmed_path.write_bytes(sample.pubmed_xml)
    corpus.ctgov_path.write_bytes(json.dumps(sample.studies, ensure_ascii=False, separators=(",", ":")).encode())
    del sample
    say(f"corpus: generated in {generated:.1f} s; writing the raw archive")
    start = time.perf_counter()
    pages = write_archive(corpus, corpus.archive_dir)
    archived = time.perf_counter() - start
    meta = {
        "articles": articles, "trials": trials, "seed": seed, "today": today.isoformat(),
        "pubmed_xml_bytes": corpus.pubmed_path.stat().st_size, "ctgov_json_bytes": corpus.ctgov_path.stat().st_size,
        "archive_pages": pages, "archive_bytes": sum(p.stat().st_size for p in corpus.archive_files()),
        "generate_seconds": round(generated, 2), "archive_seconds": round(archived, 2),
    }
    (root / "meta.json").write_text(json.dumps(meta, indent=1))
    say(f"corpus: {meta['pubmed_xml_bytes'] / 1e6:,.0f} MB XML, {meta['ctgov_json_bytes'] / 1e6:,.1f} MB JSON, "
        f"archive {pages} (gz {meta['archive_bytes'] / 1e6:,.0f} MB) in {archived:.1f} s")
    return corpus


def efetch_pages(records, page_size: int = EFETCH_PAGE) -> Iterator[bytes]:
    """efetch answers as the stand-in (and NCBI) builds them, `page_size` records each, in the
    order esearch lists PMIDs (newest Entrez date first)."""
    from extract.standins import EFETCH_PROLOG

    ordered = sorted(records, key=lambda r: (r.entrez_date, r.pmid), reverse=True)
    for i in range(0, len(ordered), page_size):
        chunk = ordered[i:i + page_size]
        yield b"".join([EFETCH_PROLOG, b"<PubmedArticleSet>\n", *(r.xml + b"\n" for r in chunk),
                        b"</PubmedArticleSet>\n"])


def studies_pages(studies: list[dict], page_size: int = CTGOV_PAGE) -> Iterator[bytes]:
    """`/studies` answers in nctId order with totalCount (first page) and nextPageToken."""
    ordered = sorted(studies, key=lambda s: s["protocolSection"]["identificationModule"]["nctId"])
    for i in range(0, len(ordered), page_size):
        page: dict = {"studies": ordered[i:i + page_size]}
        if i == 0:
            page["totalCount"] = len(ordered)
        if i + page_size < len(ordered):
            page["nextPageToken"] = f"bench-{i + page_size}"
        yield json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


def write_archive(corpus: Corpus, target: Path) -> dict[str, int]:
    """The corpus as a raw archive (RawArchive layout) under `target`; pages per source."""
    from extract.archive import RawArchive
    from extract.pages import RawPage

    archive = RawArchive(target)
    counts = Counter()
    for seq, body in enumerate(efetch_pages(corpus.pubmed_records()), start=1):
        archive.write(ARCHIVE_RUN["pubmed"], seq, RawPage("pubmed", body, "xml"))
        counts["pubmed"] += 1
    for seq, body in enumerate(studies_pages(corpus.studies()), start=1):
        archive.write(ARCHIVE_RUN["ctgov"], seq, RawPage("ctgov", body, "json"))
        counts["ctgov"] += 1
    return dict(counts)


def empty_archive(target: Path) -> Path:
    """An archive holding one ClinicalTrials.gov page with no studies (for timing a trivial
    replay: `trialwatch replay` refuses a folder with no pages at all)."""
    from extract.archive import RawArchive
    from extract.pages import RawPage

    for source in ("pubmed", "ctgov"):
        (target / source).mkdir(parents=True, exist_ok=True)
    RawArchive(target).write("20000101T000000000000Z-ctgov-0", 1,
                             RawPage("ctgov", b'{"studies": [], "totalCount": 0}', "json"))
    return target


# ------------------------------------------------------------------------------------- serving

class Served:
    """Stand-ins running in a child process; `stats()` reads their request logs."""

    def __init__(self, proc: subprocess.Popen, urls: dict):
        self.proc, self.pubmed_url, self.ctgov_url = proc, urls["pubmed"], urls["ctgov"]
        self.load_seconds = urls.get("load_seconds")

    def _ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the stand-in process ended (exit {self.proc.poll()})")
        return json.loads(line)

    def stats(self) -> dict:
        return self._ask("stats")

    def reset(self) -> dict:
        return self._ask("reset")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def serve(corpus: Corpus | None, *, latency: float = 0.1, enforce_rate_limit: bool = True) -> Iterator[Served]:
    """Serve `corpus` (None: empty stores) from PubMedStandIn + CtGovStandIn in a child process."""
    command = [sys.executable, str(Path(__file__).resolve()), "serve", "--latency", str(latency)]
    if corpus is not None:
        command += ["--root", str(corpus.root)]
    if not enforce_rate_limit:
        command.append("--no-rate-limit")
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"the stand-in process failed to start (exit {proc.returncode})")
    served = Served(proc, json.loads(line))
    try:
        yield served
    finally:
        served.close()


def _standin_stats(standin) -> dict:
    log = standin.requests.snapshot()
    return {
        "requests": len(log),
        "by_endpoint": dict(Counter(r.endpoint or "?" for r in log)),
        "by_status": {str(k): v for k, v in Counter(r.status for r in log).items()},
        "rate_limited": getattr(standin, "rate_limited", 0),
        "faults": dict(standin.faults_served),
    }


def _serve_main(root: str | None, latency: float, enforce_rate_limit: bool) -> None:
    from extract.standins import CtGovStandIn, PubMedStandIn

    start = time.perf_counter()
    if root:
        corpus = Corpus(Path(root), 0, 0, 0, DEFAULT_TODAY)
        records, studies = corpus.pubmed_records(), corpus.studies()
    else:
        records, studies = [], []
    loaded = time.perf_counter() - start
    pubmed = PubMedStandIn(records, enforce_rate_limit=enforce_rate_limit, latency=latency).start()
    ctgov = CtGovStandIn(studies, latency=latency).start()
    del records, studies
    print(json.dumps({"pubmed": pubmed.url, "ctgov": ctgov.url, "load_seconds": round(loaded, 2)}), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                for standin in (pubmed, ctgov):
                    standin.requests.clear()
                    standin.faults_served.clear()
                pubmed.rate_limited = 0
            if command in ("stats", "reset"):
                print(json.dumps({"pubmed": _standin_stats(pubmed), "ctgov": _standin_stats(ctgov)}), flush=True)
    finally:
        pubmed.stop()
        ctgov.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate (or serve) the benchmark corpus.")
    parser.add_argument("command", nargs="?", default="generate", choices=["generate", "serve"])
    parser.add_argument("--articles", type=int, default=DEFAULT_ARTICLES)
    parser.add_argument("--trials", type=int, default=DEFAULT_TRIALS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    parser.add_argument("--root", help="serve: the corpus folder (default: empty stores)")
    parser.add_argument("--latency", type=float, default=0.1, help="serve: seconds added to every answer")
    parser.add_argument("--no-rate-limit", action="store_true", help="serve: do not enforce NCBI's limit")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve_main(args.root, args.latency, not args.no_rate_limit)
        return
    corpus = ensure(args.articles, args.trials, seed=args.seed, today=args.today)
    print(json.dumps({"root": str(corpus.root), **corpus.meta}, indent=1))


if __name__ == "__main__":
    main()
