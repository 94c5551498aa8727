"""ClinicalTrials.gov API v2 JSON → one flat record per study.

Accepts a search page (`{"studies": [...], "nextPageToken": ..., "totalCount": ...}`) or a single
study (GET /studies/{nct}, which is the study object itself). Pagination fields are left to the
caller. `fields=`-filtered responses carry only some modules; whatever is absent becomes None / [].

Record keys (one per warehouse column):
    nct_id, brief_title, official_title, acronym, overall_status, why_stopped,
    <d>, <d>_precision, <d>_type for d in start_date, primary_completion_date, completion_date,
        first_posted_date, last_update_posted_date, results_first_posted_date,
        disposition_first_posted_date (first day of the period; 'day'|'month'|'year';
        'ACTUAL'|'ESTIMATED'|None),
    study_first_submitted_date, results_first_submitted_date, disposition_first_submitted_date,
        last_update_submitted_date, verification_date (+ _precision), last_known_status,
    is_fda_regulated_drug, is_fda_regulated_device, has_dmc,
    study_type, phases, enrollment_count, enrollment_type, has_results,
    lead_sponsor_name, lead_sponsor_class, collaborators [{name, class}],
    conditions, keywords, interventions [{type, name, other_names, description}],
    countries (sorted, distinct), references [{pmid, type, citation}],
    brief_summary, detailed_description, eligibility_criteria, primary_outcomes (measures),
    condition_mesh, intervention_mesh [{id, term}].
"""
from __future__ import annotations

import json
import re
from typing import Any

from extract.dates import parse_iso_partial
from extract.records import ParsedPage, Reject

SOURCE = "ctgov"
_NCT_ID = re.compile(r"NCT[0-9]{8}")
_DIGITS = re.compile(r"[0-9]+")
_DATE_STRUCTS = {
    "start_date": "startDateStruct",
    "primary_completion_date": "primaryCompletionDateStruct",
    "completion_date": "completionDateStruct",
    "first_posted_date": "studyFirstPostDateStruct",
    "last_update_posted_date": "lastUpdatePostDateStruct",
    "results_first_posted_date": "resultsFirstPostDateStruct",
    "disposition_first_posted_date": "dispFirstPostDateStruct",
}
# Plain submission dates (full days) under statusModule, named as AACT's `studies` names them.
_SUBMIT_DATES = {
    "study_first_submitted_date": "studyFirstSubmitDate",
    "results_first_submitted_date": "resultsFirstSubmitDate",
    "disposition_first_submitted_date": "dispFirstSubmitDate",
    "last_update_submitted_date": "lastUpdateSubmitDate",
}


def parse_ctgov_page(payload: bytes | dict) -> ParsedPage:
    """Parse a page or single-study response; never raises, bad studies become Rejects."""
    page = ParsedPage()
    if isinstance(payload, bytes):
        try:
            payload = json.loads(payload.decode("utf-8", errors="surrogateescape"))
        except ValueError as exc:
            raw = payload[:2000].decode("utf-8", errors="replace")
            page.rejects.append(Reject(SOURCE, None, f"malformed JSON: {exc}", raw))
            return page
    studies = _studies(payload)
    if studies is None:
        raw = json.dumps(payload)[:2000]
        page.rejects.append(Reject(SOURCE, None, "not a CT.gov study or page of studies", raw))
        return page
    seen: set[str] = set()
    for study in studies:
        if not _is_utf8(study):
            page.rejects.append(_reject(study, "bytes that are not UTF-8 in the study"))
            continue
        try:
            record = parse_study(study)
        except (ValueError, KeyError) as exc:
            page.rejects.append(_reject(study, _error_text(exc)))
            continue
        if record["nct_id"] in seen:
            page.rejects.append(_reject(study, "duplicate NCT id within page"))
            continue
        seen.add(record["nct_id"])
        page.records.append(record)
    return page


