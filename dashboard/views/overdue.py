"""Overdue: completed trials whose results are more than a year late (no results, no publication)."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

QP = "query-params"

st.title("Overdue trials")
st.caption("Completed trials whose primary completion was over 12 months ago, with no results posted on "
           "ClinicalTrials.gov and no linked publication — what FDAAA TrialsTracker flags (view "
           "`v_overdue_trials`).")
left, right = st.columns(2)
drug_keys = left.multiselect("Drugs", data.drugs(), key="drug", bind=QP, help=ui.DRUG_HELP,
                             placeholder="All drugs")
classes = right.multiselect("Lead sponsor class", data.trial_filter_options()["sponsor_classes"], key="sponsor",
                            bind=QP, placeholder="All sponsor classes")
rows = data.overdue(tuple(drug_keys), tuple(classes))

counts = st.columns(3)
counts[0].metric("Overdue trials", f"{len(rows):,}")
counts[1].metric("Median months overdue",
                 f"{int(rows['months_since_primary_completion'].median()) - 12:,}" if len(rows) else "—",
                 help="Months past the 12 months allowed after primary completion.")
counts[2].metric("Longest since primary completion",
                 f"{int(rows['months_since_primary_completion'].max()):,} months" if len(rows) else "—")
rows = rows.assign(page="trials?nct=" + rows["nct_id"])
ui.table(rows[["nct_id", "page", "months_since_primary_completion", "primary_completion", "brief_title", "drugs",
               "lead_sponsor_name", "lead_sponsor_class", "reason", "url"]], "overdue-trials",
         key="overdue", column_config={
             "page": st.column_config.LinkColumn("Open", display_text="open"),
             "months_since_primary_completion": st.column_config.NumberColumn("Months since primary completion"),
             **ui.link_columns(url="Registry")})
st.caption(ui.SHARE_HINT)
