"""Docs that cannot drift: every CLI command is documented, the README's test command is the
one CI runs, and the README's quickstart has exactly two commands."""
from __future__ import annotations

import re
from pathlib import Path

from flows.cli import build_parser

REPO = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(subparsers.choices)


def test_every_cli_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [name for name in commands() if f"trialwatch {name}" not in readme]
    assert missing == [], f"document these commands in README.md: {missing}"


def test_the_quickstart_has_two_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [re.sub(r"\s+#.*", "", line).strip() for line in quickstart.strip().splitlines()]
    assert lines == ["python3 tasks.py run --demo", "python3 tasks.py test"]
    assert "python3 tasks.py test" in (REPO / ".ci" / "run").read_text()


def test_every_documented_setting_is_read_by_the_code():
    readme = (REPO / "README.md").read_text()
    names = set(re.findall(r"`((?:TRIALWATCH|NCBI)_[A-Z_]+)`", readme))
    sources = [*(REPO / "flows").glob("*.py"), REPO / "tests" / "conftest.py"]
    code = "".join(path.read_text() for path in sources)
    assert names and [n for n in sorted(names) if n not in code] == []
