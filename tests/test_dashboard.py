"""The Streamlit dashboard, page by page, with `AppTest` against a real demo warehouse.

Expected numbers are computed independently with plain DuckDB queries on the base tables, never
with the dashboard's own SQL.
"""
from __future__ import annotations

import ast
import html
import io
import os
import re
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard_fixtures import SCRIPT

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "app.py"
PAGES = {"overview": None, "whats_new": "views/whats_new.py", "trials": "views/trials.py",
         "literature": "views/literature.py", "overdue": "views/overdue.py", "export": "views/export.py"}
INJECTION = "'; DROP TABLE trials; --"
@pytest.fixture
def db_copy(demo_db, tmp_path) -> Path:
    """A private copy of the demo warehouse that a test may change."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_db, copy)
    return copy


# A paper the default views show: about a catalogue drug (or naming none), not only mentioning one.
ABOUT_A_DRUG = ("coalesce((SELECT bool_or(d.role IS DISTINCT FROM 'mention') FROM record_drugs d "
                "WHERE d.record_kind = 'article' AND d.record_id = CAST(articles.pmid AS VARCHAR)), true)")
NOT_A_NOTICE = "study_design IS DISTINCT FROM 'notice'"   # notices are listed apart from new papers


def scalar(db: Path, sql: str, params: list | None = None):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()[0][0]


def open_page(db: Path, name: str, monkeypatch, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("TRIALWATCH_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=60)
    if PAGES[name] is None:
        at.query_params.update(query or {})
        return at.run()
    at.run()
    at.query_params.update(query or {})
    return at.switch_page(PAGES[name]).run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def main_table(at: AppTest) -> pd.DataFrame:
    """The page's list table: the last dataframe on the page."""
    return at.dataframe[-1].value


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


# --- every page ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_from_the_warehouse(demo_db, monkeypatch, name):
    at = ok(open_page(demo_db, name, monkeypatch))
    assert at.title[0].value != "No trialwatch data yet"
    assert at.dataframe, "every page shows at least one table"
    labels = [widget.proto.label for widget in at.get("download_button")]
    citations = ["Download RIS", "Download BibTeX"] if name == "literature" else []
    assert sorted(set(labels) - {"Download CSV", "Download Parquet"}) == sorted(citations)
    assert labels.count("Download CSV") == labels.count("Download Parquet") == len(at.dataframe), \
        "every table has CSV and Parquet downloads"


def test_pages_only_read_and_close_the_warehouse(demo_db, monkeypatch):
    before = os.stat(demo_db)
    for name in PAGES:
        ok(open_page(demo_db, name, monkeypatch))
    after = os.stat(demo_db)
    assert (before.st_ino, before.st_mtime_ns, before.st_size) == (after.st_ino, after.st_mtime_ns, after.st_size)
    # No connection is left open: a writer in this very process can still take the file.
    with duckdb.connect(str(demo_db)) as conn:
        conn.execute("SELECT 1")


# --- overview --------------------------------------------------------------------------------------

def test_overview_headline_counts_match_the_warehouse(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "overview", monkeypatch))
    metrics = [(m.label, m.value) for m in at.metric]
    for drug in ("ketamine", "psilocybin", "mdma"):
        trials = scalar(demo_db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = ?", [drug])
        papers = scalar(demo_db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'article' AND drug = ? "
                                 "AND role = 'subject'", [drug])   # about the drug, not only mentioning it
        mentions = scalar(demo_db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'article' AND drug = ? "
                                   "AND role = 'mention'", [drug])
        assert ("Trials", f"{trials:,}") in metrics and ("Papers", f"{papers:,}") in metrics
        assert f"{mentions:,} more papers only mention it" in texts(at)
    assert scalar(demo_db, "SELECT count(*) FROM record_drugs WHERE drug = 'ketamine' AND role = 'mention'") > 0
    week = date.today() - timedelta(days=7)
    new_trials = scalar(demo_db, "SELECT count(*) FROM trials WHERE first_seen_at >= ?", [week])
    # as What's new counts them by default: about a drug, notices apart
    new_papers = scalar(demo_db, f"SELECT count(*) FROM articles WHERE first_seen_at >= ? AND {ABOUT_A_DRUG} "
                                 f"AND {NOT_A_NOTICE}", [week])
    changes = scalar(demo_db, "SELECT count(*) FROM trial_history WHERE observed_at >= ? "
                              "AND field <> 'last_update_posted_date'", [week])
    pairs = scalar(demo_db, "SELECT count(DISTINCT (pmid, nct_id)) FROM article_trials WHERE first_seen_at >= ?",
                   [week])
    assert ("New paper↔trial links", f"{pairs:,}") in metrics
    assert 0 < new_trials < scalar(demo_db, "SELECT count(*) FROM trials")  # night 2 only
    assert ("New trials", f"{new_trials:,}") in metrics
    assert ("New papers", f"{new_papers:,}") in metrics
    assert ("Trial changes", f"{changes:,}") in metrics
    assert "condition tagger" in texts(at)  # the demo ingest tags conditions
    assert len(at.get("vega_lite_chart")) >= 5  # status, 2 heatmaps, phases, papers per year


# --- what's new ----------------------------------------------------------------------------------

def test_whats_new_follows_the_since_date(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "whats_new", monkeypatch))
    week = date.today() - timedelta(days=7)

    def expected(since: date) -> list[int]:
        """Rows of each table: new trials, changes, new papers, the notices listed apart (a
        table only when there are some; the demo has a retraction notice each night), links."""
        return [scalar(demo_db, sql, [since]) for sql in (
            "SELECT count(*) FROM trials WHERE first_seen_at >= ?",
            "SELECT count(*) FROM trial_history WHERE observed_at >= ? AND field <> 'last_update_posted_date'",
            f"SELECT count(*) FROM articles WHERE first_seen_at >= ? AND {ABOUT_A_DRUG} AND {NOT_A_NOTICE}",
            f"SELECT count(*) FROM articles WHERE first_seen_at >= ? AND {ABOUT_A_DRUG} AND NOT {NOT_A_NOTICE}",
            "SELECT count(DISTINCT (pmid, nct_id)) FROM article_trials WHERE first_seen_at >= ?")]

    assert expected(week)[3] > 0   # night 2's retraction notice
    assert [len(df.value) for df in at.dataframe] == expected(week)
    month = date.today() - timedelta(days=30)
    ok(at.date_input(key="since").set_value(month).run())
    assert [len(df.value) for df in at.dataframe] == expected(month)
    assert expected(month)[0] == scalar(demo_db, "SELECT count(*) FROM trials")


