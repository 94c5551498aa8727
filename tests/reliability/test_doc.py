"""docs/reliability.md stays honest: every fault case of the suite has a row in its table, every
row is a case of the suite, every case and every guarantee names a test that exists, and the
renderer that writes the table works."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.reliability.cases import CASES
from tests.reliability.render_doc import DOC, END, START

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
ROW = re.compile(r"^\|[^|]*\|\s*`([^`]+)`\s*\|")


def table_case_ids(doc: str) -> list[str]:
    assert doc.count(START) == 1 and doc.count(END) == 1, "the table markers are missing from docs/reliability.md"
    table = doc.split(START)[1].split(END)[0]
    return [match.group(1) for line in table.splitlines() if (match := ROW.match(line))]


def defined_tests(folder: Path) -> dict[str, set[str]]:
    """module path (relative to `folder`) → names of the test functions it defines."""
    found = {}
    for path in folder.rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        found[str(path.relative_to(folder))] = {node.name for node in ast.walk(tree)
                                                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return found


def test_every_fault_case_has_a_row_in_the_doc():
    ids = table_case_ids(DOC.read_text())
    missing = [case.id for case in CASES if case.id not in ids]
    assert not missing, f"cases without a row in docs/reliability.md: {missing}; run tests/reliability/render_doc.py"
    stale = [case_id for case_id in ids if case_id not in {case.id for case in CASES}]
    assert not stale, f"rows for cases the suite no longer has: {stale}; run tests/reliability/render_doc.py"
    assert len(ids) == len(set(ids)) == len(CASES)


def test_every_case_names_a_test_that_exists():
    defined = defined_tests(HERE)
    for case in CASES:
        module, _, function = case.test.partition("::")
        assert function in defined.get(module, set()), f"{case.id}: no test {case.test} in tests/reliability"


def test_every_guarantee_in_the_doc_names_a_test_that_exists():
    doc = DOC.read_text()
    guarantees = doc.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    bullets = [block for block in re.split(r"\n(?=- )", guarantees) if block.startswith("- ")]
    defined = {name for names in defined_tests(TESTS).values() for name in names}
    assert len(bullets) >= 8
    for bullet in bullets:
        named = re.findall(r"`(test_\w+)`", bullet)
        assert named, f"a guarantee names no test: {bullet[:120]}"
        unknown = [name for name in named if name not in defined]
        assert not unknown, f"a guarantee names tests that do not exist: {unknown}"


def test_render_doc_rewrites_only_the_table(tmp_path):
    doc = tmp_path / "reliability.md"
    doc.write_text(f"# Title\n\nprose before\n\n{START}\nold table\n{END}\n\nprose after\n")
    results = tmp_path / "results.jsonl"
    first = CASES[0]
    lines = [{"case": first.id, "outcome": "an old outcome", "verdict": "failed", "test": "x", "at": "2026-01-01T00:00:00"},
             {"case": first.id, "outcome": "the latest | outcome", "verdict": "passed", "test": "x",
              "at": "2026-01-02T00:00:00"}]
    results.write_text("".join(json.dumps(line) + "\n" for line in lines))
    script = HERE / "render_doc.py"
    run = subprocess.run([sys.executable, str(script), "--doc", str(doc), "--results", str(results)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    text = doc.read_text()
    assert text.startswith("# Title\n\nprose before\n\n") and text.endswith("\n\nprose after\n")
    assert "old table" not in text and "an old outcome" not in text
    assert "the latest \\| outcome" in text and "✅ holds" in text
    assert table_case_ids(text) == [case.id for case in CASES]
    assert "not measured yet" in text           # the cases without a result still have their row
