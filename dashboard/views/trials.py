"""Trials explorer: filter the registered trials, and open one trial's page (`?nct=NCT…`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.queries import TRIAL_SORTS
from flows import labels

QP = "query-params"
MAX_PAGE_OPTIONS = 2000
MILESTONES = [("first_posted_date", "first_posted_date_type", "First posted"),
              ("start_date", "start_date_type", "Start"),
              ("primary_completion_date", "primary_completion_date_type", "Primary completion"),
              ("completion_date", "completion_date_type", "Completion"),
              ("last_update_posted_date", "last_update_posted_date_type", "Last update posted")]
COMPARATOR_HELP = ("What the experimental arm is compared with, from the arm types and intervention names "
                   "(v_trial_design): an active placebo (e.g. midazolam, niacin, low-dose psilocybin) mimics the "
                   "drug's felt effects; none means a single-arm or observational study.")
SEX_LABELS = {"ALL": "All", "FEMALE": "Female", "MALE": "Male"}
RESULT_TYPE_ORDER = {"serious": 0, "other": 1, "deaths": 2}
# trial_history.field → its label, capitalised (the digest's labels, flows/labels.py).
FIELD_LABELS = {field: label[:1].upper() + label[1:] for field, label in labels.FIELD_LABELS.items()}
LIST_COLUMNS = ["nct_id", "brief_title", "overall_status", "phase", "drugs", "conditions", "study_type",
                "lead_sponsor_name", "lead_sponsor_class", "enrollment_count", "start", "primary_completion",
                "has_results", "countries", "linked_papers", "last_update_posted_date", "url"]


def filters_from_sidebar() -> data.TrialFilters:
    options = data.trial_filter_options()
    source = data.condition_source()
    with st.sidebar:
        st.header("Filters")
        # Codes in the URL (drug=mdma, status=RECRUITING), labels on screen.
        drug_keys = ui.url_multiselect("Drug", data.drugs(), "drug", ui.drug_label, help=ui.DRUG_HELP)
        conditions = st.multiselect("Condition", data.trial_condition_options(), key="condition", bind=QP,
                                    help=source.note)
        phases = ui.url_multiselect("Phase", ui.ordered(options["phases"], ui.PHASE_ORDER), "phase", ui.phase_label)
        statuses = ui.url_multiselect("Status", ui.ordered(options["statuses"], ui.STATUS_ORDER), "status",
                                      labels.status_label)
        study_types = ui.url_multiselect("Study type", options["study_types"], "type", labels.study_type_label)
        sponsor_classes = ui.url_multiselect("Lead sponsor class", options["sponsor_classes"], "sponsor",
                                             ui.sponsor_class_label)
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
        # Options are labels (so the address bar reads "comparator=Placebo"), mapped back to codes.
        allocations = _coded_multiselect("Allocation", options["allocations"], ui.ALLOCATION_LABELS, "allocation")
        maskings = _coded_multiselect("Masking", options["maskings"], ui.MASKING_LABELS, "masking")
        comparators = _coded_multiselect("Comparator", options["comparators"], ui.COMPARATOR_LABELS, "comparator",
                                         help=COMPARATOR_HELP)
        results = st.selectbox("Results posted", ["any", "yes", "no"], key="results", bind=QP)
        search = st.text_input("Search titles and summaries", key="q", bind=QP,
                               placeholder="e.g. treatment-resistant")
        sort = st.selectbox("Sort by", list(TRIAL_SORTS), key="sort", bind=QP)
        st.caption(ui.SHARE_HINT)
    return data.TrialFilters(
        drugs=tuple(drug_keys), conditions=tuple(conditions), phases=tuple(phases), statuses=tuple(statuses),
        study_types=tuple(study_types), sponsor_classes=tuple(sponsor_classes), countries=tuple(countries),
        start_from=start_from, start_to=start_to, has_results={"any": None, "yes": True, "no": False}[results],
        search=search or "", sort=sort, allocations=allocations, maskings=maskings, comparators=comparators,
    )


def _coded_multiselect(label: str, codes: list[str], labels: dict[str, str], key: str,
                       help: str | None = None) -> tuple[str, ...]:
    """A multiselect showing `labels` for registry codes; returns the chosen codes."""
    by_label = {ui.coded_label(code, labels): code for code in ui.ordered(codes, labels)}
    chosen = st.multiselect(label, list(by_label), key=key, bind=QP, help=help)
    return tuple(by_label[choice] for choice in chosen if choice in by_label)


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
        old, new = (labels.history_value_label(row.field, v) for v in (row.old_value, row.new_value))
        change = f"{label} → {new}" if row.field == "overall_status" else f"{label}: {old or '∅'} → {new or '∅'}"
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
        ("Lead sponsor", f"{trial.get('lead_sponsor_name') or '—'}"
                         f" ({ui.sponsor_class_label(trial['lead_sponsor_class']) if trial.get('lead_sponsor_class') else '?'})"),
        ("Collaborators", ", ".join(c["name"] for c in trial.get("collaborators") or []) or "—"),
        ("Start", when("start", "start_date_type")),
        ("Primary completion", when("primary_completion", "primary_completion_date_type")),
        ("Completion", when("completion", "completion_date_type")),
        ("First posted", trial.get("first_posted") or "—"),
        ("Last update posted", trial.get("last_update_posted") or "—"),
        ("Results posted", "yes" if trial.get("has_results") else "no"),
        ("Countries", ", ".join(trial.get("countries") or []) or "—"),
    ]


def arms_table(arms: pd.DataFrame) -> pd.DataFrame:
    """design_groups with their interventions, under human-readable headers."""
    return pd.DataFrame({
        "Arm type": [ui.enum_label(t) if t else "—" for t in arms["group_type"]],
        "Arm": arms["title"],
        "Description (doses as registered)": arms["description"],
        "Interventions": ["; ".join(f"{ui.enum_label(i['type'])}: {i['name']}" if i["type"] else i["name"]
                                    for i in items) or "—" for items in arms["interventions"]],
    })


def eligibility_lines(elig: dict) -> list[str]:
    """Markdown bullets: sex, ages, healthy volunteers, age groups (and sampling for observational studies)."""
    low, high = elig.get("minimum_age"), elig.get("maximum_age")
    ages = (f"{low} to {high}" if low and high else f"{low} and older" if low else f"up to {high}" if high
            else "no limit given")
    sex = ui.coded_label(elig.get("gender"), SEX_LABELS) + (f" — {elig['gender_description']}"
                                                           if elig.get("gender_description") else "")
    healthy = {True: "accepted", False: "not accepted"}.get(elig.get("healthy_volunteers"), "not stated")
    std_ages = ", ".join(ui.enum_label(a) for a in (elig.get("std_ages") or [])) or "—"
    lines = [f"- **Sex:** {ui.md_escape(sex)}", f"- **Age:** {ui.md_escape(ages)}",
             f"- **Healthy volunteers:** {healthy}", f"- **Age groups:** {ui.md_escape(std_ages)}"]
    if elig.get("sampling_method"):
        lines.append(f"- **Sampling:** {ui.enum_label(elig['sampling_method'])}")
    return lines


def sites_table(sites: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Facility": sites["name"], "City": sites["city"], "State": sites["state"],
                         "Country": sites["country"],
                         "Status": [ui.enum_label(x) if isinstance(x, str) else "" for x in sites["status"]]})


def _group_labels(frame: pd.DataFrame) -> dict[str, str]:
    """Result group code → column header: its title, with the code added where titles repeat."""
    groups = frame.drop_duplicates("group_code")[["group_code", "group_title"]]
    groups = groups.sort_values("group_code", key=lambda s: s.fillna(""), kind="stable")
    titles = [t if isinstance(t, str) and t else str(c) for c, t in zip(groups["group_code"], groups["group_title"])]
    return {code: (title if titles.count(title) == 1 else f"{title} ({code})")
            for code, title in zip(groups["group_code"], titles)}


def _cell(value, spread=None, lower=None, upper=None, note=None) -> str:
    def given(x) -> bool:
        return x is not None and not (isinstance(x, float) and pd.isna(x)) and str(x) != ""

    text = str(value) if given(value) else "—"
    if given(spread):
        text += f" ({spread})"
    if given(lower) or given(upper):
        text += f" ({lower if given(lower) else '?'} to {upper if given(upper) else '?'})"
    if given(note) and not given(value):
        text += f" ({note})"
    return text


def measurement_table(measurements: pd.DataFrame) -> pd.DataFrame:
    """One outcome's values: a row per class/category, a column per result group."""
    labels = _group_labels(measurements)
    rows: dict[str, dict[str, str]] = {}
    for m in measurements.itertuples():
        parts = [p for p in (m.classification, m.category) if isinstance(p, str) and p]
        row = rows.setdefault(" · ".join(parts) or "All participants", {})
        row[labels[m.group_code]] = _cell(m.param_value, m.dispersion_value, m.lower_limit, m.upper_limit,
                                          m.explanation_of_na)
    frame = pd.DataFrame([{"Category": key, **values} for key, values in rows.items()])
    return frame.reindex(columns=["Category", *labels.values()]).fillna("—")


