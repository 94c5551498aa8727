"""Overdue: trials whose results are late under FDAAA 801, and finished trials never published."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

QP = "query-params"
RULES = """
Two rules, each its own flag (view `v_overdue_trials`):

- **Results due under FDAAA 801** — an *applicable clinical trial* as FDAAA TrialsTracker
  approximates it: interventional; phase 2 or later (phase 1/2 included) or an FDA-regulated device;
  a US site or an FDA-regulated drug or device; primary completion on or after 18 January 2017 and
  more than a year ago; no results submitted or posted; no certificate of delay; not withdrawn.
  The law's own test also weighs INDs/IDEs and product approval, which the registry does not show,
  so this is an approximation, as TrialsTracker's is.
- **Unpublished** — completed or terminated more than two years ago, with no linked paper
  (by any evidence trialwatch has) and no results reference in the registry.
"""

st.title("Overdue trials")
with st.expander("Which rules are applied", expanded=False):
    st.markdown(RULES)
left, middle, right = st.columns([2, 2, 3])
with left:  # codes in the URL (drug=mdma, sponsor=OTHER_GOV), labels on screen
    drug_keys = ui.url_multiselect("Drugs", data.drugs(), "drug", ui.drug_label, help=ui.DRUG_HELP,
                                   placeholder="All drugs")
with middle:
    classes = ui.url_multiselect("Lead sponsor class", data.trial_filter_options()["sponsor_classes"], "sponsor",
                                 ui.sponsor_class_label, placeholder="All sponsor classes")
with right:
    results_due = st.checkbox("Results due under FDAAA 801", value=True, key="fdaaa", bind=QP)
    unpublished = st.checkbox("Unpublished (no paper 2 years after completion)", value=True, key="unpublished",
                              bind=QP)
rows = data.overdue(tuple(drug_keys), tuple(classes), results_due, unpublished)

counts = st.columns(3)
counts[0].metric("Results due (FDAAA 801)", f"{int(rows['results_due'].sum()):,}")
counts[1].metric("Unpublished", f"{int(rows['unpublished'].sum()):,}")
due = rows[rows["results_due"]]
counts[2].metric("Median months results are late",
                 f"{int(due['months_since_primary_completion'].median()) - 12:,}" if len(due) else "—",
                 help="Months past the 12 months FDAAA 801 allows after primary completion.")
rows = rows.assign(drugs=rows["drugs"].map(lambda keys: ", ".join(ui.drug_labels(keys))),
                   phase=rows["phase"].map(ui.phase_label), overall_status=rows["overall_status"].map(ui.enum_label),
                   lead_sponsor_class=rows["lead_sponsor_class"].map(ui.sponsor_class_label))
st.caption(ui.OPEN_HINT)
ui.table(rows[["nct_id", "brief_title", "overall_status", "results_due", "unpublished", "drugs", "phase",
               "primary_completion", "months_since_primary_completion", "completion", "lead_sponsor_name",
               "lead_sponsor_class", "reason", "url"]], "overdue-trials",
         key="overdue", pinned=("nct_id", "brief_title"), column_config={
             "overall_status": st.column_config.TextColumn("Status", width=ui.STATUS_WIDTH),
             "results_due": st.column_config.CheckboxColumn("Results due (FDAAA)"),
             "unpublished": st.column_config.CheckboxColumn("Unpublished"),
             "months_since_primary_completion": st.column_config.NumberColumn("Months since primary completion"),
             **ui.link_columns(url="Registry")},
         on_open=lambda row: ui.open_on("views/trials.py", "nct", row["nct_id"]))
st.caption(ui.SHARE_HINT)
