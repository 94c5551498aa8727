"""Pieces every page uses: the first-run message, tables with downloads, labels, safe text."""
from __future__ import annotations

import functools
import html
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data
from flows import labels
from flows.labels import (ALLOCATION_LABELS, COMPARATOR_LABELS, MASKING_LABELS, PHASE_LABELS,  # noqa: F401
                          PHASE_ORDER, STATUS_ORDER, SPONSOR_CLASS_LABELS, coded_label, column_label, ordered,
                          phase_label, sponsor_class_label)
from flows.settings import ConfigError

FIRST_RUN_TITLE = "No trialwatch data yet"
DRUG_HELP = ("Drugs from trialwatch's catalogue: ketamine includes esketamine and arketamine; "
             "MDMA is midomafetamine.")
SHARE_HINT = "The address bar keeps these filters: copy it to share this view."
OPEN_HINT = "Click a row to open its page here: the filters stay, and Back returns to this list."
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_REGISTRY_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_LIST_ITEM = re.compile(r"^(\s*)(?:[*\-•]|(\d+)[.)])\s+(.*)$")


# --- labels --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _drug_labels() -> dict[str, str]:
    try:
        from extract.catalogue import Catalogue

        return {drug.key: drug.label for drug in Catalogue.load().drugs}
    except Exception:  # the dashboard still works with bare keys if the catalogue can't be read
        return {}


def drug_label(key: str) -> str:
    return _drug_labels().get(key, key)


def drug_labels(keys: Any) -> list[str]:
    """A record's drug keys as their catalogue labels."""
    return [drug_label(k) for k in _listish(keys)]


def enum_label(value: Any) -> str:
    """RECRUITING → Recruiting, ACTIVE_NOT_RECRUITING → Active not recruiting (flows.labels.code_label)."""
    return labels.code_label(value)


def _listish(value: Any) -> list:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return list(value.tolist() if isinstance(value, np.ndarray) else value)


