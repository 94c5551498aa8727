"""AACT-shaped tables from v2 study JSON (extract/aact.py, migration 007), checked against the
raw JSON of every whole study in the real corpus and against a migrated DuckDB."""
from __future__ import annotations

from collections import Counter
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from extract.aact import AACT_TABLES, full_date, p_value_parts, study_rows, study_tables
from tests.helpers import corpus_studies
from warehouse.db import migrate

RESULT_TABLES = {"result_groups", "participant_flows", "milestones", "drop_withdrawals",
                 "baseline_measurements", "outcomes", "outcome_measurements", "outcome_analyses",
                 "reported_events", "reported_event_totals"}
DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.float64(): "DOUBLE",
                pa.bool_(): "BOOLEAN", pa.date32(): "DATE", pa.list_(pa.string()): "VARCHAR[]"}


@pytest.fixture(scope="module")
def studies(corpus_dir):
    found = corpus_studies(corpus_dir)
    assert len(found) >= 20
    return found


@pytest.fixture(scope="module")
def parsed(studies):
    """(study, rows) for every whole corpus study: parsing one never raises."""
    return [(study, study_rows(study)) for study in studies]


@pytest.fixture(scope="module")
def conn():
    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


def nct(study):
    return study["protocolSection"]["identificationModule"]["nctId"]


def module(study, *path):
    node = study
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node


def results_of(parsed):
    return [(study, rows) for study, rows in parsed if "resultsSection" in study]


def test_rows_fit_the_schemas_and_ids_are_unique_and_deterministic(parsed, studies):
    seen: dict[str, set] = {table: set() for table in AACT_TABLES}
    for study, rows in parsed:
        assert set(rows) == set(AACT_TABLES)
        for table, table_rows in rows.items():
            names = set(AACT_TABLES[table].names)
            for row in table_rows:
                assert set(row) <= names, (table, set(row) - names)
                assert row["nct_id"] == nct(study)
                if "id" in row:
                    assert row["id"].startswith(f"{nct(study)}:{table}:")
                    assert row["id"] not in seen[table]
                    seen[table].add(row["id"])
        assert study_rows(study) == rows  # same input, same ids


def test_protocol_tables_match_the_json(parsed):
    for study, rows in parsed:
        ps = study["protocolSection"]
        arms = module(ps, "armsInterventionsModule")
        assert Counter((g["title"], g["group_type"], g["description"]) for g in rows["design_groups"]) == \
            Counter((a.get("label"), a.get("type"), a.get("description")) for a in arms.get("armGroups", []))
        assert Counter((i["intervention_type"], i["name"], tuple(i["other_names"])) for i in rows["interventions"]) == \
            Counter((i.get("type"), i.get("name"), tuple(i.get("otherNames", [])))
                    for i in arms.get("interventions", []))
        groups = {g["id"]: g["title"] for g in rows["design_groups"]}
        interventions = {i["id"]: i["name"] for i in rows["interventions"]}
        labels = set(groups.values())
        assert Counter((interventions[r["intervention_id"]], groups[r["design_group_id"]])
                       for r in rows["design_group_interventions"]) == \
            Counter((i.get("name"), label) for i in arms.get("interventions", [])
                    for label in dict.fromkeys(i.get("armGroupLabels", [])) if label in labels)

        outcomes = module(ps, "outcomesModule")
        assert Counter((o["outcome_type"], o["measure"], o["time_frame"], o["description"])
                       for o in rows["design_outcomes"]) == \
            Counter((kind, o.get("measure"), o.get("timeFrame"), o.get("description"))
                    for key, kind in (("primaryOutcomes", "primary"), ("secondaryOutcomes", "secondary"),
                                      ("otherOutcomes", "other"))
                    for o in outcomes.get(key, []))

        locations = module(ps, "contactsLocationsModule").get("locations", [])
        assert Counter((f["name"], f["city"], f["state"], f["zip"], f["country"], f["status"], f["latitude"],
                        f["longitude"]) for f in rows["facilities"]) == \
            Counter((loc.get("facility"), loc.get("city"), loc.get("state"), loc.get("zip"), loc.get("country"),
                     loc.get("status"), loc.get("geoPoint", {}).get("lat"), loc.get("geoPoint", {}).get("lon"))
                    for loc in locations)

        ident = ps["identificationModule"]
        expected_ids = Counter([("org_study_id", ident["orgStudyIdInfo"].get("id"))] if "orgStudyIdInfo" in ident else [])
        expected_ids.update(("secondary_id", s.get("id")) for s in ident.get("secondaryIdInfos", []))
        expected_ids.update(("nct_alias", alias) for alias in ident.get("nctIdAliases", []))
        assert Counter((r["id_source"], r["id_value"]) for r in rows["id_information"]) == expected_ids

        sponsors = module(ps, "sponsorCollaboratorsModule")
        expected_sponsors = Counter([("lead", sponsors["leadSponsor"].get("name"))] if "leadSponsor" in sponsors else [])
        expected_sponsors.update(("collaborator", c.get("name")) for c in sponsors.get("collaborators", []))
        assert Counter((s["lead_or_collaborator"], s["name"]) for s in rows["sponsors"]) == expected_sponsors
        assert len(rows["responsible_parties"]) == ("responsibleParty" in sponsors)
        assert Counter(o["name"] for o in rows["overall_officials"]) == \
            Counter(o.get("name") for o in module(ps, "contactsLocationsModule").get("overallOfficials", []))

        docs = module(study, "documentSection", "largeDocumentModule").get("largeDocs", [])
        assert [(d["document_type"], d["document_date_raw"]) for d in rows["provided_documents"]] == \
            [(d.get("label"), d.get("date")) for d in docs]


