"""What every event store does (one small base class, as geopy's Geocoder).

A store keeps schema-conformant events and applies every change as one
transaction: the pure transforms of :mod:`pipelines.merge` and
:mod:`pipelines.review` decide *what* changes, the store makes it atomic.
Backends: :class:`~pipelines.store.geopackage.GeoPackageStore` (embedded
default, one file) and :class:`~pipelines.store.postgis.PostGISStore`
(a shared PostgreSQL/PostGIS database for teams).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Callable, Hashable, Iterable

import geopandas as gpd

from ..merge import MergeResult

#: (west, south, east, north) in WGS84 degrees.
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class WriteResult:
    added: int
    already_stored: int
    total: int


class EventStore(ABC):
    """One event store. Build with :func:`pipelines.store.open_store`."""

    #: Where the store is, as the user gave it (path or URL, password hidden).
    location: str

    @abstractmethod
    def read(self, *, start: date | None = None, end: date | None = None,
             bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Events whose [date, date_end] overlaps [start, end] (both ends
        included) and, with ``bbox``, whose point lies in it (unresolved
        events have no point and are left out then)."""

    @abstractmethod
    def ingest(self, events: gpd.GeoDataFrame, article_ids: Iterable[str]) -> MergeResult:
        """Store freshly (re-)analysed articles (:func:`pipelines.merge.merge_reingest`)."""

    @abstractmethod
    def append(self, events: gpd.GeoDataFrame) -> WriteResult:
        """Add the events whose ``event_id`` is not stored yet (imports)."""

    @abstractmethod
    def update(self, transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], *,
               ids_starting_with: str | None = None) -> gpd.GeoDataFrame:
        """Replace events by ``transform(events)`` in one transaction.

        With ``ids_starting_with`` the transform may be given only the events
        whose id starts with it (a database need not read everything to
        review one event); it must return every event it was given. Returns
        the transformed events."""

    @abstractmethod
    def version(self) -> Hashable:
        """Changes whenever the stored events change (a cache key)."""

    def count(self) -> int:
        return len(self.read())


def check_bbox(bbox: BBox | None) -> BBox | None:
    if bbox is None:
        return None
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(f"bbox {bbox}: need west, south, east, north in degrees with south <= north")
    return west, south, east, north


def select_events(events: gpd.GeoDataFrame, *, start: date | None = None, end: date | None = None,
                  bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """The pure filter every backend agrees with (a database pushes the same
    conditions into SQL): dates overlap [start, end]; the point is in bbox."""
    keep = None
    if start is not None:
        keep = events["date_end"] >= start.isoformat()
    if end is not None:
        before = events["date"] <= end.isoformat()
        keep = before if keep is None else keep & before
    if bbox is not None:
        west, south, east, north = bbox
        lon_ok = (events["lon"] >= west) & (events["lon"] <= east) if west <= east else (
            (events["lon"] >= west) | (events["lon"] <= east))  # across the antimeridian
        inside = events["resolved"] & lon_ok & (events["lat"] >= south) & (events["lat"] <= north)
        keep = inside if keep is None else keep & inside
    return events if keep is None else events.loc[keep]
