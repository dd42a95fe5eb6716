"""Loading the store and pure transforms of event frames for the dashboard.

Every function here takes a frame and returns a new one (or plain values); none
mutates its input, so a frame cached by Streamlit can be passed in safely.
No Streamlit import: this module is tested on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.exporters import filter_by_dates
from pipelines.filters import located  # True for the rows with a location (resolved, lat and lon)
from pipelines.schema import iso_day
from pipelines.store import BBox, StoreSummary, read_events, store_summary
from pipelines.store.base import frame_date_span
from pipelines.store import store_version as _store_version

from .density import page_rows

#: Columns of the events table, in display order.
TABLE_COLUMNS = (
    "date", "date_end", "place", "mention", "geo_precision",
    "admin1", "country", "sentence", "source",
)
#: Columns shown for unresolved mentions (kept for review).
UNRESOLVED_COLUMNS = ("date", "mention", "sentence", "source", "candidates")


def store_version(store: str):
    """A value that changes whenever the stored events change (see
    :func:`pipelines.store.store_version`: the file's (inode, mtime_ns, size)
    for a GeoPackage, None when it does not exist yet; a revision counter for
    PostGIS). Part of the cache key, so a new ingest is seen on the next
    rerun without a restart."""
    return _store_version(store)


def store_label(store: str) -> str:
    """How a download names its store: the file's absolute path, or the
    database URL without its password."""
    from pipelines.store import is_database_url, open_store

    if is_database_url(store):
        return open_store(store).location
    return os.path.abspath(store)


def load_events(store: str, start: date | None = None, end: date | None = None,
                bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """The store's events, conformed to the schema (empty if no file); with
    ``start``/``end``/``bbox`` only those the store's own query selects (SQL
    in PostGIS, GDAL's R-tree in a GeoPackage): the dashboard reads the
    timeline's window, not the whole store."""
    return read_events(store, start=start, end=end, bbox=bbox)


def load_summary(store: str) -> StoreSummary:
    """Count, date span and filter values of the store, from aggregates
    (no full read in PostGIS or in a GeoPackage)."""
    return store_summary(store)


def summary_span(summary: StoreSummary) -> "DateSpan | None":
    """The timeline's extent: the whole store's first date to its last."""
    span = summary.date_span()
    return None if span is None else DateSpan(*span)


def summary_intervals(summary: StoreSummary) -> pd.DataFrame:
    """The timeline strip's bars for the whole store (the columns of
    :func:`dashboard.timeline.interval_frame`), from the summary's counts."""
    columns = ["date", "date_end", "stop", "date_precision", "count"]
    frame = pd.DataFrame(list(summary.intervals), columns=["date", "date_end", "date_precision", "count"])
    iso = r"^\d{4}-\d{2}-\d{2}$"
    frame = frame[frame["date"].str.match(iso) & frame["date_end"].str.match(iso)] if len(frame) else frame
    if not len(frame):
        return pd.DataFrame(columns=columns)
    frame = frame.assign(stop=(pd.to_datetime(frame["date_end"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d"))
    return frame.loc[:, columns].reset_index(drop=True)


def event_dates(row: pd.Series) -> tuple[date | None, date | None]:
    """An event's [date, date_end]: the read that holds every claim
    :func:`pipelines.claims.related_claims` may relate to it (it relates only
    events whose dates overlap the event's own)."""
    start = iso_day(row.get("date"))
    end = iso_day(row.get("date_end")) or start
    return start, end


@dataclass(frozen=True)
class DateSpan:
    start: date
    end: date


def date_span(events: pd.DataFrame) -> DateSpan | None:
    """The first ``date`` and the last ``date_end`` (or ``date``) of the events;
    None when there is no parseable date."""
    span = frame_date_span(events)
    return None if span is None else DateSpan(*span)


def filter_dates(events: gpd.GeoDataFrame, start: date | None, end: date | None) -> gpd.GeoDataFrame:
    """Events whose [date, date_end] interval overlaps [start, end], both ends
    included: a May 2023 (month precision) event is kept for 22–23 May.

    The same rule as the CLI's ``export --start --end``
    (:func:`pipelines.exporters.filter_by_dates`), so the dashboard's download
    equals the CLI export for the same range. Returns a new frame.
    """
    return filter_by_dates(events, start, end).copy()


def resolved(events: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Events with a location (drawn on the map)."""
    return events.loc[located(events)].copy()


def unresolved(events: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mentions that could not be geocoded (kept for review, no geometry)."""
    return events.loc[~located(events)].copy()


@dataclass(frozen=True)
class Counts:
    total: int
    resolved: int
    unresolved: int
    by_precision: dict[str, int]


def counts(events: pd.DataFrame) -> Counts:
    on_map = located(events)  # a mask, not a copy of the frame (every rerun, before the map)
    n_resolved = int(on_map.sum())
    by_precision = events.loc[on_map, "geo_precision"].value_counts().to_dict() if n_resolved else {}
    return Counts(
        total=len(events),
        resolved=n_resolved,
        unresolved=len(events) - n_resolved,
        by_precision={str(k): int(v) for k, v in by_precision.items()},
    )


def shown_label(shown: int, total: int) -> str:
    """The count line of the page: "N events shown of M"."""
    return f"{shown} event{'s' if shown != 1 else ''} shown of {total}"


#: The table's order: by date, then end date, source and mention.
TABLE_ORDER = ("date", "date_end", "source", "mention")


def _sorted(events: pd.DataFrame) -> pd.DataFrame:
    return events.sort_values(list(TABLE_ORDER), kind="stable")


def table_positions(events: pd.DataFrame) -> np.ndarray:
    """Row positions of ``events`` in the table's order, sorting only the four
    key columns (sorting 100,000 rows with all their columns to show one page
    of 100 cost twice as much)."""
    keys = pd.DataFrame(events.loc[:, list(TABLE_ORDER)]).reset_index(drop=True)
    return keys.sort_values(list(TABLE_ORDER), kind="stable").index.to_numpy()


def table_page(events: pd.DataFrame, page: int, size: int) -> pd.DataFrame:
    """Page ``page`` (1-based, clamped) of :func:`table_frame` of ``events``,
    ``size`` rows a page: equal to ``table_frame(page_of(table_order(events), page, size))``."""
    return table_frame(events.iloc[table_positions(events)[page_rows(len(events), page, size)]])


def table_order(events: pd.DataFrame) -> pd.DataFrame:
    """All columns of the events in the table's order (the detail picker's rows)."""
    return pd.DataFrame(_sorted(events)).reset_index(drop=True)


def table_frame(events: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame (no geometry) of the table's columns, sorted by date;
    an unresolved mention's geo_precision reads "unresolved"."""
    ordered = _sorted(events)
    table = pd.DataFrame(ordered.loc[:, list(TABLE_COLUMNS)])
    table["geo_precision"] = table["geo_precision"].where(located(ordered), "unresolved")
    return table.reset_index(drop=True)


def unresolved_frame(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(_sorted(unresolved(events)).loc[:, list(UNRESOLVED_COLUMNS)]).reset_index(drop=True)