def test_whats_new_words_changes_and_pairs_as_the_digest_does(demo_db, monkeypatch):
    month = (date.today() - timedelta(days=30)).isoformat()
    at = ok(open_page(demo_db, "whats_new", monkeypatch, {"since": month}))
    new_trials, changes, _, _notices, links = (df.value for df in at.dataframe)
    assert set(new_trials["status"]) <= {"Recruiting", "Not yet recruiting", "Completed", "Active not recruiting",
                                         "Enrolling by invitation", "Suspended", "Terminated", "Withdrawn", "Unknown"}
    status = changes[changes["field"] == "status"]
    stored = scalar(demo_db, "SELECT count(*) FROM trial_history WHERE field = 'overall_status'")
    assert len(status) == stored > 0 and not status["new_value"].str.contains("_").any()
    assert "last update" not in set(changes["field"]) and "last_update_posted_date" not in set(changes["field"])
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        evidence = dict(conn.execute(
            "SELECT pmid || ' ↔ ' || nct_id, string_agg(DISTINCT evidence, ', ' ORDER BY evidence) "
            "FROM article_trials GROUP BY pmid, nct_id").fetchall())
    assert links["link"].is_unique and dict(zip(links["link"], links["evidence"])) == evidence
    assert any(", " in found for found in evidence.values())   # some pair was found two ways


def test_whats_new_drug_filter(demo_db, monkeypatch):
    month = (date.today() - timedelta(days=30)).isoformat()
    at = ok(open_page(demo_db, "whats_new", monkeypatch, {"since": month, "drug": "mdma"}))
    mdma_trials = scalar(demo_db, "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = 'mdma'")
    assert len(at.dataframe[0].value) == mdma_trials


# --- trials explorer -----------------------------------------------------------------------------

TRIAL_FILTERS = [
    ("drug", ["mdma"], "SELECT count(*) FROM record_drugs WHERE record_kind = 'trial' AND drug = 'mdma'"),
    ("status", ["COMPLETED", "TERMINATED"],
     "SELECT count(*) FROM trials WHERE overall_status IN ('COMPLETED', 'TERMINATED')"),
    ("phase", ["PHASE2"], "SELECT count(*) FROM trials WHERE phases = ['PHASE2']"),
    ("type", ["OBSERVATIONAL"], "SELECT count(*) FROM trials WHERE study_type = 'OBSERVATIONAL'"),
    ("sponsor", ["INDUSTRY"], "SELECT count(*) FROM trials WHERE lead_sponsor_class = 'INDUSTRY'"),
    ("country", ["Canada"], "SELECT count(*) FROM trials WHERE list_contains(countries, 'Canada')"),
    ("condition", ["Stress Disorders, Post-Traumatic"], "SELECT count(DISTINCT record_id) FROM record_conditions c "
     "JOIN condition_concepts k USING (mesh_id) WHERE c.record_kind = 'trial' "
     "AND (k.mesh_id = 'D013313' OR k.parent_mesh_id = 'D013313')"),
]


@pytest.mark.parametrize("key, value, sql", TRIAL_FILTERS, ids=[f[0] for f in TRIAL_FILTERS])
def test_trial_filters_change_the_rows(demo_db, monkeypatch, key, value, sql):
    at = ok(open_page(demo_db, "trials", monkeypatch))
    total = scalar(demo_db, "SELECT count(*) FROM trials")
    assert len(main_table(at)) == total
    ok(at.multiselect(key=key).set_value(value).run())
    expected = scalar(demo_db, sql)
    assert 0 < expected < total
    assert len(main_table(at)) == expected
    assert f"{expected:,} matching trials" in texts(at)


def test_trial_search_results_and_dates(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch))
    ok(at.text_input(key="q").set_value("alcohol").run())
    expected = scalar(demo_db, """SELECT count(*) FROM trials WHERE brief_title ILIKE '%alcohol%'
        OR official_title ILIKE '%alcohol%' OR acronym ILIKE '%alcohol%' OR brief_summary ILIKE '%alcohol%'
        OR detailed_description ILIKE '%alcohol%' OR nct_id ILIKE '%alcohol%'""")
    assert 0 < expected and len(main_table(at)) == expected
    ok(at.text_input(key="q").set_value("").run())
    ok(at.selectbox(key="results").set_value("yes").run())
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM trials WHERE has_results")
    ok(at.selectbox(key="results").set_value("any").run())
    ok(at.date_input(key="start").set_value((date(2022, 1, 1), date(2023, 12, 31))).run())
    expected = scalar(demo_db, "SELECT count(*) FROM trials WHERE start_date BETWEEN '2022-01-01' AND '2023-12-31'")
    assert 0 < expected and len(main_table(at)) == expected


def test_primary_completion_soonest_puts_the_next_readout_first(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"sort": "Primary completion soonest"}))
    soonest = scalar(demo_db, "SELECT nct_id FROM trials WHERE primary_completion_date >= current_date "
                              "ORDER BY primary_completion_date, nct_id LIMIT 1")
    assert soonest is not None and main_table(at)["nct_id"].iloc[0] == soonest


def test_trial_filters_start_from_the_url(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"drug": "psilocybin", "status": "COMPLETED"}))
    assert at.multiselect(key="drug").value == ["psilocybin"]
    expected = scalar(demo_db, """SELECT count(*) FROM trials t JOIN record_drugs d
        ON d.record_kind = 'trial' AND d.record_id = t.nct_id AND d.drug = 'psilocybin'
        WHERE t.overall_status = 'COMPLETED'""")
    assert 0 < expected and len(main_table(at)) == expected


def test_trial_page_shows_facts_history_and_linked_papers(demo_db, monkeypatch):
    nct = scalar(demo_db, """SELECT h.nct_id FROM trial_history h
        WHERE h.field = 'overall_status' AND EXISTS (SELECT 1 FROM article_trials l WHERE l.nct_id = h.nct_id)
        ORDER BY h.nct_id LIMIT 1""") or scalar(demo_db, "SELECT nct_id FROM trial_history ORDER BY ALL LIMIT 1")
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": nct}))
    title = scalar(demo_db, "SELECT brief_title FROM trials WHERE nct_id = ?", [nct])
    assert at.header[0].value.startswith(nct)
    assert title.split()[0] in at.header[0].value
    history = next(df.value for df in at.dataframe if "old_value" in df.value.columns)
    assert len(history) == scalar(demo_db, "SELECT count(*) FROM trial_history WHERE nct_id = ?", [nct])
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        expected = conn.execute("SELECT field, new_value FROM trial_history WHERE nct_id = ?", [nct]).fetchall()
    from flows.labels import FIELD_LABELS, history_value_label

    assert sorted(zip(history["field"], history["new_value"])) == sorted(
        (FIELD_LABELS[f].capitalize(), history_value_label(f, v)) for f, v in expected)  # labels, not codes
    assert not any(re.fullmatch(r"[A-Z]+(_[A-Z]+)+", str(v)) for v in history["new_value"])
    linked = scalar(demo_db, "SELECT count(DISTINCT pmid) FROM article_trials WHERE nct_id = ?", [nct])
    if linked:
        papers = next(df.value for df in at.dataframe if "pubmed_url" in df.value.columns)
        assert len(papers) == linked
    assert any(b.proto.url == f"https://clinicaltrials.gov/study/{nct}" for b in at.get("link_button"))
    assert "Status history" in texts(at) and "Key facts" in texts(at)


def test_trial_page_from_the_picker(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch))
    nct = main_table(at)["nct_id"].iloc[3]
    ok(at.selectbox(key="nct").set_value(nct).run())
    assert at.header[0].value.startswith(nct)
    assert at.query_params.get("nct") == nct


