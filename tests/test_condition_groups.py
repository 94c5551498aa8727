"""Conditions by group and hierarchy (v_record_condition_groups): choosing a broader concept or a
group finds every narrower concept, and nothing outside it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from extract.ctgov_parser import parse_study
from flows import pipeline
from flows.prepare import default_tagger
from warehouse.db import open_warehouse
from warehouse.load import load_page, transaction

ROOT = Path(__file__).resolve().parents[1]
BY_GROUP = """
SELECT DISTINCT record_id FROM v_record_condition_groups WHERE condition_group = ? ORDER BY 1
"""
BY_BROADER = """
SELECT DISTINCT record_id FROM v_record_condition_groups WHERE broader_concept = ? ORDER BY 1
"""


def study(nct_id: str, title: str, conditions: list[str], meshes: list[tuple[str, str]] = ()) -> dict:
    """A minimal ClinicalTrials.gov v2 study, read by the real parser."""
    record = parse_study({
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": title},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": conditions},
            "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": "Psilocybin"}]},
        },
        "derivedSection": {"conditionBrowseModule": {"meshes": [{"id": i, "term": t} for i, t in meshes]}},
    })
    record["drugs"] = ["psilocybin"]
    return record


TRIALS = [
    study("NCT90000001", "Psilocybin for treatment-resistant depression", ["Treatment Resistant Depression"],
          [("D000061218", "Depressive Disorder, Treatment-Resistant")]),
    study("NCT90000002", "Psilocybin for major depressive disorder", ["Major Depressive Disorder"]),
    study("NCT90000003", "Psilocybin for existential distress in advanced cancer", ["Existential Distress"]),
    study("NCT90000004", "Psilocybin-assisted therapy for PTSD", ["Post-traumatic Stress Disorder"],
          [("D000013313", "Stress Disorders, Post-Traumatic")]),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    conn = open_warehouse(tmp_path_factory.mktemp("groups") / "w.duckdb")
    with transaction(conn):
        load_page(conn, "trial", TRIALS, run_id="r1")
        pipeline.tag_records(conn, "trial", TRIALS, default_tagger())
    yield conn
    conn.close()


def test_a_broader_concept_finds_every_narrower_one(warehouse):
    depression = [r[0] for r in warehouse.execute(BY_BROADER, ["Depression"]).fetchall()]
    major = [r[0] for r in warehouse.execute(BY_BROADER, ["Depressive Disorder, Major"]).fetchall()]
    assert depression == ["NCT90000001", "NCT90000002"]
    assert major == ["NCT90000001", "NCT90000002"]


def test_the_depressive_group_holds_depression_not_existential_distress(warehouse):
    depressive = [r[0] for r in warehouse.execute(BY_GROUP, ["depressive"]).fetchall()]
    trauma = [r[0] for r in warehouse.execute(BY_GROUP, ["trauma"]).fetchall()]
    assert depressive == ["NCT90000001", "NCT90000002"]
    assert trauma == ["NCT90000004"]
    distress = warehouse.execute("SELECT DISTINCT condition_group, concept FROM v_record_condition_groups "
                                 "WHERE record_id = 'NCT90000003'").fetchall()
    assert distress and all(group != "depressive" for group, _ in distress)


def test_each_row_carries_its_group_label_and_provenance(warehouse):
    rows = warehouse.execute("SELECT condition_group_label, concept, source, levels_up FROM v_record_condition_groups "
                             "WHERE record_id = 'NCT90000001' AND levels_up = 0").fetchall()
    assert rows == [("Depressive disorders", "Depressive Disorder, Treatment-Resistant", ["registry", "text"], 0)]


def test_the_vocabulary_follows_the_shipped_files(tmp_path):
    """condition_concepts is rewritten only when the lexicon or MeSH groups change."""
    from warehouse.conditions import sync_condition_concepts

    with open_warehouse(tmp_path / "w.duckdb") as conn:
        assert sync_condition_concepts(conn) is False   # open_warehouse already wrote it
        conn.execute("UPDATE condition_concepts SET definition_sha256 = 'older lexicon'")
        assert sync_condition_concepts(conn) is True
        stamps = conn.execute("SELECT count(DISTINCT definition_sha256), count(DISTINCT mesh_id) "
                              "FROM condition_concepts").fetchall()
    lexicon = set(re.findall(r'^ui = "(D\d+)"', (ROOT / "extract" / "conditions.toml").read_text(), re.MULTILINE))
    grouped = {line.split("\t")[0] for line in (ROOT / "extract" / "mesh_groups.tsv").read_text().splitlines()[1:] if line}
    assert stamps == [(1, len(lexicon | grouped))]
