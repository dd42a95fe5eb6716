"""The dashboard's view state: the filters and the timeline, and the URL that
reproduces them.

:class:`ViewState` is an :class:`pipelines.filters.EventFilter` (date range,
types, actors, sources, geo precision, review statuses, free text) plus the
timeline's playback settings. :func:`apply_filters` is the CLI's own filter,
so a download equals ``python -m pipelines export`` with the same options.

The page's state is in the URL query string (``?start=2023-05-22&type=armed_clash
&q=Kozinka``), so a link reproduces the same view. :func:`to_query` and
:func:`from_query` are pure; unknown or malformed values in a hand-edited URL
are dropped, never an error. Only :func:`read_url` and :func:`write_url`
touch Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Mapping

import pandas as pd

from pipelines.errors import InputError
from pipelines.filters import (
    NONE, PRECISION_CHOICES, REVIEW_CHOICES, UNRESOLVED, UNREVIEWED, EventFilter, actor_choices,
    actor_options, format_bbox, parse_bbox, source_choices, source_options, type_choices, type_options,
)
from pipelines.filters import apply_filters as _apply
from pipelines.store import StoreSummary

from .density import MODES as MAP_MODES
from .safe import markdown_text

__all__ = [
    "ViewState", "apply_filters", "to_query", "from_query", "read_url", "write_url", "MODES", "SPEEDS",
    "MAP_MODES", "map_mode", "bbox_from_text",
    "NONE", "UNRESOLVED", "UNREVIEWED", "PRECISION_CHOICES", "REVIEW_CHOICES",
    "type_choices", "actor_choices", "source_choices",
]

#: Playback: "cumulative" shows everything from the range's start up to the
#: current day; "window" shows the last ``window`` days up to it.
MODES = ("cumulative", "window")
#: Seconds per day step offered for playback.
SPEEDS = (0.5, 1.0, 2.0)
DEFAULT_WINDOW = 7
#: The map panel's default drawing (dashboard.density.MODES).
DEFAULT_MAP_MODE = "auto"
MAX_WINDOW = 366

# URL parameter of each multi-valued filter (repeated: ?type=a&type=b).
_LISTS = {"types": "type", "actors": "actor", "sources": "source",
          "precisions": "precision", "statuses": "status"}


@dataclass(frozen=True)
class ViewState(EventFilter):
    """What is on screen. ``start``/``end`` are the timeline's date range;
    ``day`` is the playback position inside it (None: the range's end, which
    in cumulative mode shows the whole range). ``map_mode`` is how the map
    draws the events (auto, markers, clusters, heat): not a filter, but part
    of the view a link reproduces."""

    mode: str = "cumulative"
    window: int = DEFAULT_WINDOW
    speed: float = 1.0
    day: date | None = None
    map_mode: str = DEFAULT_MAP_MODE

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}")
        if not 1 <= int(self.window) <= MAX_WINDOW:
            raise ValueError(f"window {self.window}")
        if float(self.speed) not in SPEEDS:
            raise ValueError(f"speed {self.speed}")
        if self.map_mode not in MAP_MODES:
            raise ValueError(f"map mode {self.map_mode!r}")

    def filter(self) -> EventFilter:
        """The filters without the playback settings."""
        return self.base()

    def shown_range(self) -> tuple[date | None, date | None]:
        """The dates whose events are on screen: the whole range, or up to
        ``day`` (cumulative), or the ``window`` days ending on ``day``."""
        if self.day is None:
            return self.start, self.end
        end = self.day
        if self.mode == "cumulative":
            start = self.start
        else:
            start = date.fromordinal(end.toordinal() - int(self.window) + 1)
            if self.start and start < self.start:
                start = self.start
        return start, end

    def shown_filter(self) -> EventFilter:
        """The filter that selects exactly what is on screen (dates narrowed to
        the playback window): the provenance of a download."""
        start, end = self.shown_range()
        return EventFilter(**{**self.filter().as_kwargs(), "start": start, "end": end})


def apply_filters(events: pd.DataFrame, state: EventFilter) -> pd.DataFrame:
    """The events on screen for ``state``: every filter and, for a
    :class:`ViewState`, the playback window. A new frame."""
    if isinstance(state, ViewState):
        return _apply(events, state.shown_filter())
    return _apply(events, state)


# --- the URL ---------------------------------------------------------------------

def to_query(state: ViewState) -> dict[str, str | list[str]]:
    """The query parameters of ``state``; defaults are left out, so the plain
    view has a bare URL."""
    query: dict[str, str | list[str]] = {}
    if state.start:
        query["start"] = state.start.isoformat()
    if state.end:
        query["end"] = state.end.isoformat()
    for name, key in _LISTS.items():
        values = list(getattr(state, name))
        if values:
            query[key] = values
    if state.text:
        query["q"] = state.text
    if state.bbox is not None:
        query["bbox"] = format_bbox(state.bbox)
    if state.mode != "cumulative":
        query["mode"] = state.mode
    if state.window != DEFAULT_WINDOW:
        query["window"] = str(state.window)
    if state.speed != 1.0:
        query["speed"] = f"{state.speed:g}"
    if state.day:
        query["day"] = state.day.isoformat()
    if state.map_mode != DEFAULT_MAP_MODE:
        query["map"] = state.map_mode
    return query


def _values(params: Mapping[str, object] | Callable[[str], list[str]], key: str) -> list[str]:
    if callable(params):
        raw = params(key)
    else:
        raw = params.get(key, [])
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(v) for v in raw]


def _date(values: list[str]) -> date | None:
    for value in values[-1:]:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def from_query(params: Mapping[str, object] | Callable[[str], list[str]]) -> ViewState:
    """The state a URL describes. ``params`` maps each key to its values (a
    list, or one string), or is ``st.query_params.get_all``. Malformed values
    are ignored."""
    kwargs: dict = {}
    start, end = _date(_values(params, "start")), _date(_values(params, "end"))
    if start and end and start > end:
        start, end = end, start
    kwargs["start"], kwargs["end"] = start, end
    for name, key in _LISTS.items():
        values = [v for v in _values(params, key) if v.strip()]
        if name == "precisions":
            values = [v for v in values if v in PRECISION_CHOICES]
        if name == "statuses":
            values = [v for v in values if v in REVIEW_CHOICES]
        kwargs[name] = tuple(values)
    kwargs["text"] = " ".join(_values(params, "q")[-1:])[:500]
    bbox = _values(params, "bbox")
    if bbox:
        try:
            kwargs["bbox"] = parse_bbox(bbox[-1])
        except InputError:  # a bad bbox in a URL is ignored, as every malformed value
            pass
    mode = _values(params, "mode")[-1:]
    if mode and mode[0] in MODES:
        kwargs["mode"] = mode[0]
    drawn = _values(params, "map")[-1:]
    if drawn and drawn[0] in MAP_MODES:
        kwargs["map_mode"] = drawn[0]
    for key, cast, ok in (("window", int, lambda v: 1 <= v <= MAX_WINDOW),
                          ("speed", float, lambda v: v in SPEEDS)):
        raw = _values(params, key)[-1:]
        try:
            value = cast(raw[0]) if raw else None
        except ValueError:
            value = None
        if value is not None and ok(value):
            kwargs[key] = value
    kwargs["day"] = _date(_values(params, "day"))
    return ViewState(**kwargs)


def read_url() -> ViewState:
    """The state in the page's URL (Streamlit)."""
    import streamlit as st

    return from_query(st.query_params.get_all)


