"""ClinicalTrials.gov v2 study JSON → AACT-shaped tables (CTTI's relational layout).

Table and column names follow AACT (`ctti-clinicaltrials/aact`, `db/structure.sql` and the v2
mappings in `app/models/*.rb`), so AACT queries carry over. Differences, all documented in
migration 007: ids are deterministic strings ``"<nct_id>:<table>:<ordinal>"`` (AACT uses integer
surrogates) and foreign ids (design_group_id, intervention_id, outcome_id, result_group_id)
reference them; enum values are kept as v2 writes them (RANDOMIZED, PARTICIPANT, …), as AACT's own
v2 loader does; numbers that v2 writes as text are parsed beside the raw text.

`study_rows(study)` is pure and never raises on a study object; `study_tables(studies)` builds one
Arrow table per AACT table (empty ones included), typed by AACT_TABLES, ready for
``INSERT INTO t BY NAME SELECT * FROM arrow_table``.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

import pyarrow as pa

from extract.dates import parse_iso_partial

_S, _I, _F, _B, _D = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()
_LS = pa.list_(pa.string())


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field("nct_id", _S, nullable=False), *(pa.field(n, t) for n, t in columns)])


_MEASUREMENT = [
    ("ctgov_group_code", _S), ("classification", _S), ("category", _S), ("title", _S),
    ("description", _S), ("units", _S), ("param_type", _S), ("param_value", _S),
    ("param_value_num", _F), ("dispersion_type", _S), ("dispersion_value", _S),
    ("dispersion_value_num", _F), ("dispersion_lower_limit", _F), ("dispersion_upper_limit", _F),
    ("dispersion_lower_limit_raw", _S), ("dispersion_upper_limit_raw", _S), ("explanation_of_na", _S),
]

AACT_TABLES: dict[str, pa.Schema] = {
    "designs": _schema(
        ("allocation", _S), ("intervention_model", _S), ("observational_model", _S),
        ("primary_purpose", _S), ("time_perspective", _S), ("masking", _S),
        ("masking_description", _S), ("intervention_model_description", _S),
        ("subject_masked", _B), ("caregiver_masked", _B), ("investigator_masked", _B),
        ("outcomes_assessor_masked", _B),
    ),
    "design_groups": _schema(("id", _S), ("group_type", _S), ("title", _S), ("description", _S)),
    "design_group_interventions": _schema(("id", _S), ("design_group_id", _S), ("intervention_id", _S)),
    "interventions": _schema(
        ("id", _S), ("intervention_type", _S), ("name", _S), ("description", _S), ("other_names", _LS),
    ),
    "design_outcomes": _schema(
        ("id", _S), ("outcome_type", _S), ("measure", _S), ("time_frame", _S), ("population", _S),
        ("description", _S),
    ),
    "eligibilities": _schema(
        ("sampling_method", _S), ("gender", _S), ("minimum_age", _S), ("maximum_age", _S),
        ("healthy_volunteers", _B), ("population", _S), ("criteria", _S), ("gender_description", _S),
        ("gender_based", _B), ("adult", _B), ("child", _B), ("older_adult", _B), ("std_ages", _LS),
    ),
    "facilities": _schema(
        ("id", _S), ("status", _S), ("name", _S), ("city", _S), ("state", _S), ("zip", _S),
        ("country", _S), ("latitude", _F), ("longitude", _F),
    ),
    "id_information": _schema(
        ("id", _S), ("id_source", _S), ("id_type", _S), ("id_type_description", _S),
        ("id_value", _S), ("id_link", _S),
    ),
    "overall_officials": _schema(("id", _S), ("role", _S), ("name", _S), ("affiliation", _S)),
    "responsible_parties": _schema(
        ("id", _S), ("responsible_party_type", _S), ("name", _S), ("title", _S),
        ("organization", _S), ("affiliation", _S), ("old_name_title", _S),
    ),
    "sponsors": _schema(("id", _S), ("agency_class", _S), ("lead_or_collaborator", _S), ("name", _S)),
    "provided_documents": _schema(
        ("id", _S), ("document_type", _S), ("has_protocol", _B), ("has_icf", _B), ("has_sap", _B),
        ("document_date", _D), ("document_date_raw", _S), ("url", _S),
    ),
    "result_groups": _schema(
        ("id", _S), ("ctgov_group_code", _S), ("result_type", _S), ("title", _S), ("description", _S),
        ("outcome_id", _S),
    ),
    "participant_flows": _schema(
        ("recruitment_details", _S), ("pre_assignment_details", _S), ("units_analyzed", _S),
    ),
    "milestones": _schema(
        ("id", _S), ("result_group_id", _S), ("ctgov_group_code", _S), ("title", _S), ("period", _S),
        ("description", _S), ("count", _I), ("milestone_description", _S), ("count_units", _I),
    ),
    "drop_withdrawals": _schema(
        ("id", _S), ("result_group_id", _S), ("ctgov_group_code", _S), ("period", _S), ("reason", _S),
        ("count", _I), ("drop_withdraw_comment", _S), ("reason_comment", _S),
    ),
    "baseline_measurements": _schema(
        ("id", _S), ("result_group_id", _S), *_MEASUREMENT, ("population_description", _S),
    ),
    "outcomes": _schema(
        ("id", _S), ("outcome_type", _S), ("title", _S), ("description", _S), ("time_frame", _S),
        ("population", _S), ("anticipated_posting_month_year", _S), ("units", _S),
        ("units_analyzed", _S), ("dispersion_type", _S), ("param_type", _S),
    ),
    "outcome_measurements": _schema(("id", _S), ("outcome_id", _S), ("result_group_id", _S), *_MEASUREMENT),
    "outcome_analyses": _schema(
        ("id", _S), ("outcome_id", _S), ("non_inferiority_type", _S),
        ("non_inferiority_description", _S), ("param_type", _S), ("param_value", _F),
        ("dispersion_type", _S), ("dispersion_value", _F), ("p_value_modifier", _S),
        ("p_value", _F), ("p_value_raw", _S), ("p_value_description", _S), ("ci_n_sides", _S),
        ("ci_percent", _F), ("ci_lower_limit", _F), ("ci_upper_limit", _F),
        ("ci_lower_limit_raw", _S), ("ci_upper_limit_raw", _S), ("ci_upper_limit_na_comment", _S),
        ("method", _S), ("method_description", _S), ("estimate_description", _S),
        ("groups_description", _S), ("other_analysis_description", _S), ("group_codes", _LS),
    ),
    "reported_events": _schema(
        ("id", _S), ("result_group_id", _S), ("ctgov_group_code", _S), ("time_frame", _S),
        ("event_type", _S), ("default_vocab", _S), ("default_assessment", _S),
        ("subjects_affected", _I), ("subjects_at_risk", _I), ("description", _S),
        ("event_count", _I), ("organ_system", _S), ("adverse_event_term", _S),
        ("frequency_threshold", _F), ("vocab", _S), ("assessment", _S),
    ),
    "reported_event_totals": _schema(
        ("id", _S), ("ctgov_group_code", _S), ("event_type", _S), ("classification", _S),
        ("subjects_affected", _I), ("subjects_at_risk", _I),
    ),
}

_PROVIDED_DOCS_URL = "https://ClinicalTrials.gov/ProvidedDocs/{tail}/{nct}/{filename}"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


# --- defensive accessors: a real record may hold anything where a dict or list is expected ---

def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _strs(value: Any) -> list[str]:
    return [s for s in (_s(item) for item in value) if s is not None] if isinstance(value, list) else []


def _b(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "y", "t", "false", "no", "n", "f"):
        return value.strip().lower() in ("true", "yes", "y", "t")
    return None


def _f(value: Any) -> float | None:
    """A number v2 writes as text ("12.5", "1,024"); anything else (NA, "<0.001") → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if _NUMBER.fullmatch(text):
            return float(text)
    return None


