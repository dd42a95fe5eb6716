"""The review panel: an analyst accepts, rejects or reopens an event, moves it
to one of the geocoder's alternatives or to a point clicked on a small map,
and fixes its date.

Every decision goes through :func:`pipelines.review.review_event`, which
writes the store atomically and records who and when in ``review_history``.
The store is the only state: after a write the page reruns, the store's
version has changed, so :func:`dashboard.cache.events_frame` reads it again
and the map, table, detail view and downloads all show the decision.

The top half of this module is pure (candidate options, distances, labels,
the review queue, clicked points) and tested on its own; :func:`pick_event`
and :func:`panel` draw the Streamlit widgets (imported when called).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from pipelines.review import ReviewAction, country_name
from pipelines.schema import iso_day

from .data import located, table_order
from .density import PAGE_SIZE, page_of
from .detail import MAX_LABEL
from .safe import escape_text, is_missing, text_html

EARTH_RADIUS_KM = 6371.0088
#: Candidates offered as "move to" buttons (the rest are listed only).
MAX_CANDIDATE_BUTTONS = 8
#: Zoom of the point-picking map: one pixel is about 25 m at 50° N.
POINT_MAP_ZOOM = 12
POINT_MAP_HEIGHT = 360
#: Most events offered in the picker at once: every option is labelled and
#: sent to the browser on each rerun, so 100,000 would cost seconds and MBs.
PICK_LIMIT = 300

#: Where the picker takes its events from: value → label (with a count).
SCOPES = {
    "shown": "events shown",
    "queue": "review queue (unresolved, not reviewed)",
    "unreviewed": "not reviewed yet",
}
STATUS_MARKS = {"accepted": "✓", "rejected": "✗", "corrected": "✎"}


# -- pure ---------------------------------------------------------------------

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return "" if is_missing(value) else " ".join(str(value).split())


def is_located(row: pd.Series) -> bool:
    return bool(row.get("resolved")) and _number(row.get("lat")) is not None and _number(row.get("lon")) is not None


@dataclass(frozen=True)
class CandidateOption:
    """One of the geocoder's alternatives, as the panel offers it.

    ``number`` is what the analyst sees (1 = first); ``index`` is what
    :class:`pipelines.review.ReviewAction` takes (the CLI's ``--candidate``).
    """

    number: int
    index: int
    name: str
    lat: float | None
    lon: float | None
    admin1: str
    country: str
    country_code: str
    feature_code: str
    score: float | None
    source: str
    distance_km: float | None

    @property
    def movable(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def label(self) -> str:
        return candidate_label(self)


def candidate_options(row: pd.Series) -> list[CandidateOption]:
    """The event's ``candidates`` JSON as options, in stored order, with the
    distance from the event's current location (None when the event is
    unresolved or the candidate has no point). Bad JSON or entries give no
    options rather than an error: the data is untrusted."""
    try:
        raw = json.loads(row.get("candidates") or "[]")
    except (TypeError, ValueError):
        return []
    if not isinstance(raw, list):
        return []
    here = (float(row["lat"]), float(row["lon"])) if is_located(row) else None
    options = []
    for index, cand in enumerate(raw):
        if not isinstance(cand, dict):
            continue
        lat, lon = _number(cand.get("lat")), _number(cand.get("lon"))
        if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
            lat = lon = None
        code = _text(cand.get("country_code")).upper()
        distance = haversine_km(here[0], here[1], lat, lon) if here and lat is not None and lon is not None else None
        options.append(CandidateOption(
            number=index + 1, index=index, name=_text(cand.get("name")) or "(no name)",
            lat=lat, lon=lon, admin1=_text(cand.get("admin1")),
            country=country_name(code) if code else "", country_code=code,
            feature_code=_text(cand.get("feature_code")), score=_number(cand.get("score")),
            source=_text(cand.get("source")), distance_km=distance,
        ))
    return options


def distance_text(km: float | None) -> str:
    if km is None:
        return "—"
    if km < 1:
        return f"{km * 1000:.0f} m"
    return f"{km:.1f} km" if km < 100 else f"{km:,.0f} km"


def candidate_label(option: CandidateOption) -> str:
    """One line: "#2 Kozinka · Belgorod Oblast · Russia · 12.3 km away · score 0.71"."""
    parts = [f"#{option.number} {option.name}"]
    parts += [p for p in (option.admin1, option.country) if p]
    if option.distance_km is not None:
        parts.append(f"{distance_text(option.distance_km)} away")
    if option.score is not None:
        parts.append(f"score {option.score:.2f}")
    return " · ".join(parts)


def candidates_html(options: list[CandidateOption]) -> str:
    """The candidates as an escaped HTML table for ``st.html``."""
    if not options:
        return '<p class="ea-candidates"><small>The geocoder offered no other places.</small></p>'
    head = "".join(f'<th style="text-align:left;padding-right:10px">{h}</th>'
                   for h in ("#", "place", "region", "country", "distance", "score", "feature", "lat, lon"))
    rows = "".join(
        "<tr>"
        f"<td>{o.number}</td><td>{text_html(o.name)}</td><td>{text_html(o.admin1)}</td>"
        f"<td>{text_html(o.country)}</td><td>{distance_text(o.distance_km)}</td>"
        f"<td>{'' if o.score is None else f'{o.score:.2f}'}</td><td>{text_html(o.feature_code)}</td>"
        f"<td>{'' if not o.movable else f'{o.lat:.5f}, {o.lon:.5f}'}</td>"
        "</tr>"
        for o in options
    )
    return f'<table class="ea-candidates" style="font-size:13px"><tr>{head}</tr>{rows}</table>'


def status_text(row: pd.Series) -> str:
    """"not reviewed", or "corrected by Ann at 2023-06-01T10:00:00+00:00"."""
    status = _text(row.get("review_status"))
    if not status:
        return "not reviewed"
    who, when = _text(row.get("reviewed_by")), _text(row.get("reviewed_at"))
    return status + (f" by {who}" if who else "") + (f" at {when}" if when else "")


def pick_label(row: pd.Series) -> str:
    """The picker's line for one event: a status mark for reviewed events, then
    date · place · source, leaving out empty fields (an empty field or an
    unreviewed event made the line start with a stray "· ")."""
    status = _text(row.get("review_status"))
    mark = STATUS_MARKS.get(status, "?") + " " if status else ""
    place = _text(row.get("place")) or _text(row.get("mention")) or "(no place)"
    parts = [" ".join(v.split()) for v in (_text(row.get("date")), place, _text(row.get("source")))]
    label = " · ".join(p for p in parts if p)
    if len(label) > MAX_LABEL:
        label = label[: MAX_LABEL - 1] + "…"
    where = "" if is_located(row) else " (unresolved)"
    return f"{mark}{label}{where}"


def queue_mask(events: pd.DataFrame) -> pd.Series:
    """The review queue: mentions that could not be located and that no
    analyst has decided on yet."""
    return ~located(events) & (events["review_status"].fillna("") == "")


def find_rows(rows: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose id, place or mention contains ``text`` (case-insensitive)."""
    text = text.strip()
    if not text:
        return rows
    hit = pd.Series(False, index=rows.index)
    for column in ("event_id", "place", "mention"):
        hit |= rows[column].astype(str).str.contains(text, case=False, regex=False)
    return rows.loc[hit]