def write_url(state: ViewState) -> None:
    """Put ``state`` into the page's URL, only when it changed (Streamlit)."""
    import streamlit as st

    query = to_query(state)
    current = {key: st.query_params.get_all(key) for key in st.query_params.keys()}
    wanted = {key: value if isinstance(value, list) else [value] for key, value in query.items()}
    if current != wanted:
        st.query_params.from_dict(query)


# --- the sidebar's widgets (Streamlit) ------------------------------------------------

#: Session-state key of each filter's widget.
WIDGET_KEYS = {"types": "f_types", "actors": "f_actors", "sources": "f_sources",
               "precisions": "f_precisions", "statuses": "f_statuses", "text": "f_text"}
#: Session-state key of the area (bbox) text input, and of the map panel's radio
#: (the same key as dashboard.timeline.MAP_MODE).
BBOX_KEY = "f_bbox"
MAP_MODE_KEY = "map_mode"
_SEEDED = "_view_seeded_from_url"


def seed_from_url() -> ViewState:
    """On a session's first run, the URL's state goes into the widgets'
    session state (a shared link opens on the same view). Returns it."""
    import streamlit as st

    state = read_url()
    if not st.session_state.get(_SEEDED):
        st.session_state[_SEEDED] = True
        for name, key in WIDGET_KEYS.items():
            value = getattr(state, name)
            st.session_state[key] = list(value) if isinstance(value, tuple) else value
        st.session_state[BBOX_KEY] = format_bbox(state.bbox) if state.bbox is not None else ""
        st.session_state[MAP_MODE_KEY] = state.map_mode
        from . import timeline

        timeline.seed(state)
    return state


