"""The timeline that plays: a date-range slider, and a playback position that
steps day by day through it.

The position lives in Python state (``st.session_state``), not in the
browser: every panel that follows the timeline (count, map, charts, table,
downloads) is computed from it on the same run. While playing, only the
dashboard's fragment reruns, once per step (``st.fragment(run_every=...)``);
the sidebar does not.

Two modes: *cumulative* shows everything from the range's start up to the
current day; *window* shows the ``window`` days ending on it. An event is
shown while its [date, date_end] interval overlaps what is shown, so an event
dated only to a month ("May 2023", date_precision ``month``) stays on screen
through all of May instead of flashing on a false single day.

The pure part (``days``, ``step``, ``play_from``, ``interval_frame``) has no
Streamlit import and is tested on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .filters import DEFAULT_WINDOW, MAX_WINDOW, MODES, SPEEDS, ViewState

# Session-state keys of the timeline's widgets and state.
RANGE = "timeline"
DAY = "play_day"
PLAYING = "playing"
MODE = "play_mode"
WINDOW = "play_window"
SPEED = "play_speed"
_STEPPED_AT = "_play_stepped_at"
_LAST_RANGE = "_play_last_range"
_WAS_PLAYING = "_play_was_playing"
_SPAN = "_play_span"
#: Key of the map panel's mode radio (dashboard.app.map_panel).
MAP_MODE = "map_mode"
#: Key of the per-day chart (its selection narrows the range).
CHART = "per_day_chart"

MODE_LABELS = {"cumulative": "cumulative", "window": "moving window"}


# --- pure --------------------------------------------------------------------------

def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class Step:
    day: date
    playing: bool


def step(day: date, start: date, end: date, by: int = 1) -> Step:
    """The position after one step of ``by`` days inside [start, end]; playing
    stops on the last day."""
    nxt = min(max(day + timedelta(days=by), start), end)
    return Step(nxt, playing=nxt < end)


def play_from(day: date | None, start: date, end: date) -> date:
    """Where pressing play starts: the current day, or the range's first day
    when the position is at (or past) the end."""
    if day is None or day >= end or day < start:
        return start
    return day


def follow_range(day: date | None, old: tuple[date, date] | None, start: date, end: date) -> date:
    """The position after the range changed from ``old`` to [start, end]: a
    position at the old end stays at the end; otherwise it is clamped."""
    if day is None or old is None or day >= old[1]:
        return end
    return min(max(day, start), end)


def interval_frame(events: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (date, date_end, date_precision) with its count:
    the intervals the timeline strip draws. ``stop`` is the day after
    ``date_end``, so a single day is one day wide and "May 2023" is May."""
    from pipelines.store import summarize

    from .data import summary_intervals

    return summary_intervals(summarize(events))  # the same bars the page draws from the store's summary


def caption(state: ViewState) -> str:
    """What the map shows, in words."""
    start, end = state.shown_range()
    if start is None or end is None:
        return ""
    if state.day is None:
        return f"Showing {start.isoformat()} – {end.isoformat()}."
    if state.mode == "cumulative":
        return f"Day {end.isoformat()}: everything from {start.isoformat()} up to this day."
    return f"Day {end.isoformat()}: the {state.window}-day window {start.isoformat()} – {end.isoformat()}."


# --- Streamlit ------------------------------------------------------------------------

def seed(state: ViewState) -> None:
    """Put the playback settings of a URL's state into the session (first run only)."""
    import streamlit as st

    st.session_state.setdefault(MODE, state.mode)
    st.session_state.setdefault(WINDOW, state.window)
    st.session_state.setdefault(SPEED, state.speed)
    if state.start and state.end:
        st.session_state.setdefault(RANGE, (state.start, state.end))
    if state.day:
        st.session_state.setdefault(DAY, state.day)


def interval() -> float | None:
    """The fragment's ``run_every``: one step's seconds while playing, else None."""
    import streamlit as st

    if not st.session_state.get(PLAYING):
        return None
    return float(st.session_state.get(SPEED, 1.0))