def test_unknown_trial_in_the_url_is_ignored(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": "NCT99999999"}))
    assert at.selectbox(key="nct").value is None
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM trials")


# --- trial page: arms, eligibility, sites, results ------------------------------------------------

def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def results_trial(demo_db) -> str:
    """A randomised demo trial with posted results, a between-arm analysis and sites."""
    nct = scalar(demo_db, """SELECT a.nct_id FROM outcome_analyses a
        WHERE EXISTS (SELECT 1 FROM facilities f WHERE f.nct_id = a.nct_id)
          AND EXISTS (SELECT 1 FROM reported_events e WHERE e.nct_id = a.nct_id AND e.event_type = 'serious')
        ORDER BY a.nct_id LIMIT 1""")
    assert nct is not None, "the demo has trials with posted results"
    return nct


def test_trial_page_shows_arms_with_their_interventions(demo_db, monkeypatch, results_trial):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": results_trial}))
    assert [s.value for s in at.subheader][:3] == ["Key facts", "Design", "Arms"]
    arms = frame_with(at, "Arm type")
    expected = rows(demo_db, """SELECT g.title, g.group_type, g.description,
            list(i.name ORDER BY i.name) FILTER (i.name IS NOT NULL)
        FROM design_groups g LEFT JOIN design_group_interventions gi ON gi.design_group_id = g.id
        LEFT JOIN interventions i ON i.id = gi.intervention_id
        WHERE g.nct_id = ? GROUP BY ALL""", [results_trial])
    assert len(arms) == len(expected) >= 2
    shown = {row["Arm"]: row for _, row in arms.iterrows()}
    for title, group_type, description, names in expected:
        assert shown[title]["Arm type"] == group_type.replace("_", " ").capitalize()  # e.g. Placebo comparator
        assert shown[title]["Description (doses as registered)"] == description
        for name in names or []:
            assert name in shown[title]["Interventions"]
    assert not any(re.search(r"\b[A-Z]+_[A-Z]+\b", value) for value in arms["Arm type"])  # no raw codes


def test_trial_page_shows_eligibility_and_the_criteria_text(demo_db, monkeypatch, results_trial):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": results_trial}))
    gender, minimum, maximum, criteria = rows(demo_db, "SELECT gender, minimum_age, maximum_age, criteria "
                                                       "FROM eligibilities WHERE nct_id = ?", [results_trial])[0]
    shown = unescaped(texts(at))
    assert "Eligibility" in [s.value for s in at.subheader]
    assert f"**Sex:** {gender.capitalize()}" in shown
    assert f"**Age:** {minimum} to {maximum}" in shown or f"**Age:** {minimum} and older" in shown
    assert "Eligibility criteria (as registered)" in [e.label for e in at.expander]
    for line in criteria.splitlines():  # every criterion is there, a line of its own
        item = line.lstrip("*0123456789. ").strip()
        if item:
            assert re.search(r"^(- |\d+\. )?" + re.escape(item) + "$", shown, re.M), item


def test_criteria_text_is_escaped_and_keeps_its_list(db_copy, monkeypatch):
    nct = scalar(db_copy, "SELECT min(nct_id) FROM eligibilities")
    with duckdb.connect(str(db_copy)) as conn:
        conn.execute("UPDATE eligibilities SET criteria = ? WHERE nct_id = ?",
                     ["Inclusion Criteria:\n\n* Systolic BP \\>140 " + SCRIPT + "\n* See [here](https://evil.example)",
                      nct])
    at = ok(open_page(db_copy, "trials", monkeypatch, {"nct": nct}))
    criteria = next(m.value for m in at.markdown if "Systolic" in m.value)
    # the registry's own escape (\\>) undone, ours applied
    assert "- Systolic BP \\>140 \\<script\\>alert\\(1\\)\\</script\\>" in criteria
    assert "- See \\[here\\]\\(https\\://evil\\.example\\)" in criteria
    assert not re.search(r"(?<!\\)[<\[]", criteria)


def test_trial_page_lists_sites_and_maps_them_without_a_basemap(demo_db, monkeypatch, results_trial):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": results_trial}))
    sites = frame_with(at, "Facility")
    expected = rows(demo_db, "SELECT name, city, country FROM facilities WHERE nct_id = ?", [results_trial])
    assert sorted(zip(sites["Facility"], sites["City"], sites["Country"])) == sorted(expected)
    located = scalar(demo_db, "SELECT count(*) FROM facilities WHERE nct_id = ? AND latitude IS NOT NULL",
                     [results_trial])
    maps = [c for c in at.get("vega_lite_chart") if '"longitude"' in c.proto.spec]
    assert len(maps) == 1 and located > 0
    assert "mapbox" not in maps[0].proto.spec.lower() and "tile" not in maps[0].proto.spec.lower()
    assert f"{located:,} with coordinates" in texts(at)


def test_sites_map_draws_every_located_site_of_a_large_trial():
    from dashboard import charts

    sites = pd.DataFrame({"name": [f"Site {i}" for i in range(1148)], "city": "Town", "country": "Country",
                          "latitude": [(i % 170) - 85.0 if i % 10 else None for i in range(1148)],
                          "longitude": [(i % 350) - 175.0 for i in range(1148)]})
    spec = charts.sites_map(sites).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert len(values) == int(sites["latitude"].notna().sum()) == 1033
    assert spec["encoding"]["x"]["scale"]["domain"] == [-180, 180]
    assert spec["encoding"]["y"]["scale"]["domain"] == [-90, 90]
    assert {t["field"] for t in spec["encoding"]["tooltip"]} == {"name", "city", "country"}
    assert "projection" not in spec and "url" not in str(spec.get("data", ""))


def test_trial_page_shows_results_per_outcome_and_adverse_events(demo_db, monkeypatch, results_trial):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": results_trial}))
    assert "Results" in [s.value for s in at.subheader]
    outcome_id, title, kind = rows(demo_db, "SELECT id, title, outcome_type FROM outcomes WHERE nct_id = ? "
                                            "ORDER BY outcome_type = 'PRIMARY' DESC, id LIMIT 1", [results_trial])[0]
    labels = [unescaped(e.label) for e in at.expander]
    assert f"{kind.capitalize()} outcome: {title}" in labels
    measured = rows(demo_db, """SELECT g.title, m.param_value FROM outcome_measurements m
        JOIN result_groups g ON g.id = m.result_group_id WHERE m.outcome_id = ?""", [outcome_id])
    values = next(df.value for df in at.dataframe if "Category" in df.value.columns)
    for group, value in measured:
        assert values[group].astype(str).str.startswith(value).any(), (group, value)
    p_value = scalar(demo_db, "SELECT p_value_raw FROM outcome_analyses WHERE outcome_id = ?", [outcome_id])
    assert p_value in list(frame_with(at, "p-value")["p-value"])

    events = frame_with(at, "Adverse event")
    expected = rows(demo_db, """SELECT event_type, adverse_event_term, sum(subjects_affected) AS n
        FROM reported_events WHERE nct_id = ? GROUP BY ALL""", [results_trial])
    assert len(events) == len(expected)
    assert sorted(events["Adverse event"]) == sorted(term for _, term, _ in expected)
    serious = [term for kind, term, _ in expected if kind == "serious"]
    assert set(events["Adverse event"][:len(serious)]) == set(serious)  # serious events first …
    others = events[len(serious):]["Affected (all groups)"].tolist()
    assert others == sorted(others, reverse=True)  # … then by subjects affected
    group, affected, at_risk = rows(demo_db, """SELECT g.title, e.subjects_affected, e.subjects_at_risk
        FROM reported_events e JOIN result_groups g ON g.id = e.result_group_id
        WHERE e.nct_id = ? AND e.adverse_event_term = ? LIMIT 1""", [results_trial, serious[0]])[0]
    assert events.loc[events["Adverse event"] == serious[0], group].iloc[0] == f"{affected} / {at_risk}"
    totals = frame_with(at, "Total")
    assert list(totals["Total"]) == ["Total, serious adverse events", "Total, other adverse events",
                                     "Total, all-cause mortality"]


def test_trial_without_results_has_no_results_section(demo_db, monkeypatch):
    nct = scalar(demo_db, "SELECT min(nct_id) FROM trials WHERE NOT has_results")
    assert scalar(demo_db, "SELECT count(*) FROM outcomes WHERE nct_id = ?", [nct]) == 0
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": nct}))
    headings = [s.value for s in at.subheader]
    assert "Arms" in headings and "Results" not in headings
    assert not any(df.value.columns.isin(["Adverse event"]).any() for df in at.dataframe)


def test_pivots_keep_groups_with_the_same_title_apart():
    from dashboard.views.trials import adverse_event_table, measurement_table

    measurements = pd.DataFrame({
        "classification": [None, None, "Week 1", "Week 1"], "category": ["", "", "Responder", "Responder"],
        "group_code": ["OG000", "OG001", "OG000", "OG001"], "group_title": ["Psilocybin", "Psilocybin"] * 2,
        "param_value": ["1.5", "2", "4", None], "dispersion_value": ["0.3", None, None, None],
        "lower_limit": [None, "1", None, None], "upper_limit": [None, "3", None, None],
        "explanation_of_na": [None, None, None, "Not collected"]})
    table = measurement_table(measurements)
    assert list(table.columns) == ["Category", "Psilocybin (OG000)", "Psilocybin (OG001)"]
    assert table.values.tolist() == [["All participants", "1.5 (0.3)", "2 (1 to 3)"],
                                     ["Week 1 · Responder", "4", "— (Not collected)"]]
    events = pd.DataFrame({"event_type": ["other", "other", "serious", "other"],
                           "organ_system": ["A", "A", "B", "C"], "term": ["Nausea", "Nausea", "Seizure", "Headache"],
                           "group_code": ["EG000", "EG001", "EG000", "EG000"], "group_title": ["Drug", "Placebo"] * 2,
                           "subjects_affected": [1, 1, 0, 5], "subjects_at_risk": [10, 10, 10, 10]})
    table = adverse_event_table(events)
    assert list(table["Adverse event"]) == ["Seizure", "Headache", "Nausea"]
    assert list(table["Type"]) == ["Serious", "Other", "Other"]
    assert table.loc[2, "Placebo"] == "1 / 10" and table.loc[1, "Placebo"] == "—"


DESIGN_FILTERS = [
    ("comparator", ["Placebo"], "SELECT nct_id FROM v_trial_design WHERE comparator = 'placebo'"),
    ("comparator", ["Active placebo", "Active comparator"],
     "SELECT nct_id FROM v_trial_design WHERE comparator IN ('active placebo', 'active comparator')"),
    ("allocation", ["Randomized"],
     "SELECT nct_id FROM designs JOIN live_trials USING (nct_id) WHERE allocation = 'RANDOMIZED'"),
    ("masking", ["None (open label)"],
     "SELECT nct_id FROM designs JOIN live_trials USING (nct_id) WHERE masking = 'NONE'"),
]


@pytest.mark.parametrize("key, value, sql", DESIGN_FILTERS, ids=[f"{f[0]}-{len(f[1])}" for f in DESIGN_FILTERS])
def test_design_filters_narrow_the_list(demo_db, monkeypatch, key, value, sql):
    at = ok(open_page(demo_db, "trials", monkeypatch))
    total = scalar(demo_db, "SELECT count(*) FROM live_trials")
    ok(at.multiselect(key=key).set_value(value).run())
    expected = {row[0] for row in rows(demo_db, sql)}
    assert 0 < len(expected) < total
    assert set(main_table(at)["nct_id"]) == expected and len(main_table(at)) == len(expected)


def test_design_filter_options_come_from_the_warehouse_and_the_url(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "trials", monkeypatch, {"comparator": "Active placebo", "drug": "psilocybin"}))
    comparators = {row[0] for row in rows(demo_db, "SELECT DISTINCT comparator FROM v_trial_design")}
    options = at.multiselect(key="comparator").options
    assert len(options) == len(comparators) and "Placebo" in options and "placebo" not in options
    assert len(at.multiselect(key="allocation").options) == scalar(
        demo_db, "SELECT count(DISTINCT allocation) FROM designs")
    assert at.multiselect(key="comparator").value == ["Active placebo"]
    expected = {row[0] for row in rows(demo_db, """SELECT v.nct_id FROM v_trial_design v JOIN record_drugs d
        ON d.record_kind = 'trial' AND d.record_id = v.nct_id AND d.drug = 'psilocybin'
        WHERE v.comparator = 'active placebo'""")}
    assert expected and set(main_table(at)["nct_id"]) == expected


