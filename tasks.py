#!/usr/bin/env python3
"""trialwatch's task runner: needs only Python 3.11+ and pip.

    python3 tasks.py run --demo   # install into .venv, ingest the offline demo sample, open the dashboard
    python3 tasks.py run          # the same against the real PubMed and ClinicalTrials.gov
    python3 tasks.py test         # install into .venv, run the whole test suite
    python3 tasks.py test --fast  # the quick subset (no servers, browser or demo build): under two minutes
    python3 tasks.py install      # just (re)install into .venv
    python3 tasks.py bench        # install into .venv, run every benchmark (docs/benchmarks.md; ~10 min)

Arguments after the task go to `trialwatch run` / pytest / benchmarks/run_all.py (e.g.
`run --demo --night 2`, `test -x`, `bench --only replay`).

The virtual environment is (re)installed when pyproject.toml changes.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("TRIALWATCH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".trialwatch-installed"


def run(*command: str | Path) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], cwd=ROOT, check=True)


def install() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"trialwatch needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    task, *rest = argv or ["help"]
    if task == "install":
        install()
    elif task == "test":
        install()
        if "--fast" in rest:  # the quick subset while developing (under two minutes); CI runs everything
            rest = [arg for arg in rest if arg != "--fast"] + ["-m", "not slow"]
        return subprocess.run([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT).returncode
    elif task == "run":
        install()
        return subprocess.run([str(BIN / "trialwatch"), "run", *rest], cwd=ROOT).returncode
    elif task == "bench":
        install()
        return subprocess.run([str(BIN / "python"), "benchmarks/run_all.py", *rest], cwd=ROOT).returncode
    else:
        print(__doc__)
        return 0 if task == "help" else 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
