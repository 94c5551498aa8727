"""The dashboard's read-only query layer: one function per query, each returning plain data.

Every query opens the published warehouse read-only, runs, and closes again (the nightly load
swaps a new file in with `os.replace`; a held connection would keep reading the old one). Results
are cached with `st.cache_data`, keyed also on the file's identity (inode, mtime, size), so a new
publication invalidates the cache at once. If the file is replaced while a query runs, the query
is retried once against the new file.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from dashboard import queries as q
from extract.condition_groups import GROUP_LABELS
from flows.settings import load_settings
from warehouse.db import WarehouseError, connect

log = logging.getLogger("trialwatch.dashboard")

CACHE_TTL_SECONDS = 600
RETRY_DELAY_SECONDS = 0.3
MIN_SCHEMA_OBJECTS = {"trials", "articles", "article_trials", "record_drugs", "trial_history",
                      "v_trials", "v_articles", "v_trial_changes", "v_overdue_trials", "live_trials", "live_articles",
                      "deleted_records", "grants", "comments_corrections",
                      "v_trial_design", "v_outcome_changes", "design_outcomes", "design_groups",
                      "design_group_interventions", "interventions", "eligibilities", "facilities", "outcomes",
                      "outcome_measurements", "outcome_analyses", "result_groups", "reported_events",
                      "reported_event_totals", "designs"}


class WarehouseMissing(WarehouseError):
    """There is no warehouse file yet."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse could not be read, even after a retry."""


@dataclass(frozen=True)
class WarehouseRef:
    """Which file a cached result came from: a new publication has a new inode and mtime."""
    path: str
    inode: int
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class WarehouseState:
    status: str  # "ok", "empty" or "outdated"
    trials: int = 0
    papers: int = 0
    generation: int | None = None
    published_at: Any = None
    tagged_conditions: bool = False


@dataclass(frozen=True)
class TrialFilters:
    drugs: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    study_types: tuple[str, ...] = ()
    sponsor_classes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    start_from: date | None = None
    start_to: date | None = None
    has_results: bool | None = None
    search: str = ""
    sort: str = next(iter(q.TRIAL_SORTS))
    allocations: tuple[str, ...] = ()  # designs.allocation: RANDOMIZED, NON_RANDOMIZED, NA
    maskings: tuple[str, ...] = ()  # designs.masking: NONE, SINGLE, DOUBLE, TRIPLE, QUADRUPLE
    comparators: tuple[str, ...] = ()  # v_trial_design.comparator: placebo, active placebo, …

    @property
    def design_filtered(self) -> bool:
        return bool(self.allocations or self.maskings or self.comparators)


@dataclass(frozen=True)
class ArticleFilters:
    drugs: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    journals: tuple[str, ...] = ()
    search: str = ""
    sort: str = next(iter(q.ARTICLE_SORTS))
    designs: tuple[str, ...] = ()
    include_mentions: bool = False  # papers that only mention a drug (e.g. as an anaesthetic)


@dataclass(frozen=True)
class ConditionSource:
    """Where the condition filters and heatmap get their conditions from, for the UI to say."""
    mode: str  # key of queries.CONDITION_SOURCES
    note: str = field(default="")


# --- locating the warehouse ----------------------------------------------------------------------

def warehouse_path() -> Path:
    """TRIALWATCH_DB (or `.env`), default data/trialwatch.duckdb, as every trialwatch tool reads it."""
    return load_settings().db_path


def warehouse_ref(path: Path | None = None) -> WarehouseRef:
    path = Path(path or warehouse_path())
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise WarehouseMissing(f"no warehouse at {path} yet") from None
    return WarehouseRef(str(path), info.st_ino, info.st_mtime_ns, info.st_size)


class _Replaced(Exception):
    """The file changed identity while a query ran."""


_QUERIES: dict[str, Callable[..., Any]] = {}


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=512, show_spinner=False)
def _cached(name: str, ref: WarehouseRef, args: tuple) -> Any:
    conn = connect(Path(ref.path), read_only=True)
    try:
        result = _QUERIES[name](conn, *args)
    finally:
        conn.close()
    try:
        unchanged = warehouse_ref(Path(ref.path)) == ref
    except WarehouseMissing:
        unchanged = False
    if not unchanged:
        raise _Replaced(ref.path)
    return result


