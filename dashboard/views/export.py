"""Export: whole datasets as CSV or Parquet, and how to share a filtered view."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui
from dashboard.queries import EXPORTS

st.title("Export")
st.markdown(
    "Every table in the dashboard has **Download CSV** and **Download Parquet** buttons that save exactly "
    "the rows shown. The filters of each page live in the address bar, so copying the URL shares the view "
    "(for example `trials?drug=psilocybin&status=RECRUITING`). Here you can download whole datasets.\n\n"
    "CSV joins list values with `; `; Parquet keeps lists and structs as they are in the warehouse."
)
name = st.selectbox("Dataset", list(EXPORTS), key="dataset", bind="query-params")
frame = data.export_dataset(name)
st.caption(f"{len(frame):,} rows · {len(frame.columns)} columns")
st.caption("This preview is the raw dataset, as the downloads are: the warehouse's own column names and "
           "registry codes (`PHASE2`, `NOT_YET_RECRUITING`, `OTHER_GOV`), not the labels the other pages show.")
ui.table(frame, name.split("(")[-1].rstrip(")"), key="export", height=420, raw=True)
st.caption("Analysts can also open the warehouse directly with DuckDB, read-only: "
           "`duckdb.connect(path, read_only=True)` — or run `trialwatch export` for every table at once.")
