"""What's new: trials, trial changes, papers and paper↔trial links trialwatch first saw since the
last run (default), since a day, or since this browser's last visit to this page; and the Atom
feeds to subscribe to."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from dashboard import data, ui
from flows import labels

# This browser's last visit to What's new: a first-party cookie, set by a small inline script
# (st.html runs it in the page, nothing is fetched) and read back by st.context.cookies, which
# Streamlit fills when the browser connects. So a visit counts from its first render until the
# page is next loaded; nothing about visitors is kept on the server.
VISIT_COOKIE = "trialwatch_last_visit"
VISIT_FORMAT = "%Y%m%dT%H%M%SZ"
VISIT_MAX_AGE = 400 * 24 * 3600  # the most browsers keep a cookie
MODES = {"run": "the last run", "date": "a day", "visit": "my last visit"}


def _last_visit() -> datetime | None:
    try:
        value = st.context.cookies.to_dict().get(VISIT_COOKIE)
        return datetime.strptime(value, VISIT_FORMAT) if value else None
    except (ValueError, TypeError, AttributeError):  # absent, unreadable, or not in a browser session
        return None


def _readable_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """Trial changes as the digest words them: fields and registry codes by their labels
    (status "Active not recruiting → Completed", results posted "no → yes"), without the
    registry's own last-update date, which moves with every edit and is not news."""
    changes = changes[changes["field"] != "last_update_posted_date"]
    return changes.assign(
        old_value=[labels.history_value_label(f, v) for f, v in zip(changes["field"], changes["old_value"])],
        new_value=[labels.history_value_label(f, v) for f, v in zip(changes["field"], changes["new_value"])],
        field=changes["field"].map(lambda name: labels.FIELD_LABELS.get(name, name)))


def _one_row_per_pair(links: pd.DataFrame) -> pd.DataFrame:
    """A paper↔trial pair once, with every way it was found ("abstract, databank"), as in the
    digest: the warehouse keeps one article_trials row per evidence."""
    if links.empty:
        return links
    return (links.groupby("link", sort=False, as_index=False)
            .agg(paper_title=("paper_title", "first"), evidence=("evidence", lambda e: ", ".join(sorted(set(e)))),
                 drugs=("drugs", "first"), first_seen=("first_seen", "min")))


def _pick_day() -> None:
    st.session_state["since_mode"] = "date"


st.title("What's new")
# A shared link with a day (?since=…) and no mode opens on that day.
if "since_mode" not in st.session_state and "since" in st.query_params and "since_mode" not in st.query_params:
    st.session_state["since_mode"] = "date"
mode_column, day_column, drug_column = st.columns([2, 1, 2])
mode = mode_column.radio("Show what trialwatch first saw since", list(MODES), format_func=MODES.get,
                         key="since_mode", bind="query-params", horizontal=True,
                         help="The last run: what the latest successful nightly run brought. A day: since the "
                              "start of that day (UTC). My last visit: since you last opened this page in this "
                              "browser (remembered in a cookie in your browser only).")
day = day_column.date_input("Since the day", value=ui.week_ago(), max_value=ui.today_utc(), key="since",
                            bind="query-params", on_change=_pick_day, help="Picking a day shows what is new since it.")
drug_keys = drug_column.multiselect("Drugs", data.drugs(), key="drug", bind="query-params", help=ui.DRUG_HELP,
                                    placeholder="All drugs")
include_mentions = st.toggle("Include papers that only mention a drug", key="mentions", bind="query-params",
                             help="Off: new papers about a catalogue drug. On: also those where it is only "
                                  "mentioned — e.g. ketamine as the anaesthetic in an animal study.")

latest = data.latest_run()
visit = _last_visit() if mode == "visit" else None
if mode == "visit" and visit is not None:
    since = visit
    st.caption(f"Since your last visit to this page in this browser, {since:%Y-%m-%d %H:%M} UTC.")
elif mode in ("run", "visit") and latest is not None:
    since = latest["since"]
    if mode == "visit":
        st.info("This browser has no earlier visit to this page on record (it is remembered from now on, in a "
                "cookie); showing what the last run brought.")
    st.caption(f"What the last run brought: it started {since:%Y-%m-%d %H:%M} UTC and was published "
               f"{latest['published_at']:%Y-%m-%d %H:%M} UTC.")