# --- labels, not codes ------------------------------------------------------------------------------

CODE = re.compile(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+|PHASE\d(/PHASE\d)?|INDUSTRY|OTHER|FED|NETWORK|INDIV|NA|"
                  r"INTERVENTIONAL|OBSERVATIONAL|RECRUITING|COMPLETED|TERMINATED|WITHDRAWN|SUSPENDED|UNKNOWN")
RAW_HEADER = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")


def headers(df) -> dict[str, str]:
    """Column → the header the grid shows (its column_config label, else the column's name)."""
    import json

    config = json.loads(df.proto.columns or "{}")
    return {column: (config.get(column) or {}).get("label") or column for column in df.value.columns}


def url_values(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def column_config(df) -> dict:
    import json

    return json.loads(df.proto.columns or "{}")


@pytest.fixture(scope="module")
def record_pages(demo_db) -> dict[str, dict]:
    nct = scalar(demo_db, "SELECT min(nct_id) FROM trial_history WHERE nct_id IN (SELECT nct_id FROM article_trials) "
                          "AND nct_id IN (SELECT nct_id FROM facilities)")
    pmid = scalar(demo_db, "SELECT min(pmid) FROM article_trials WHERE pmid IN (SELECT pmid FROM articles)")
    return {"trial page": {"nct": nct}, "paper page": {"pmid": str(pmid)}}


@pytest.mark.parametrize("name, query", [(n, None) for n in PAGES if n != "export"] + [
    ("trials", "trial page"), ("literature", "paper page")])
def test_every_table_has_human_headers(demo_db, monkeypatch, record_pages, name, query):
    at = ok(open_page(demo_db, name, monkeypatch, record_pages[query] if query else None))
    assert at.dataframe
    for df in at.dataframe:
        shown = headers(df)
        assert not [h for h in shown.values() if RAW_HEADER.fullmatch(h)], shown
        for column in ("nct_id", "pmid"):  # the record's id stays in view when the table scrolls
            if column in shown:
                assert column_config(df)[column].get("pinned") is True, (column, shown)


def test_the_export_preview_keeps_the_raw_dataset_and_says_so(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "export", monkeypatch))
    shown = headers(at.dataframe[-1])
    assert shown["nct_id"] == "nct_id" and shown["overall_status"] == "overall_status"
    raw = scalar(demo_db, "SELECT overall_status FROM v_trials ORDER BY nct_id LIMIT 1")
    assert main_table(at)["overall_status"].iloc[0] == raw
    assert "raw dataset" in texts(at) and "column names" in texts(at)