def _label(value: str) -> str:
    if value == NONE:
        return "(no type)"
    return str(value).replace("_", " ") if "_" in str(value) and " " not in str(value) else str(value)


def map_mode() -> str:
    """The map panel's mode (its radio's value), for the :class:`ViewState`."""
    import streamlit as st

    mode = st.session_state.get(MAP_MODE_KEY, DEFAULT_MAP_MODE)
    return mode if mode in MAP_MODES else DEFAULT_MAP_MODE


def bbox_from_text(text: str):
    """The area input's value → a bbox, None when empty. Raises InputError
    with a message for the user when it is not four numbers W,S,E,N in degrees."""
    if not str(text or "").strip():
        return None
    return parse_bbox(text)


def _options(source: StoreSummary | pd.DataFrame) -> dict[str, list[str]]:
    """The values each filter offers: from the store's summary (aggregates),
    or from a frame of events. Precisions and statuses are fixed lists, so a
    link choosing one is valid even before any event has it."""
    if isinstance(source, StoreSummary):
        types, actors, sources = (type_options(source.types), actor_options(source.actors),
                                  source_options(source.sources))
    else:
        types, actors, sources = type_choices(source), actor_choices(source), source_choices(source)
    return {"types": types, "actors": actors, "sources": sources,
            "precisions": list(PRECISION_CHOICES), "statuses": list(REVIEW_CHOICES)}


def widgets(source: StoreSummary | pd.DataFrame, *, container=None) -> EventFilter:
    """The sidebar's filters, offering the values of ``source`` (the store's
    summary, or a frame of events); returns what they select, the area
    included (no dates: the timeline owns those). Values no longer offered
    (a URL made on another store) are dropped before the widgets are drawn,
    since a multiselect whose value is not among its options fails."""
    import streamlit as st

    box = container if container is not None else st.sidebar
    options = _options(source)
    for name, choices in options.items():
        key = WIDGET_KEYS[name]
        current = st.session_state.get(key) or []
        kept = [v for v in current if v in choices]
        if kept != current:
            st.session_state[key] = kept
    labels = {"types": "Event type", "actors": "Actor", "sources": "Source",
              "precisions": "Geo precision", "statuses": "Review status"}
    helps = {
        "types": "The event's type (taxonomy); none selected: all.",
        "actors": "Actors named in the event's sentences; any of those selected.",
        "sources": "The article's source; none selected: all.",
        "precisions": "How precisely the place is located; 'unresolved' are mentions without a place.",
        "statuses": "The analyst's decision; 'unreviewed' is not decided yet.",
    }
    if isinstance(source, StoreSummary):  # the fixed lists say what the store holds
        for name, facet, empty in (("precisions", source.precisions, "(none)"),
                                   ("statuses", source.statuses, UNREVIEWED)):
            held = " · ".join(f"{v or empty} {n:,}" for v, n in sorted(facet.items(), key=lambda i: -i[1]))
            helps[name] += f" In the store: {held}." if held else ""
    with box:
        st.header("Filters")
        text = st.text_input("Search place, mention, sentence", key=WIDGET_KEYS["text"],
                             help='Every word must occur; "quoted words" as a phrase.')
        area = st.text_input("Area W,S,E,N", key=BBOX_KEY, placeholder="e.g. 35,50,37.5,51",
                             help="Only located events inside west,south,east,north (degrees); "
                                  "the store reads only this area. Empty: everywhere.")
        try:
            bbox = bbox_from_text(area)
        except InputError as exc:
            st.error(markdown_text(f"Area not applied: {exc}"), icon="⚠️")
            bbox = None
        chosen = {}
        for name, choices in options.items():
            if not choices:
                chosen[name] = ()
                continue
            chosen[name] = tuple(st.multiselect(labels[name], choices, key=WIDGET_KEYS[name],
                                                format_func=_label, help=helps[name],
                                                placeholder="all"))
    return EventFilter(text=text or "", bbox=bbox, **chosen)