def _is_utf8(study: object) -> bool:
    """False when undecodable bytes were carried through as surrogates (see parse_ctgov_page):
    one bad study is quarantined instead of failing its whole page."""
    try:
        json.dumps(study, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_study(study: dict) -> dict:
    """One API v2 study object → record dict. Raises ValueError/KeyError on a bad study."""
    study = _obj(study, "study")
    ps = _obj(study["protocolSection"], "protocolSection")
    derived = _obj(study.get("derivedSection"), "derivedSection")
    return {
        **_identification(ps),
        **_status(ps),
        **_design(ps),
        **_oversight(ps),
        "has_results": _has_results(study),
        **_sponsors(ps),
        **_conditions(ps),
        "interventions": _interventions(ps),
        "countries": _countries(ps),
        "references": _references(ps),
        **_description(ps),
        "eligibility_criteria": _text(_module(ps, "eligibilityModule").get("eligibilityCriteria"),
                                      "eligibilityCriteria"),
        "primary_outcomes": _primary_outcomes(ps),
        "condition_mesh": _meshes(derived, "conditionBrowseModule"),
        "intervention_mesh": _meshes(derived, "interventionBrowseModule"),
    }


def study_objects(payload: Any) -> list:
    """The study objects of a page or single-study response (none if it is neither)."""
    return _studies(payload) or []


def _studies(payload: Any) -> list | None:
    if isinstance(payload, dict) and "protocolSection" in payload:
        return [payload]
    if isinstance(payload, dict) and isinstance(payload.get("studies"), list):
        return payload["studies"]
    return None


def _reject(study: Any, reason: str) -> Reject:
    return Reject(SOURCE, _readable_nct_id(study), reason, json.dumps(study)[:100_000])


def _readable_nct_id(study: Any) -> str | None:
    try:
        nct_id = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return nct_id if isinstance(nct_id, str) else None


def _error_text(exc: Exception) -> str:
    # str(KeyError('x')) is just "'x'", which says nothing in a quarantine table.
    return f"missing {exc}" if isinstance(exc, KeyError) else str(exc)


# --- one function per module -------------------------------------------------------------


def _identification(ps: dict) -> dict:
    ident = _module(ps, "identificationModule")
    nct_id = _text(ident.get("nctId"), "nctId")
    if not nct_id:
        raise ValueError("missing NCT id")
    if not _NCT_ID.fullmatch(nct_id):
        raise ValueError(f"malformed NCT id {nct_id!r}")
    return {
        "nct_id": nct_id,
        "brief_title": _text(ident.get("briefTitle"), "briefTitle"),
        "official_title": _text(ident.get("officialTitle"), "officialTitle"),
        "acronym": _text(ident.get("acronym"), "acronym"),
    }


def _status(ps: dict) -> dict:
    status = _module(ps, "statusModule")
    record = {
        "overall_status": _text(status.get("overallStatus"), "overallStatus"),
        "why_stopped": _text(status.get("whyStopped"), "whyStopped"),
    }
    for name, struct_name in _DATE_STRUCTS.items():
        record.update(_date_struct(status, struct_name, name))
    for name, key in _SUBMIT_DATES.items():
        record[name] = _partial_date(status.get(key), key)[0]
    record["verification_date"], record["verification_date_precision"] = _partial_date(
        status.get("statusVerifiedDate"), "statusVerifiedDate")
    record["last_known_status"] = _text(status.get("lastKnownStatus"), "lastKnownStatus")
    return record


def _partial_date(value: Any, where: str) -> tuple:
    try:
        return parse_iso_partial(_text(value, where))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _oversight(ps: dict) -> dict:
    oversight = _module(ps, "oversightModule")
    return {name: _flag(oversight.get(key), key) for name, key in (
        ("is_fda_regulated_drug", "isFdaRegulatedDrug"), ("is_fda_regulated_device", "isFdaRegulatedDevice"),
        ("has_dmc", "oversightHasDmc"))}


def _flag(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{where}: expected a boolean, got {value!r}")


def _date_struct(status: dict, struct_name: str, name: str) -> dict:
    struct = _obj(status.get(struct_name), struct_name)
    text = _text(struct.get("date"), f"{struct_name}.date")
    value, precision = _partial_date(text, struct_name)
    return {
        name: value,
        f"{name}_precision": precision,
        f"{name}_type": _text(struct.get("type"), f"{struct_name}.type"),
    }


def _design(ps: dict) -> dict:
    design = _module(ps, "designModule")
    enrollment = _obj(design.get("enrollmentInfo"), "enrollmentInfo")
    return {
        "study_type": _text(design.get("studyType"), "studyType"),
        "phases": _texts(design.get("phases"), "phases"),
        "enrollment_count": _count(enrollment.get("count"), "enrollmentInfo.count"),
        "enrollment_type": _text(enrollment.get("type"), "enrollmentInfo.type"),
    }


def _has_results(study: dict) -> bool:
    has_results = study.get("hasResults", False)
    if not isinstance(has_results, bool):
        raise ValueError(f"hasResults: expected a boolean, got {has_results!r}")
    return has_results


def _sponsors(ps: dict) -> dict:
    sponsors = _module(ps, "sponsorCollaboratorsModule")
    lead = _obj(sponsors.get("leadSponsor"), "leadSponsor")
    return {
        "lead_sponsor_name": _text(lead.get("name"), "leadSponsor.name"),
        "lead_sponsor_class": _text(lead.get("class"), "leadSponsor.class"),
        "collaborators": [
            {
                "name": _text(collaborator.get("name"), "collaborators.name"),
                "class": _text(collaborator.get("class"), "collaborators.class"),
            }
            for collaborator in _objs(sponsors.get("collaborators"), "collaborators")
        ],
    }


def _conditions(ps: dict) -> dict:
    conditions = _module(ps, "conditionsModule")
    return {
        "conditions": _texts(conditions.get("conditions"), "conditions"),
        "keywords": _texts(conditions.get("keywords"), "keywords"),
    }


def _interventions(ps: dict) -> list[dict]:
    arms = _module(ps, "armsInterventionsModule")
    return [
        {
            "type": _text(intervention.get("type"), "interventions.type"),
            "name": _text(intervention.get("name"), "interventions.name"),
            "other_names": _texts(intervention.get("otherNames"), "interventions.otherNames"),
            "description": _text(intervention.get("description"), "interventions.description"),
        }
        for intervention in _objs(arms.get("interventions"), "interventions")
    ]


def _countries(ps: dict) -> list[str]:
    locations = _objs(_module(ps, "contactsLocationsModule").get("locations"), "locations")
    countries = {_text(location.get("country"), "locations.country") for location in locations}
    return sorted(countries - {None})


def _references(ps: dict) -> list[dict]:
    references = _module(ps, "referencesModule").get("references")
    return [
        {
            "pmid": _text(reference.get("pmid"), "references.pmid"),
            "type": _text(reference.get("type"), "references.type"),
            "citation": _text(reference.get("citation"), "references.citation"),
        }
        for reference in _objs(references, "references")
    ]


def _description(ps: dict) -> dict:
    description = _module(ps, "descriptionModule")
    return {
        "brief_summary": _text(description.get("briefSummary"), "briefSummary"),
        "detailed_description": _text(
            description.get("detailedDescription"), "detailedDescription"
        ),
    }


def _primary_outcomes(ps: dict) -> list[str]:
    outcomes = _objs(_module(ps, "outcomesModule").get("primaryOutcomes"), "primaryOutcomes")
    measures = (_text(outcome.get("measure"), "primaryOutcomes.measure") for outcome in outcomes)
    return [measure for measure in measures if measure is not None]


def _meshes(derived: dict, module_name: str) -> list[dict]:
    meshes = _module(derived, module_name).get("meshes")
    return [
        {
            "id": _text(mesh.get("id"), f"{module_name}.meshes.id"),
            "term": _text(mesh.get("term"), f"{module_name}.meshes.term"),
        }
        for mesh in _objs(meshes, f"{module_name}.meshes")
    ]


# --- typed access: a wrong-typed field raises ValueError, naming the field ---------------


def _module(section: dict, name: str) -> dict:
    return _obj(section.get(name), name)


def _obj(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _objs(value: Any, where: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{where}: expected a list of objects")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{where}: expected a string, got {type(value).__name__}")


def _texts(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of strings")
    return list(value)


def _count(value: Any, where: str) -> int | None:
    """The API sends an int; a digit string is accepted as the same number, anything else is not."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    raise ValueError(f"{where}: expected an integer, got {value!r}")