def test_trials_list_shows_labels_for_the_registry_codes(demo_db, monkeypatch):
    from extract.catalogue import Catalogue
    from flows.labels import phase_label, sponsor_class_label, status_label, study_type_label

    drug_names = {d.key: d.label for d in Catalogue.load().drugs}
    at = ok(open_page(demo_db, "trials", monkeypatch))
    shown = main_table(at).set_index("nct_id")
    expected = rows(demo_db, """SELECT t.nct_id, t.overall_status, coalesce(nullif(array_to_string(t.phases, '/'), ''),
            'NOT_GIVEN'), t.study_type, t.lead_sponsor_class,
            (SELECT list(d.drug ORDER BY d.drug) FROM record_drugs d WHERE d.record_kind = 'trial'
             AND d.record_id = t.nct_id) FROM trials t""")
    assert len(expected) == len(shown)
    for nct, status, phase, study_type, sponsor, drugs in expected:
        row = shown.loc[nct]
        assert row["overall_status"] == status_label(status)
        assert row["phase"] == phase_label(phase)
        assert row["study_type"] == study_type_label(study_type)
        assert row["lead_sponsor_class"] == sponsor_class_label(sponsor)
        assert sorted(row["drugs"]) == sorted(drug_names[d] for d in drugs)
    for column in ("overall_status", "phase", "study_type", "lead_sponsor_class"):
        assert not [v for v in shown[column] if CODE.fullmatch(str(v))], column
    assert {"Industry", "NIH", "Federal", "Other"} <= set(shown["lead_sponsor_class"])
    assert list(shown.columns[:2]) == ["brief_title", "overall_status"]  # status right after the pinned title
    config = column_config(at.dataframe[-1])
    assert config["nct_id"]["pinned"] and config["brief_title"]["pinned"]
    assert config["overall_status"]["width"] >= 180


def test_filters_show_labels_and_keep_codes_in_the_url(demo_db, monkeypatch):
    from flows.labels import phase_label, sponsor_class_label, status_label

    at = ok(open_page(demo_db, "trials", monkeypatch, {"sponsor": "FED", "phase": "PHASE2/PHASE3"}))
    sponsors = {r[0] for r in rows(demo_db, "SELECT DISTINCT lead_sponsor_class FROM trials")}
    assert set(at.multiselect(key="sponsor").options) == {sponsor_class_label(c) for c in sponsors}
    assert at.multiselect(key="sponsor").value == ["FED"] and at.multiselect(key="phase").value == ["PHASE2/PHASE3"]
    assert "Phase 2/3" in at.multiselect(key="phase").options
    assert "Not yet recruiting" in at.multiselect(key="status").options
    assert set(at.multiselect(key="drug").options) == {"Ketamine / esketamine", "Psilocybin", "MDMA"}
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM trials WHERE lead_sponsor_class = 'FED' "
                                                  "AND array_to_string(phases, '/') = 'PHASE2/PHASE3'")
    ok(at.multiselect(key="status").set_value(["NOT_YET_RECRUITING", "RECRUITING"]).run())
    ok(at.multiselect(key="drug").set_value(["mdma"]).run())
    assert url_values(at, "status") == ["NOT_YET_RECRUITING", "RECRUITING"]  # codes, not labels
    assert url_values(at, "drug") == ["mdma"] and url_values(at, "sponsor") == ["FED"]
    ok(at.multiselect(key="sponsor").set_value([]).run())
    assert "sponsor" not in at.query_params
    assert status_label("NOT_YET_RECRUITING") in at.multiselect(key="status").options
    assert phase_label("PHASE2") in at.multiselect(key="phase").options
    # old links with unknown codes are ignored, as before
    at = ok(open_page(demo_db, "overdue", monkeypatch, {"sponsor": ["NIH", "NOPE"], "drug": "mdma"}))
    assert at.multiselect(key="sponsor").value == ["NIH"] and at.multiselect(key="drug").value == ["mdma"]
    assert url_values(at, "sponsor") == ["NIH"]


def test_the_dashboard_reuses_the_shared_labels():
    from dashboard import ui
    from flows import labels

    assert ui.phase_label is labels.phase_label and ui.coded_label is labels.coded_label
    assert ui.ordered is labels.ordered and ui.PHASE_ORDER is labels.PHASE_ORDER
    assert ui.enum_label("ACTIVE_NOT_RECRUITING") == labels.code_label("ACTIVE_NOT_RECRUITING") == "Active not recruiting"
    assert ui.enum_label(None) == ui.enum_label(float("nan")) == "—"
    tree = ast.parse((REPO / "dashboard" / "ui.py").read_text())
    assigned = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Name)}
    assert not assigned & {"PHASE_ORDER", "PHASE_LABELS", "ALLOCATION_LABELS", "MASKING_LABELS", "COMPARATOR_LABELS"}
    assert [labels.sponsor_class_label(c) for c in ("INDUSTRY", "NIH", "OTHER_GOV", "FED", "NETWORK", "INDIV",
                                                    "OTHER")] == [
        "Industry", "NIH", "Other government", "Federal", "Network", "Individual", "Other"]
    assert labels.phase_label("PHASE2/PHASE3") == "Phase 2/3" and labels.phase_label("EARLY_PHASE1") == "Early phase 1"
    assert labels.status_label("NOT_YET_RECRUITING") == "Not yet recruiting"
    assert labels.study_type_label("EXPANDED_ACCESS") == "Expanded access"
    assert labels.history_value_label("has_results", "true") == "yes"


