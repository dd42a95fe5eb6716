"""Streamlit caches around the pure modules (the only Streamlit state kept).

``pipeline`` holds the gazetteer and geoparser once per server process (the
"Add article" panel), keyed by the settings.

``events_frame`` is keyed by the store path and the store file's
(inode, mtime_ns, size), so a new ingest is read on the next rerun without a restart.
``st.cache_data`` hands every caller its own unpickled copy; callers still
treat it as read-only and filter into new frames.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import streamlit as st

from pipelines.config import Settings
from pipelines.pipeline import Pipeline

from . import assets
from .data import load_events


@st.cache_data(show_spinner=False, max_entries=8)
def events_frame(store: str, version: tuple[int, int, int] | None) -> gpd.GeoDataFrame:
    """The store's events; ``version`` is only part of the cache key."""
    return load_events(store)


@st.cache_resource(show_spinner=False)
def static_assets() -> Path:
    """Copy the map's JS/CSS into dashboard/static once per server process."""
    return assets.ensure_static()


@st.cache_resource(show_spinner="Loading the gazetteer…")
def pipeline(settings: Settings) -> Pipeline:
    """One Pipeline (gazetteer, geoparser) shared by every session; its
    gazetteer reads through thread-local connections."""
    return Pipeline(settings)