def _toggle_play() -> None:
    import streamlit as st

    if st.session_state.get(PLAYING):
        st.session_state[PLAYING] = False
        return
    rng = st.session_state.get(RANGE)
    if not rng:
        return
    start, end = rng
    st.session_state[DAY] = play_from(st.session_state.get(DAY), start, end)
    st.session_state[PLAYING] = True
    st.session_state[_STEPPED_AT] = time.monotonic()


def _step(by: int) -> None:
    import streamlit as st

    rng = st.session_state.get(RANGE)
    if not rng:
        return
    start, end = rng
    day = st.session_state.get(DAY) or end
    st.session_state[DAY] = step(day, start, end, by).day
    st.session_state[PLAYING] = False


def playback_controls(span) -> None:
    """Play/pause, speed, mode and window for a ``span`` of dates: outside the
    fragment, since they change how often it reruns."""
    import streamlit as st

    if span is None or span.start == span.end:
        return
    playing = bool(st.session_state.get(PLAYING))
    cols = st.columns([1.1, 1.3, 2.2, 1.4, 3])
    cols[0].button("⏸ Pause" if playing else "▶ Play", key="play_button", on_click=_toggle_play,
                   type="primary", help="Step through the range one day at a time.")
    cols[1].selectbox("Seconds per day", SPEEDS, key=SPEED, format_func=lambda s: f"{s:g} s")
    cols[2].radio("Playback", MODES, key=MODE, horizontal=True, format_func=MODE_LABELS.get,
                  help="cumulative: everything up to the day; moving window: only the last days.")
    if st.session_state.get(MODE) == "window":
        cols[3].number_input("Window (days)", min_value=1, max_value=MAX_WINDOW, step=1, key=WINDOW)


def controls(first: date, last: date) -> tuple[date, date, date | None]:
    """The range slider and the playback position, inside the fragment.
    Returns (start, end, day) with ``day`` None when at the range's end."""
    import streamlit as st

    if first == last:
        st.caption(f"All events are dated {first.isoformat()}.")
        return first, last, None
    st.session_state[_SPAN] = (first, last)
    rng = st.session_state.get(RANGE)
    if not rng or not (first <= rng[0] <= rng[1] <= last):
        lo = min(max(rng[0], first), last) if rng else first
        hi = min(max(rng[1], first), last) if rng else last
        st.session_state[RANGE] = (min(lo, hi), max(lo, hi))
    st.slider("Timeline", min_value=first, max_value=last, key=RANGE, format="YYYY-MM-DD",
              help="Events whose dates overlap this range (both ends included).")
    start, end = st.session_state[RANGE]

    old = st.session_state.get(_LAST_RANGE)
    day = st.session_state.get(DAY)
    if old != (start, end):
        day = follow_range(day, old, start, end)
    day = min(max(day or end, start), end)
    if st.session_state.get(PLAYING):
        speed = float(st.session_state.get(SPEED, 1.0))
        now = time.monotonic()
        if now - st.session_state.get(_STEPPED_AT, 0.0) >= 0.8 * speed:
            moved = step(day, start, end)
            day = moved.day
            st.session_state[_STEPPED_AT] = now
            if not moved.playing:
                st.session_state[PLAYING] = False
    st.session_state[DAY] = day
    st.session_state[_LAST_RANGE] = (start, end)

    if start < end:
        back, pick, fwd = st.columns([1, 12, 1], vertical_alignment="bottom")
        back.button("◀", key="step_back", on_click=_step, args=(-1,), help="One day back")
        pick.select_slider("Day", options=days(start, end), key=DAY, format_func=date.isoformat,
                           help="The playback position. At the range's end, cumulative mode shows the whole range.")
        fwd.button("▶", key="step_forward", on_click=_step, args=(1,), help="One day forward")
    day = st.session_state[DAY]
    return start, end, (None if day >= end else day)


def stop_timer_when_done() -> None:
    """At the end of the fragment: when playback just reached the range's end,
    rerun the app once so the fragment loses its timer (``run_every`` is set
    on each full run)."""
    import streamlit as st

    if st.session_state.get(_WAS_PLAYING) and not st.session_state.get(PLAYING):
        st.session_state[_WAS_PLAYING] = False
        st.rerun()
    st.session_state[_WAS_PLAYING] = bool(st.session_state.get(PLAYING))


