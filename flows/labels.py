"""Human labels for the registry's codes (PHASE2/PHASE3 → Phase 2/3, NOT_YET_RECRUITING → Not
yet recruiting, OTHER_GOV → Other government), shared by the digest and the dashboard: pure, no
Streamlit or pandas."""
from __future__ import annotations

PHASE_ORDER = ["EARLY_PHASE1", "PHASE1", "PHASE1/PHASE2", "PHASE2", "PHASE2/PHASE3", "PHASE3", "PHASE4",
               "NA", "NOT_GIVEN"]
PHASE_LABELS = {"EARLY_PHASE1": "Early phase 1", "PHASE1": "Phase 1", "PHASE1/PHASE2": "Phase 1/2",
                "PHASE2": "Phase 2", "PHASE2/PHASE3": "Phase 2/3", "PHASE3": "Phase 3", "PHASE4": "Phase 4",
                "NA": "Not applicable", "NOT_GIVEN": "Not given"}
STATUS_ORDER = ["NOT_YET_RECRUITING", "RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING",
                "SUSPENDED", "COMPLETED", "TERMINATED", "WITHDRAWN", "UNKNOWN"]
# ClinicalTrials.gov's AgencyClass (lead sponsor and collaborators).
SPONSOR_CLASS_LABELS = {"INDUSTRY": "Industry", "NIH": "NIH", "FED": "Federal", "OTHER_GOV": "Other government",
                        "NETWORK": "Network", "INDIV": "Individual", "OTHER": "Other", "UNKNOWN": "Unknown",
                        "AMBIG": "Ambiguous"}
ALLOCATION_LABELS = {"RANDOMIZED": "Randomized", "NON_RANDOMIZED": "Non-randomized", "NA": "N/A (single group)"}
MASKING_LABELS = {"NONE": "None (open label)", "SINGLE": "Single", "DOUBLE": "Double", "TRIPLE": "Triple",
                  "QUADRUPLE": "Quadruple"}
COMPARATOR_LABELS = {"active placebo": "Active placebo", "placebo": "Placebo", "active comparator": "Active comparator",
                     "waitlist/usual care": "Waitlist / usual care", "none": "None"}
# trial_history.field → how the digest names it.
FIELD_LABELS = {"overall_status": "status", "phases": "phase", "enrollment_count": "enrollment",
                "enrollment_type": "enrollment type", "start_date": "start", "has_results": "results posted",
                "primary_completion_date": "primary completion", "completion_date": "completion",
                "why_stopped": "why stopped", "last_update_posted_date": "last update"}
# Warehouse column → the header a table shows for it (the dashboard's tables keep the column
# names in their data and downloads; only the header is the label).
COLUMN_LABELS = {
    "nct_id": "Trial", "pmid": "PMID", "brief_title": "Title", "title": "Title", "official_title": "Official title",
    "drugs": "Drugs", "subject_drugs": "About", "conditions": "Conditions", "phase": "Phase", "phases": "Phase",
    "overall_status": "Status", "status": "Status", "study_type": "Study type", "lead_sponsor_name": "Lead sponsor",
    "lead_sponsor_class": "Sponsor class", "enrollment_count": "Enrollment", "start": "Start",
    "primary_completion": "Primary completion", "completion": "Completion", "has_results": "Results posted",
    "countries": "Countries", "linked_papers": "Linked papers", "last_update_posted_date": "Last update posted",
    "url": "Link", "study_design": "Study design", "journal": "Journal", "pub_year": "Year",
    "published": "Published", "publication_types": "Publication types", "linked_trials": "Linked trials",
    "doi": "DOI", "entrez_date": "Added to PubMed", "evidence": "Evidence", "pubmed_url": "PubMed",
    "registry_url": "Registry", "observed_at": "Seen", "field": "Field", "old_value": "Before",
    "new_value": "After", "run_id": "Run", "outcome_type": "Type", "measure": "Measure", "time_frame": "Time frame",
    "description": "Description", "detected_at": "Seen", "change": "Change", "old_measure": "Before",
    "new_measure": "After", "after_start": "After the start", "grant_id": "Grant", "acronym": "Acronym",
    "agency": "Agency", "country": "Country", "ref_type": "Link type", "ref_pmid": "Other PMID",
    "ref_source": "Citation", "concept": "Condition", "mesh_id": "MeSH id", "category": "Category",
    "source": "Source", "condition_group": "Group", "group": "Group", "records": "Records", "n": "Count",
    "condition": "Condition", "rank": "Order", "drug": "Drug", "results_due": "Results due (FDAAA)",
    "unpublished": "Unpublished", "months_since_primary_completion": "Months since primary completion",
    "reason": "Why", "type": "Type", "name": "Name", "other names": "Other names",
}


def code_label(value: object) -> str:
    """RECRUITING → Recruiting, ACTIVE_NOT_RECRUITING → Active not recruiting; None (or NaN) → —."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:].lower()


def coded_label(value: object, labels: dict[str, str]) -> str:
    """A registry code by its label in `labels`, else as code_label writes it."""
    return labels.get(value, code_label(value)) if isinstance(value, str) else code_label(value)


def phase_label(phase: str | None) -> str:
    """PHASE2/PHASE3 → Phase 2/3 (also each part of a joined value); empty → no phase."""
    if not phase:
        return "no phase"
    if phase in PHASE_LABELS:
        return PHASE_LABELS[phase]
    return "/".join(PHASE_LABELS.get(part, part) for part in phase.split("/"))


def status_label(status: str | None) -> str:
    """NOT_YET_RECRUITING → Not yet recruiting."""
    return code_label(status)


def sponsor_class_label(value: str | None) -> str:
    """INDUSTRY → Industry, NIH → NIH, OTHER_GOV → Other government, INDIV → Individual."""
    return coded_label(value, SPONSOR_CLASS_LABELS)


def study_type_label(value: str | None) -> str:
    """INTERVENTIONAL → Interventional, EXPANDED_ACCESS → Expanded access."""
    return code_label(value)


def column_label(column: str) -> str:
    """A warehouse column's header: COLUMN_LABELS, else the name with its underscores as spaces."""
    return COLUMN_LABELS.get(column) or (column[:1].upper() + column[1:]).replace("_", " ")


def ordered(values, order) -> list:
    """`values` in the order of `order`, unknown ones after it alphabetically."""
    rank = {v: i for i, v in enumerate(order)}
    return sorted(values, key=lambda v: (rank.get(v, len(rank)), str(v)))


def history_value_label(field: str, value: str | None) -> str | None:
    """A trial_history value as a reader wants it: status and phase labels, yes/no for results."""
    if value is None or value == "":
        return value
    if field == "overall_status":
        return status_label(value)
    if field == "phases":
        return phase_label(value)
    if field == "enrollment_type":
        return code_label(value)
    if field == "has_results":
        return {"true": "yes", "false": "no"}.get(value, value)
    return value
