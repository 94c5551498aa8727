"""ruff (rule set in pyproject.toml) over the whole repository: CI lints through the same test
command as everything else."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_ruff_finds_nothing():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_would_catch_an_unused_import(tmp_path):
    """The check is not vacuous: the configured rules flag a real problem."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n")
    result = ruff("check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(sample))
    assert result.returncode == 1 and "F401" in result.stdout