def _i(value: Any) -> int | None:
    number = _f(value)
    return int(number) if number is not None and number.is_integer() else None


def full_date(text: Any) -> date | None:
    """A DATE for a full `YYYY-MM-DD` only; partial dates stay in the raw text column beside it."""
    try:
        value, precision = parse_iso_partial(_s(text))
    except ValueError:
        return None
    return value if precision == "day" else None


def p_value_parts(raw: Any) -> tuple[str | None, float | None]:
    """`"<0.001"` → ("<", 0.001); `"0.04"` → (None, 0.04); the modifier is what precedes the number."""
    text = _s(raw)
    if not text:
        return None, None
    match = _NUMBER.search(text.replace(",", ""))
    if not match:
        return None, None
    modifier = text.replace(",", "")[: match.start()].strip() or None
    return modifier, float(match.group())


class _Ids:
    """Deterministic string ids "<nct_id>:<table>:<ordinal>", ordinals from 1 per table."""

    def __init__(self, nct_id: str):
        self.nct_id = nct_id
        self.counts: dict[str, int] = {}

    def __call__(self, table: str) -> str:
        self.counts[table] = self.counts.get(table, 0) + 1
        return f"{self.nct_id}:{table}:{self.counts[table]}"


def study_rows(study: dict) -> dict[str, list[dict]]:
    """Rows per AACT table for one whole v2 study object; missing modules give no rows."""
    rows: dict[str, list[dict]] = {table: [] for table in AACT_TABLES}
    study = _d(study)
    ps = _d(study.get("protocolSection"))
    nct = _s(_d(ps.get("identificationModule")).get("nctId"))
    if not nct:
        return rows
    ids = _Ids(nct)
    _protocol(ps, nct, ids, rows)
    _documents(_d(study.get("documentSection")), nct, ids, rows)
    results = study.get("resultsSection")
    if isinstance(results, dict):
        _results(results, nct, ids, rows)
    return rows