def test_the_literature_export_holds_the_papers_listed(demo_db, monkeypatch):
    monkeypatch.setenv("TRIALWATCH_DB", str(demo_db))
    from dashboard import citations, data

    papers = data.articles(data.ArticleFilters(drugs=("mdma",)))
    records = data.article_citations(tuple(int(p) for p in papers["pmid"]))
    assert [r["pmid"] for r in records] == list(papers["pmid"]) and records
    ris, bib = citations.to_ris(records), citations.to_bibtex(records)
    assert ris.count("ER  - ") == len(papers) == len(re.findall(r"^@(article|book)\{", bib, re.M))
    pmid, title, doi, volume, last_name = rows(demo_db, """SELECT pmid, title, doi, journal_volume, authors[1].last_name
        FROM articles WHERE pmid = ?""", [int(papers["pmid"].iloc[0])])[0]
    first = ris.split("ER  - ")[0]
    assert f"TI  - {' '.join(title.split())}" in first and f"AN  - PMID:{pmid}" in first
    assert (f"DO  - {doi}" in first) == bool(doi) and (f"VL  - {volume}" in first) == bool(volume)
    assert f"AU  - {last_name}, " in first
    assert bib.startswith("@article{" + re.sub(r"[^A-Za-z0-9]", "", last_name))


# --- literature explorer -------------------------------------------------------------------------

def test_literature_filters_change_the_rows(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "literature", monkeypatch))
    total = scalar(demo_db, "SELECT count(*) FROM articles")
    about = scalar(demo_db, f"SELECT count(*) FROM articles WHERE {ABOUT_A_DRUG}")
    assert len(main_table(at)) == about < total   # by default, not the papers that only mention a drug
    ok(at.toggle(key="mentions").set_value(True).run())
    assert len(main_table(at)) == total
    ok(at.multiselect(key="ptype").set_value(["Randomized Controlled Trial"]).run())
    rct = scalar(demo_db, "SELECT count(*) FROM articles WHERE list_contains([p.name FOR p IN publication_types], "
                          "'Randomized Controlled Trial')")
    assert 0 < rct < total and len(main_table(at)) == rct
    ok(at.slider(key="year").set_range(2023, 2024).run())
    expected = scalar(demo_db, "SELECT count(*) FROM articles WHERE pub_year BETWEEN 2023 AND 2024 AND "
                               "list_contains([p.name FOR p IN publication_types], 'Randomized Controlled Trial')")
    assert len(main_table(at)) == expected
    ok(at.multiselect(key="ptype").set_value([]).run())
    ok(at.slider(key="year").set_range(scalar(demo_db, "SELECT min(pub_year) FROM articles"),
                                       scalar(demo_db, "SELECT max(pub_year) FROM articles")).run())
    journal = scalar(demo_db, "SELECT journal FROM articles GROUP BY journal ORDER BY count(*) DESC, journal LIMIT 1")
    ok(at.multiselect(key="journal").set_value([journal]).run())
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM articles WHERE journal = ?", [journal])


def test_records_gone_from_the_services_leave_the_lists_and_counts(db_copy, monkeypatch):
    with duckdb.connect(str(db_copy)) as conn:
        nct_id, pmid = conn.execute("SELECT (SELECT min(nct_id) FROM trials), (SELECT min(pmid) FROM articles)").fetchall()[0]
        conn.execute("INSERT INTO deleted_records (source, record_id, detected_at, reason, run_id) VALUES "
                     "('ctgov', ?, now(), 'gone', 'r'), ('pubmed', ?, now(), 'gone', 'r')", [nct_id, str(pmid)])
    trials = ok(open_page(db_copy, "trials", monkeypatch))
    papers = ok(open_page(db_copy, "literature", monkeypatch, {"mentions": "true"}))
    overview = ok(open_page(db_copy, "overview", monkeypatch))

    assert nct_id not in set(main_table(trials)["nct_id"])
    assert len(main_table(trials)) == scalar(db_copy, "SELECT count(*) FROM trials") - 1
    assert pmid not in set(main_table(papers)["pmid"])
    assert len(main_table(papers)) == scalar(db_copy, "SELECT count(*) FROM articles") - 1
    live_ketamine = scalar(db_copy, "SELECT count(*) FROM record_drugs d JOIN live_trials t ON d.record_id = t.nct_id "
                                    "WHERE d.record_kind = 'trial' AND d.drug = 'ketamine'")
    assert ("Trials", f"{live_ketamine:,}") in [(m.label, m.value) for m in overview.metric]


def test_literature_search_drug_and_url(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "literature", monkeypatch, {"drug": "mdma", "q": "ptsd"}))
    expected = scalar(demo_db, """SELECT count(*) FROM articles a JOIN record_drugs d ON d.record_kind = 'article'
        AND d.record_id = CAST(a.pmid AS VARCHAR) AND d.drug = 'mdma'
        WHERE a.title ILIKE '%ptsd%' OR a.abstract ILIKE '%ptsd%' OR CAST(a.pmid AS VARCHAR) ILIKE '%ptsd%'""")
    assert 0 < expected and len(main_table(at)) == expected


def test_paper_page_shows_abstract_mesh_and_linked_trials(demo_db, monkeypatch):
    pmid = scalar(demo_db, """SELECT a.pmid FROM articles a WHERE len(a.mesh_headings) > 0 AND a.doi IS NOT NULL
        AND EXISTS (SELECT 1 FROM article_trials l WHERE l.pmid = a.pmid)
        AND EXISTS (SELECT 1 FROM condition_tags t WHERE t.record_kind = 'article'
                    AND t.record_id = CAST(a.pmid AS VARCHAR) AND t.field LIKE 'abstract%')
        ORDER BY a.pmid LIMIT 1""")
    at = ok(open_page(demo_db, "literature", monkeypatch, {"pmid": str(pmid)}))
    assert at.selectbox(key="pmid").value == pmid
    abstract = scalar(demo_db, "SELECT abstract FROM articles WHERE pmid = ?", [pmid])
    body = next(h.value for h in at.html if "tw-abstract" in h.value)
    assert html.escape(abstract.split()[-1]) in body
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        mentions = conn.execute("""SELECT matched_text, negated FROM condition_tags WHERE record_kind = 'article'
            AND record_id = ? AND field LIKE 'abstract%'""", [str(pmid)]).fetchall()
    for text, negated in mentions:  # every mention the tagger found is highlighted, negated ones apart
        marked = (r'<mark class="tw-condition[^"]*' + (" tw-negated" if negated else "") + r'[^"]*" title="[^"]*">'
                  + re.escape(html.escape(text)) + "</mark>")
        assert re.search(marked, body), text
    assert "condition tagger" in texts(at)
    trials = next(df.value for df in at.dataframe if "registry_url" in df.value.columns)
    assert len(trials) == scalar(demo_db, "SELECT count(DISTINCT nct_id) FROM article_trials WHERE pmid = ?", [pmid])
    first_mesh = scalar(demo_db, "SELECT mesh_headings[1].name FROM articles WHERE pmid = ?", [pmid])
    assert first_mesh.split()[0] in texts(at)
    urls = {b.proto.url for b in at.get("link_button")}
    assert f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" in urls
    assert any(u.startswith("https://doi.org/") for u in urls)


# --- overdue and export --------------------------------------------------------------------------