def narrow_to_clicked_day() -> None:
    """The per-day chart's ``on_select``: the range becomes the clicked day."""
    import streamlit as st

    from .charts import selected_day

    day = selected_day(st.session_state.get(CHART))
    if day is None:
        return
    first_last = st.session_state.get(_SPAN)
    if first_last and not (first_last[0] <= day <= first_last[1]):
        return
    st.session_state[RANGE] = (day, day)
    st.session_state[DAY] = day
    st.session_state[PLAYING] = False


def playback_state() -> dict:
    """mode, window and speed from the session, for the :class:`ViewState`."""
    import streamlit as st

    window = int(st.session_state.get(WINDOW, DEFAULT_WINDOW) or DEFAULT_WINDOW)
    return {
        "mode": st.session_state.get(MODE, "cumulative"),
        "window": min(max(window, 1), MAX_WINDOW),
        "speed": float(st.session_state.get(SPEED, 1.0)),
    }


def is_playing() -> bool:
    import streamlit as st

    return bool(st.session_state.get(PLAYING))


def shown_range_now() -> tuple[date | None, date | None]:
    """The dates on screen, from the session: the range, the day, the
    playback mode and window (what ``filters.ViewState.shown_range`` gives the app)."""
    import streamlit as st

    from .filters import ViewState

    rng = st.session_state.get(RANGE)
    if not rng:
        return None, None
    start, end = rng
    day = st.session_state.get(DAY)
    day = None if day is None or day >= end else max(day, start)
    return ViewState(start=start, end=end, day=day, **playback_state()).shown_range()


def playing_map(shown: pd.DataFrame, context: pd.DataFrame, asset_base: str, *, height: int = 520,
                events: pd.DataFrame | None = None, version: object = None,
                shown_range: tuple[date | None, date | None] | None = None) -> bool:
    """The map while playing, without flicker, in every map mode: the base map
    holds the events of the whole range (``context``) with their dates, its
    bounds and legend, and stays byte for byte the same from step to step, so
    streamlit-folium keeps the same Leaflet map, its zoom and position. Each
    step sends only a :class:`density.DayWindow` (through
    ``feature_group_to_add``, which streamlit-folium swaps in place): the
    browser picks the day's events from the data it has, redraws the markers,
    clusters or heat layer and sets the legend's counts to them. ``shown`` is
    what Python shows for the day; ``shown_range`` its dates (default: from the
    session, :func:`shown_range_now`).

    ``events`` and ``version`` are the map panel's (the frame read and what
    names it): the popup records are written once per version; without a
    version they are named by a digest of ``context`` (0.5 s a step at 100,000
    events). Always draws and returns True (False was "draw the usual map instead")."""
    import folium
    from streamlit_folium import st_folium

    from . import data, density, mapview

    import streamlit as st

    n_context = int(data.located(context).sum()) if len(context) else 0
    choice = st.session_state.get(MAP_MODE, "auto")
    if MAP_MODE in st.session_state:  # keep the map panel's choice while its radio is not drawn
        st.session_state[MAP_MODE] = st.session_state[MAP_MODE]
    note = density.mode_note(choice, n_context)
    st.caption(f"Map: {density.MODE_LABELS.get(choice, choice)} · while playing, only the day's events change "
               "(the map keeps its zoom and position)." + (f" {note}" if note else ""))
    version = version if events is not None else None  # a version names ``events``, not ``context``
    base = mapview.build_map(context, asset_base, mode=choice, all_events=events, version=version, play=True)
    start, end = shown_range if shown_range is not None else shown_range_now()
    dates = context.loc[data.located(context), ["date", "date_end"]] if len(context) else context
    lo, hi = density.window_ranks(dates, start, end)  # ranks among the located events' dates, as in the map
    day = folium.FeatureGroup(name="day")
    density.DayWindow(lo, hi).add_to(day)
    st_folium(base, feature_group_to_add=day, key="event_map_playing", height=height,
              use_container_width=True, returned_objects=[])
    return True
