"""CT.gov API v2 parser against the real payloads in the shared corpus, plus hostile input.

Expected values are read from the raw JSON in the test (by dict path), not from the parser.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from extract.ctgov_parser import parse_ctgov_page, parse_study

RECORD_KEYS = {
    "nct_id", "brief_title", "official_title", "acronym", "overall_status", "why_stopped",
    "study_type", "phases", "enrollment_count", "enrollment_type",
    *(
        f"{name}{suffix}"
        for name in ("start_date", "primary_completion_date", "completion_date",
                     "first_posted_date", "last_update_posted_date", "results_first_posted_date",
                     "disposition_first_posted_date")
        for suffix in ("", "_precision", "_type")
    ),
    "study_first_submitted_date", "results_first_submitted_date", "disposition_first_submitted_date",
    "last_update_submitted_date", "verification_date", "verification_date_precision", "last_known_status",
    "is_fda_regulated_drug", "is_fda_regulated_device", "has_dmc",
    "has_results", "lead_sponsor_name", "lead_sponsor_class", "collaborators", "conditions",
    "keywords", "interventions", "condition_mesh", "intervention_mesh", "countries",
    "references", "brief_summary", "detailed_description", "eligibility_criteria",
    "primary_outcomes",
}
DATE_STRUCTS = {
    "start_date": "startDateStruct",
    "primary_completion_date": "primaryCompletionDateStruct",
    "completion_date": "completionDateStruct",
    "first_posted_date": "studyFirstPostDateStruct",
    "last_update_posted_date": "lastUpdatePostDateStruct",
    "results_first_posted_date": "resultsFirstPostDateStruct",
    "disposition_first_posted_date": "dispFirstPostDateStruct",
}
SUBMIT_DATES = {
    "study_first_submitted_date": "studyFirstSubmitDate",
    "results_first_submitted_date": "resultsFirstSubmitDate",
    "disposition_first_submitted_date": "dispFirstSubmitDate",
    "last_update_submitted_date": "lastUpdateSubmitDate",
}
OVERSIGHT_FLAGS = {"is_fda_regulated_drug": "isFdaRegulatedDrug", "is_fda_regulated_device": "isFdaRegulatedDevice",
                   "has_dmc": "oversightHasDmc"}
PRECISION_BY_LENGTH = {10: "day", 7: "month", 4: "year"}


def dig(obj, *path, default=None):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def count_study_objects(obj) -> int:
    """Independent count: every JSON object that carries a protocolSection is one study."""
    if isinstance(obj, dict):
        own = 1 if "protocolSection" in obj else 0
        return own + sum(count_study_objects(value) for value in obj.values())
    if isinstance(obj, list):
        return sum(count_study_objects(item) for item in obj)
    return 0


def raw_studies(payload: dict) -> list[dict]:
    return payload["studies"] if "studies" in payload else [payload]


@pytest.fixture(scope="session")
def ctgov_files(corpus_dir: Path) -> list[Path]:
    files = sorted((corpus_dir / "ctgov").rglob("*.json"))
    assert len(files) >= 28, "CT.gov corpus looks incomplete"
    return files


@pytest.fixture(scope="session")
def parsed(ctgov_files):
    """path → (raw JSON, ParsedPage) for every corpus file, parsed from bytes once."""
    return {path: (json.loads(path.read_bytes()), parse_ctgov_page(path.read_bytes()))
            for path in ctgov_files}


def load(corpus_dir: Path, relative: str):
    path = corpus_dir / "ctgov" / relative
    page = parse_ctgov_page(path.read_bytes())
    assert not page.rejects, page.rejects
    return raw_studies(json.loads(path.read_bytes())), page.records


# --- the whole corpus ----------------------------------------------------------------------


def test_every_file_yields_one_outcome_per_study_and_no_rejects(parsed, corpus_dir):
    declared = {  # SOURCES.md states "studies=N" per copied file
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^\| `ctgov/([^`]+)` \|.*?\bstudies=(\d+)",
                                 (corpus_dir / "SOURCES.md").read_text(), re.MULTILINE)
    }
    outcomes, expected, rejects = {}, {}, {}
    for path, (raw, page) in parsed.items():
        name = path.relative_to(corpus_dir / "ctgov").as_posix()
        outcomes[name] = len(page.records) + len(page.rejects)
        expected[name] = count_study_objects(raw)
        rejects[name] = [reject.reason for reject in page.rejects]
    assert outcomes == expected
    assert expected == {name: declared[name] for name in expected}
    assert sum(expected.values()) == 44
    assert all(not reasons for reasons in rejects.values()), rejects


def test_every_record_has_exactly_the_documented_keys(parsed):
    for _, page in parsed.values():
        for record in page.records:
            assert set(record) == RECORD_KEYS


def test_every_date_matches_its_raw_struct(parsed):
    checked = set()
    for raw, page in parsed.values():
        for study, record in zip(raw_studies(raw), page.records, strict=True):
            assert record["nct_id"] == study["protocolSection"]["identificationModule"]["nctId"]
            for name, struct_name in DATE_STRUCTS.items():
                text = dig(study, "protocolSection", "statusModule", struct_name, "date")
                if text is None:
                    assert (record[name], record[f"{name}_precision"]) == (None, None)
                    continue
                assert record[name].isoformat()[: len(text)] == text
                assert record[name].isoformat().endswith("-01") or len(text) == 10
                assert record[f"{name}_precision"] == PRECISION_BY_LENGTH[len(text)]
                assert record[f"{name}_type"] == dig(
                    study, "protocolSection", "statusModule", struct_name, "type"
                )
                checked.add(record[f"{name}_precision"])
    assert checked == {"day", "month"}


def test_every_scalar_and_list_matches_raw(parsed):
    for raw, page in parsed.values():
        for study, record in zip(raw_studies(raw), page.records, strict=True):
            ps = study["protocolSection"]
            assert record["overall_status"] == dig(ps, "statusModule", "overallStatus")
            assert record["study_type"] == dig(ps, "designModule", "studyType")
            assert record["phases"] == dig(ps, "designModule", "phases", default=[])
            assert record["enrollment_count"] == dig(ps, "designModule", "enrollmentInfo", "count")
            assert record["conditions"] == dig(ps, "conditionsModule", "conditions", default=[])
            assert record["lead_sponsor_name"] == dig(
                ps, "sponsorCollaboratorsModule", "leadSponsor", "name"
            )
            assert record["has_results"] is study.get("hasResults", False)
            assert [i["name"] for i in record["interventions"]] == [
                i["name"] for i in dig(ps, "armsInterventionsModule", "interventions", default=[])
            ]


def test_registry_dates_and_oversight_flags_match_raw(parsed):
    """AACT's `studies` dates (results posted, certificate of delay, verification) and FDA flags."""
    seen = {name: 0 for name in [*SUBMIT_DATES, "verification_date", "last_known_status", *OVERSIGHT_FLAGS]}
    for raw, page in parsed.values():
        for study, record in zip(raw_studies(raw), page.records, strict=True):
            status = dig(study, "protocolSection", "statusModule", default={})
            for name, key in SUBMIT_DATES.items():
                text = status.get(key)
                assert (record[name].isoformat() if record[name] else None) == text
                seen[name] += text is not None
            verified = status.get("statusVerifiedDate")
            assert (record["verification_date"].isoformat()[: len(verified)] if verified else None) == verified
            assert record["verification_date_precision"] == (PRECISION_BY_LENGTH[len(verified)] if verified else None)
            assert record["last_known_status"] == status.get("lastKnownStatus")
            seen["verification_date"] += verified is not None
            seen["last_known_status"] += "lastKnownStatus" in status
            for name, key in OVERSIGHT_FLAGS.items():
                assert record[name] is dig(study, "protocolSection", "oversightModule", key)
                seen[name] += record[name] is not None
    assert all(seen.values()), seen   # the corpus exercises every one of them


