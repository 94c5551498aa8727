"""Overview: headline counts per drug, what arrived this week, conditions, pipeline, papers per year."""
from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui

ACTIVE = {"NOT_YET_RECRUITING", "RECRUITING", "ENROLLING_BY_INVITATION", "ACTIVE_NOT_RECRUITING"}

st.title("Overview")
st.caption("Trials registered on ClinicalTrials.gov and papers in PubMed about each drug (papers that only "
           "mention it — e.g. ketamine as an anaesthetic in an animal study — are counted apart).")

drug_keys = data.drugs()
status = data.trials_by_drug_and_status()
by_drug = data.papers_by_drug().set_index("drug")
papers, mentions = by_drug["papers"], by_drug["mentions"]

columns = st.columns(max(len(drug_keys), 1))
for column, drug in zip(columns, drug_keys):
    rows = status[status["drug"] == drug]
    by_status = dict(zip(rows["status"], rows["trials"]))
    with column.container(border=True):
        st.subheader(ui.drug_label(drug))
        left, right = st.columns(2)
        left.metric("Trials", f"{int(rows['trials'].sum()):,}")
        right.metric("Papers", f"{int(papers.get(drug, 0)):,}")
        st.caption(f"{sum(n for s, n in by_status.items() if s in ACTIVE):,} active or upcoming · "
                   f"{by_status.get('RECRUITING', 0):,} recruiting · {by_status.get('COMPLETED', 0):,} completed"
                   f" · {int(mentions.get(drug, 0)):,} more papers only mention it")

st.subheader("New this week")
since = ui.week_ago()
new = data.new_since_counts(since)
cols = st.columns(4)
for column, (kind, label) in zip(cols, [("new trial", "New trials"), ("trial change", "Trial changes"),
                                        ("new paper", "New papers"), ("new link", "New paper↔trial links")]):
    column.metric(label, f"{new.get(kind, 0):,}",
                  help="About a catalogue drug, as What's new shows by default: not papers that only mention "
                       "one, nor retraction or correction notices." if kind == "new paper" else None)
st.page_link("views/whats_new.py", label=f"Everything new since {since:%d %b %Y}", icon=":material/arrow_forward:")

st.subheader("Trials by status")
st.altair_chart(charts.status_by_drug(status), width="stretch")
pivot = (status.assign(status=status["status"].map(ui.enum_label), drug=status["drug"].map(ui.drug_label))
         .pivot_table(index="drug", columns="status", values="trials", aggfunc="sum", fill_value=0)
         .reset_index().rename(columns={"drug": "Drug"}))
pivot.columns.name = None
pivot = pivot[["Drug", *ui.ordered([c for c in pivot.columns if c != "Drug"],
                                   [ui.enum_label(s) for s in ui.STATUS_ORDER])]]
ui.table(pivot, "trials-by-status", key="status")

st.subheader("Drugs × conditions")
source = data.condition_source()
st.caption(source.note)
top = st.slider("Conditions shown", min_value=5, max_value=40, value=15, step=5, key="top", bind="query-params")
heat = data.drug_condition_counts(top)
if heat.empty:
    st.info("No conditions recorded yet.")
else:
    left, right = st.columns(2)
    left.altair_chart(charts.condition_heatmap(heat, "trials"), width="stretch")
    right.altair_chart(charts.condition_heatmap(heat, "papers"), width="stretch")
    with st.expander("Heatmap data"):
        ui.table(heat.assign(drug=heat["drug"].map(ui.drug_label)), "drug-condition-counts", key="heat")

left, right = st.columns(2)
with left:
    st.subheader("Pipeline: trials by phase")
    st.altair_chart(charts.phases_by_drug(data.trials_by_drug_and_phase()), width="stretch")
with right:
    st.subheader("Papers per year")
    st.altair_chart(charts.papers_per_year(data.papers_by_drug_and_year()), width="stretch")

runs = data.last_runs()
if not runs.empty:
    st.caption("Last successful load: " + " · ".join(f"{row.source} {row.finished_at:%Y-%m-%d %H:%M} UTC"
                                                     for row in runs.itertuples() if row.finished_at is not None))