def analyses_table(analyses: pd.DataFrame) -> pd.DataFrame:
    def ci(a) -> str:
        if a.ci_lower is None and a.ci_upper is None:
            return "—"
        level = f"{a.ci_percent:g}% CI" if a.ci_percent is not None and not pd.isna(a.ci_percent) else "CI"
        sides = " (one-sided)" if a.ci_n_sides == "ONE_SIDED" else ""
        return f"{level}{sides}: {a.ci_lower or '?'} to {a.ci_upper or '?'}"

    return pd.DataFrame([{
        "Groups compared": " vs ".join(list(a.groups)) if a.groups is not None else "—",
        "Method": a.method or "—",
        "Estimate": " ".join(str(x) for x in (a.param_type, _number(a.param_value)) if x) or "—",
        "Confidence interval": ci(a),
        "p-value": a.p_value_raw or "—",
        "Hypothesis": ui.enum_label(a.non_inferiority_type) if a.non_inferiority_type else "—",
        "Note": a.estimate_description or a.groups_description or "",
    } for a in analyses.itertuples()])


def _number(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return f"{value:g}"


def adverse_event_table(events: pd.DataFrame) -> pd.DataFrame:
    """reported_events: a row per event, "affected / at risk" per result group; serious events
    first, then by subjects affected in all groups."""
    labels = _group_labels(events)
    rows: dict[tuple, dict] = {}
    for e in events.itertuples():
        key = (e.event_type, e.organ_system, e.term)
        row = rows.setdefault(key, {"Type": ui.enum_label(e.event_type), "Organ system": e.organ_system,
                                    "Adverse event": e.term, "_affected": 0})
        affected = None if pd.isna(e.subjects_affected) else int(e.subjects_affected)
        at_risk = None if pd.isna(e.subjects_at_risk) else int(e.subjects_at_risk)
        row[labels[e.group_code]] = f"{'?' if affected is None else affected} / {'?' if at_risk is None else at_risk}"
        row["_affected"] += affected or 0
    ordered = sorted(rows.items(), key=lambda kv: (RESULT_TYPE_ORDER.get(kv[0][0], 9), -kv[1]["_affected"],
                                                   str(kv[0][2])))
    frame = pd.DataFrame([row for _, row in ordered])
    frame = frame.rename(columns={"_affected": "Affected (all groups)"})
    return frame.reindex(columns=["Type", "Organ system", "Adverse event", "Affected (all groups)",
                                  *labels.values()]).fillna("—")


def event_totals_table(totals: pd.DataFrame) -> pd.DataFrame:
    labels = _group_labels(totals)
    rows: dict[str, dict] = {}
    for t in totals.sort_values("event_type", key=lambda s: s.map(RESULT_TYPE_ORDER), kind="stable").itertuples():
        row = rows.setdefault(t.classification or t.event_type, {"Total": t.classification or t.event_type})
        row[labels[t.group_code]] = _cell(
            None if pd.isna(t.subjects_affected) else int(t.subjects_affected)) + " / " + _cell(
            None if pd.isna(t.subjects_at_risk) else int(t.subjects_at_risk))
    return pd.DataFrame(list(rows.values())).reindex(columns=["Total", *labels.values()]).fillna("—")


def render_results(nct_id: str) -> None:
    """Posted results: one expander per outcome (primary first), then adverse events."""
    outcomes = data.trial_result_outcomes(nct_id)
    events = data.trial_adverse_events(nct_id)
    if outcomes.empty and events.empty:
        return
    st.subheader("Results")
    st.caption("As posted on ClinicalTrials.gov: values per result group; spread or limits in brackets.")
    measurements = data.trial_outcome_measurements(nct_id)
    analyses = data.trial_outcome_analyses(nct_id)
    for index, outcome in enumerate(outcomes.itertuples()):
        kind = ui.enum_label(outcome.outcome_type) if outcome.outcome_type else "Outcome"
        with st.expander(f"{kind} outcome: {ui.md_escape(outcome.title)}", expanded=index == 0):
            measure = ui.enum_label(outcome.param_type) if outcome.param_type else "Value"
            if outcome.dispersion_type:
                measure += f" ({ui.enum_label(outcome.dispersion_type).lower()})"
            st.markdown("\n".join([
                f"- **Time frame:** {ui.md_escape(outcome.time_frame or '—')}",
                f"- **Measure:** {ui.md_escape(measure)}" + (f" · **units:** {ui.md_escape(outcome.units)}"
                                                             if outcome.units else ""),
            ]))
            if outcome.population:
                st.caption("Population: " + ui.md_escape(outcome.population))
            values = measurements[measurements["outcome_id"] == outcome.id]
            if values.empty:
                st.caption("No values posted for this outcome.")
            else:
                ui.table(measurement_table(values), f"{nct_id}-outcome-{index + 1}", key=f"result-{index}")
            tests = analyses[analyses["outcome_id"] == outcome.id]
            if not tests.empty:
                st.markdown("**Statistical analyses**")
                ui.table(analyses_table(tests), f"{nct_id}-analyses-{index + 1}", key=f"analysis-{index}")
    st.markdown("**Adverse events**")
    totals = data.trial_event_totals(nct_id)
    if not totals.empty:
        ui.table(event_totals_table(totals), f"{nct_id}-adverse-event-totals", key="event-totals")
    if events.empty:
        st.caption("No adverse events posted.")
        return
    first = events.iloc[0]
    notes = [f"time frame: {first['time_frame']}" if first["time_frame"] else None,
             f"other events listed above {first['frequency_threshold']:g}% in a group"
             if not pd.isna(first["frequency_threshold"]) else None]
    st.caption("Subjects affected / at risk per group, serious events first"
               + "".join(f"; {ui.md_escape(n)}" for n in notes if n) + ".")
    ui.table(adverse_event_table(events), f"{nct_id}-adverse-events", key="adverse-events")


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
                f"- **Allocation:** {ui.coded_label(design.get('allocation'), ui.ALLOCATION_LABELS)}",
                f"- **Model:** {ui.enum_label(design.get('intervention_model'))} · "
                f"**purpose:** {ui.enum_label(design.get('primary_purpose'))}",
                f"- **Masking:** {ui.coded_label(design.get('masking'), ui.MASKING_LABELS)}"
                + (f" ({', '.join(masked)})" if masked else ""),
                f"- **Comparator:** {ui.md_escape(design.get('comparator'))}"
                + (f" — {ui.md_escape(', '.join(design.get('comparator_interventions') or []))}"
                   if design.get("comparator_interventions") else ""),
            ]))

        st.subheader("Arms")
        arms = data.trial_arms(nct_id)
        if arms.empty:
            st.caption("No arms or groups registered.")
        else:
            ui.table(arms_table(arms), f"{nct_id}-arms", key="arms")

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
            st.markdown("**What it is about** (registry MeSH and trialwatch's text tagger; source says which):")
            ui.table(tagged, f"{nct_id}-conditions", key="trial-conditions")

        st.subheader("Interventions")
        interventions = pd.DataFrame([
            {"type": ui.enum_label(i.get("type")), "name": i.get("name"), "other names": ", ".join(i.get("other_names") or []),
             "description": i.get("description")}
            for i in trial.get("interventions") or []])
        if interventions.empty:
            st.caption("None registered.")
        else:
            ui.table(interventions, f"{nct_id}-interventions", key="interventions")

        st.subheader("Eligibility")
        eligibility = data.trial_eligibility(nct_id)
        if eligibility is None:
            st.caption("No eligibility criteria registered.")
        else:
            st.markdown("\n".join(eligibility_lines(eligibility)))
            if eligibility.get("population"):
                st.markdown("**Study population:** " + ui.md_escape(eligibility["population"]))
            if eligibility.get("criteria"):
                with st.expander("Eligibility criteria (as registered)"):
                    st.markdown(ui.registry_text_markdown(eligibility["criteria"]))

        st.subheader("Sites")
        sites = data.trial_sites(nct_id)
        if sites.empty:
            st.caption("No sites registered.")
        else:
            located = int((sites["latitude"].notna() & sites["longitude"].notna()).sum())
            st.caption(f"{len(sites):,} site(s) in {sites['country'].nunique():,} country(ies); "
                       f"{located:,} with coordinates.")
            if located:
                st.altair_chart(charts.sites_map(sites), width="stretch")
                st.caption(charts.SITES_MAP_NOTE)
            ui.table(sites_table(sites), f"{nct_id}-sites", key="sites")

        st.subheader("Status history")
        history = data.trial_history(nct_id)
        st.altair_chart(charts.trial_timeline(timeline_events(trial, history)), width="stretch")
        if history.empty:
            st.caption("No changes seen since trialwatch first stored this trial on "
                       f"{trial['first_seen_at']:%Y-%m-%d}.")
        else:
            ui.table(history_table(history), f"{nct_id}-history", key="history")

        st.subheader("Linked papers")
        papers = data.trial_papers(nct_id)
        if papers.empty:
            st.caption("No linked papers yet.")
        else:
            openable = set(papers.loc[papers["in_warehouse"], "pmid"])
            st.caption("Click a row to open the paper's page in this tab (Back returns here).")
            ui.table(papers[["pmid", "title", "journal", "pub_year", "evidence", "pubmed_url"]],
                     f"{nct_id}-papers", key="trial-papers", pinned=("pmid", "title"),
                     column_config={"pmid": st.column_config.NumberColumn("PMID", format="%d"),
                                    **ui.link_columns(pubmed_url="PubMed")},
                     on_open=lambda row: open_paper(row["pmid"], openable))

        if trial.get("brief_summary"):
            with st.expander("Brief summary"):
                st.markdown(ui.md_escape(trial["brief_summary"]))
        outcomes = data.trial_outcomes(nct_id)
        if not outcomes.empty or not changes.empty:
            st.subheader("Outcomes")
            if not outcomes.empty:
                ui.table(outcomes.assign(outcome_type=outcomes["outcome_type"].map(ui.enum_label)),
                         f"{nct_id}-outcomes", key="outcomes")
            if not changes.empty:
                st.markdown("**Changes to the registered outcomes** (before → after, as trialwatch saw them):")
                ui.table(changes.assign(outcome_type=changes["outcome_type"].map(ui.enum_label),
                                        change=changes["change"].map(ui.enum_label)),
                         f"{nct_id}-outcome-changes", key="outcome-changes")
        elif trial.get("primary_outcomes"):
            st.subheader("Outcomes")
            with st.expander("Primary outcomes"):
                st.markdown("\n".join(f"- {ui.md_escape(o)}" for o in trial["primary_outcomes"]))

        render_results(nct_id)


