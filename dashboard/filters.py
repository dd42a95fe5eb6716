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

from pipelines.filters import (
    NONE, PRECISION_CHOICES, REVIEW_CHOICES, UNRESOLVED, UNREVIEWED, EventFilter, actor_choices,
    source_choices, type_choices,
)
from pipelines.filters import apply_filters as _apply

__all__ = [
    "ViewState", "apply_filters", "to_query", "from_query", "read_url", "write_url", "MODES", "SPEEDS",
    "NONE", "UNRESOLVED", "UNREVIEWED", "PRECISION_CHOICES", "REVIEW_CHOICES",
    "type_choices", "actor_choices", "source_choices",
]

#: Playback: "cumulative" shows everything from the range's start up to the
#: current day; "window" shows the last ``window`` days up to it.
MODES = ("cumulative", "window")
#: Seconds per day step offered for playback.
SPEEDS = (0.5, 1.0, 2.0)
DEFAULT_WINDOW = 7
MAX_WINDOW = 366

# URL parameter of each multi-valued filter (repeated: ?type=a&type=b).
_LISTS = {"types": "type", "actors": "actor", "sources": "source",
          "precisions": "precision", "statuses": "status"}


@dataclass(frozen=True)
class ViewState(EventFilter):
    """What is on screen. ``start``/``end`` are the timeline's date range;
    ``day`` is the playback position inside it (None: the range's end, which
    in cumulative mode shows the whole range)."""

    mode: str = "cumulative"
    window: int = DEFAULT_WINDOW
    speed: float = 1.0
    day: date | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}")
        if not 1 <= int(self.window) <= MAX_WINDOW:
            raise ValueError(f"window {self.window}")
        if float(self.speed) not in SPEEDS:
            raise ValueError(f"speed {self.speed}")

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
        query["bbox"] = ",".join(f"{v:g}" for v in state.bbox)
    if state.mode != "cumulative":
        query["mode"] = state.mode
    if state.window != DEFAULT_WINDOW:
        query["window"] = str(state.window)
    if state.speed != 1.0:
        query["speed"] = f"{state.speed:g}"
    if state.day:
        query["day"] = state.day.isoformat()
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
            from pipelines.filters import parse_bbox

            kwargs["bbox"] = parse_bbox(bbox[-1])
        except Exception:  # noqa: BLE001 - a bad bbox in a URL is ignored
            pass
    mode = _values(params, "mode")[-1:]
    if mode and mode[0] in MODES:
        kwargs["mode"] = mode[0]
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
        from . import timeline

        timeline.seed(state)
    return state


def _label(value: str) -> str:
    if value == NONE:
        return "(no type)"
    return str(value).replace("_", " ") if "_" in str(value) and " " not in str(value) else str(value)


def widgets(events: pd.DataFrame, *, container=None) -> EventFilter:
    """The sidebar's filters over ``events``; returns what they select (no dates:
    the timeline owns those). Values no longer offered (a URL made on another
    store) are dropped."""
    import streamlit as st

    box = container if container is not None else st.sidebar
    options = {
        "types": type_choices(events),
        "actors": actor_choices(events),
        "sources": source_choices(events),
        "precisions": list(PRECISION_CHOICES),
        "statuses": list(REVIEW_CHOICES),
    }
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
    with box:
        st.header("Filters")
        text = st.text_input("Search place, mention, sentence", key=WIDGET_KEYS["text"],
                             help='Every word must occur; "quoted words" as a phrase.')
        chosen = {}
        for name, choices in options.items():
            if not choices:
                chosen[name] = ()
                continue
            chosen[name] = tuple(st.multiselect(labels[name], choices, key=WIDGET_KEYS[name],
                                                format_func=_label, help=helps[name],
                                                placeholder="all"))
    return EventFilter(text=text or "", **chosen)