# --- spot checks ---------------------------------------------------------------------------


def test_complete_study(corpus_dir):
    (study,), (record,) = load(corpus_dir, "aact/NCT03418623.json")
    ps = study["protocolSection"]
    assert record["nct_id"] == "NCT03418623"
    assert record["overall_status"] == "COMPLETED"
    assert (record["start_date"], record["start_date_precision"], record["start_date_type"]) == (
        date(2018, 3, 8), "day", "ACTUAL"
    )
    assert record["completion_date"] == date.fromisoformat(
        ps["statusModule"]["completionDateStruct"]["date"]
    )
    assert record["brief_title"] == ps["identificationModule"]["briefTitle"]
    assert record["official_title"] == ps["identificationModule"]["officialTitle"]
    assert record["eligibility_criteria"] == ps["eligibilityModule"]["eligibilityCriteria"]
    assert record["primary_outcomes"] == [o["measure"] for o in ps["outcomesModule"]["primaryOutcomes"]]
    assert record["references"] == [
        {"pmid": r.get("pmid"), "type": r.get("type"), "citation": r.get("citation")}
        for r in ps["referencesModule"]["references"]
    ]
    assert record["enrollment_count"] == 24 and record["enrollment_type"] == "ACTUAL"


def test_partial_dates_and_results(corpus_dir):
    (study,), (record,) = load(corpus_dir, "aact/NCT00763412.json")
    status = study["protocolSection"]["statusModule"]
    assert status["startDateStruct"] == {"date": "2006-11"}
    assert (record["start_date"], record["start_date_precision"], record["start_date_type"]) == (
        date(2006, 11, 1), "month", None
    )
    assert status["completionDateStruct"]["date"] == "2013-01"
    assert record["completion_date"] == date(2013, 1, 1)
    assert record["completion_date_precision"] == "month"
    assert record["completion_date_type"] == "ACTUAL"
    assert study["hasResults"] is True and record["has_results"] is True
    assert record["condition_mesh"] == study["derivedSection"]["conditionBrowseModule"]["meshes"]