def _add(rows: dict, table: str, nct: str, **values: Any) -> dict:
    row = {"nct_id": nct, **values}
    rows[table].append(row)
    return row


def _protocol(ps: dict, nct: str, ids: _Ids, rows: dict) -> None:
    ident = _d(ps.get("identificationModule"))
    design_module = ps.get("designModule")
    info = _d(_d(design_module).get("designInfo"))
    if isinstance(_d(design_module).get("designInfo"), dict):
        masking = _d(info.get("maskingInfo"))
        who = _strs(masking.get("whoMasked")) if isinstance(masking.get("whoMasked"), list) else None
        _add(rows, "designs", nct,
             allocation=_s(info.get("allocation")),
             intervention_model=_s(info.get("interventionModel")),
             observational_model=_s(info.get("observationalModel")),
             primary_purpose=_s(info.get("primaryPurpose")),
             time_perspective=_s(info.get("timePerspective")),
             masking=_s(masking.get("masking")),
             masking_description=_s(masking.get("maskingDescription")),
             intervention_model_description=_s(info.get("interventionModelDescription")),
             **{column: (None if who is None else role in who) for column, role in (
                 ("subject_masked", "PARTICIPANT"), ("caregiver_masked", "CARE_PROVIDER"),
                 ("investigator_masked", "INVESTIGATOR"), ("outcomes_assessor_masked", "OUTCOMES_ASSESSOR"))})

    arms = _d(ps.get("armsInterventionsModule"))
    group_by_label: dict[str, str] = {}
    for arm in _l(arms.get("armGroups")):
        row = _add(rows, "design_groups", nct, id=ids("design_groups"), group_type=_s(arm.get("type")),
                   title=_s(arm.get("label")), description=_s(arm.get("description")))
        if row["title"] is not None:
            group_by_label.setdefault(row["title"], row["id"])
    for intervention in _l(arms.get("interventions")):
        row = _add(rows, "interventions", nct, id=ids("interventions"),
                   intervention_type=_s(intervention.get("type")), name=_s(intervention.get("name")),
                   description=_s(intervention.get("description")),
                   other_names=_strs(intervention.get("otherNames")))
        for label in dict.fromkeys(_strs(intervention.get("armGroupLabels"))):
            if label in group_by_label:
                _add(rows, "design_group_interventions", nct, id=ids("design_group_interventions"),
                     design_group_id=group_by_label[label], intervention_id=row["id"])

    outcomes = _d(ps.get("outcomesModule"))
    for key, outcome_type in (("primaryOutcomes", "primary"), ("secondaryOutcomes", "secondary"),
                              ("otherOutcomes", "other")):
        for outcome in _l(outcomes.get(key)):
            _add(rows, "design_outcomes", nct, id=ids("design_outcomes"), outcome_type=outcome_type,
                 measure=_s(outcome.get("measure")), time_frame=_s(outcome.get("timeFrame")),
                 population=None, description=_s(outcome.get("description")))

    if isinstance(ps.get("eligibilityModule"), dict):
        elig = ps["eligibilityModule"]
        std_ages = _strs(elig.get("stdAges"))
        has_ages = isinstance(elig.get("stdAges"), list)
        _add(rows, "eligibilities", nct,
             sampling_method=_s(elig.get("samplingMethod")), gender=_s(elig.get("sex")),
             minimum_age=_s(elig.get("minimumAge")), maximum_age=_s(elig.get("maximumAge")),
             healthy_volunteers=_b(elig.get("healthyVolunteers")),
             population=_s(elig.get("studyPopulation")), criteria=_s(elig.get("eligibilityCriteria")),
             gender_description=_s(elig.get("genderDescription")), gender_based=_b(elig.get("genderBased")),
             adult=("ADULT" in std_ages) if has_ages else None,
             child=("CHILD" in std_ages) if has_ages else None,
             older_adult=("OLDER_ADULT" in std_ages) if has_ages else None,
             std_ages=std_ages)

    contacts = _d(ps.get("contactsLocationsModule"))
    for location in _l(contacts.get("locations")):
        geo = _d(location.get("geoPoint"))
        _add(rows, "facilities", nct, id=ids("facilities"), status=_s(location.get("status")),
             name=_s(location.get("facility")), city=_s(location.get("city")),
             state=_s(location.get("state")), zip=_s(location.get("zip")),
             country=_s(location.get("country")), latitude=_f(geo.get("lat")), longitude=_f(geo.get("lon")))
    for official in _l(contacts.get("overallOfficials")):
        _add(rows, "overall_officials", nct, id=ids("overall_officials"), role=_s(official.get("role")),
             name=_s(official.get("name")), affiliation=_s(official.get("affiliation")))

    org = ident.get("orgStudyIdInfo")
    id_infos = [("org_study_id", org)] if isinstance(org, dict) else []
    id_infos += [("secondary_id", info) for info in _l(ident.get("secondaryIdInfos"))]
    for source, info in id_infos:
        _add(rows, "id_information", nct, id=ids("id_information"), id_source=source,
             id_type=_s(info.get("type")), id_type_description=_s(info.get("domain")),
             id_value=_s(info.get("id")), id_link=_s(info.get("link")))
    for alias in _strs(ident.get("nctIdAliases")):
        _add(rows, "id_information", nct, id=ids("id_information"), id_source="nct_alias",
             id_type=None, id_type_description=None, id_value=alias, id_link=None)

    sponsors = _d(ps.get("sponsorCollaboratorsModule"))
    party = sponsors.get("responsibleParty")
    if isinstance(party, dict):
        _add(rows, "responsible_parties", nct, id=ids("responsible_parties"),
             responsible_party_type=_s(party.get("type")), name=_s(party.get("investigatorFullName")),
             title=_s(party.get("investigatorTitle")), organization=_s(party.get("oldOrganization")),
             affiliation=_s(party.get("investigatorAffiliation")),
             old_name_title=_s(party.get("oldNameTitle")))
    lead = sponsors.get("leadSponsor")
    sponsor_list = [("lead", lead)] if isinstance(lead, dict) else []
    sponsor_list += [("collaborator", c) for c in _l(sponsors.get("collaborators"))]
    for role, sponsor in sponsor_list:
        _add(rows, "sponsors", nct, id=ids("sponsors"), agency_class=_s(sponsor.get("class")),
             lead_or_collaborator=role, name=_s(sponsor.get("name")))


