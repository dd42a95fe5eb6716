"""Charts: events per day stacked by type, the top places, and the timeline
strip of intervals. Pure: frames in, Altair charts (or frames) out.

Events per day counts an event on every day of its [date, date_end] interval
when it is dated to the day (a "22–23 May" clash is on both days). Events
dated only to a month or a year are not spread over days as if they had
happened on each: they are counted beside the chart and drawn as intervals in
the timeline strip.

Clicking a day's bar selects that day (:data:`DAY_SELECTION`); the dashboard
narrows the date range to it (:func:`selected_day`).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from pipelines.filters import NONE, column
from pipelines.schema import iso_day

#: SVG rather than canvas: every bar is an element with an aria-label (the
#: browser tests click one; screen readers read them).
SVG = {"embedOptions": {"renderer": "svg"}}
#: Name of the point selection on the per-day bars.
DAY_SELECTION = "day"
#: Longest day-precision interval spread over days (a longer one is drawn as an interval).
MAX_SPREAD_DAYS = 31
TOP_PLACES = 10


def type_label(value: str) -> str:
    """A taxonomy id as words: ``shelling_strike`` → "shelling strike"."""
    value = str(value or "")
    return "no type" if value in ("", NONE) else value.replace("_", " ")


def _ends(events: pd.DataFrame) -> pd.Series:
    return events["date_end"].where(events["date_end"].astype(str) != "", events["date"]).astype(str)


def coarse(events: pd.DataFrame) -> pd.Series:
    """True for events not dated to the day: month or year precision, or a
    day-precision interval longer than :data:`MAX_SPREAD_DAYS`."""
    if len(events) == 0:
        return pd.Series(False, index=events.index, dtype=bool)
    starts = pd.to_datetime(events["date"].astype(str), errors="coerce")
    stops = pd.to_datetime(_ends(events), errors="coerce")
    long = (stops - starts).dt.days.fillna(0) >= MAX_SPREAD_DAYS
    return (events["date_precision"].astype(str) != "day") | long | starts.isna()


def per_day(events: pd.DataFrame) -> pd.DataFrame:
    """Columns ``day`` (ISO), ``type`` (words) and ``count``: day-precision
    events on each day they cover, sorted by day then type."""
    fine = events.loc[~coarse(events)]
    if len(fine) == 0:
        return pd.DataFrame({"day": pd.Series(dtype=str), "type": pd.Series(dtype=str),
                             "count": pd.Series(dtype="int64")})
    # Count each distinct (date, date_end, type) once, then spread those few
    # thousand intervals over their days (spreading 100,000 rows one by one
    # took 0.2 s of every rerun).
    distinct = pd.DataFrame({
        "start": fine["date"].astype(str).to_numpy(),
        "stop": _ends(fine).to_numpy(),
        "type": column(fine, "event_type").astype(str).to_numpy(),
    }).value_counts().reset_index(name="n")
    frame = pd.DataFrame({
        "start": pd.to_datetime(distinct["start"]),
        "stop": pd.to_datetime(distinct["stop"]),
        "type": distinct["type"].map(type_label),
        "n": distinct["n"],
    })
    spans = (frame["stop"] - frame["start"]).dt.days.clip(lower=0)
    frame = frame.loc[frame.index.repeat(spans + 1)]
    offsets = frame.groupby(level=0).cumcount()
    frame = frame.assign(day=(frame["start"] + pd.to_timedelta(offsets, unit="D")).dt.strftime("%Y-%m-%d"))
    counts = frame.groupby(["day", "type"])["n"].sum().astype("int64").reset_index(name="count")
    return counts.sort_values(["day", "type"]).reset_index(drop=True)


def top_places(events: pd.DataFrame, n: int = TOP_PLACES) -> pd.DataFrame:
    """Columns ``place`` and ``count``: the ``n`` places with most events
    (the mention for an unresolved one), most first, ties by name."""
    if len(events) == 0:
        return pd.DataFrame({"place": pd.Series(dtype=str), "count": pd.Series(dtype="int64")})
    names = column(events, "place").where(column(events, "place") != "", column(events, "mention"))
    counts = names[names != ""].value_counts()
    frame = pd.DataFrame({"place": counts.index.astype(str), "count": counts.to_numpy(dtype="int64")})
    frame = frame.sort_values(["count", "place"], ascending=[False, True], kind="stable")
    return frame.head(n).reset_index(drop=True)


def per_day_chart(events: pd.DataFrame, shown: tuple[date | None, date | None] = (None, None), *,
                  counts: pd.DataFrame | None = None) -> alt.Chart:
    """Stacked bars of :func:`per_day` of ``events`` (or its ``counts``,
    computed before); days outside ``shown`` are faded. A click selects a day
    (the point selection :data:`DAY_SELECTION`)."""
    counts = per_day(events) if counts is None else counts
    start, end = shown
    inside = pd.Series(True, index=counts.index)
    if start is not None:
        inside &= counts["day"] >= start.isoformat()
    if end is not None:
        inside &= counts["day"] <= end.isoformat()
    counts = counts.assign(shown=inside.map({True: "shown", False: "not shown"}))
    pick = alt.selection_point(name=DAY_SELECTION, encodings=["x"], on="click", clear="dblclick")
    return (
        alt.Chart(counts, title="Events per day (click a bar to show that day)")
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title=None, axis=alt.Axis(format="%d %b %Y", labelAngle=0)),
            y=alt.Y("sum(count):Q", title="events", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("type:N", title="type", legend=alt.Legend(orient="bottom", columns=3)),
            opacity=alt.Opacity("shown:N", legend=None,
                                scale=alt.Scale(domain=["shown", "not shown"], range=[0.95, 0.25])),
            tooltip=[alt.Tooltip("day:T", title="day", format="%Y-%m-%d"), alt.Tooltip("type:N", title="type"),
                     alt.Tooltip("sum(count):Q", title="events")],
        )
        .add_params(pick)
        .properties(height=220, usermeta=SVG)
    )


def top_places_chart(events: pd.DataFrame, n: int = TOP_PLACES) -> alt.Chart:
    frame = top_places(events, n)
    return (
        alt.Chart(frame, title="Top places (events on screen)")
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="events", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("place:N", sort="-x", title=None),
            tooltip=["place:N", "count:Q"],
        )
        .properties(height=alt.Step(20), usermeta=SVG)
    )


def strip_chart(intervals: pd.DataFrame, first: date, last: date,
                shown: tuple[date | None, date | None]) -> alt.LayerChart:
    """Every interval of :func:`dashboard.timeline.interval_frame` as a bar
    from its first day to the day after its last, one lane per date
    precision, over the shaded range on screen."""
    start, end = shown
    band = pd.DataFrame({"start": [(start or first).isoformat()],
                         "stop": [pd.Timestamp(end or last).normalize() + pd.Timedelta(days=1)]})
    band["stop"] = band["stop"].dt.strftime("%Y-%m-%d")
    scale = alt.Scale(domain=[first.isoformat(), (pd.Timestamp(last) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")])
    lanes = max(1, intervals["date_precision"].nunique()) if len(intervals) else 1
    height = 26 * lanes + 14
    shade = alt.Chart(band).mark_rect(color="#f2c14e", opacity=0.35).encode(
        x=alt.X("start:T", scale=scale, title=None, axis=alt.Axis(format="%d %b %Y", labelAngle=0)),
        x2="stop:T").properties(height=height)
    bars = alt.Chart(intervals).mark_bar(opacity=0.75, color="#4575b4").encode(
        x=alt.X("date:T", scale=scale), x2="stop:T",
        y=alt.Y("date_precision:N", title=None, sort=["day", "month", "year"],
                scale=alt.Scale(paddingInner=0.35)),
        tooltip=[alt.Tooltip("date:T", title="from", format="%Y-%m-%d"), alt.Tooltip("date_end:N", title="to"),
                 alt.Tooltip("date_precision:N", title="precision"), alt.Tooltip("count:Q", title="events")],
    ).properties(height=height)
    return alt.layer(shade, bars).properties(
        height=height, usermeta=SVG,
        title=alt.TitleParams("Dated to the day, month or year: each event as its interval (shaded: on screen)",
                              fontSize=11, anchor="start"))


def frame_height(chart) -> int:
    """Pixels for ``st.altair_chart(height=...)``: the plot's height plus room
    for the title, the axis and (for the per-day chart) the legend; Streamlit
    otherwise squeezes a chart with a container-wide width."""
    plot = chart.height if isinstance(chart.height, int) else 200
    params = chart.params if isinstance(chart.params, list) else []
    legend = 70 if DAY_SELECTION in {getattr(p, "name", None) for p in params} else 0
    return int(plot) + 60 + legend


def selected_day(selection) -> date | None:
    """The day a click on the per-day chart selected, from the value
    ``st.altair_chart(..., on_select=...)`` leaves in the session state;
    None when nothing (or something unreadable) is selected."""
    try:
        points = selection["selection"][DAY_SELECTION]
    except (KeyError, TypeError):
        try:
            points = selection.selection[DAY_SELECTION]
        except (AttributeError, KeyError, TypeError):
            return None
    if not points:
        return None
    point = points[0] if isinstance(points, list) else points
    if not isinstance(point, dict) or not point:
        return None
    value = point.get("day")
    if value is None:  # projected on the x channel: the field is named after its time unit
        value = next((v for k, v in point.items() if "day" in str(k)), None)
    if value is None:
        return None
    if isinstance(value, (int, float)):  # Vega-Lite sends temporal fields as epoch milliseconds
        return pd.Timestamp(int(value), unit="ms").date()
    return iso_day(value)