def test_stopped_study_with_zero_enrollment(corpus_dir):
    (study,), (record,) = load(corpus_dir, "aact/NCT00973089.json")
    assert record["why_stopped"] == study["protocolSection"]["statusModule"]["whyStopped"]
    assert record["why_stopped"]
    assert record["enrollment_count"] == 0  # a real 0, not "absent"


def test_psilocybin_study(corpus_dir):
    (study,), (record,) = load(corpus_dir, "cyanheads_mcp/get_study_NCT06341426_psilocybin.json")
    ps = study["protocolSection"]
    assert record["nct_id"] == "NCT06341426"
    assert record["conditions"] == ps["conditionsModule"]["conditions"]
    assert "Treatment-Resistant Depression" in record["conditions"]
    assert record["keywords"] == ps["conditionsModule"]["keywords"]
    assert record["interventions"] == [
        {"type": i["type"], "name": i["name"], "other_names": i.get("otherNames", []),
         "description": i["description"]}
        for i in ps["armsInterventionsModule"]["interventions"]
    ]
    assert {i["type"] for i in record["interventions"]} == {"DRUG"}
    assert {"id": "D011562", "term": "Psilocybin"} in record["intervention_mesh"]
    assert record["collaborators"] == ps["sponsorCollaboratorsModule"]["collaborators"]
    assert record["lead_sponsor_class"] == ps["sponsorCollaboratorsModule"]["leadSponsor"]["class"]
    assert record["acronym"] == ps["identificationModule"]["acronym"]
    assert record["countries"] == ["Canada"]


def test_very_large_study(corpus_dir):
    (study,), (record,) = load(corpus_dir, "py_load_clinicaltrialsgov/NCT04267848.json")
    ps = study["protocolSection"]
    locations = ps["contactsLocationsModule"]["locations"]
    assert len(locations) > 1000
    assert record["countries"] == sorted({loc["country"] for loc in locations})
    assert "United States" in record["countries"] and len(record["countries"]) < len(locations)
    assert record["intervention_mesh"] == study["derivedSection"]["interventionBrowseModule"]["meshes"]
    assert len(record["intervention_mesh"]) > 10
    assert len(record["interventions"]) == len(ps["armsInterventionsModule"]["interventions"])
    assert record["enrollment_count"] == ps["designModule"]["enrollmentInfo"]["count"]


