"""Shared helpers for the benchmarks (run by hand, never in CI).

* `machine()` describes the machine (nproc, CPU model, RAM, Python and library versions);
* `run_measured()` runs a command and measures its wall time and the peak RSS of its whole
  process tree (Linux /proc polling, no extra dependency) plus the largest single process's
  peak from `wait4`;
* `publish()` stores a benchmark's result under `benchmarks/.data/results/` and rewrites that
  benchmark's section, the summary table and the machine table of `docs/benchmarks.md`
  (the text outside the generated regions is left alone).
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / "benchmarks"
DATA_DIR = BENCH_DIR / ".data"
RESULTS_DIR = DATA_DIR / "results"
PROFILES_DIR = DATA_DIR / "profiles"
DOCS = ROOT / "docs" / "benchmarks.md"
LOAD_AT_IMPORT = os.getloadavg()[0]  # the machine may be shared: every result says how busy it was
PAGE = os.sysconf("SC_PAGE_SIZE")
ORDER = ("replay", "backfill", "noop", "tagger", "dashboard", "scaleout")


# ------------------------------------------------------------------------------------ machine

def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("duckdb", "spacy", "lxml", "prefect", "streamlit", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def machine() -> dict[str, str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, AttributeError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": str(usable), "cpu": model, "ram": mem,
            "os": f"{platform.system()} {platform.release()}", **_versions()}


def machine_line(info: dict[str, str]) -> str:
    return (f"{info['nproc']} × {info['cpu']}, {info['ram']} RAM, {info['os']}; Python {info['python']}, "
            f"duckdb {info['duckdb']}, spaCy {info['spacy']}, lxml {info['lxml']}, Prefect {info['prefect']}, "
            f"Streamlit {info['streamlit']}, pyarrow {info['pyarrow']}")


# ------------------------------------------------------------------------- process measuring

def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    children = _children_map()
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, ()))
    return out


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreeSampler(threading.Thread):
    """Polls the RSS of a process and all its descendants; keeps the peak of their sum."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.peak_processes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = tree_pids(self.pid)
            total = sum(rss_bytes(p) for p in pids)
            self.peak = max(self.peak, total)
            self.peak_processes = max(self.peak_processes, len(pids))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Measured:
    command: list[str]
    wall_s: float
    returncode: int
    peak_tree_rss: int  # bytes, sum over the process tree, sampled every 50 ms
    peak_process_rss: int  # bytes, largest single process (wait4 ru_maxrss, exact)
    processes: int
    stdout: str = ""
    stderr: str = ""
    stderr_lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds from start, line)

    def check(self) -> "Measured":
        if self.returncode != 0:
            raise SystemExit(f"command failed ({self.returncode}): {' '.join(self.command)}\n"
                             f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}")
        return self


