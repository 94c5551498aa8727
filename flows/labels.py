"""Human labels for the registry's codes (PHASE2/PHASE3 → Phase 2/3, NOT_YET_RECRUITING → Not
yet recruiting), shared by the digest and the dashboard: pure, no Streamlit or pandas."""
from __future__ import annotations

PHASE_LABELS = {"EARLY_PHASE1": "Early phase 1", "PHASE1": "Phase 1", "PHASE1/PHASE2": "Phase 1/2",
                "PHASE2": "Phase 2", "PHASE2/PHASE3": "Phase 2/3", "PHASE3": "Phase 3", "PHASE4": "Phase 4",
                "NA": "Not applicable", "NOT_GIVEN": "Not given"}
# trial_history.field → how the digest names it.
FIELD_LABELS = {"overall_status": "status", "phases": "phase", "enrollment_count": "enrollment",
                "enrollment_type": "enrollment type", "start_date": "start", "has_results": "results posted",
                "primary_completion_date": "primary completion", "completion_date": "completion",
                "why_stopped": "why stopped", "last_update_posted_date": "last update"}


def code_label(value: object) -> str:
    """RECRUITING → Recruiting, ACTIVE_NOT_RECRUITING → Active not recruiting; None → —."""
    if value is None:
        return "—"
    text = str(value).replace("_", " ").strip()
    return text[:1].upper() + text[1:].lower()


def phase_label(phase: str | None) -> str:
    """PHASE2/PHASE3 → Phase 2/3 (also each part of a joined value); empty → no phase."""
    if not phase:
        return "no phase"
    if phase in PHASE_LABELS:
        return PHASE_LABELS[phase]
    return "/".join(PHASE_LABELS.get(part, part) for part in phase.split("/"))