def test_references_with_and_without_pmid(corpus_dir):
    (study,), (record,) = load(corpus_dir, "aact/NCT03630471.json")
    raw_refs = study["protocolSection"]["referencesModule"]["references"]
    assert [r["pmid"] for r in record["references"]] == [r.get("pmid") for r in raw_refs]
    assert None in [r["pmid"] for r in record["references"]]
    assert all(isinstance(r["pmid"], str) for r in record["references"] if r["pmid"])
    assert [r["citation"] for r in record["references"]] == [r["citation"] for r in raw_refs]


def test_multi_country_and_derived_mesh(corpus_dir):
    (study,), (record,) = load(corpus_dir, "aact/NCT02552212.json")
    locations = study["protocolSection"]["contactsLocationsModule"]["locations"]
    assert record["countries"] == sorted({loc["country"] for loc in locations})
    assert len(record["countries"]) > 5
    derived = study["derivedSection"]
    assert record["condition_mesh"] == derived["conditionBrowseModule"]["meshes"]
    assert record["intervention_mesh"] == derived["interventionBrowseModule"]["meshes"]
    assert record["condition_mesh"] and record["intervention_mesh"]


def test_fields_filtered_search_page_is_parsed_not_rejected(corpus_dir):
    studies, records = load(corpus_dir, "biomcp/search_keytruda_limit3_20260811.json")
    assert [r["nct_id"] for r in records] == [
        s["protocolSection"]["identificationModule"]["nctId"] for s in studies
    ]
    first = records[0]
    assert first["phases"] == ["PHASE1", "PHASE2"]
    assert first["interventions"][0] == {
        "type": None, "name": "Mavrostobart (PT199)", "other_names": [], "description": None,
    }
    assert first["completion_date"] == date(2028, 8, 1)
    assert first["completion_date_precision"] == "month"
    for absent in ("official_title", "enrollment_type", "start_date_type", "first_posted_date",
                   "lead_sponsor_class", "eligibility_criteria"):
        assert first[absent] is None, absent
    for empty in ("countries", "references", "condition_mesh", "collaborators", "keywords",
                  "primary_outcomes"):
        assert first[empty] == [], empty
    assert first["has_results"] is False


def test_single_study_response_equals_same_study_in_a_page(corpus_dir):
    single = parse_ctgov_page(
        (corpus_dir / "ctgov/cyanheads_mcp/study_NCT00184067_2025-06-17T11-17-42-480Z.json").read_bytes()
    )
    page = parse_ctgov_page(
        (corpus_dir / "ctgov/cyanheads_mcp/studies_2025-06-17T11-16-37-179Z.json").read_bytes()
    )
    in_page = [r for r in page.records if r["nct_id"] == "NCT00184067"]
    assert single.records == in_page and len(in_page) == 1


def test_dict_payload_is_accepted(corpus_dir):
    raw = json.loads((corpus_dir / "ctgov/aact/NCT03418623.json").read_bytes())
    assert parse_ctgov_page(raw).records == [parse_study(raw)]


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture
def keytruda(corpus_dir) -> list[dict]:
    return json.loads(
        (corpus_dir / "ctgov/biomcp/search_keytruda_limit3_20260811.json").read_bytes()
    )["studies"]