def _documents(section: dict, nct: str, ids: _Ids, rows: dict) -> None:
    for doc in _l(_d(section.get("largeDocumentModule")).get("largeDocs")):
        filename = _s(doc.get("filename"))
        _add(rows, "provided_documents", nct, id=ids("provided_documents"),
             document_type=_s(doc.get("label")), has_protocol=_b(doc.get("hasProtocol")),
             has_icf=_b(doc.get("hasIcf")), has_sap=_b(doc.get("hasSap")),
             document_date=full_date(doc.get("date")), document_date_raw=_s(doc.get("date")),
             url=_PROVIDED_DOCS_URL.format(tail=nct[-2:], nct=nct, filename=filename) if filename else None)


def _groups(groups: Any, result_type: str, nct: str, ids: _Ids, rows: dict,
            outcome_id: str | None = None) -> dict[str, str]:
    """result_groups rows for one list of v2 groups; returns ctgov_group_code → result_groups.id."""
    by_code: dict[str, str] = {}
    for group in _l(groups):
        row = _add(rows, "result_groups", nct, id=ids("result_groups"), ctgov_group_code=_s(group.get("id")),
                   result_type=result_type, title=_s(group.get("title")),
                   description=_s(group.get("description")), outcome_id=outcome_id)
        if row["ctgov_group_code"] is not None:
            by_code.setdefault(row["ctgov_group_code"], row["id"])
    return by_code