def registry_text_markdown(text: Any) -> str:
    """Free text from the registry (eligibility criteria) as safe Markdown that keeps its lines
    and bullet lists: ClinicalTrials.gov's own backslash escapes are undone, everything else escaped."""
    out: list[str] = []
    for line in str(text or "").replace("\r\n", "\n").split("\n"):
        line = _REGISTRY_ESCAPE.sub(r"\1", line.rstrip())
        item = _LIST_ITEM.match(line)
        if item:
            indent = "  " * (len(item.group(1).expandtabs(4)) // 2)
            marker = f"{item.group(2)}." if item.group(2) else "-"
            out.append(f"{indent}{marker} {md_escape(item.group(3))}")
        elif line.strip():
            out.append(("" if not out or not out[-1] else "\n") + md_escape(line.strip()))
        elif out and out[-1]:
            out.append("")
    return "\n".join(out)


def md_escape(text: Any) -> str:
    """Text from the warehouse, safe to put into Markdown (no markup, links, HTML or LaTeX)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def week_ago() -> date:
    return today_utc() - timedelta(days=7)


# --- the warehouse gate --------------------------------------------------------------------------

def first_run_message(detail: str) -> None:
    st.title(FIRST_RUN_TITLE)
    st.info(
        f"{detail}\n\n"
        "To fill it, run **`trialwatch ingest`** (fetches from PubMed and ClinicalTrials.gov), or "
        "**`trialwatch demo`** for an offline sample, then reload this page. "
        "The dashboard reads the warehouse named by `TRIALWATCH_DB` (default `data/trialwatch.duckdb`).",
        icon="ℹ️",
    )


def require_warehouse() -> data.WarehouseState:
    """The warehouse's state, or a first-run message and a stop if there is nothing to show."""
    try:
        path = data.warehouse_path()
    except ConfigError as error:
        st.error(f"trialwatch's settings are not usable: {error}")
        st.stop()
    try:
        state = data.warehouse_state()
    except data.WarehouseMissing:
        first_run_message(f"There is no warehouse at `{path}` yet.")
        st.stop()
    except data.WarehouseUnavailable as error:
        st.error(f"{error}. The nightly load may be swapping in a new copy: reload the page in a moment.")
        st.stop()
    if state.status == "empty":
        first_run_message(f"The warehouse at `{path}` has no papers or trials yet.")
        st.stop()
    if state.status == "outdated":
        first_run_message(f"The warehouse at `{path}` was made by an older trialwatch; "
                          "any `trialwatch ingest` brings its schema up to date.")
        st.stop()
    return state


# --- tables and downloads ------------------------------------------------------------------------

def _cell_text(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "; ".join("" if v is None else (json.dumps(v, default=str) if isinstance(v, dict) else str(v))
                         for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with list cells joined by '; ' (spreadsheets have no lists)."""
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].dtype == object:
            flat[column] = flat[column].map(_cell_text)
    return flat.to_csv(index=False).encode("utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet keeps list and struct columns as they are in the warehouse."""
    plain = frame.copy()
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = plain[column].map(_plain)
    buffer = io.BytesIO()
    plain.to_parquet(buffer, index=False)
    return buffer.getvalue()


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet download buttons; the files are made only when a button is clicked."""
    stamp = today_utc().isoformat()
    with st.container(horizontal=True):
        st.download_button("Download CSV", data=lambda: to_csv_bytes(frame), file_name=f"{name}-{stamp}.csv",
                           mime="text/csv", key=f"{key}-csv", on_click="ignore", icon=":material/download:")
        st.download_button("Download Parquet", data=lambda: to_parquet_bytes(frame),
                           file_name=f"{name}-{stamp}.parquet", mime="application/vnd.apache.parquet",
                           key=f"{key}-parquet", on_click="ignore", icon=":material/download:")


ID_COLUMNS = ("nct_id", "pmid")
TITLE_COLUMNS = ("brief_title", "title")
# px: the pinned id and title, then a status column in full, fit a 1440 px window beside the sidebar.
ID_WIDTH = 110
TITLE_WIDTH = 320
STATUS_WIDTH = 180  # the longest status label, "Enrolling by invitation"
ROW_MARKER_WIDTH = 40  # the row-selection checkboxes


def labelled_config(frame: pd.DataFrame, column_config: dict | None = None, pinned: Iterable[str] = ID_COLUMNS) -> dict:
    """column_config giving every column a human header (flows.labels.COLUMN_LABELS) and pinning
    `pinned` (the record's id and title), so a wide table scrolls with them in view. The data and
    its downloads keep the warehouse's column names."""
    config: dict = {}
    pinned = set(pinned)
    for column in frame.columns:
        label = column_label(str(column))
        if column in pinned:
            config[column] = st.column_config.Column(label, pinned=True,
                                                     width=TITLE_WIDTH if column in TITLE_COLUMNS else ID_WIDTH)
        elif label != column:
            config[column] = st.column_config.Column(label)
    for column, given in (column_config or {}).items():
        if isinstance(given, dict) and column in pinned:
            given = {**given, "pinned": True}
        config[column] = given
    return config


def table(frame: pd.DataFrame, name: str, key: str, column_config: dict | None = None,
          height: int | str = "auto", pinned: Iterable[str] = ID_COLUMNS,
          on_open: Callable[[pd.Series], None] | None = None, raw: bool = False) -> None:
    """A sortable table, headers labelled and id/title pinned, with CSV and Parquet downloads of
    exactly the rows shown (without the dashboard's own `page` link column).

    With `on_open`, clicking a row calls it with that row (to open the record in this tab, see
    open_here/open_on). The table's key then changes, so the selection does not linger.
    `raw`: the warehouse's own column names as headers (the Export page's datasets)."""
    config = column_config if raw else labelled_config(frame, column_config, pinned)
    if on_open is None:
        st.dataframe(frame, hide_index=True, column_config=config, height=height, key=f"{key}-table")
    else:
        opened = f"{key}-opened"
        generation = st.session_state.get(opened, 0)
        event = st.dataframe(frame, hide_index=True, column_config=config, height=height,
                             key=f"{key}-table-{generation}", on_select="rerun", selection_mode="single-row")
        rows = event.selection.rows if event is not None else []
        if rows:
            st.session_state[opened] = generation + 1
            on_open(frame.iloc[rows[0]])
    downloads(frame.drop(columns=["page"], errors="ignore"), name, key)


def open_here(param: str, value: Any) -> None:
    """Open a record on this page: `?<param>=<value>` added to the address bar's filters (a new
    history entry, so Back returns to the list with them)."""
    st.query_params[param] = str(value)
    st.rerun()


def open_on(page: str, param: str, value: Any) -> None:
    """Open a record on another page in this tab (`page?<param>=<value>`)."""
    st.switch_page(page, query_params={param: str(value)})


def link_columns(**columns: str) -> dict:
    """column_config making URL columns clickable; the value is the link text (a regex on the URL)."""
    return {column: st.column_config.LinkColumn(label, display_text=r"https?://[^/]+/(?:study/)?(.*?)/?$")
            for column, label in columns.items()}


# --- filters kept in the address bar ----------------------------------------------------------------

def _changed(flag: str) -> None:
    st.session_state[flag] = True


def _write_url(key: str, values: list[str]) -> None:
    if values == st.query_params.get_all(key):
        return
    if values:
        st.query_params[key] = values
    else:
        st.query_params.pop(key, None)


def url_multiselect(label: str, options: Iterable, key: str, format_func: Callable[[Any], str] = str,
                    **kwargs: Any) -> list:
    """A multiselect showing labels (`format_func`) and kept in the URL as the codes themselves
    (`?status=RECRUITING&status=COMPLETED`). A bound widget (`bind="query-params"`) would put the
    labels in the URL. The address bar wins except right after the user changed the widget, so a
    link, Back and Forward set it; unknown values are dropped."""
    options = list(options)
    flag = f"_{key}-changed"
    if not st.session_state.pop(flag, False):
        known = {str(o): o for o in options}
        st.session_state[key] = [known[v] for v in dict.fromkeys(st.query_params.get_all(key)) if v in known]
    chosen = st.multiselect(label, options, key=key, format_func=format_func, on_change=_changed, args=(flag,),
                            **kwargs)
    _write_url(key, [str(c) for c in chosen])
    return chosen


# --- record pages --------------------------------------------------------------------------------

def record_picker(label: str, key: str, ids: list, titles: dict, lookup: Callable[[tuple], dict],
                  parse: Callable[[str], Any], placeholder: str) -> Any:
    """A selectbox of records that opens a record page, kept in the URL as `?<key>=<id>`.

    Not a `bind="query-params"` widget: a bound selectbox keeps its formatted label (id and title)
    in the URL, and links should carry the bare id. As with url_multiselect, the address bar wins
    (a link, a clicked row, Back) except right after the user picked a record here.
    """
    ids = list(ids)
    flag = f"_{key}-changed"
    if not st.session_state.pop(flag, False):
        raw = (st.query_params.get(key) or "").strip()
        try:
            st.session_state[key] = parse(raw) if raw else None
        except (TypeError, ValueError):
            st.session_state[key] = None
    wanted = st.session_state.get(key)
    if wanted is not None and wanted not in ids:
        found = {wanted: titles[wanted]} if wanted in titles else lookup((wanted,))
        if wanted in found:
            titles = {**titles, **found}
            ids.append(wanted)
        else:
            st.session_state[key] = None
    choice = st.selectbox(label, ids, index=None, key=key, placeholder=placeholder, on_change=_changed, args=(flag,),
                          format_func=lambda record: f"{record} — {titles.get(record) or ''}")
    _write_url(key, [] if choice is None else [str(choice)])
    return choice


# --- abstracts -----------------------------------------------------------------------------------

def mention_spans(text: str, mentions: Iterable[dict]) -> list[tuple[int, int, dict]]:
    """Non-overlapping (start, end, mention) for mentions whose offsets still fit `text`
    (tags made from an older version of the record are skipped, not misplaced)."""
    spans: list[tuple[int, int, dict]] = []
    for mention in sorted(mentions, key=lambda m: (m["start_offset"], -m["end_offset"])):
        start, end = int(mention["start_offset"]), int(mention["end_offset"])
        if not (0 <= start < end <= len(text)) or text[start:end] != mention["matched_text"]:
            continue
        if spans and start < spans[-1][1]:
            continue
        spans.append((start, end, mention))
    return spans


def _mark(text: str, mention: dict) -> str:
    classes = ["tw-condition"]
    note = f"{mention['concept']} (MeSH {mention['mesh_id']})"
    if mention.get("negated"):
        classes.append("tw-negated")
        note += " — negated or excluded"
    if mention.get("adverse"):
        classes.append("tw-adverse")
        note += " — side-effect context"
    return (f'<mark class="{" ".join(classes)}" title="{html.escape(note, quote=True)}">'
            + html.escape(text) + "</mark>")


def _segment(text: str, start: int, end: int, spans: list[tuple[int, int, dict]]) -> str:
    """text[start:end] as escaped HTML, with the spans lying inside it marked."""
    out, position = [], start
    for span_start, span_end, mention in spans:
        if span_start < start or span_end > end:
            continue
        out.append(html.escape(text[position:span_start]))
        out.append(_mark(text[span_start:span_end], mention))
        position = span_end
    out.append(html.escape(text[position:end]))
    return "".join(out)


def abstract_html(abstract: str | None, sections: Any = (), mentions: Iterable[dict] = ()) -> str:
    """A paper's abstract as escaped HTML: one paragraph per section, labels in bold, and the
    condition tagger's mentions (offsets into `abstract`) highlighted."""
    if not abstract:
        return '<div class="tw-abstract"><p><em>No abstract in PubMed.</em></p></div>'
    spans = mention_spans(abstract, mentions)
    labels = sorted({s["label"] for s in (_plain(sections) or []) if s and s.get("label")}, key=len, reverse=True)
    paragraphs, start = [], 0
    for part in abstract.split("\n\n"):
        end = start + len(part)
        if part.strip():
            label = next((x for x in labels if part.startswith(x + ": ")), None)
            if label:
                cut = start + len(label) + 1
                body = "<strong>" + _segment(abstract, start, cut, spans) + "</strong>" + _segment(
                    abstract, cut, end, spans)
            else:
                body = _segment(abstract, start, end, spans)
            paragraphs.append("<p>" + body + "</p>")
        start = end + 2
    return '<div class="tw-abstract">' + "".join(paragraphs) + "</div>"
