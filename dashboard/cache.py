"""Streamlit caches around the pure modules (the only Streamlit state kept).

``pipeline`` holds the gazetteer and geoparser once per server process (the
"Add article" panel), keyed by the settings.

Every store read is keyed by the store's location and its version (the
GeoPackage file's (inode, mtime_ns, size), PostGIS's revision counter), so a
new ingest or review is read on the next rerun without a restart:

* ``store_summary``: count, date span and filter values, from aggregates;
* ``events_frame``: the events of the timeline's window, with the dates and
  the bbox pushed into the store's query. Playback moves the day inside a
  fixed range, so its steps hit this cache instead of querying again;
* ``filtered_frame``: that window with the sidebar's filters applied (free
  text over 100,000 events takes 0.7 s, too long to redo every step);
* ``per_day_counts``: the per-day chart's counts of that filtered window;
* ``related_events``: the events overlapping one event's dates (its claims).

``st.cache_data`` hands every caller its own unpickled copy. ``events_frame``
and ``filtered_frame`` are ``st.cache_resource`` instead: a playback step calls it every 0.5–2 s,
and unpickling a 100,000-event window takes 0.6 s, longer than a step. It
hands out the same frame to every session, so no caller may modify it:
every function that uses it filters into new frames (``apply_filters``
copies).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Hashable

import geopandas as gpd
import pandas as pd
import streamlit as st

from pipelines.config import Settings
from pipelines.filters import EventFilter, apply_filters
from pipelines.pipeline import Pipeline
from pipelines.store import BBox, StoreSummary

from . import assets
from .charts import per_day
from .data import load_events, load_summary


@st.cache_data(show_spinner=False, max_entries=8)
def store_summary(store: str, version: Hashable) -> StoreSummary:
    """The store's summary; ``version`` is only part of the cache key."""
    return load_summary(store)


@st.cache_resource(show_spinner=False, max_entries=4)
def events_frame(store: str, version: Hashable, start: date | None = None, end: date | None = None,
                 bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """The events overlapping [start, end] inside ``bbox`` (all when None);
    ``version`` is only part of the cache key."""
    return load_events(store, start, end, bbox)


@st.cache_resource(show_spinner=False, max_entries=4)
def filtered_frame(store: str, version: Hashable, start: date | None, end: date | None,
                   bbox: BBox | None, wanted: EventFilter) -> pd.DataFrame:
    """:func:`events_frame` with ``wanted`` (the sidebar's filters) applied: a new frame."""
    return apply_filters(events_frame(store, version, start, end, bbox), wanted)


@st.cache_data(show_spinner=False, max_entries=8)
def per_day_counts(store: str, version: Hashable, start: date | None, end: date | None,
                   bbox: BBox | None, wanted: EventFilter) -> pd.DataFrame:
    """:func:`dashboard.charts.per_day` of :func:`filtered_frame`: the chart's
    counts, the same for every playback step, table page and event picked
    in that window (0.2 s at 100,000 events)."""
    return per_day(filtered_frame(store, version, start, end, bbox, wanted))


@st.cache_data(show_spinner=False, max_entries=32)
def related_events(store: str, version: Hashable, start: date | None, end: date | None) -> gpd.GeoDataFrame:
    """The events overlapping [start, end] anywhere (the claims of one event's dates)."""
    return load_events(store, start, end)


@st.cache_resource(show_spinner=False)
def static_assets() -> Path:
    """Copy the map's JS/CSS into dashboard/static once per server process."""
    return assets.ensure_static()


@st.cache_resource(show_spinner="Loading the gazetteer…")
def pipeline(settings: Settings) -> Pipeline:
    """One Pipeline (gazetteer, geoparser) shared by every session; its
    gazetteer reads through thread-local connections."""
    return Pipeline(settings)