def test_designs_and_eligibilities_match_the_json(parsed):
    masked_somewhere = False
    for study, rows in parsed:
        ps = study["protocolSection"]
        info = module(ps, "designModule", "designInfo")
        assert len(rows["designs"]) == bool(info)
        if info:
            (design,) = rows["designs"]
            assert (design["allocation"], design["intervention_model"], design["primary_purpose"], design["masking"]) == \
                (info.get("allocation"), info.get("interventionModel"), info.get("primaryPurpose"),
                 info.get("maskingInfo", {}).get("masking"))
            who = info.get("maskingInfo", {}).get("whoMasked")
            if who is not None:
                masked_somewhere |= bool(who)
                assert design["subject_masked"] == ("PARTICIPANT" in who)
                assert design["caregiver_masked"] == ("CARE_PROVIDER" in who)
                assert design["investigator_masked"] == ("INVESTIGATOR" in who)
                assert design["outcomes_assessor_masked"] == ("OUTCOMES_ASSESSOR" in who)
        elig = ps.get("eligibilityModule")
        assert len(rows["eligibilities"]) == (elig is not None)
        if elig:
            (row,) = rows["eligibilities"]
            assert (row["gender"], row["minimum_age"], row["maximum_age"], row["healthy_volunteers"],
                    row["criteria"], row["std_ages"]) == \
                (elig.get("sex"), elig.get("minimumAge"), elig.get("maximumAge"), elig.get("healthyVolunteers"),
                 elig.get("eligibilityCriteria"), elig.get("stdAges", []))
            if "stdAges" in elig:
                assert row["adult"] == ("ADULT" in elig["stdAges"])
    assert masked_somewhere


def test_the_study_with_1148_sites_has_1148_facilities(parsed):
    (rows,) = [rows for study, rows in parsed if nct(study) == "NCT04267848"]
    assert len(rows["facilities"]) == 1148
    assert len({f["id"] for f in rows["facilities"]}) == 1148


def test_a_record_without_results_has_no_result_rows(parsed):
    without = [rows for study, rows in parsed if "resultsSection" not in study]
    assert without and results_of(parsed)
    for rows in without:
        assert all(not rows[table] for table in RESULT_TABLES)


