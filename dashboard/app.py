"""trialwatch dashboard entry point: `trialwatch dashboard`, or `streamlit run dashboard/app.py`.

Reads the published warehouse named by TRIALWATCH_DB (default data/trialwatch.duckdb), read-only.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on sys.path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data, ui  # noqa: E402

STYLE = """
<style>
.tw-abstract p { margin-bottom: 0.6rem; line-height: 1.55; }
mark.tw-condition { background: #fde68a; padding: 0 0.15rem; border-radius: 0.2rem; }
mark.tw-condition.tw-adverse { background: #fed7aa; }
mark.tw-condition.tw-negated { background: #e5e7eb; text-decoration: line-through; }
</style>
"""

# An emoji page icon becomes a data: URI. Without one, Streamlit shows each page's Material icon in
# the browser tab and fetches it from fonts.gstatic.com: offline that fails, online it leaks the visit.
st.set_page_config(page_title="trialwatch", layout="wide", page_icon="💊")
st.html(STYLE)

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("views/whats_new.py", title="What's new", icon=":material/new_releases:", url_path="new"),
    st.Page("views/trials.py", title="Trials", icon=":material/clinical_notes:", url_path="trials"),
    st.Page("views/literature.py", title="Literature", icon=":material/article:", url_path="literature"),
    st.Page("views/overdue.py", title="Overdue", icon=":material/schedule:", url_path="overdue"),
    st.Page("views/export.py", title="Export", icon=":material/download:", url_path="export"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption("trialwatch · ketamine/esketamine, psilocybin and MDMA in PubMed and ClinicalTrials.gov")
state = ui.require_warehouse()
with st.sidebar:
    published = f" · published {state.published_at:%Y-%m-%d %H:%M} UTC" if state.published_at else ""
    st.caption(f"{state.trials:,} trials · {state.papers:,} papers{published}")
try:
    page.run()
except data.WarehouseMissing:
    ui.first_run_message(f"The warehouse at `{data.warehouse_path()}` has gone away.")
except data.WarehouseUnavailable as error:
    st.error(f"{error}. The nightly load may be swapping in a new copy: reload the page in a moment.")