def _run(name: str, args: tuple) -> Any:
    path = warehouse_path()
    for attempt in (1, 2):
        ref = warehouse_ref(path)
        try:
            result = _cached(name, ref, args)
            return result.to_pandas(date_as_object=False) if isinstance(result, pa.Table) else result
        except (_Replaced, duckdb.Error, WarehouseError, OSError) as error:
            if attempt == 2:
                if isinstance(error, WarehouseMissing):
                    raise
                raise WarehouseUnavailable(
                    f"could not read the warehouse {path}: {str(error).splitlines()[0] or type(error).__name__}"
                ) from error
            log.info("query %s failed (%s); retrying once", name, error)
            time.sleep(RETRY_DELAY_SECONDS)
    raise AssertionError("unreachable")


def _query(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Register `fn(conn, *args)` and return `wrapper(*args)`: read-only, cached, retried once."""
    _QUERIES[fn.__name__] = fn

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return _run(fn.__name__, args)

    return wrapper


def _df(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> pa.Table:
    """A query's rows as Arrow: that is what the cache stores (pickling a 50k-row pandas frame
    with list columns took ~1.6 s, an Arrow table ~20 ms); `_run` hands pandas to the pages."""
    return conn.sql(sql, params=params or {}).to_arrow_table()


def _one(conn: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> dict | None:
    cursor = conn.execute(sql, params or {})
    rows = cursor.fetchall()  # fetch to the end: DuckDB 2 refuses new work beside an unfinished result
    if not rows:
        return None
    return dict(zip([d[0] for d in cursor.description], rows[0]))


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in conn.execute(q.TABLES).fetchall()}


def _condition_mode(conn: duckdb.DuckDBPyConnection) -> str:
    """'grouped' (or 'tagged', before migration 010) once record_conditions has rows, else
    'registered' (see queries.CONDITION_SOURCES)."""
    tables = _tables(conn)
    if "record_conditions" in tables and conn.execute(q.HAS_RECORD_CONDITIONS).fetchall()[0][0]:
        return "grouped" if "v_record_condition_groups" in tables else "tagged"
    return "registered"


def like_pattern(text: str | None) -> str | None:
    """A user's search text as an ILIKE pattern (wildcards in it escaped), or None if blank."""
    text = (text or "").strip()
    if not text:
        return None
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


# --- warehouse state -----------------------------------------------------------------------------

@_query
def warehouse_state(conn: duckdb.DuckDBPyConnection) -> WarehouseState:
    tables = _tables(conn)
    if not tables:
        return WarehouseState("empty")
    if not MIN_SCHEMA_OBJECTS <= tables:
        return WarehouseState("outdated")
    counts = _one(conn, q.RECORD_COUNTS)
    publication = _one(conn, q.LATEST_PUBLICATION) if "publications" in tables else None
    return WarehouseState(
        "ok" if counts["trials"] + counts["papers"] else "empty",
        trials=counts["trials"], papers=counts["papers"],
        generation=publication and publication["generation"],
        published_at=publication and publication["published_at"],
        tagged_conditions="record_conditions" in tables,
    )


FALLBACK_NOTE = ("so conditions are the trials' registered conditions (free text, as the sponsor wrote "
                 "them) and a paper gets the conditions of the trials it is linked to.")


@_query
def condition_source(conn: duckdb.DuckDBPyConnection) -> ConditionSource:
    if _condition_mode(conn) != "registered":
        return ConditionSource("tagged", "Conditions come from each record's MeSH indexing (NLM for papers, "
                                         "ClinicalTrials.gov for trials) and trialwatch's condition tagger, which "
                                         "reads titles, abstracts, registered conditions and summaries. Choose a "
                                         "group (e.g. Depressive disorders) or a broader concept to include every "
                                         "narrower one.")
    if "record_conditions" in _tables(conn):
        return ConditionSource("registered", "The condition tagger has not tagged this warehouse yet (run "
                                             "`trialwatch retag --all`), " + FALLBACK_NOTE)
    return ConditionSource("registered", "This warehouse predates condition tagging (any `trialwatch ingest` "
                                         "adds it), " + FALLBACK_NOTE)