def test_result_tables_match_the_json(parsed):
    for study, rows in results_of(parsed):
        results = study["resultsSection"]
        group_type = {g["id"]: g["result_type"] for g in rows["result_groups"]}

        periods = module(results, "participantFlowModule").get("periods", [])
        assert Counter((m["period"], m["title"], m["ctgov_group_code"], m["count"]) for m in rows["milestones"]) == \
            Counter((p.get("title"), m.get("type"), a.get("groupId"), int(a["numSubjects"]))
                    for p in periods for m in p.get("milestones", []) for a in m.get("achievements", []))
        assert Counter((d["period"], d["reason"], d["ctgov_group_code"], d["count"]) for d in rows["drop_withdrawals"]) == \
            Counter((p.get("title"), d.get("type"), r.get("groupId"), int(r["numSubjects"]))
                    for p in periods for d in p.get("dropWithdraws", []) for r in d.get("reasons", []))

        baseline = module(results, "baselineCharacteristicsModule")
        assert Counter((b["title"], b["classification"], b["category"], b["ctgov_group_code"], b["param_value"])
                       for b in rows["baseline_measurements"]) == \
            Counter((m.get("title"), c.get("title"), k.get("title"), v.get("groupId"), v.get("value"))
                    for m in baseline.get("measures", []) for c in m.get("classes", [])
                    for k in c.get("categories", []) for v in k.get("measurements", []))

        measures = module(results, "outcomeMeasuresModule").get("outcomeMeasures", [])
        assert Counter((o["outcome_type"], o["title"], o["time_frame"]) for o in rows["outcomes"]) == \
            Counter((m.get("type"), m.get("title"), m.get("timeFrame")) for m in measures)
        outcome_title = {o["id"]: o["title"] for o in rows["outcomes"]}
        assert Counter((outcome_title[m["outcome_id"]], m["ctgov_group_code"], m["param_value"], m["dispersion_value"])
                       for m in rows["outcome_measurements"]) == \
            Counter((m.get("title"), v.get("groupId"), v.get("value"), v.get("spread"))
                    for m in measures for c in m.get("classes", []) for k in c.get("categories", [])
                    for v in k.get("measurements", []))
        assert Counter((outcome_title[a["outcome_id"]], a["p_value_raw"], tuple(a["group_codes"]))
                       for a in rows["outcome_analyses"]) == \
            Counter((m.get("title"), a.get("pValue"), tuple(a.get("groupIds", [])))
                    for m in measures for a in m.get("analyses", []))

        events = module(results, "adverseEventsModule")
        assert Counter((e["event_type"], e["organ_system"], e["adverse_event_term"], e["ctgov_group_code"],
                        e["subjects_affected"], e["subjects_at_risk"], e["event_count"])
                       for e in rows["reported_events"]) == \
            Counter((kind, e.get("organSystem"), e.get("term"), s.get("groupId"), s.get("numAffected"),
                     s.get("numAtRisk"), s.get("numEvents"))
                    for key, kind in (("seriousEvents", "serious"), ("otherEvents", "other"))
                    for e in events.get(key, []) for s in e.get("stats", []))
        assert len(rows["reported_event_totals"]) == 3 * len(events.get("eventGroups", []))

        expected_groups = Counter({"Participant Flow": len(module(results, "participantFlowModule").get("groups", [])),
                                   "Baseline": len(baseline.get("groups", [])),
                                   "Outcome": sum(len(m.get("groups", [])) for m in measures),
                                   "Reported Event": len(events.get("eventGroups", []))})
        assert Counter(group_type.values()) == +expected_groups

        # Every foreign id points at a group of the right section (and, for outcomes, the same outcome).
        for table, kind in (("milestones", "Participant Flow"), ("drop_withdrawals", "Participant Flow"),
                            ("baseline_measurements", "Baseline"), ("outcome_measurements", "Outcome"),
                            ("reported_events", "Reported Event")):
            for row in rows[table]:
                assert group_type[row["result_group_id"]] == kind, (nct(study), table, row["id"])
        outcome_of_group = {g["id"]: g["outcome_id"] for g in rows["result_groups"]}
        assert all(outcome_of_group[m["result_group_id"]] == m["outcome_id"] for m in rows["outcome_measurements"])


def test_the_corpus_covers_every_result_table(parsed):
    filled = {table for _, rows in parsed for table, table_rows in rows.items() if table_rows}
    assert filled == set(AACT_TABLES)


def test_migrated_tables_equal_aact_tables(conn):
    columns = conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name IN (SELECT unnest($1::VARCHAR[])) ORDER BY table_name, ordinal_position",
        [list(AACT_TABLES)],
    ).fetchall()
    found: dict[str, list] = {}
    for table, column, data_type, nullable in columns:
        found.setdefault(table, []).append((column, data_type, nullable))
    assert found == {
        table: [(f.name, DUCKDB_TYPES[f.type], "NO" if f.name == "nct_id" else "YES") for f in schema]
        for table, schema in AACT_TABLES.items()
    }


