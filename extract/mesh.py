"""MeSH helpers shared by the tagger's evaluation and the conditions taken from indexing:
descriptor → condition group (from NLM's MeSH tree, shipped as `extract/mesh_groups.tsv`),
descriptor UIs in NLM's form, and major topics."""
from __future__ import annotations

from collections import defaultdict
from importlib import resources
from pathlib import Path

# group → MeSH tree branches (2017 tree numbers). A tree number belongs to the group of the
# longest branch it falls under; a branch mapped to None takes its subtree out of a group
# (angina is ischaemic heart disease, not a pain condition anyone filters for).
GROUP_BRANCHES: dict[str, tuple[str, ...]] = {
    "depressive": ("F03.600.300", "F01.145.126.350"),
    "bipolar": ("F03.084", "F03.600.500"),
    "anxiety": ("F03.080", "F01.470.132"),
    "ocd": ("F03.080.600",),
    "trauma": ("F03.950",),
    "substance use": ("F03.900",),
    "psychotic": ("F03.700",),
    "suicidality": ("F01.145.126.980.875",),
    "eating": ("F03.400",),
    "neurodevelopmental": ("F03.625",),
    "sleep": ("F03.870", "C10.886"),
    "pain": (
        "C23.888.592.612", "C10.597.617", "C10.228.140.546", "C10.177.195", "C05.651.324",
        "C10.292.319.625.700.700",
    ),
}
EXCLUDED_BRANCHES: tuple[str, ...] = ("C23.888.592.612.233.500", "C10.597.617.192.500")
def _branch_table() -> list[tuple[str, str | None]]:
    table: list[tuple[str, str | None]] = [
        (branch, group) for group, branches in GROUP_BRANCHES.items() for branch in branches
    ]
    table += [(branch, None) for branch in EXCLUDED_BRANCHES]
    return table


def group_of_tree_number(tree_number: str) -> str | None:
    """The group of the longest branch a tree number falls under (None: no group)."""
    best: tuple[int, str | None] = (-1, None)
    for branch, group in _branch_table():
        if (tree_number == branch or tree_number.startswith(branch + ".")) and len(branch) > best[0]:
            best = (len(branch), group)
    return best[1]


def read_tree(tree_file: Path) -> list[tuple[str, str, str]]:
    """(tree number, descriptor UI, term) rows of NLM's tree listing (UTF-8 with BOM, TSV)."""
    rows = []
    with open(tree_file, encoding="utf-8-sig") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 3 or parts[0] == "Tree Number":
                continue
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def build_mesh_groups(tree_file: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Descriptor UI → (term, groups) for every descriptor with a tree number in a group branch."""
    names: dict[str, str] = {}
    groups: dict[str, set[str]] = defaultdict(set)
    for tree_number, ui, term in read_tree(tree_file):
        group = group_of_tree_number(tree_number)
        if group:
            groups[ui].add(group)
            names[ui] = term
    return {ui: (names[ui], frozenset(gs)) for ui, gs in groups.items()}


def format_mesh_groups(groups: dict[str, tuple[str, frozenset[str]]]) -> str:
    lines = ["descriptor_ui\tgroup\tterm"]
    for ui in sorted(groups):
        name, gs = groups[ui]
        lines += [f"{ui}\t{g}\t{name}" for g in sorted(gs)]
    return "\n".join(lines) + "\n"


def default_mesh_groups_path() -> Path:
    return Path(str(resources.files("extract").joinpath("mesh_groups.tsv")))


def parse_mesh_groups(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """The mesh_groups.tsv format (what `format_mesh_groups` writes) → UI → (term, groups)."""
    terms: dict[str, str] = {}
    groups: dict[str, set[str]] = defaultdict(set)
    for line in text.splitlines()[1:]:
        if line.strip():
            ui, group, term = line.split("\t", 2)
            groups[ui].add(group)
            terms[ui] = term
    return {ui: (terms[ui], frozenset(gs)) for ui, gs in groups.items()}


def load_mesh_groups(path: Path | None = None) -> dict[str, frozenset[str]]:
    """Descriptor UI → groups, from the shipped TSV (or `path`)."""
    text = (path or default_mesh_groups_path()).read_text(encoding="utf-8")
    return {ui: groups for ui, (_, groups) in parse_mesh_groups(text).items()}


# The highest 6-digit descriptor UI (D066331); 9-digit UIs start above it (D000066388 in the
# 2017 tree), so a 9-digit UI at or below this number is a zero-padded 6-digit one.
LAST_SIX_DIGIT_UI = 66331


def normalize_ui(ui: str) -> str:
    """A descriptor UI in NLM's form: ClinicalTrials.gov pads old 6-digit UIs to 9 digits
    ("D000000437" for D000437)."""
    if len(ui) == 10 and ui[0] == "D" and ui[1:].isdigit() and int(ui[1:]) <= LAST_SIX_DIGIT_UI:
        return f"D{int(ui[1:]):06d}"
    return ui


def is_major_topic(heading: dict) -> bool:
    """A major topic: the descriptor or one of its qualifiers is starred ("Depression/therapy*")."""
    return bool(heading.get("major")) or any(q.get("major") for q in heading.get("qualifiers") or [])
