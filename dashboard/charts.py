"""Altair charts built from the query layer's DataFrames (pure functions: frame in, chart out)."""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.ui import PHASE_ORDER, STATUS_ORDER, drug_label, enum_label, phase_label


def _with_drug_labels(frame: pd.DataFrame, short: bool = False) -> pd.DataFrame:
    frame = frame.copy()
    frame["Drug"] = frame["drug"].map(lambda key: drug_label(key).split(" / ")[0] if short else drug_label(key))
    return frame


def status_by_drug(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: trials per drug by overall status."""
    frame = _with_drug_labels(frame)
    order = [s for s in STATUS_ORDER if s in set(frame["status"])] + sorted(
        set(frame["status"].dropna()) - set(STATUS_ORDER))
    frame["Status"] = frame["status"].map(enum_label)
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("Drug:N", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("trials:Q", title="Trials"),
        color=alt.Color("Status:N", sort=[enum_label(s) for s in order],
                        scale=alt.Scale(scheme="tableau10"), legend=alt.Legend(orient="right")),
        order=alt.Order("trials:Q", sort="descending"),
        tooltip=["Drug", "Status", alt.Tooltip("trials:Q", title="Trials")],
    ).properties(height=alt.Step(40))


def condition_heatmap(frame: pd.DataFrame, records: str) -> alt.Chart:
    """Drug × condition counts for `records` ('trials' or 'papers'): condition groups in their
    fixed order (column `rank`, the same for both heatmaps), else conditions by total."""
    frame = _with_drug_labels(frame[frame["records"] == records], short=True)
    if "rank" in frame.columns:
        order = frame.sort_values(["rank", "condition"])["condition"].drop_duplicates().tolist()
    else:
        order = frame.groupby("condition")["n"].sum().sort_values(ascending=False).index.tolist()
    base = alt.Chart(frame).encode(
        x=alt.X("Drug:N", title=None, axis=alt.Axis(labelAngle=0, orient="top", labelAlign="center", labelLimit=220,
                                                  labelOverlap=False)),
        y=alt.Y("condition:N", title=None, sort=order, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("n:Q", title=records.capitalize(), scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["Drug", alt.Tooltip("condition:N", title="Condition"), alt.Tooltip("n:Q", title=records)],
    )
    labels = base.mark_text(fontSize=11).encode(
        text="n:Q",
        color=alt.condition(alt.datum.n > (frame["n"].max() / 2 if len(frame) else 0),
                            alt.value("white"), alt.value("black")),
    )
    return (cells + labels).properties(title=records.capitalize(), height=alt.Step(24), width=330)


def phases_by_drug(frame: pd.DataFrame) -> alt.Chart:
    """The pipeline: trials per phase, side by side per drug."""
    frame = _with_drug_labels(frame)
    frame["Phase"] = frame["phase"].map(phase_label)
    order = [phase_label(p) for p in PHASE_ORDER if p in set(frame["phase"])] + sorted(
        {phase_label(p) for p in set(frame["phase"]) - set(PHASE_ORDER)})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("Phase:N", sort=order, title=None, axis=alt.Axis(labelAngle=-35, labelOverlap=False, labelLimit=120)),
        xOffset=alt.XOffset("Drug:N"),
        y=alt.Y("trials:Q", title="Trials"),
        color=alt.Color("Drug:N", legend=alt.Legend(orient="bottom")),
        tooltip=["Drug", "Phase", alt.Tooltip("trials:Q", title="Trials")],
    ).properties(height=300)


def papers_per_year(frame: pd.DataFrame) -> alt.Chart:
    frame = _with_drug_labels(frame)
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("year:O", title="Publication year", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("papers:Q", title="Papers"),
        color=alt.Color("Drug:N", legend=alt.Legend(orient="bottom")),
        tooltip=["Drug", alt.Tooltip("year:O", title="Year"), alt.Tooltip("papers:Q", title="Papers")],
    ).properties(height=300)


def trial_timeline(events: pd.DataFrame) -> alt.Chart:
    """One row per event, in date order: registry milestones (filled when actual, hollow when
    estimated) and what trialwatch observed (first seen, each change)."""
    events = events.sort_values("when", kind="stable").reset_index(drop=True)
    events["from"] = events["when"].min()
    base = alt.Chart(events).encode(
        x=alt.X("when:T", title=None, axis=alt.Axis(format="%b %Y", labelOverlap=True, grid=True)),
        y=alt.Y("event:N", title=None, sort=events["event"].tolist(), axis=alt.Axis(labelLimit=360)),
        tooltip=[alt.Tooltip("when:T", title="Date", format="%Y-%m-%d"), alt.Tooltip("event:N", title="Event"),
                 alt.Tooltip("kind:N", title="Source")],
    )
    rules = base.mark_rule(strokeDash=[2, 3], color="#bbbbbb").encode(x="from:T", x2="when:T")
    points = base.mark_point(size=110, strokeWidth=2).encode(
        color=alt.Color("kind:N", title=None, legend=alt.Legend(orient="bottom")),
        shape=alt.Shape("kind:N", title=None),
        fill=alt.condition(alt.datum.filled, alt.Color("kind:N", legend=None), alt.value("white")),
    )
    return (rules + points).properties(height=alt.Step(24))


SITES_MAP_NOTE = ("Sites at their registered coordinates on a longitude/latitude grid. No world outline is "
                  "drawn: trialwatch bundles none, and the dashboard loads nothing from other hosts (no map tiles).")


def sites_map(sites: pd.DataFrame) -> alt.Chart:
    """Trial sites as points on an equirectangular longitude/latitude grid (no basemap, so no
    request to a tile server); sites without coordinates are left out."""
    frame = sites.dropna(subset=["latitude", "longitude"])
    frame = frame[frame["latitude"].between(-90, 90) & frame["longitude"].between(-180, 180)]
    frame = frame[["name", "city", "country", "latitude", "longitude"]].fillna({"name": "", "city": "", "country": ""})
    return alt.Chart(frame).mark_circle(size=45, opacity=0.6, color="#1f77b4").encode(
        x=alt.X("longitude:Q", title="Longitude", scale=alt.Scale(domain=[-180, 180], nice=False),
                axis=alt.Axis(values=list(range(-180, 181, 30)), grid=True)),
        y=alt.Y("latitude:Q", title="Latitude", scale=alt.Scale(domain=[-90, 90], nice=False),
                axis=alt.Axis(values=list(range(-90, 91, 30)), grid=True)),
        tooltip=[alt.Tooltip("name:N", title="Site"), alt.Tooltip("city:N", title="City"),
                 alt.Tooltip("country:N", title="Country")],
    ).properties(height=360)