def open_paper(pmid, openable: set) -> None:
    if pmid in openable:
        ui.open_on("views/literature.py", "pmid", int(pmid))
    st.toast(f"PMID {pmid} is not in the warehouse: see it on PubMed.")


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """trial_history with the fields and the status, phase and results values as labels."""
    return history.assign(
        field=[FIELD_LABELS.get(f, f) for f in history["field"]],
        old_value=[labels.history_value_label(f, v) for f, v in zip(history["field"], history["old_value"])],
        new_value=[labels.history_value_label(f, v) for f, v in zip(history["field"], history["new_value"])])


def list_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The trials list as shown: registry codes as labels, status next to the title."""
    return rows.assign(
        overall_status=rows["overall_status"].map(labels.status_label), phase=rows["phase"].map(ui.phase_label),
        study_type=rows["study_type"].map(labels.study_type_label),
        lead_sponsor_class=rows["lead_sponsor_class"].map(ui.sponsor_class_label),
        drugs=rows["drugs"].map(ui.drug_labels),
    )[[c for c in LIST_COLUMNS if c in rows.columns] + [c for c in rows.columns if c not in LIST_COLUMNS]]


def main() -> None:
    st.title("Trials")
    filters = filters_from_sidebar()
    rows = data.trials(filters)
    chosen = choose_trial(rows)
    if chosen:
        render_trial(chosen)

    st.subheader(f"{len(rows):,} matching trials")
    st.caption(ui.OPEN_HINT)
    ui.table(list_table(rows), "trials", key="trials", pinned=("nct_id", "brief_title"),
             column_config={"overall_status": st.column_config.TextColumn("Status", width=ui.STATUS_WIDTH),
                            **ui.link_columns(url="Registry")},
             on_open=lambda row: ui.open_here("nct", row["nct_id"]))


if __name__ == "__main__":  # Streamlit runs a page as __main__; tests import the table builders
    main()