def _measurements(measure: dict, table: str, group_ids: dict[str, str], nct: str, ids: _Ids,
                  rows: dict, **extra: Any) -> None:
    """One row per measures[].classes[].categories[].measurements[] (baseline or outcome)."""
    for klass in _l(measure.get("classes")):
        for category in _l(klass.get("categories")):
            for m in _l(category.get("measurements")):
                code = _s(m.get("groupId"))
                _add(rows, table, nct, id=ids(table), **extra, result_group_id=group_ids.get(code or ""),
                     ctgov_group_code=code, classification=_s(klass.get("title")),
                     category=_s(category.get("title")), title=_s(measure.get("title")),
                     description=_s(measure.get("description")), units=_s(measure.get("unitOfMeasure")),
                     param_type=_s(measure.get("paramType")), param_value=_s(m.get("value")),
                     param_value_num=_f(m.get("value")), dispersion_type=_s(measure.get("dispersionType")),
                     dispersion_value=_s(m.get("spread")), dispersion_value_num=_f(m.get("spread")),
                     dispersion_lower_limit=_f(m.get("lowerLimit")),
                     dispersion_upper_limit=_f(m.get("upperLimit")),
                     dispersion_lower_limit_raw=_s(m.get("lowerLimit")),
                     dispersion_upper_limit_raw=_s(m.get("upperLimit")),
                     explanation_of_na=_s(m.get("comment")))


