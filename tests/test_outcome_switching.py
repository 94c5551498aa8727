"""Outcome switching and comparators: a sponsor's swapped primary outcome between two versions
served by the ClinicalTrials.gov stand-in shows in v_outcome_changes after the next run; a
status-only update does not. Real corpus studies, real HTTP, real DuckDB."""
from __future__ import annotations

import copy
from datetime import datetime

import duckdb
import pytest

from extract.catalogue import Catalogue
from extract.standins import CtGovStandIn
from flows import pipeline
from flows.digest import build_digest, render_markdown
from flows.settings import Settings
from tests.helpers import TODAY, corpus_studies
from warehouse.db import open_warehouse
from warehouse.outcome_switching import diff


def with_outcomes(corpus_dir) -> dict:
    """A real study registering at least one primary and one secondary outcome."""
    for study in corpus_studies(corpus_dir):
        outcomes = study["protocolSection"].get("outcomesModule", {})
        if outcomes.get("primaryOutcomes") and outcomes.get("secondaryOutcomes"):
            return study
    pytest.fail("the corpus has no study with primary and secondary outcomes")


def updated(study: dict, day: str) -> dict:
    study = copy.deepcopy(study)
    study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"] = {"date": day, "type": "ACTUAL"}
    return study


def ingest_twice(tmp_path, first: dict, second: dict) -> list[tuple]:
    return ingest_twice_with_digest(tmp_path, first, second)[0]


def ingest_twice_with_digest(tmp_path, first: dict, second: dict) -> tuple[list[tuple], str]:
    """v_outcome_changes after both runs, and the second run's digest."""
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    with CtGovStandIn([first]) as ctgov, open_warehouse(settings.db_path) as conn:
        served = settings.with_overrides(ctgov_url=ctgov.url)
        for window in (pipeline.Window("full"), pipeline.Window("since", TODAY)):
            summary = pipeline.ingest_source(conn, served, "ctgov", window, catalogue=Catalogue.load(),
                                             progress=lambda _: None, today=TODAY)
            assert summary.status == "succeeded", summary.message
            ctgov.replace([second])
        digest = render_markdown(build_digest(conn, [summary.run_id], datetime.now()))
        return conn.execute("SELECT nct_id, outcome_type, change, old_measure, new_measure, after_start "
                            "FROM v_outcome_changes ORDER BY outcome_type, change").fetchall(), digest