@_query
def last_runs(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(conn, q.LAST_RUNS)


# --- filter options ------------------------------------------------------------------------------

@_query
def drugs(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in conn.execute(q.DRUGS).fetchall()]


@_query
def trial_condition_options(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return _condition_options(conn, "trial")


@_query
def article_condition_options(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return _condition_options(conn, "article")


def _condition_options(conn: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    """Filter options: condition groups first, then concepts (grouped mode); else the concepts."""
    mode = _condition_mode(conn)
    if mode == "grouped":
        rows = conn.execute(q.CONDITION_SOURCES[mode] + q.GROUPED_CONDITION_OPTIONS,
                            {"kind": kind, "groups": list(GROUP_LABELS)}).fetchall()
    else:
        rows = conn.execute(q.CONDITION_SOURCES[mode] + q.FLAT_CONDITION_OPTIONS[kind]).fetchall()
    return [row[0] for row in rows]


@_query
def trial_filter_options(conn: duckdb.DuckDBPyConnection) -> dict:
    options = _one(conn, q.TRIAL_OPTIONS)
    return {key: (value or []) if key not in ("first_start", "last_start") else value
            for key, value in options.items()}


@_query
def article_filter_options(conn: duckdb.DuckDBPyConnection) -> dict:
    options = _one(conn, q.ARTICLE_OPTIONS)
    return {key: (value or []) if key not in ("first_year", "last_year") else value
            for key, value in options.items()}


# --- overview ------------------------------------------------------------------------------------

@_query
def trials_by_drug_and_status(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(conn, q.TRIALS_BY_DRUG_AND_STATUS)


@_query
def papers_by_drug(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(conn, q.PAPERS_BY_DRUG)


@_query
def new_since_counts(conn: duckdb.DuckDBPyConnection, since: date) -> dict[str, int]:
    return {kind: n for kind, n in conn.execute(q.NEW_SINCE_COUNTS, {"since": since}).fetchall()}


@_query
def drug_condition_counts(conn: duckdb.DuckDBPyConnection, top: int) -> pd.DataFrame:
    """Records per drug and condition (grouped mode: per condition group, in one order for trials
    and papers, column `rank`)."""
    mode = _condition_mode(conn)
    if mode == "grouped":
        return _df(conn, q.CONDITION_SOURCES[mode] + q.GROUPED_DRUG_CONDITION_COUNTS,
                   {"top": int(top), "groups": list(GROUP_LABELS)})
    return _df(conn, q.CONDITION_SOURCES[mode] + q.DRUG_CONDITION_COUNTS, {"top": int(top)})


@_query
def trials_by_drug_and_phase(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(conn, q.TRIALS_BY_DRUG_AND_PHASE)


@_query
def papers_by_drug_and_year(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _df(conn, q.PAPERS_BY_DRUG_AND_YEAR)


# --- what's new ----------------------------------------------------------------------------------

@_query
def new_since_feed(conn: duckdb.DuckDBPyConnection, since: date, drug_keys: tuple[str, ...] = ()) -> pd.DataFrame:
    return _df(conn, q.NEW_SINCE_FEED, {"since": since, "drugs": list(drug_keys)})


@_query
def trial_changes_since(conn: duckdb.DuckDBPyConnection, since: date,
                        drug_keys: tuple[str, ...] = ()) -> pd.DataFrame:
    return _df(conn, q.TRIAL_CHANGES_SINCE, {"since": since, "drugs": list(drug_keys)})


@_query
def latest_run(conn: duckdb.DuckDBPyConnection) -> dict | None:
    """The latest publication with a successful ingest run: `since` (when its first run started),
    `published_at`, `run_ids`; None before the first run."""
    if "publications" not in _tables(conn):
        return None
    row = _one(conn, q.LATEST_RUN)
    return row if row and row["since"] is not None else None


def feeds_folder() -> Path:
    """Where the nightly run writes the Atom feeds: feeds/ beside the warehouse when it holds
    new.xml (the demo keeps both in data/demo/), else TRIALWATCH_DATA_DIR/feeds."""
    settings = load_settings()
    beside = Path(settings.db_path).parent / "feeds"
    return beside if (beside / "new.xml").is_file() else settings.feed_path.parent


def available_feeds() -> pd.DataFrame:
    """The feed files on disk (columns file, title, entries, updated), all-in-one first, then per
    drug, per drug × condition group, per group; re-read when a file changes."""
    folder = feeds_folder()
    files = []
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            files.append((str(path.resolve()), path.stat().st_mtime_ns))
        except OSError:  # replaced or removed by a run just now
            continue
    return _read_feeds(tuple(files))


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=8, show_spinner=False)
def _read_feeds(files: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    from xml.etree import ElementTree as ET

    atom = "{http://www.w3.org/2005/Atom}"
    groups = {re.sub(r"[^a-z0-9]+", "-", group): i for i, group in enumerate(GROUP_LABELS)}
    rows = []
    for path, _ in files:
        try:
            root = ET.parse(path).getroot()
        except (ET.ParseError, OSError):
            continue
        name = Path(path).stem
        first, _, second = name.partition("--")
        rank = (0, "", 0) if name == "new" else (1, first, -1) if not second else \
            (3, "", groups.get(second, len(groups))) if first == "group" else (2, first, groups.get(second, len(groups)))
        rows.append((rank, {"file": path, "title": root.findtext(f"{atom}title") or name,
                            "entries": len(root.findall(f"{atom}entry")), "updated": root.findtext(f"{atom}updated")}))
    return pd.DataFrame([row for _, row in sorted(rows, key=lambda r: r[0])],
                        columns=["file", "title", "entries", "updated"])


# --- trials --------------------------------------------------------------------------------------

@_query
def trials(conn: duckdb.DuckDBPyConnection, filters: TrialFilters) -> pd.DataFrame:
    # Every piece concatenated here is a fixed string from queries.py (whitelists), never input.
    sql = (q.CONDITION_SOURCES[_condition_mode(conn)] + q.TRIAL_DESIGN_SOURCES[filters.design_filtered]
           + q.TRIALS + q.TRIAL_SORTS[filters.sort])
    return _df(conn, sql, {
        "allocations": list(filters.allocations), "maskings": list(filters.maskings),
        "comparators": list(filters.comparators),
        "drugs": list(filters.drugs), "conditions": list(filters.conditions), "phases": list(filters.phases),
        "statuses": list(filters.statuses), "study_types": list(filters.study_types),
        "sponsor_classes": list(filters.sponsor_classes), "countries": list(filters.countries),
        "start_from": filters.start_from, "start_to": filters.start_to, "has_results": filters.has_results,
        "search": like_pattern(filters.search),
    })


@_query
def trial_titles(conn: duckdb.DuckDBPyConnection, ids: tuple[str, ...]) -> dict[str, str]:
    return dict(conn.execute(q.TRIAL_TITLES, {"ids": list(ids)}).fetchall())


@_query
def trial_detail(conn: duckdb.DuckDBPyConnection, nct_id: str) -> dict | None:
    return _one(conn, q.TRIAL_DETAIL, {"nct": nct_id})


@_query
def trial_tagged_conditions(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame | None:
    """A trial's conditions (indexing and tagger, with their source); None when the warehouse has
    no tags yet."""
    mode = _condition_mode(conn)
    return None if mode == "registered" else _df(conn, q.RECORD_CONDITIONS[mode], {"kind": "trial", "id": nct_id})


@_query
def trial_history(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_HISTORY, {"nct": nct_id})


@_query
def trial_design(conn: duckdb.DuckDBPyConnection, nct_id: str) -> dict | None:
    return _one(conn, q.TRIAL_DESIGN, {"nct": nct_id})


@_query
def trial_outcomes(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_OUTCOMES, {"nct": nct_id})


@_query
def trial_arms(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_ARMS, {"nct": nct_id})


@_query
def trial_eligibility(conn: duckdb.DuckDBPyConnection, nct_id: str) -> dict | None:
    return _one(conn, q.TRIAL_ELIGIBILITY, {"nct": nct_id})


@_query
def trial_sites(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_SITES, {"nct": nct_id})


@_query
def trial_result_outcomes(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    """Posted results outcomes (AACT outcomes), primary first."""
    return _df(conn, q.TRIAL_RESULT_OUTCOMES, {"nct": nct_id})


@_query
def trial_outcome_measurements(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_OUTCOME_MEASUREMENTS, {"nct": nct_id})


@_query
def trial_outcome_analyses(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_OUTCOME_ANALYSES, {"nct": nct_id})


@_query
def trial_adverse_events(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_ADVERSE_EVENTS, {"nct": nct_id})


@_query
def trial_event_totals(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_EVENT_TOTALS, {"nct": nct_id})


@_query
def trial_outcome_changes(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_OUTCOME_CHANGES, {"nct": nct_id})


@_query
def trial_papers(conn: duckdb.DuckDBPyConnection, nct_id: str) -> pd.DataFrame:
    return _df(conn, q.TRIAL_PAPERS, {"nct": nct_id})


# --- literature ----------------------------------------------------------------------------------

@_query
def articles(conn: duckdb.DuckDBPyConnection, filters: ArticleFilters) -> pd.DataFrame:
    # Both pieces concatenated here are fixed strings from queries.py (whitelists), never input.
    sql = q.CONDITION_SOURCES[_condition_mode(conn)] + q.ARTICLES + q.ARTICLE_SORTS[filters.sort]
    return _df(conn, sql, {
        "drugs": list(filters.drugs), "conditions": list(filters.conditions),
        "publication_types": list(filters.publication_types),
        "year_from": filters.year_from, "year_to": filters.year_to, "journals": list(filters.journals),
        "search": like_pattern(filters.search), "designs": list(filters.designs),
        "include_mentions": filters.include_mentions,
    })


@_query
def article_titles(conn: duckdb.DuckDBPyConnection, ids: tuple[int, ...]) -> dict[int, str]:
    return dict(conn.execute(q.ARTICLE_TITLES, {"ids": [int(i) for i in ids]}).fetchall())


@_query
def article_citations(conn: duckdb.DuckDBPyConnection, pmids: tuple[int, ...]) -> list[dict]:
    """The papers `pmids` with their citation fields (authors, journal, volume/issue/pages, DOI,
    abstract), in that order."""
    return _df(conn, q.ARTICLE_CITATIONS, {"ids": [int(p) for p in pmids]}).to_pylist()


@_query
def article_detail(conn: duckdb.DuckDBPyConnection, pmid: int) -> dict | None:
    return _one(conn, q.ARTICLE_DETAIL, {"pmid": int(pmid)})


@_query
def article_grants(conn: duckdb.DuckDBPyConnection, pmid: int) -> pd.DataFrame:
    return _df(conn, q.ARTICLE_GRANTS, {"pmid": int(pmid)})


@_query
def article_corrections(conn: duckdb.DuckDBPyConnection, pmid: int) -> pd.DataFrame:
    return _df(conn, q.ARTICLE_CORRECTIONS, {"pmid": int(pmid)})


@_query
def article_tagged_conditions(conn: duckdb.DuckDBPyConnection, pmid: int) -> pd.DataFrame | None:
    """A paper's conditions (MeSH and tagger, with their source); None when the warehouse has no
    tags yet."""
    mode = _condition_mode(conn)
    return None if mode == "registered" else _df(conn, q.RECORD_CONDITIONS[mode], {"kind": "article", "id": str(pmid)})


@_query
def article_trials(conn: duckdb.DuckDBPyConnection, pmid: int) -> pd.DataFrame:
    return _df(conn, q.ARTICLE_TRIALS, {"pmid": int(pmid)})


@_query
def abstract_mentions(conn: duckdb.DuckDBPyConnection, pmid: int) -> list[dict] | None:
    """The tagger's condition mentions in a paper's abstract (offsets into `abstract`);
    None when the warehouse has no condition_tags table."""
    if "condition_tags" not in _tables(conn):
        return None
    return _df(conn, q.ABSTRACT_MENTIONS, {"pmid": int(pmid)}).to_pylist()


# --- overdue and export --------------------------------------------------------------------------

@_query
def overdue(conn: duckdb.DuckDBPyConnection, drug_keys: tuple[str, ...] = (),
            sponsor_classes: tuple[str, ...] = (), results_due: bool = True, unpublished: bool = True) -> pd.DataFrame:
    """v_overdue_trials flagged by either chosen rule."""
    return _df(conn, q.OVERDUE, {"drugs": list(drug_keys), "sponsor_classes": list(sponsor_classes),
                                 "results_due": results_due, "unpublished": unpublished})


@_query
def export_dataset(conn: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    return _df(conn, q.EXPORTS[name])  # name must be a key of the fixed EXPORTS whitelist
