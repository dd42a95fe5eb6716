"""Event stores: where events live between the pipeline and the dashboard.

``store`` arguments are a location string — a ``.gpkg`` path (the embedded
default, :mod:`~pipelines.store.geopackage`) or a ``postgresql://`` URL
(:mod:`~pipelines.store.postgis`) — or an :class:`EventStore` already open.
The functions below are what the rest of the code uses; each write is one
transaction in either backend.
"""

from __future__ import annotations

from datetime import date
from typing import Callable, Hashable, Iterable

import geopandas as gpd

from ..errors import StoreError
from ..merge import MergeResult
from .base import BBox, EventStore, StoreSummary, WriteResult, select_events, summarize
from .geopackage import GeoPackageStore

__all__ = [
    "BBox", "EventStore", "GeoPackageStore", "MergeResult", "StoreSummary", "WriteResult", "append_events",
    "ingest_events", "is_database_url", "open_store", "read_events", "select_events",
    "store_summary", "store_version", "summarize", "update_events",
]

DATABASE_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_database_url(location: str) -> bool:
    return str(location).startswith(DATABASE_SCHEMES)


def open_store(store: str | EventStore) -> EventStore:
    """The store at ``store``: a .gpkg path or a postgresql:// URL."""
    if isinstance(store, EventStore):
        return store
    location = str(store)
    if is_database_url(location):
        from .postgis import PostGISStore  # psycopg is needed only for a database

        return PostGISStore(location)
    if "://" in location:
        scheme = location.split("://", 1)[0]
        raise StoreError(f"{scheme}:// stores are not supported; use a .gpkg path or a postgresql:// URL")
    return GeoPackageStore(location)


def read_events(store: str | EventStore, *, start: date | None = None, end: date | None = None,
                bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Stored events as a schema-conformant GeoDataFrame (empty if none),
    optionally only those overlapping [start, end] and inside ``bbox``."""
    return open_store(store).read(start=start, end=end, bbox=bbox)


def ingest_events(store: str | EventStore, events: gpd.GeoDataFrame, article_ids: Iterable[str]) -> MergeResult:
    """Store the events of freshly (re-)analysed articles, atomically.

    See :func:`pipelines.merge.merge_reingest`: same text adds nothing,
    reviewed events are never overwritten, superseded unreviewed ones go."""
    return open_store(store).ingest(events, article_ids)


def append_events(store: str | EventStore, events: gpd.GeoDataFrame) -> WriteResult:
    """Add the events whose ``event_id`` is not stored yet, atomically (imports)."""
    return open_store(store).append(events)


def update_events(store: str | EventStore, transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], *,
                  ids_starting_with: str | None = None) -> gpd.GeoDataFrame:
    """Apply ``transform`` (a pure frame → frame function, e.g. a review) in one transaction."""
    return open_store(store).update(transform, ids_starting_with=ids_starting_with)


def store_summary(store: str | EventStore) -> StoreSummary:
    """Count, date span and the values of each filter, from aggregates (no full read)."""
    return open_store(store).summary()


def store_version(store: str | EventStore) -> Hashable:
    """A value that changes whenever the stored events change (a cache key)."""
    return open_store(store).version()