def test_overdue_lists_the_view_with_reasons(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "overdue", monkeypatch))
    rows = main_table(at)
    assert len(rows) == scalar(demo_db, "SELECT count(*) FROM v_overdue_trials") > 0
    due = rows[rows["results_due"]]
    assert len(due) == scalar(demo_db, "SELECT count(*) FROM v_overdue_trials WHERE results_due")
    assert due["reason"].str.contains("results due under FDAAA 801").all()
    assert (due["months_since_primary_completion"] > 12).all()
    assert rows[~rows["results_due"]]["reason"].str.startswith("unpublished").all()
    ok(at.multiselect(key="drug").set_value(["ketamine"]).run())
    assert len(main_table(at)) == scalar(demo_db, """SELECT count(*) FROM v_overdue_trials o JOIN record_drugs d
        ON d.record_kind = 'trial' AND d.record_id = o.nct_id AND d.drug = 'ketamine'""")
    ok(at.checkbox(key="fdaaa").uncheck().run())   # unpublished only
    assert len(main_table(at)) == scalar(demo_db, """SELECT count(*) FROM v_overdue_trials o JOIN record_drugs d
        ON d.record_kind = 'trial' AND d.record_id = o.nct_id AND d.drug = 'ketamine' WHERE o.unpublished""")


def test_export_page_switches_dataset(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "export", monkeypatch))
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM trials")
    ok(at.selectbox(key="dataset").set_value("paper-trial links (article_trials)").run())
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(*) FROM article_trials")