def test_every_aact_table_and_column_is_documented(conn):
    undocumented_tables = conn.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN (SELECT unnest($1::VARCHAR[])) "
        "AND coalesce(comment, '') = ''", [list(AACT_TABLES)]).fetchall()
    undocumented_columns = conn.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN (SELECT unnest($1::VARCHAR[])) "
        "AND coalesce(comment, '') = ''", [list(AACT_TABLES)]).fetchall()
    assert undocumented_tables == [] and undocumented_columns == []


# Table names from the fixed AACT_TABLES whitelist only, never from input.
LOAD_ALL = {name: f"INSERT INTO {name} BY NAME SELECT * FROM arrow_table" for name in AACT_TABLES}
COUNT_ALL = {name: f"SELECT count(*) FROM {name}" for name in AACT_TABLES}


def test_study_tables_load_into_the_migrated_warehouse(studies, parsed):
    conn = duckdb.connect()
    migrate(conn)
    tables = study_tables(studies)
    assert set(tables) == set(AACT_TABLES)
    for name, arrow_table in tables.items():
        assert arrow_table.schema == AACT_TABLES[name]
        assert arrow_table.num_rows == sum(len(rows[name]) for _, rows in parsed)
        conn.register("arrow_table", arrow_table)
        try:
            conn.execute(LOAD_ALL[name]).fetchall()
        finally:
            conn.unregister("arrow_table")
        assert conn.execute(COUNT_ALL[name]).fetchall()[0][0] == arrow_table.num_rows
    # AACT's joins carry over: every foreign id resolves.
    for child, column, parent in (("design_group_interventions", "design_group_id", "design_groups"),
                                  ("design_group_interventions", "intervention_id", "interventions"),
                                  ("milestones", "result_group_id", "result_groups"),
                                  ("baseline_measurements", "result_group_id", "result_groups"),
                                  ("outcome_measurements", "outcome_id", "outcomes"),
                                  ("outcome_measurements", "result_group_id", "result_groups"),
                                  ("outcome_analyses", "outcome_id", "outcomes"),
                                  ("reported_events", "result_group_id", "result_groups")):
        dangling = conn.execute(
            f"SELECT count(*) FROM {child} c LEFT JOIN {parent} p ON p.id = c.{column} WHERE p.id IS NULL"
        ).fetchall()[0][0]
        assert dangling == 0, (child, column)
    assert conn.execute("SELECT count(*) FROM facilities WHERE nct_id = 'NCT04267848'").fetchall()[0][0] == 1148


def test_empty_input_gives_empty_typed_tables():
    tables = study_tables([])
    assert {name: (t.num_rows, t.schema) for name, t in tables.items()} == \
        {name: (0, schema) for name, schema in AACT_TABLES.items()}


@pytest.mark.parametrize("study", [
    {},
    {"protocolSection": []},
    {"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "secondaryIdInfos": "x",
                                                  "orgStudyIdInfo": ["bad"]},
                         "designModule": {"designInfo": {"maskingInfo": {"whoMasked": None}}},
                         "armsInterventionsModule": {"armGroups": [None, 3, {"label": 7}],
                                                     "interventions": [{"armGroupLabels": "7", "otherNames": [1, None]}]},
                         "eligibilityModule": {"stdAges": "ADULT", "healthyVolunteers": "Yes"},
                         "contactsLocationsModule": {"locations": [{"geoPoint": {"lat": "n/a", "lon": 2}}]}},
     "resultsSection": {"participantFlowModule": {"periods": [{"milestones": [{"achievements": [
         {"groupId": "FG9", "numSubjects": "NA"}]}]}]},
         "outcomeMeasuresModule": {"outcomeMeasures": [{"analyses": [{"pValue": 0.5, "groupIds": "OG000"}]}]},
         "adverseEventsModule": {"eventGroups": {}, "seriousEvents": [{"stats": [{"numAffected": "3"}]}]}}},
])
def test_malformed_records_do_not_raise(study):
    rows = study_rows(study)
    study_tables([study])  # typed conversion accepts whatever rows came out
    assert set(rows) == set(AACT_TABLES)


def test_value_helpers():
    assert p_value_parts("<0.001") == ("<", 0.001)
    assert p_value_parts("0.04") == (None, 0.04)
    assert p_value_parts("≤ .05") == ("≤", 0.05)
    assert p_value_parts("NA") == (None, None)
    assert full_date("2019-08-06") == date(2019, 8, 6)
    assert full_date("2019-08") is None and full_date("soon") is None and full_date(None) is None
