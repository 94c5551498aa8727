"""What's new: trials, trial changes, papers and paper↔trial links trialwatch first saw since a day."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

st.title("What's new")
left, right = st.columns([1, 2])
since = left.date_input("Seen by trialwatch since", value=ui.week_ago(), max_value=ui.today_utc(),
                        key="since", bind="query-params")
drug_keys = right.multiselect("Drugs", data.drugs(), key="drug", bind="query-params", help=ui.DRUG_HELP,
                              placeholder="All drugs")
include_mentions = st.toggle("Include papers that only mention a drug", key="mentions", bind="query-params",
                             help="Off: new papers about a catalogue drug. On: also those where it is only "
                                  "mentioned — e.g. ketamine as the anaesthetic in an animal study.")
st.caption(ui.SHARE_HINT)

feed = data.new_since_feed(since, tuple(drug_keys))
if not include_mentions:
    feed = feed[feed["about_drug"]]
feed = feed.assign(title=feed["title"].where(~feed["retracted"], "⚠ RETRACTED · " + feed["title"].fillna("")))
changes = data.trial_changes_since(since, tuple(drug_keys))
new_trials = feed[feed["kind"] == "new trial"].rename(
    columns={"record_id": "nct_id", "detail": "status", "seen_at": "first_seen"})
new_papers = feed[feed["kind"] == "new paper"].rename(
    columns={"record_id": "pmid", "detail": "journal", "seen_at": "first_seen"})
new_links = feed[feed["kind"] == "new link"].rename(
    columns={"record_id": "link", "title": "paper_title", "detail": "evidence", "seen_at": "first_seen"})
new_trials = new_trials.assign(page="trials?nct=" + new_trials["nct_id"])[
    ["nct_id", "page", "title", "status", "drugs", "first_seen"]]
new_papers = new_papers.assign(page="literature?pmid=" + new_papers["pmid"])[
    ["pmid", "page", "title", "journal", "drugs", "first_seen"]]
new_links = new_links[["link", "paper_title", "evidence", "drugs", "first_seen"]]

counts = st.columns(4)
counts[0].metric("New trials", f"{len(new_trials):,}")
counts[1].metric("Trial changes", f"{len(changes):,}")
counts[2].metric("New papers", f"{len(new_papers):,}")
counts[3].metric("New links", f"{len(new_links):,}")

page_link = {"page": st.column_config.LinkColumn("Open", display_text="open")}
tabs = st.tabs(["New trials", "Status and date changes", "New papers", "New paper↔trial links"])
with tabs[0]:
    ui.table(new_trials, "new-trials", key="new-trials", column_config=page_link)
with tabs[1]:
    st.caption("Changes trialwatch saw when re-fetching a trial (from `trial_history`); "
               "the registry's own date is the trial's last update.")
    ui.table(changes, "trial-changes", key="changes", column_config=ui.link_columns(url="Registry"))
with tabs[2]:
    ui.table(new_papers, "new-papers", key="new-papers", column_config=page_link)
with tabs[3]:
    st.caption("databank: the paper names the trial in PubMed's DataBankList · abstract: the NCT id is in "
               "its title or abstract · ctgov_reference: the registry lists the paper.")
    ui.table(new_links, "new-links", key="new-links")