def test_csv_and_parquet_downloads_hold_the_rows(demo_db, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIALWATCH_DB", str(demo_db))
    from dashboard import data, ui

    frame = data.trials(data.TrialFilters(drugs=("mdma",)))
    csv = ui.to_csv_bytes(frame).decode()
    assert len(pd.read_csv(io.StringIO(csv))) == len(frame)
    assert "; " in csv or frame["conditions"].map(len).max() <= 1  # lists joined, not Python reprs
    assert "[" not in csv.splitlines()[1]
    parquet = tmp_path / "t.parquet"
    parquet.write_bytes(ui.to_parquet_bytes(frame))
    table = pq.read_table(parquet)
    assert table.num_rows == len(frame)
    assert str(table.schema.field("drugs").type) == "list<element: string>"


# --- first run and failure modes -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["overview", "trials", "literature"])
def test_missing_warehouse_shows_the_first_run_message(tmp_path, monkeypatch, name):
    at = ok(open_page(tmp_path / "nowhere" / "trialwatch.duckdb", name, monkeypatch))
    assert at.title[0].value == "No trialwatch data yet"
    message = at.info[0].value
    assert "trialwatch ingest" in message and "trialwatch demo" in message
    assert not (tmp_path / "nowhere").exists(), "the dashboard must not create a warehouse"


def test_empty_warehouse_shows_the_first_run_message(tmp_path, monkeypatch):
    from warehouse.db import open_warehouse

    empty = tmp_path / "empty.duckdb"
    open_warehouse(empty).close()
    at = ok(open_page(empty, "overview", monkeypatch))
    assert at.title[0].value == "No trialwatch data yet"
    assert "no papers or trials yet" in at.info[0].value
    blank = tmp_path / "blank.duckdb"
    duckdb.connect(str(blank)).close()
    at = ok(open_page(blank, "trials", monkeypatch))
    assert at.title[0].value == "No trialwatch data yet"


# --- injection and escaping ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["trials", "literature"])
def test_search_text_is_a_value_not_sql(demo_db, monkeypatch, name):
    trials_before = scalar(demo_db, "SELECT count(*) FROM trials")
    at = ok(open_page(demo_db, name, monkeypatch))
    ok(at.text_input(key="q").set_value(INJECTION).run())
    assert len(main_table(at)) == 0
    ok(at.text_input(key="q").set_value("100%_").run())  # LIKE wildcards are literal too
    assert len(main_table(at)) == 0
    at = ok(open_page(demo_db, name, monkeypatch, {"q": INJECTION, "drug": INJECTION, "sort": INJECTION}))
    assert scalar(demo_db, "SELECT count(*) FROM trials") == trials_before
    assert "trials" in {r[0] for r in duckdb.connect(str(demo_db), read_only=True).execute("SHOW TABLES").fetchall()}


def test_html_in_an_abstract_is_shown_as_text(db_copy, monkeypatch):
    with duckdb.connect(str(db_copy)) as conn:
        pmid = conn.execute("SELECT min(pmid) FROM articles").fetchall()[0][0]
        conn.execute("""UPDATE articles SET title = ? || ' title',
                        abstract = 'RESULTS <b>: Improved ' || ? || ' & more.',
                        abstract_sections = [{'label': 'RESULTS <b>', 'category': 'RESULTS',
                                              'text': 'Improved ' || ? || ' & more.'}]
                        WHERE pmid = ?""", [SCRIPT, SCRIPT, SCRIPT, pmid])
    at = ok(open_page(db_copy, "literature", monkeypatch, {"pmid": str(pmid)}))
    body = next(h.value for h in at.html if "tw-abstract" in h.value)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in body
    assert "<strong>RESULTS &lt;b&gt;:</strong>" in body
    assert "<script" not in body and "<b>" not in body
    assert r"\<script\>" in at.header[0].value and not re.search(r"(?<!\\)<", at.header[0].value)


# --- conditions: the tagger's, or the registered ones as a fallback ---------------------------------

def test_trial_page_and_filters_use_the_tagged_conditions(demo_db, monkeypatch):
    nct = scalar(demo_db, "SELECT record_id FROM record_conditions WHERE record_kind = 'trial' "
                          "GROUP BY record_id ORDER BY count(*) DESC, record_id LIMIT 1")
    at = ok(open_page(demo_db, "trials", monkeypatch, {"nct": nct}))
    tagged = next(df.value for df in at.dataframe if "concept" in df.value.columns and "source" in df.value.columns)
    assert len(tagged) == scalar(demo_db, "SELECT count(*) FROM record_conditions WHERE record_kind = 'trial' "
                                          "AND record_id = ?", [nct]) > 1
    concept = scalar(demo_db, "SELECT concept FROM record_conditions WHERE record_kind = 'article' "
                              "GROUP BY concept ORDER BY count(*) DESC, concept LIMIT 1")
    at = ok(open_page(demo_db, "literature", monkeypatch, {"condition": concept, "mentions": "true"}))
    # the concept and every narrower one (a broader concept includes them)
    assert len(main_table(at)) == scalar(demo_db, "SELECT count(DISTINCT record_id) FROM v_record_condition_groups "
                                                  "WHERE record_kind = 'article' AND broader_concept = ?", [concept]) > 0


def test_a_condition_group_finds_every_trial_tagged_with_any_of_its_concepts(demo_db, monkeypatch):
    """psilocybin + Depressive disorders: every psilocybin trial with any depressive concept
    (depression, major depression, treatment-resistant, postpartum …), and nothing else."""
    at = ok(open_page(demo_db, "trials", monkeypatch))
    options = at.multiselect(key="condition").options
    assert options.index("Depressive disorders") < options.index("Depression")   # groups first
    ok(at.multiselect(key="drug").set_value(["psilocybin"]).run())
    ok(at.multiselect(key="condition").set_value(["Depressive disorders"]).run())
    shown = set(main_table(at)["nct_id"])
    with duckdb.connect(str(demo_db), read_only=True) as conn:
        depressive = {row[0] for row in conn.execute("""
            SELECT DISTINCT c.record_id FROM record_conditions c
            JOIN record_drugs d ON d.record_kind = 'trial' AND d.record_id = c.record_id AND d.drug = 'psilocybin'
            WHERE c.record_kind = 'trial' AND c.mesh_id IN (SELECT mesh_id FROM condition_concepts
                                                            WHERE condition_group = 'depressive')""").fetchall()}
        narrower = conn.execute("""SELECT count(DISTINCT concept) FROM record_conditions WHERE record_kind = 'trial'
            AND mesh_id IN (SELECT mesh_id FROM condition_concepts WHERE condition_group = 'depressive')""").fetchall()
    assert shown == depressive and len(shown) > 1 and narrower[0][0] > 1
    ok(at.multiselect(key="condition").set_value(["Depression"]).run())   # the broader concept, same trials
    assert set(main_table(at)["nct_id"]) == depressive


def test_the_heatmaps_show_condition_groups_in_one_order(demo_db, monkeypatch):
    at = ok(open_page(demo_db, "overview", monkeypatch))
    heat = next(df.value for df in at.dataframe if {"drug", "condition", "records", "n"} <= set(df.value.columns))
    orders = [heat[heat["records"] == kind].sort_values("rank")["condition"].drop_duplicates().tolist()
              for kind in ("trials", "papers")]
    assert "Depressive disorders" in orders[0]
    common = [c for c in orders[0] if c in orders[1]]
    assert common == [c for c in orders[1] if c in orders[0]] and len(common) > 1


def test_without_condition_tags_conditions_fall_back_to_registered_ones(db_copy, monkeypatch):
    with duckdb.connect(str(db_copy)) as conn:  # a warehouse from before migration 004
        for table in ("condition_tags", "record_conditions", "record_tagging"):
            conn.execute("DROP TABLE " + table)
    at = ok(open_page(db_copy, "overview", monkeypatch))
    assert "predates condition tagging" in texts(at) and "registered conditions" in texts(at)
    at = ok(open_page(db_copy, "trials", monkeypatch))
    ok(at.multiselect(key="condition").set_value(["PTSD"]).run())
    assert len(main_table(at)) == scalar(db_copy, "SELECT count(*) FROM trials WHERE list_contains(conditions, 'PTSD')")
    at = ok(open_page(db_copy, "literature", monkeypatch, {"condition": "PTSD"}))
    assert len(main_table(at)) == scalar(db_copy, """SELECT count(DISTINCT l.pmid) FROM article_trials l
        JOIN trials t USING (nct_id) JOIN articles a USING (pmid) WHERE list_contains(t.conditions, 'PTSD')""") > 0
    pmid = scalar(db_copy, "SELECT min(pmid) FROM articles")
    at = ok(open_page(db_copy, "literature", monkeypatch, {"pmid": str(pmid)}))
    assert "Condition highlighting appears once" in texts(at)
    assert "<mark" not in next(h.value for h in at.html if "tw-abstract" in h.value)


def test_an_untagged_warehouse_says_so(db_copy, monkeypatch):
    with duckdb.connect(str(db_copy)) as conn:
        conn.execute("DELETE FROM record_conditions")
    at = ok(open_page(db_copy, "trials", monkeypatch))
    assert "has not tagged this warehouse yet" in at.multiselect(key="condition").help
    assert "PTSD" in at.multiselect(key="condition").options


# --- the query layer -----------------------------------------------------------------------------

def test_a_new_publication_invalidates_the_cache(db_copy, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIALWATCH_DB", str(db_copy))
    from dashboard import data

    before = len(data.trials(data.TrialFilters()))
    assert len(data.trials(data.TrialFilters())) == before  # cached
    staging = tmp_path / "staging.duckdb"
    shutil.copyfile(db_copy, staging)
    with duckdb.connect(str(staging)) as conn:
        conn.execute("DELETE FROM trials WHERE nct_id = (SELECT min(nct_id) FROM trials)")
    os.replace(staging, db_copy)  # what warehouse.publish does
    assert len(data.trials(data.TrialFilters())) == before - 1


def test_a_failed_read_is_retried_once(db_copy, monkeypatch):
    monkeypatch.setenv("TRIALWATCH_DB", str(db_copy))
    from dashboard import data

    calls = []
    real = data._QUERIES["drugs"]

    def flaky(conn):
        calls.append(1)
        if len(calls) == 1:
            raise duckdb.IOException("IO Error: file was replaced")
        return real(conn)

    monkeypatch.setitem(data._QUERIES, "drugs", flaky)
    data._cached.clear()
    assert data.drugs() == ["ketamine", "mdma", "psilocybin"]
    assert len(calls) == 2

    def broken(conn):
        raise duckdb.IOException("IO Error: still broken")

    monkeypatch.setitem(data._QUERIES, "drugs", broken)
    data._cached.clear()
    with pytest.raises(data.WarehouseUnavailable, match="still broken"):
        data.drugs()


def test_like_patterns_escape_wildcards():
    from dashboard.data import like_pattern

    assert like_pattern("  ") is None
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


def test_sql_is_never_built_from_formatted_strings():
    """f-strings and str.format never produce SQL in the query layer."""
    for path in (REPO / "dashboard" / "data.py", REPO / "dashboard" / "queries.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = ast.unparse(node).upper()
                assert not any(word in text for word in ("SELECT", "WHERE", "FROM ", "ORDER BY")), (path, text)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "format":
                pytest.fail(f"str.format in {path.name}: {ast.unparse(node)}")


# --- launching ----------------------------------------------------------------------------------

def test_launch_environment_defaults_to_localhost_and_honours_streamlit_settings(tmp_path):
    from dashboard.launch import APP as LAUNCHED_APP, streamlit_command, streamlit_env

    env = streamlit_env(tmp_path / "w.duckdb", environ={"PATH": "/bin"})
    assert env["STREAMLIT_SERVER_ADDRESS"] == "127.0.0.1"
    assert env["STREAMLIT_SERVER_HEADLESS"] == "true"
    assert env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert env["TRIALWATCH_DB"] == str((tmp_path / "w.duckdb").resolve())
    mine = streamlit_env(Path("w.duckdb"), environ={"STREAMLIT_SERVER_ADDRESS": "0.0.0.0",
                                                    "STREAMLIT_SERVER_PORT": "9999",
                                                    "STREAMLIT_SERVER_HEADLESS": "false",
                                                    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true"})
    assert (mine["STREAMLIT_SERVER_ADDRESS"], mine["STREAMLIT_SERVER_PORT"], mine["STREAMLIT_SERVER_HEADLESS"]) == (
        "0.0.0.0", "9999", "false")
    assert mine["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert Path(mine["TRIALWATCH_DB"]).is_absolute()
    command = streamlit_command(["--server.runOnSave", "false"])
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert command[4] == str(LAUNCHED_APP) and LAUNCHED_APP == APP
    assert command[5:] == ["--server.runOnSave", "false"]