def scope_mask(events: pd.DataFrame, scope: str) -> pd.Series:
    """True for the events the picker offers for ``scope`` (see :data:`SCOPES`)."""
    if scope == "queue":
        return queue_mask(events)
    if scope == "unreviewed":
        return events["review_status"].fillna("") == ""
    return pd.Series(True, index=events.index)


def scope_rows(events: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The events the picker offers for ``scope`` (see :data:`SCOPES`), in the
    table's order."""
    return table_order(events.loc[scope_mask(events, scope)])


def first_rows(rows: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The first ``limit`` of ``rows`` in the table's order, sorting only the
    rows dated up to the ``limit``-th date (sorting 100,000 rows on four
    columns took 0.3 s a rerun, for a picker that offers 300)."""
    if len(rows) <= limit:
        return table_order(rows)
    dates = rows["date"].astype(str).to_numpy()
    cut = np.partition(dates, limit - 1)[limit - 1]
    return table_order(rows.loc[dates <= cut]).iloc[:limit].reset_index(drop=True)


def queue_frame(events: pd.DataFrame, page: int | None = None, size: int = PAGE_SIZE) -> pd.DataFrame:
    """The review queue as a plain table: date, mention, sentence, source and
    the alternatives the geocoder offered (names). With ``page`` (1-based),
    only that page of ``size`` rows: at 100,000 events the whole queue was
    ~2,000 rows, half a megabyte sent to the browser on every rerun."""
    rows = table_order(events.loc[queue_mask(events)])
    if page is not None:
        rows = page_of(rows, page, size)
    names = [", ".join(o.name for o in candidate_options(r)) for _, r in rows.iterrows()]
    table = pd.DataFrame({
        "date": rows["date"], "mention": rows["mention"], "sentence": rows["sentence"],
        "source": rows["source"], "candidates": names,
    })
    return table.reset_index(drop=True)


def clicked_point(value: Any) -> tuple[float, float] | None:
    """(lat, lon) from st_folium's ``last_clicked`` ({"lat", "lng"}); the
    longitude is wrapped into -180..180 (Leaflet reports clicks on a copy of
    the world beyond the antimeridian as 190°, …). None when absent or bad."""
    if not isinstance(value, dict):
        return None
    lat, lon = _number(value.get("lat")), _number(value.get("lng"))
    if lat is None or lon is None or not -90 <= lat <= 90:
        return None
    lon = ((lon + 180.0) % 360.0) - 180.0
    return lat, lon


def map_center(row: pd.Series, events: pd.DataFrame) -> tuple[float, float]:
    """Where the point map opens: the event, else its first candidate with a
    point, else the middle of the located events, else 0, 0."""
    if is_located(row):
        return float(row["lat"]), float(row["lon"])
    for option in candidate_options(row):
        if option.movable:
            return option.lat, option.lon
    points = events.loc[located(events)]
    if len(points):
        return float(points["lat"].astype(float).median()), float(points["lon"].astype(float).median())
    return 0.0, 0.0




def date_action(start: date | None, end: date | None, note: str = "") -> ReviewAction:
    """The "fix date" decision; an empty end means a single day. Raises
    :class:`pipelines.review.ReviewError` for an end before the start."""
    return ReviewAction(date=start, date_end=end or start, note=note)


def point_map(row: pd.Series, events: pd.DataFrame, asset_base: str):
    """A small folium map for picking a point: the event (if located) and its
    candidates as labelled dots, Leaflet served locally like the main map."""
    import folium

    from .mapview import localize

    center = map_center(row, events)
    m = folium.Map(location=list(center), zoom_start=POINT_MAP_ZOOM, tiles="OpenStreetMap", control_scale=True)
    localize(m, asset_base)
    if is_located(row):
        folium.CircleMarker(
            location=[float(row["lat"]), float(row["lon"])], radius=9, color="#222222", weight=2,
            fill=True, fill_color="#d7301f", fill_opacity=0.9, class_name="ea-review-current",
            tooltip=folium.Tooltip(text_html(f"now: {_text(row.get('place')) or _text(row.get('mention'))}")),
        ).add_to(m)
    for option in candidate_options(row):
        if option.movable:
            folium.CircleMarker(
                location=[option.lat, option.lon], radius=6, color="#222222", weight=1, fill=True,
                fill_color="#9e9ac8", fill_opacity=0.9, class_name="ea-review-candidate",
                tooltip=folium.Tooltip(text_html(f"#{option.number} {option.name}")),
            ).add_to(m)
    return m


# -- Streamlit ----------------------------------------------------------------

def pick_event(events: pd.DataFrame) -> pd.Series | None:
    """The picker: where from (events shown, the review queue, not reviewed)
    and which event. Returns the chosen row, None when there is none. The
    choice is the event_id, so it stays on the event through a correction."""
    import streamlit as st

    counts = {scope: int(scope_mask(events, scope).sum()) for scope in SCOPES}
    with st.container(key="ea_pick"):
        scope = st.radio("Pick from", list(SCOPES), horizontal=True, key="ea_pick_scope",
                         format_func=lambda s: f"{SCOPES[s]} ({counts[s]})")
        rows = events.loc[scope_mask(events, scope)]
        if not len(rows):
            st.info("Nothing to pick here: the review queue is empty." if scope == "queue"
                    else "Nothing to pick here.")
            return None
        if len(rows) > PICK_LIMIT:
            found = find_rows(rows, st.text_input(
                "Find an event (id, place or mention)", key="ea_pick_find",
                help=f"The list offers at most {PICK_LIMIT} events; type to narrow it."))
            st.caption(f"{min(len(found), PICK_LIMIT):,} of {len(found):,} matching events offered"
                       + (" — type more to narrow" if len(found) > PICK_LIMIT else ""))
        else:
            found = rows
        rows = first_rows(found, PICK_LIMIT)
        by_id = {eid: i for i, eid in enumerate(rows["event_id"])}
        labels = {eid: pick_label(rows.iloc[i]) for eid, i in by_id.items()}
        chosen = st.selectbox("Event", list(by_id), format_func=lambda eid: labels.get(eid, eid),
                              key="ea_event_pick")
    if chosen not in by_id:
        return None
    return rows.iloc[by_id[chosen]]


def panel(row: pd.Series, events: pd.DataFrame, store: str, reviewer: str, asset_base: str) -> None:
    """The review panel of one event. Each button applies one decision with
    :func:`pipelines.review.review_event` and reruns the page."""
    import streamlit as st

    from pipelines.errors import EventAtlasError
    from pipelines.review import review_event

    from .safe import markdown_text

    eid = str(row["event_id"])
    with st.container(border=True, key="ea_review"):
        st.markdown(f"**Review** · status: {markdown_text(status_text(row))}")
        who_col, note_col = st.columns(2)
        by = who_col.text_input("Reviewer (required)", value=reviewer, key="ea_reviewer",
                                help="Recorded with each decision (default: EVENT_ATLAS_REVIEWER).").strip()
        note = note_col.text_input("Note (optional)", key=f"ea_note_{eid}")

        verdicts = st.columns(3)
        pressed: ReviewAction | None = None
        if verdicts[0].button("Accept", key=f"ea_accept_{eid}", width="stretch"):
            pressed = ReviewAction(verdict="accepted", note=note)
        if verdicts[1].button("Reject", key=f"ea_reject_{eid}", width="stretch"):
            pressed = ReviewAction(verdict="rejected", note=note)
        if verdicts[2].button("Reopen", key=f"ea_reopen_{eid}", width="stretch",
                              disabled=not _text(row.get("review_status"))):
            pressed = ReviewAction(verdict="", note=note)

        st.markdown("**Move to another candidate** (the geocoder's alternatives)")
        options = candidate_options(row)
        st.html(candidates_html(options))
        movable = [o for o in options if o.movable][:MAX_CANDIDATE_BUTTONS]
        if movable:
            columns = st.columns(min(4, len(movable)))
            for i, option in enumerate(movable):
                if columns[i % len(columns)].button(f"Move to candidate {option.number}", key=f"ea_cand_{eid}_{option.index}",
                                                    help=markdown_text(option.label), width="stretch"):
                    pressed = ReviewAction(candidate=option.index, note=note)

        if st.toggle("Move to a point: pick it on a map", key="ea_point_map"):
            from streamlit_folium import st_folium

            clicked = st_folium(point_map(row, events, asset_base), key=f"ea_review_map_{eid}",
                                height=POINT_MAP_HEIGHT, use_container_width=True,
                                returned_objects=["last_clicked"])
            point = clicked_point((clicked or {}).get("last_clicked"))
            name = st.text_input("Place name for the point (optional: keeps the current name)",
                                 key=f"ea_point_name_{eid}").strip()
            if point is None:
                st.caption("Click the map where the event happened.")
            else:
                st.caption(f"Clicked point: {point[0]:.5f}, {point[1]:.5f}")
                if st.button(f"Move to the clicked point ({point[0]:.5f}, {point[1]:.5f})", key=f"ea_point_{eid}"):
                    pressed = ReviewAction(point=point, place=name or None, note=note)

        st.markdown("**Fix the date**")
        start_col, end_col, button_col = st.columns([2, 2, 1], vertical_alignment="bottom")
        start = start_col.date_input("Start date", value=iso_day(row.get("date")), key=f"ea_start_{eid}",
                                     format="YYYY-MM-DD", min_value=date(1900, 1, 1))
        end = end_col.date_input("End date", value=iso_day(row.get("date_end")) or start, key=f"ea_end_{eid}",
                                 format="YYYY-MM-DD", min_value=date(1900, 1, 1))
        if button_col.button("Fix date", key=f"ea_fixdate_{eid}", width="stretch"):
            try:
                pressed = date_action(start, end, note)
            except EventAtlasError as exc:
                st.error(markdown_text(str(exc)), icon="⚠️")

    if pressed is None:
        return
    if not by:
        st.warning("Give the reviewer's name first: every decision records who made it.")
        return
    try:
        review_event(store, eid, pressed, by=by)
    except EventAtlasError as exc:
        st.error(markdown_text(str(exc)), icon="⚠️")
        return
    st.rerun()