def test_truncated_json_is_one_reject(corpus_dir):
    body = (corpus_dir / "ctgov/aact/NCT02552212.json").read_bytes()
    page = parse_ctgov_page(body[: len(body) // 2])
    assert page.records == []
    (reject,) = page.rejects
    assert (reject.source, reject.record_id) == ("ctgov", None)
    assert reject.reason.startswith("malformed JSON: ")
    assert reject.raw == body[:2000].decode("utf-8")


def test_undecodable_bytes_are_one_reject():
    page = parse_ctgov_page(b'{"studies": ["\xff\xfe"]}')
    assert page.records == [] and len(page.rejects) == 1
    assert page.rejects[0].reason == "bytes that are not UTF-8 in the study"


def test_a_study_with_undecodable_bytes_is_rejected_and_its_neighbours_kept():
    good = {"protocolSection": {"identificationModule": {"nctId": "NCT01234567", "briefTitle": "Fine"}}}
    bad = {"protocolSection": {"identificationModule": {"nctId": "NCT07654321", "briefTitle": "BADBYTES"}}}
    body = json.dumps({"studies": [good, bad]}).encode().replace(b"BADBYTES", b"Caf\xe9")
    page = parse_ctgov_page(body)
    assert [r["nct_id"] for r in page.records] == ["NCT01234567"]
    assert [(r.record_id, r.reason) for r in page.rejects] == [("NCT07654321", "bytes that are not UTF-8 in the study")]


@pytest.mark.parametrize("body", [b"[]", b'{"error": "bad request"}', b'{"studies": {}}'])
def test_json_that_is_not_a_page_is_one_reject(body):
    page = parse_ctgov_page(body)
    assert page.records == [] and len(page.rejects) == 1


def test_study_without_nct_id_is_rejected_and_neighbours_kept(keytruda):
    del keytruda[1]["protocolSection"]["identificationModule"]["nctId"]
    page = parse_ctgov_page({"studies": keytruda})
    assert [r["nct_id"] for r in page.records] == ["NCT05431270", "NCT04795661"]
    (reject,) = page.rejects
    assert reject.record_id is None and "NCT id" in reject.reason
    assert json.loads(reject.raw) == keytruda[1]


def test_study_without_protocol_section_is_rejected(keytruda):
    page = parse_ctgov_page({"studies": [keytruda[0], {"hasResults": False}]})
    assert len(page.records) == 1
    assert page.rejects[0].reason == "missing 'protocolSection'"


def test_impossible_date_is_rejected(keytruda):
    keytruda[0]["protocolSection"]["statusModule"]["startDateStruct"]["date"] = "2021-13-40"
    page = parse_ctgov_page({"studies": keytruda})
    assert len(page.records) == 2
    (reject,) = page.rejects
    assert reject.record_id == "NCT05431270"
    assert "startDateStruct" in reject.reason
    with pytest.raises(ValueError):
        parse_study(keytruda[0])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("designModule", "enrollmentInfo", "count"), "about forty"),
        (("designModule", "enrollmentInfo", "count"), True),
        (("designModule", "phases"), "PHASE1"),
        (("conditionsModule", "conditions"), "Melanoma"),
        (("statusModule", "overallStatus"), 3),
        (("identificationModule", "nctId"), "12345"),
        (("armsInterventionsModule", "interventions"), ["Pembrolizumab"]),
    ],
)
def test_wrong_typed_field_is_rejected(keytruda, path, value):
    *parents, leaf = path
    dig(keytruda[2]["protocolSection"], *parents)[leaf] = value
    page = parse_ctgov_page({"studies": keytruda})
    assert [r["nct_id"] for r in page.records] == ["NCT05431270", "NCT03590054"]
    assert len(page.rejects) == 1


def test_numeric_string_enrollment_is_read_as_int(keytruda):
    keytruda[0]["protocolSection"]["designModule"]["enrollmentInfo"]["count"] = "40"
    assert parse_study(keytruda[0])["enrollment_count"] == 40


def test_duplicate_nct_id_within_page(keytruda):
    second = copy.deepcopy(keytruda[0])
    second["protocolSection"]["identificationModule"]["briefTitle"] = "second copy"
    page = parse_ctgov_page({"studies": [keytruda[0], second]})
    (record,) = page.records
    assert record["brief_title"] == keytruda[0]["protocolSection"]["identificationModule"]["briefTitle"]
    (reject,) = page.rejects
    assert (reject.record_id, reject.reason) == ("NCT05431270", "duplicate NCT id within page")


def test_reject_raw_is_capped(corpus_dir):
    study = json.loads((corpus_dir / "ctgov/py_load_clinicaltrialsgov/NCT04267848.json").read_bytes())
    study["protocolSection"]["statusModule"]["completionDateStruct"]["date"] = "2025-02-30"
    (reject,) = parse_ctgov_page(study).rejects
    assert len(json.dumps(study)) > 100_000
    assert reject.raw == json.dumps(study)[:100_000]