def run_measured(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
                 stdin: bytes | None = None) -> Measured:
    """Run `command` to completion; wall time, peak tree RSS, output (stderr lines timestamped
    as they arrive, so a benchmark can tell where a command's wall time went)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, cwd=cwd or ROOT, stdout=out, stderr=subprocess.PIPE,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(target=lambda: lines.extend(
            (time.perf_counter() - start, raw.decode(errors="replace").rstrip("\n")) for raw in proc.stderr), daemon=True)
        reader.start()
        sampler = TreeSampler(proc.pid)
        sampler.start()
        if stdin is not None:
            proc.stdin.write(stdin)
            proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
        reader.join(timeout=10)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return Measured(command, wall, proc.returncode, sampler.peak, usage.ru_maxrss * 1024,
                        sampler.peak_processes, out.read().decode(errors="replace"),
                        "\n".join(line for _, line in lines), lines)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a trialwatch child: quiet Prefect, no .env surprises, repo on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIALWATCH_", "NCBI_"))}
    env.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


@contextmanager
def prefect_server() -> Iterator[str]:
    """A Prefect server for the block (Prefect's own temporary-server process): its API URL.
    Commands given `PREFECT_API_URL=<it>` skip the per-command start-up, as scheduled runs
    under `trialwatch serve` or against a self-hosted server do."""
    from prefect.server.api.server import SubprocessASGIServer

    # as `trialwatch` does for its own temporary servers: the analytics heartbeat's first write
    # races the start-up's other writes to its SQLite database ("database is locked" tracebacks)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    server = SubprocessASGIServer()
    server.start()
    try:
        yield server.api_url
    finally:
        server.stop()


def trialwatch_command() -> list[str]:
    script = Path(sys.executable).with_name("trialwatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


# ------------------------------------------------------------------------------- formatting

def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def secs(s: float) -> str:
    return f"{s:,.1f} s" if s >= 10 else f"{s:,.2f} s"


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Target:
    measure: str
    figure: str
    target: str
    met: bool | None  # None: informational

    @property
    def verdict(self) -> str:
        return "—" if self.met is None else ("met" if self.met else "**missed**")


@dataclass
class Result:
    name: str  # one of ORDER
    title: str
    command: str
    section: str  # markdown body of the benchmark's section
    targets: list[Target] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    when: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    machine: dict = field(default_factory=machine)
    load: tuple = field(default_factory=lambda: (LOAD_AT_IMPORT, os.getloadavg()[0]))  # 1-min load, start / end


# ------------------------------------------------------------------------------ docs/benchmarks.md

TEMPLATE = """# Benchmarks

Run by hand, never in CI. Each benchmark is one command from a fresh clone, prints its figures
and rewrites its own section of this file (the generated regions between the `BEGIN`/`END`
markers; the text outside them is written by hand):

```sh
python3 tasks.py bench                          # from a fresh clone: install, then everything (~10 minutes)
python3 tasks.py bench --only replay scaleout   # some of them
.venv/bin/python benchmarks/bench_replay.py     # one benchmark directly; --articles N to run smaller
```

<!-- BEGIN machine -->
<!-- END machine -->

## Summary

<!-- BEGIN summary -->
<!-- END summary -->

<!-- BEGIN replay -->
<!-- END replay -->

<!-- BEGIN backfill -->
<!-- END backfill -->

<!-- BEGIN noop -->
<!-- END noop -->

<!-- BEGIN tagger -->
<!-- END tagger -->

<!-- BEGIN dashboard -->
<!-- END dashboard -->

<!-- BEGIN scaleout -->
<!-- END scaleout -->
"""


def _replace_region(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if begin not in text:
        text = text.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.strip()}\n{end}{tail}"


def _region(text: str, name: str) -> str:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if begin not in text or end not in text:
        return ""
    return text.split(begin, 1)[1].split(end, 1)[0]


SUMMARY_HEADER = ["benchmark", "measure", "figure", "target", "verdict"]


def _summary(text: str, results: dict[str, dict]) -> str:
    """Rows from stored results; a benchmark without a stored result keeps its old rows."""
    old_rows: dict[str, list[str]] = {}
    for line in _region(text, "summary").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells and cells[0] in ORDER:
            old_rows.setdefault(cells[0], []).append(line)
    lines = ["| " + " | ".join(SUMMARY_HEADER) + " |", "|---|---|---|---|---|"]
    for name in ORDER:
        if name in results:
            for t in results[name]["targets"]:
                verdict = "—" if t["met"] is None else ("met" if t["met"] else "**missed**")
                lines.append(f"| {name} | {t['measure']} | {t['figure']} | {t['target']} | {verdict} |")
        else:
            lines += old_rows.get(name, [])
    return "\n".join(lines)


def load_results() -> dict[str, dict]:
    out = {}
    for name in ORDER:
        path = RESULTS_DIR / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
    return out


def render_docs(results: dict[str, dict] | None = None) -> None:
    results = load_results() if results is None else results
    text = DOCS.read_text() if DOCS.exists() else TEMPLATE
    info = machine()
    text = _replace_region(text, "machine", "Machine (the last run): " + machine_line(info) + ".")
    text = _replace_region(text, "summary", _summary(text, results))
    for name, result in results.items():
        load = result.get("load") or (float("nan"), float("nan"))
        body = (f"## {result['title']}\n\n`{result['command']}` — run {result['when']} on "
                f"{result['machine']['nproc']} × {result['machine']['cpu']}; 1-minute load average "
                f"{load[0]:.1f} at the start, {load[1]:.1f} at the end.\n\n{result['section']}")
        text = _replace_region(text, name, body)
    DOCS.write_text(text)


def publish(result: Result, *, write_docs: bool = True) -> None:
    """Print the result; unless `write_docs` is off (trial runs, smaller corpora), store it and
    rewrite docs/benchmarks.md from every stored result."""
    data = asdict(result)
    if write_docs:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{result.name}.json").write_text(json.dumps(data, indent=1, default=str))
    print()
    print(f"== {result.title}")
    for t in result.targets:
        print(f"  {t.measure}: {t.figure}  (target {t.target}: {t.verdict})")
    if write_docs:
        render_docs({**load_results(), result.name: data})
        print(f"wrote {DOCS.relative_to(ROOT)}")


def profile_summary(pstats_path: Path, limit: int = 25, sort: str = "cumulative") -> str:
    """The top of a cProfile dump as text (for docs and the console)."""
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(str(pstats_path), stream=buffer)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    return buffer.getvalue()


class StageTimer:
    """Wall time per stage name, accumulated around wrapped functions, and which threads ran
    each stage (so a benchmark can tell the fetch thread's time from the main thread's)."""

    def __init__(self) -> None:
        from collections import defaultdict

        self.spent: dict[str, float] = defaultdict(float)
        self.threads: dict[str, set[str]] = defaultdict(set)

    def iterate(self, name: str, items):
        """Yield from `items`, adding the time spent waiting for each next item to `name`."""
        iterator = iter(items)
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self.spent[name] += time.perf_counter() - start
                self.threads[name].add(threading.current_thread().name)
            yield item

    def add(self, name: str, seconds: float) -> None:
        self.spent[name] += seconds
        self.threads[name].add(threading.current_thread().name)

    def wrap(self, name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - start
                self.threads[name].add(threading.current_thread().name)
        return wrapper