def _results(results: dict, nct: str, ids: _Ids, rows: dict) -> None:
    flow = results.get("participantFlowModule")
    if isinstance(flow, dict):
        _add(rows, "participant_flows", nct, recruitment_details=_s(flow.get("recruitmentDetails")),
             pre_assignment_details=_s(flow.get("preAssignmentDetails")),
             units_analyzed=_s(flow.get("typeUnitsAnalyzed")))
        flow_groups = _groups(flow.get("groups"), "Participant Flow", nct, ids, rows)
        for period in _l(flow.get("periods")):
            period_title = _s(period.get("title"))
            for milestone in _l(period.get("milestones")):
                for achievement in _l(milestone.get("achievements")):
                    code = _s(achievement.get("groupId"))
                    _add(rows, "milestones", nct, id=ids("milestones"),
                         result_group_id=flow_groups.get(code or ""), ctgov_group_code=code,
                         title=_s(milestone.get("type")), period=period_title,
                         description=_s(achievement.get("comment")), count=_i(achievement.get("numSubjects")),
                         milestone_description=_s(milestone.get("comment")),
                         count_units=_i(achievement.get("numUnits")))
            for drop in _l(period.get("dropWithdraws")):
                for reason in _l(drop.get("reasons")):
                    code = _s(reason.get("groupId"))
                    _add(rows, "drop_withdrawals", nct, id=ids("drop_withdrawals"),
                         result_group_id=flow_groups.get(code or ""), ctgov_group_code=code,
                         period=period_title, reason=_s(drop.get("type")), count=_i(reason.get("numSubjects")),
                         drop_withdraw_comment=_s(drop.get("comment")), reason_comment=_s(reason.get("comment")))

    baseline = results.get("baselineCharacteristicsModule")
    if isinstance(baseline, dict):
        base_groups = _groups(baseline.get("groups"), "Baseline", nct, ids, rows)
        for measure in _l(baseline.get("measures")):
            _measurements(measure, "baseline_measurements", base_groups, nct, ids, rows,
                          population_description=_s(measure.get("populationDescription")))

    for measure in _l(_d(results.get("outcomeMeasuresModule")).get("outcomeMeasures")):
        outcome = _add(rows, "outcomes", nct, id=ids("outcomes"), outcome_type=_s(measure.get("type")),
                       title=_s(measure.get("title")), description=_s(measure.get("description")),
                       time_frame=_s(measure.get("timeFrame")), population=_s(measure.get("populationDescription")),
                       anticipated_posting_month_year=_s(measure.get("anticipatedPostingDate")),
                       units=_s(measure.get("unitOfMeasure")), units_analyzed=_s(measure.get("typeUnitsAnalyzed")),
                       dispersion_type=_s(measure.get("dispersionType")), param_type=_s(measure.get("paramType")))
        outcome_groups = _groups(measure.get("groups"), "Outcome", nct, ids, rows, outcome_id=outcome["id"])
        _measurements(measure, "outcome_measurements", outcome_groups, nct, ids, rows, outcome_id=outcome["id"])
        for analysis in _l(measure.get("analyses")):
            modifier, p_value = p_value_parts(analysis.get("pValue"))
            _add(rows, "outcome_analyses", nct, id=ids("outcome_analyses"), outcome_id=outcome["id"],
                 non_inferiority_type=_s(analysis.get("nonInferiorityType")),
                 non_inferiority_description=_s(analysis.get("nonInferiorityComment")),
                 param_type=_s(analysis.get("paramType")), param_value=_f(analysis.get("paramValue")),
                 dispersion_type=_s(analysis.get("dispersionType")),
                 dispersion_value=_f(analysis.get("dispersionValue")),
                 p_value_modifier=modifier, p_value=p_value, p_value_raw=_s(analysis.get("pValue")),
                 p_value_description=_s(analysis.get("pValueComment")),
                 ci_n_sides=_s(analysis.get("ciNumSides")), ci_percent=_f(analysis.get("ciPctValue")),
                 ci_lower_limit=_f(analysis.get("ciLowerLimit")), ci_upper_limit=_f(analysis.get("ciUpperLimit")),
                 ci_lower_limit_raw=_s(analysis.get("ciLowerLimit")),
                 ci_upper_limit_raw=_s(analysis.get("ciUpperLimit")),
                 ci_upper_limit_na_comment=_s(analysis.get("ciUpperLimitComment")),
                 method=_s(analysis.get("statisticalMethod")),
                 method_description=_s(analysis.get("statisticalComment")),
                 estimate_description=_s(analysis.get("estimateComment")),
                 groups_description=_s(analysis.get("groupDescription")),
                 other_analysis_description=_s(analysis.get("otherAnalysisDescription")),
                 group_codes=_strs(analysis.get("groupIds")))

    events = results.get("adverseEventsModule")
    if isinstance(events, dict):
        event_groups = _groups(events.get("eventGroups"), "Reported Event", nct, ids, rows)
        for group in _l(events.get("eventGroups")):
            for event_type, classification, prefix in (
                    ("serious", "Total, serious adverse events", "serious"),
                    ("other", "Total, other adverse events", "other"),
                    ("deaths", "Total, all-cause mortality", "deaths")):
                _add(rows, "reported_event_totals", nct, id=ids("reported_event_totals"),
                     ctgov_group_code=_s(group.get("id")), event_type=event_type,
                     classification=classification,
                     subjects_affected=_i(group.get(f"{prefix}NumAffected")),
                     subjects_at_risk=_i(group.get(f"{prefix}NumAtRisk")))
        for key, event_type in (("seriousEvents", "serious"), ("otherEvents", "other")):
            for event in _l(events.get(key)):
                for stat in _l(event.get("stats")):
                    code = _s(stat.get("groupId"))
                    _add(rows, "reported_events", nct, id=ids("reported_events"),
                         result_group_id=event_groups.get(code or ""), ctgov_group_code=code,
                         time_frame=_s(events.get("timeFrame")), event_type=event_type,
                         default_vocab=None, default_assessment=None,
                         subjects_affected=_i(stat.get("numAffected")), subjects_at_risk=_i(stat.get("numAtRisk")),
                         description=_s(events.get("description")), event_count=_i(stat.get("numEvents")),
                         organ_system=_s(event.get("organSystem")), adverse_event_term=_s(event.get("term")),
                         frequency_threshold=_f(events.get("frequencyThreshold")),
                         vocab=_s(event.get("sourceVocabulary")), assessment=_s(event.get("assessmentType")))


def study_tables(studies: list[dict]) -> dict[str, pa.Table]:
    """Every AACT table for several studies, typed by AACT_TABLES (empty tables included)."""
    collected: dict[str, list[dict]] = {table: [] for table in AACT_TABLES}
    for study in studies:
        for table, table_rows in study_rows(study).items():
            collected[table].extend(table_rows)
    return {table: pa.Table.from_pylist(collected[table], schema=schema)
            for table, schema in AACT_TABLES.items()}