else:
    since = day
    if mode != "date":
        st.info("No run has been published yet; showing since the day.")
st.caption(ui.SHARE_HINT)

feed = data.new_since_feed(since, tuple(drug_keys))
if not include_mentions:
    feed = feed[feed["about_drug"]]
feed = feed.assign(title=feed["title"].where(~feed["retracted"], "⚠ RETRACTED · " + feed["title"].fillna("")))
changes = _readable_changes(data.trial_changes_since(since, tuple(drug_keys)))
new_trials = feed[feed["kind"] == "new trial"].rename(
    columns={"record_id": "nct_id", "detail": "status", "seen_at": "first_seen"})
new_papers = feed[(feed["kind"] == "new paper") & ~feed["notice"]].rename(
    columns={"record_id": "pmid", "detail": "journal", "seen_at": "first_seen"})
notices = feed[feed["notice"]].rename(columns={"record_id": "pmid", "detail": "journal", "seen_at": "first_seen"})
new_links = feed[feed["kind"] == "new link"].rename(
    columns={"record_id": "link", "title": "paper_title", "detail": "evidence", "seen_at": "first_seen"})
new_trials = new_trials.assign(page="trials?nct=" + new_trials["nct_id"],
                               status=new_trials["status"].map(labels.status_label))[
    ["nct_id", "page", "title", "status", "drugs", "first_seen"]]
new_papers = new_papers.assign(page="literature?pmid=" + new_papers["pmid"])[
    ["pmid", "page", "title", "journal", "drugs", "first_seen"]]
notices = notices.assign(page="literature?pmid=" + notices["pmid"])[
    ["pmid", "page", "title", "journal", "drugs", "first_seen"]]
new_links = _one_row_per_pair(new_links[["link", "paper_title", "evidence", "drugs", "first_seen"]])

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
    if not notices.empty:
        st.markdown(f"**Retraction, correction and concern notices ({len(notices):,})** — about other papers, "
                    "so not counted as new papers (a retracted paper is marked ⚠ wherever it is listed)")
        ui.table(notices, "new-notices", key="new-notices", column_config=page_link)
with tabs[3]:
    st.caption("databank: the paper names the trial in PubMed's DataBankList · abstract: the NCT id is in "
               "its title or abstract · ctgov_reference: the registry lists the paper.")
    ui.table(new_links, "new-links", key="new-links")

with st.expander("Subscribe: Atom feeds of what's new, per drug and per condition group"):
    feeds = data.available_feeds()
    if feeds.empty:
        st.caption(f"No feeds yet: each nightly run writes them to `{data.feeds_folder()}`.")
    else:
        st.caption(
            f"Each nightly run rewrites these {len(feeds):,} Atom files in `{data.feeds_folder()}`: "
            "`new.xml` has everything, `<drug>.xml` one drug, `<drug>--<group>.xml` one drug in one condition "
            "group, `group--<group>.xml` one group. An entry has the same id in every feed, links to PubMed or "
            "ClinicalTrials.gov and (as its related link) to its page here. The dashboard does not serve files: "
            "subscribe with a feed reader that reads local files (the path below), or serve the folder "
            "(e.g. `python -m http.server -d <folder>`) and subscribe to its URLs.")
        lines = ["| feed | entries | updated | file |", "|---|---|---|---|"]
        lines += [f"| {ui.md_escape(row.title)} | {row.entries:,} | {ui.md_escape(row.updated)} | "
                  f"`{row.file}` |" for row in feeds.itertuples()]
        st.markdown("\n".join(lines))

# Remember this visit (from the session's start) for "since my last visit" next time.
visit_started = st.session_state.setdefault("visit_started", datetime.now(timezone.utc).strftime(VISIT_FORMAT))
st.html(f"<script>document.cookie = '{VISIT_COOKIE}={visit_started}; Max-Age={VISIT_MAX_AGE}; Path=/; "
        f"SameSite=Lax';</script>", unsafe_allow_javascript=True)
