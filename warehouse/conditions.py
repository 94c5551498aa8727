"""The condition vocabulary in the warehouse (`condition_concepts`): the lexicon's concepts and
hierarchy plus the MeSH descriptors of each condition group, so `v_record_condition_groups` and
analysts can include every narrower concept of a broader one. Rebuilt when the shipped files
change (read with tomllib, not the tagger, so opening a warehouse never loads spaCy)."""
from __future__ import annotations

import hashlib
import tomllib
from importlib import resources

import duckdb
import pyarrow as pa

from extract.condition_groups import GROUP_CATEGORY, group_label
from extract.mesh import parse_mesh_groups

STORED_SHA = "SELECT any_value(definition_sha256) FROM condition_concepts"
REPLACE = "DELETE FROM condition_concepts; INSERT INTO condition_concepts BY NAME SELECT * FROM concept_rows"


def _files() -> tuple[bytes, bytes]:
    package = resources.files("extract")
    return package.joinpath("conditions.toml").read_bytes(), package.joinpath("mesh_groups.tsv").read_bytes()


def concept_rows() -> pa.Table:
    """One row per (concept, group): lexicon concepts first, then MeSH-only descriptors."""
    lexicon_bytes, groups_bytes = _files()
    sha = hashlib.sha256(lexicon_bytes + b"\0" + groups_bytes).hexdigest()
    described = parse_mesh_groups(groups_bytes.decode("utf-8"))
    groups = {ui: set(gs) for ui, (_, gs) in described.items()}
    rows = []
    lexicon = {c["ui"]: c for c in tomllib.loads(lexicon_bytes.decode("utf-8")).get("concept", [])}
    for ui, concept in lexicon.items():
        for group in sorted(groups.get(ui) or {concept["category"]}):
            rows.append(_row(ui, concept["name"], concept["category"], group, concept.get("parent"), True, sha))
    for ui in sorted(set(groups) - set(lexicon)):
        for group in sorted(groups[ui]):
            rows.append(_row(ui, described[ui][0], GROUP_CATEGORY.get(group, "other"), group, None, False, sha))
    return pa.Table.from_pylist(rows)


def _row(ui, concept, category, group, parent, in_lexicon, sha) -> dict:
    return {"mesh_id": ui, "concept": concept, "category": category, "condition_group": group,
            "condition_group_label": group_label(group), "parent_mesh_id": parent,
            "in_lexicon": in_lexicon, "definition_sha256": sha}


def sync_condition_concepts(conn: duckdb.DuckDBPyConnection) -> bool:
    """Rewrite condition_concepts if the shipped files changed; True when it did."""
    rows = concept_rows()
    if conn.execute(STORED_SHA).fetchall()[0][0] == rows["definition_sha256"][0].as_py():
        return False
    conn.register("concept_rows", rows)
    try:
        for statement in REPLACE.split(";"):
            conn.execute(statement)
    finally:
        conn.unregister("concept_rows")
    return True