def test_a_secondary_outcome_swapped_into_the_primary_place_is_an_outcome_change(tmp_path, corpus_dir):
    study = with_outcomes(corpus_dir)
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    outcomes = study["protocolSection"]["outcomesModule"]
    primary, secondary = outcomes["primaryOutcomes"][0]["measure"], outcomes["secondaryOutcomes"][0]["measure"]
    switched = updated(study, TODAY.isoformat())
    module = switched["protocolSection"]["outcomesModule"]
    module["primaryOutcomes"][0], module["secondaryOutcomes"][0] = (module["secondaryOutcomes"][0],
                                                                    module["primaryOutcomes"][0])

    changes, digest = ingest_twice_with_digest(tmp_path, study, switched)

    tidy = lambda text: " ".join(text.split())  # noqa: E731
    for place, before, after in (("primary", primary, secondary), ("secondary", secondary, primary)):
        rows = [c for c in changes if c[0] == nct and c[1] == place]
        assert any(c[3] == tidy(before) for c in rows) and any(c[4] == tidy(after) for c in rows), rows
    assert changes and all(c[5] for c in changes)   # the corpus study started long before today
    # The digest says so, primary first; the last-update date that moved is not news.
    section = digest.split(f"## Registered outcomes changed ({len(changes)})", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(lines) == len(changes) and f"[{nct}]" in lines[0] and ": primary outcome " in lines[0]
    assert all(line.endswith("after the trial started") for line in lines)
    assert "last update" not in digest


def test_a_status_only_update_is_not_an_outcome_change(tmp_path, corpus_dir):
    study = with_outcomes(corpus_dir)
    moved = updated(study, TODAY.isoformat())
    moved["protocolSection"]["statusModule"]["overallStatus"] = "TERMINATED"

    changes, digest = ingest_twice_with_digest(tmp_path, study, moved)
    assert changes == [] and "Registered outcomes changed" not in digest
    assert "**status** " + study["protocolSection"]["statusModule"]["overallStatus"].replace("_", " ").capitalize() \
        + " → Terminated" in digest
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM trial_history WHERE field = 'overall_status'").fetchall() == [(1,)]


def test_rewording_pairs_close_measures_and_spacing_or_case_is_no_change():
    assert diff(["MADRS total score at day 28"], ["MADRS Total  Score at day 28"]) == []
    assert diff(["Change in MADRS total score at day 28"], ["Change in MADRS total score at week 6"]) == [
        ("reworded", "Change in MADRS total score at day 28", "Change in MADRS total score at week 6")]
    assert diff(["MADRS at day 28"], ["Adverse events"]) == [("removed", "MADRS at day 28", None),
                                                             ("added", None, "Adverse events")]


def arms(study: dict, nct_id: str, comparator_type: str, comparator: str, label: str = "Comparator") -> dict:
    """`study` as a two-arm trial: psilocybin against `comparator` in an arm of `comparator_type`."""
    study = copy.deepcopy(study)
    study["protocolSection"]["identificationModule"]["nctId"] = nct_id
    study["protocolSection"]["armsInterventionsModule"] = {
        "armGroups": [
            {"label": "Psilocybin", "type": "EXPERIMENTAL", "interventionNames": ["Drug: Psilocybin"]},
            {"label": label, "type": comparator_type, "interventionNames": [f"Drug: {comparator}"]},
        ],
        "interventions": [
            {"type": "DRUG", "name": "Psilocybin", "armGroupLabels": ["Psilocybin"]},
            {"type": "DRUG", "name": comparator, "armGroupLabels": [label]},
        ],
    }
    return study


@pytest.mark.parametrize("comparator_type, comparator, label, expected", [
    ("PLACEBO_COMPARATOR", "Niacin", "Comparator", "active placebo"),
    ("ACTIVE_COMPARATOR", "Midazolam", "Comparator", "active placebo"),
    ("PLACEBO_COMPARATOR", "Placebo", "Comparator", "placebo"),
    ("ACTIVE_COMPARATOR", "Escitalopram", "Comparator", "active comparator"),
    ("NO_INTERVENTION", "Nothing", "Waitlist", "waitlist/usual care"),
    ("EXPERIMENTAL", "Psilocybin 25 mg", "Higher dose", "none"),
])
def test_the_design_view_classes_the_comparator_from_arm_types_and_intervention_names(
        tmp_path, corpus_dir, comparator_type, comparator, label, expected):
    study = arms(with_outcomes(corpus_dir), "NCT99990001", comparator_type, comparator, label)
    settings = Settings(db_path=tmp_path / "w.duckdb", data_dir=tmp_path, workers=1)
    with CtGovStandIn([study]) as ctgov, open_warehouse(settings.db_path) as conn:
        pipeline.ingest_source(conn, settings.with_overrides(ctgov_url=ctgov.url), "ctgov", pipeline.Window("full"),
                               catalogue=Catalogue.load(), progress=lambda _: None, today=TODAY)
        [(found, types, names)] = conn.execute("SELECT comparator, arm_types, comparator_interventions "
                                               "FROM v_trial_design").fetchall()
    assert found == expected
    assert sorted(types) == sorted(["EXPERIMENTAL", comparator_type])
    assert names == ([] if expected == "none" else [comparator])


def test_the_trial_page_shows_design_comparator_outcomes_and_the_outcome_change(tmp_path, corpus_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.test_dashboard import APP, PAGES, ok, texts

    study = arms(with_outcomes(corpus_dir), "NCT99990002", "PLACEBO_COMPARATOR", "Niacin")
    study["protocolSection"].setdefault("designModule", {})["designInfo"] = {
        "allocation": "RANDOMIZED", "interventionModel": "PARALLEL", "primaryPurpose": "TREATMENT",
        "maskingInfo": {"masking": "DOUBLE", "whoMasked": ["PARTICIPANT", "OUTCOMES_ASSESSOR"]}}
    switched = updated(study, TODAY.isoformat())
    module = switched["protocolSection"]["outcomesModule"]
    module["primaryOutcomes"][0], module["secondaryOutcomes"][0] = (module["secondaryOutcomes"][0],
                                                                    module["primaryOutcomes"][0])
    assert ingest_twice(tmp_path, study, switched)
    monkeypatch.setenv("TRIALWATCH_DB", str(tmp_path / "w.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.query_params.update({"nct": "NCT99990002"})
    at = ok(at.switch_page(PAGES["trials"]).run())
    shown = texts(at)

    assert any("Registered outcomes changed" in w.value for w in at.warning)
    assert "**Comparator:** active placebo — Niacin" in shown
    assert "**Masking:** Double (participants, outcome assessors)" in shown
    assert "Outcomes" in [s.value for s in at.subheader]
