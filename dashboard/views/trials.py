"""Trials explorer: filter the registered trials, and open one trial's page (`?nct=NCT…`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.queries import TRIAL_SORTS

QP = "query-params"
MAX_PAGE_OPTIONS = 2000
MILESTONES = [("first_posted_date", "first_posted_date_type", "First posted"),
              ("start_date", "start_date_type", "Start"),
              ("primary_completion_date", "primary_completion_date_type", "Primary completion"),
              ("completion_date", "completion_date_type", "Completion"),
              ("last_update_posted_date", "last_update_posted_date_type", "Last update posted")]
FIELD_LABELS = {"overall_status": "Status", "phases": "Phase", "enrollment_count": "Enrollment",
                "enrollment_type": "Enrollment type", "start_date": "Start", "has_results": "Results",
                "primary_completion_date": "Primary completion", "completion_date": "Completion",
                "why_stopped": "Why stopped", "last_update_posted_date": "Last update"}


def filters_from_sidebar() -> data.TrialFilters:
    options = data.trial_filter_options()
    source = data.condition_source()
    with st.sidebar:
        st.header("Filters")
        drug_keys = st.multiselect("Drug", data.drugs(), key="drug", bind=QP, help=ui.DRUG_HELP)
        conditions = st.multiselect("Condition", data.trial_condition_options(), key="condition", bind=QP,
                                    help=source.note)
        phases = st.multiselect(
            "Phase", sorted(options["phases"], key=lambda p: (ui.PHASE_ORDER + [p]).index(p)),
            key="phase", bind=QP)
        statuses = st.multiselect("Status", options["statuses"], key="status", bind=QP)
        study_types = st.multiselect("Study type", options["study_types"], key="type", bind=QP)
        sponsor_classes = st.multiselect("Lead sponsor class", options["sponsor_classes"], key="sponsor", bind=QP)
        countries = st.multiselect("Country", options["countries"], key="country", bind=QP)
        start_from = start_to = None
        first, last = options["first_start"], options["last_start"]
        if first and last:
            chosen = st.date_input("Start date between", value=(first, last), min_value=first, max_value=last,
                                   key="start", bind=QP)
            chosen = tuple(chosen) if isinstance(chosen, (tuple, list)) else (chosen,)
            if chosen and chosen != (first, last):
                start_from = chosen[0]
                start_to = chosen[1] if len(chosen) > 1 else None
        results = st.selectbox("Results posted", ["any", "yes", "no"], key="results", bind=QP)
        search = st.text_input("Search titles and summaries", key="q", bind=QP,
                               placeholder="e.g. treatment-resistant")
        sort = st.selectbox("Sort by", list(TRIAL_SORTS), key="sort", bind=QP)
        st.caption(ui.SHARE_HINT)
    return data.TrialFilters(
        drugs=tuple(drug_keys), conditions=tuple(conditions), phases=tuple(phases), statuses=tuple(statuses),
        study_types=tuple(study_types), sponsor_classes=tuple(sponsor_classes), countries=tuple(countries),
        start_from=start_from, start_to=start_to, has_results={"any": None, "yes": True, "no": False}[results],
        search=search or "", sort=sort,
    )


def choose_trial(rows: pd.DataFrame) -> str | None:
    """The trial-page picker: the filtered trials, plus the one named in the link if it exists."""
    ids = rows["nct_id"].tolist()[:MAX_PAGE_OPTIONS]
    titles = dict(zip(rows["nct_id"], rows["brief_title"]))
    return ui.record_picker("Trial page", "nct", ids, titles, data.trial_titles, str,
                            placeholder="Choose a trial to open…")


def timeline_events(trial: dict, history: pd.DataFrame) -> pd.DataFrame:
    """Rows for charts.trial_timeline: when, event (unique label), kind, filled."""
    events = []
    for column, type_column, label in MILESTONES:
        if trial.get(column) is not None:
            kind = (trial.get(type_column) or "").lower()
            events.append({"when": pd.Timestamp(trial[column]), "kind": "registry date",
                           "event": f"{label}{f' ({kind})' if kind else ''}", "filled": kind != "estimated"})
    events.append({"when": pd.Timestamp(trial["first_seen_at"]), "kind": "seen by trialwatch",
                   "event": "First seen by trialwatch", "filled": True})
    for row in history.itertuples():
        label = FIELD_LABELS.get(row.field, row.field)
        change = f"{label} → {row.new_value}" if row.field == "overall_status" else \
            f"{label}: {row.old_value or '∅'} → {row.new_value or '∅'}"
        events.append({"when": pd.Timestamp(row.observed_at), "kind": "seen by trialwatch", "event": change,
                       "filled": True})
    frame = pd.DataFrame(events)
    duplicate = frame.groupby("event").cumcount()
    frame["event"] = [e if n == 0 else f"{e} ({n + 1})" for e, n in zip(frame["event"], duplicate)]
    return frame


def facts(trial: dict) -> list[tuple[str, str]]:
    def when(label_column: str, type_column: str) -> str:
        value = trial.get(label_column)
        kind = trial.get(type_column)
        return f"{value} ({kind.lower()})" if value and kind else (value or "—")

    enrollment = trial.get("enrollment_count")
    return [
        ("Status", ui.enum_label(trial["overall_status"])
         + (f" — {trial['why_stopped']}" if trial.get("why_stopped") else "")),
        ("Phase", ui.phase_label(trial["phase"])),
        ("Study type", ui.enum_label(trial.get("study_type"))),
        ("Drugs", ", ".join(ui.drug_label(d) for d in trial.get("drugs") or []) or "—"),
        ("Enrollment", f"{enrollment:,} ({(trial.get('enrollment_type') or '').lower()})"
         if enrollment is not None else "—"),
        ("Lead sponsor", f"{trial.get('lead_sponsor_name') or '—'} ({trial.get('lead_sponsor_class') or '?'})"),
        ("Collaborators", ", ".join(c["name"] for c in trial.get("collaborators") or []) or "—"),
        ("Start", when("start", "start_date_type")),
        ("Primary completion", when("primary_completion", "primary_completion_date_type")),
        ("Completion", when("completion", "completion_date_type")),
        ("First posted", trial.get("first_posted") or "—"),
        ("Last update posted", trial.get("last_update_posted") or "—"),
        ("Results posted", "yes" if trial.get("has_results") else "no"),
        ("Countries", ", ".join(trial.get("countries") or []) or "—"),
    ]


def render_trial(nct_id: str) -> None:
    trial = data.trial_detail(nct_id)
    if trial is None:
        st.warning(f"{nct_id} is not in the warehouse.")
        return
    with st.container(border=True):
        st.header(f"{nct_id}: {ui.md_escape(trial['brief_title'])}")
        if trial.get("official_title") and trial["official_title"] != trial["brief_title"]:
            st.caption(ui.md_escape(trial["official_title"]))
        st.link_button("Registry entry on ClinicalTrials.gov", trial["url"], icon=":material/open_in_new:")

        st.subheader("Key facts")
        pairs = facts(trial)
        half = (len(pairs) + 1) // 2
        for column, chunk in zip(st.columns(2), (pairs[:half], pairs[half:])):
            column.markdown("\n".join(f"- **{label}:** {ui.md_escape(value)}" for label, value in chunk))

        changes = data.trial_outcome_changes(nct_id)
        if not changes.empty:
            st.warning(f"**Registered outcomes changed** ({len(changes)} change(s) seen by trialwatch"
                       + (", after the trial started" if changes["after_start"].any() else "") + "): see Outcomes.",
                       icon=":material/published_with_changes:")
        design = data.trial_design(nct_id)
        if design and (design.get("allocation") or design.get("masking")):
            masked = [who for who, flag in (("participants", "subject_masked"), ("care providers", "caregiver_masked"),
                                            ("investigators", "investigator_masked"),
                                            ("outcome assessors", "outcomes_assessor_masked")) if design.get(flag)]
            st.subheader("Design")
            st.markdown("\n".join([
                f"- **Allocation:** {ui.enum_label(design.get('allocation'))}",
                f"- **Model:** {ui.enum_label(design.get('intervention_model'))} · "
                f"**purpose:** {ui.enum_label(design.get('primary_purpose'))}",
                f"- **Masking:** {ui.enum_label(design.get('masking'))}"
                + (f" ({', '.join(masked)})" if masked else ""),
                f"- **Comparator:** {ui.md_escape(design.get('comparator'))}"
                + (f" — {ui.md_escape(', '.join(design.get('comparator_interventions') or []))}"
                   if design.get("comparator_interventions") else ""),
            ]))

        st.subheader("Conditions")
        registered = trial.get("conditions") or []
        st.markdown("**Registered:** " + (" · ".join(ui.md_escape(c) for c in registered) or "none"))
        mesh = [m["term"] for m in trial.get("condition_mesh") or []]
        if mesh:
            st.markdown("**MeSH (ClinicalTrials.gov):** " + " · ".join(ui.md_escape(m) for m in mesh))
        tagged = data.trial_tagged_conditions(nct_id)
        if tagged is None:
            st.caption("Tagged conditions: not available in this warehouse yet.")
        elif tagged.empty:
            st.caption("Tagged conditions: none found.")
        else:
            st.markdown("**Tagged by trialwatch:**")
            ui.table(tagged, f"{nct_id}-conditions", key="trial-conditions")

        st.subheader("Interventions")
        interventions = pd.DataFrame([
            {"type": i.get("type"), "name": i.get("name"), "other names": ", ".join(i.get("other_names") or []),
             "description": i.get("description")}
            for i in trial.get("interventions") or []])
        if interventions.empty:
            st.caption("None registered.")
        else:
            ui.table(interventions, f"{nct_id}-interventions", key="interventions")

        st.subheader("Status history")
        history = data.trial_history(nct_id)
        st.altair_chart(charts.trial_timeline(timeline_events(trial, history)), width="stretch")
        if history.empty:
            st.caption("No changes seen since trialwatch first stored this trial on "
                       f"{trial['first_seen_at']:%Y-%m-%d}.")
        else:
            ui.table(history, f"{nct_id}-history", key="history")

        st.subheader("Linked papers")
        papers = data.trial_papers(nct_id)
        if papers.empty:
            st.caption("No linked papers yet.")
        else:
            papers = papers.assign(page=["literature?pmid=" + str(p) if inside else None
                                         for p, inside in zip(papers["pmid"], papers["in_warehouse"])])
            ui.table(papers[["pmid", "page", "title", "journal", "pub_year", "evidence", "pubmed_url"]],
                     f"{nct_id}-papers", key="trial-papers",
                     column_config={"page": st.column_config.LinkColumn("Open", display_text="open"),
                                    **ui.link_columns(pubmed_url="PubMed")})

        if trial.get("brief_summary"):
            with st.expander("Brief summary"):
                st.markdown(ui.md_escape(trial["brief_summary"]))
        outcomes = data.trial_outcomes(nct_id)
        if not outcomes.empty or not changes.empty:
            st.subheader("Outcomes")
            if not outcomes.empty:
                ui.table(outcomes, f"{nct_id}-outcomes", key="outcomes")
            if not changes.empty:
                st.markdown("**Changes to the registered outcomes** (before → after, as trialwatch saw them):")
                ui.table(changes, f"{nct_id}-outcome-changes", key="outcome-changes")
        elif trial.get("primary_outcomes"):
            with st.expander("Primary outcomes"):
                st.markdown("\n".join(f"- {ui.md_escape(o)}" for o in trial["primary_outcomes"]))


st.title("Trials")
filters = filters_from_sidebar()
rows = data.trials(filters)
chosen = choose_trial(rows)
if chosen:
    render_trial(chosen)

st.subheader(f"{len(rows):,} matching trials")
rows = rows.assign(page="trials?nct=" + rows["nct_id"])
ui.table(rows[["nct_id", "page", *[c for c in rows.columns if c not in ("nct_id", "page")]]], "trials",
         key="trials", column_config={"page": st.column_config.LinkColumn("Open", display_text="open"),
                                      **ui.link_columns(url="Registry")})
