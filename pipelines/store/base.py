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
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Hashable, Iterable, Mapping

import geopandas as gpd
import pandas as pd

from ..filters import located
from ..merge import MergeResult
from ..schema import iso_day

#: (west, south, east, north) in WGS84 degrees.
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class WriteResult:
    added: int
    already_stored: int
    total: int


#: ``geo_precision`` facet value of a mention without a location (as in
#: :data:`pipelines.filters.UNRESOLVED`).
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class StoreSummary:
    """What the dashboard needs before it reads any event: the date span for
    the timeline, the values each sidebar filter offers, the total count.
    Databases compute it with aggregates, never a full read.

    Facets map a value to its number of events: ``types`` ("" untyped),
    ``sources``, ``precisions`` (:data:`UNRESOLVED` for mentions without a
    location), ``statuses`` ("" not reviewed), ``actors`` (each name in an
    event's ``actors`` list). ``intervals`` counts events per
    (date, date_end, date_precision), the timeline strip's bars."""

    count: int
    first: date | None = None
    last: date | None = None
    types: Mapping[str, int] = field(default_factory=dict)
    sources: Mapping[str, int] = field(default_factory=dict)
    precisions: Mapping[str, int] = field(default_factory=dict)
    statuses: Mapping[str, int] = field(default_factory=dict)
    actors: Mapping[str, int] = field(default_factory=dict)
    intervals: tuple[tuple[str, str, str, int], ...] = ()

    def date_span(self) -> tuple[date, date] | None:
        return None if self.first is None or self.last is None else (self.first, self.last)


def _counts(pairs: Iterable[tuple[object, object]]) -> dict[str, int]:
    """(value, n) rows of a GROUP BY → {value: n}; NULL reads as ""."""
    out: Counter = Counter()
    for value, n in pairs:
        out["" if value is None else str(value)] += int(n)
    return dict(out)


def actor_counts(lists: Iterable[tuple[object, object]]) -> dict[str, int]:
    """(actors cell, n) rows → {actor name: n}, parsed as the filters parse it."""
    from ..filters import parse_actors

    out: Counter = Counter()
    for cell, n in lists:
        for name in parse_actors("" if cell is None else str(cell)):
            out[name] += int(n)
    return dict(out)


def _date_span(dates: pd.Series, ends: pd.Series) -> tuple[date, date] | None:
    starts = [d for d in map(iso_day, dates) if d is not None]
    finishes = [d for d in map(iso_day, ends) if d is not None]
    return (min(starts), max(finishes or starts)) if starts else None


def frame_date_span(events: pd.DataFrame) -> tuple[date, date] | None:
    """(first ``date``, last ``date_end`` or ``date``) of a frame; None when
    no cell holds a day. The same rule as :attr:`StoreSummary.first`/``last``."""
    if len(events) == 0:
        return None
    dates = events["date"].where(events["date"].notna(), "").astype(str)
    ends = events["date_end"].where(events["date_end"].notna(), "").astype(str)
    return _date_span(dates, ends.where(ends != "", dates))


def summarize(events: pd.DataFrame) -> StoreSummary:
    """The summary of a frame (the reference every backend's aggregates equal)."""
    if len(events) == 0:
        return StoreSummary(0)
    text = {c: events[c].where(events[c].notna(), "").astype(str) if c in events.columns
            else pd.Series("", index=events.index) for c in
            ("date", "date_end", "date_precision", "event_type", "source", "geo_precision", "review_status", "actors")}
    ends = text["date_end"].where(text["date_end"] != "", text["date"])
    span = _date_span(text["date"], ends)
    precision = text["geo_precision"].where(located(events), UNRESOLVED)
    intervals = pd.DataFrame({"date": text["date"], "date_end": ends, "p": text["date_precision"]})
    grouped = intervals.groupby(["date", "date_end", "p"]).size()
    return StoreSummary(
        count=len(events),
        first=span[0] if span else None,
        last=span[1] if span else None,
        types=_counts(text["event_type"].value_counts().items()),
        sources=_counts(text["source"].value_counts().items()),
        precisions=_counts(precision.value_counts().items()),
        statuses=_counts(text["review_status"].value_counts().items()),
        actors=actor_counts(text["actors"].value_counts().items()),
        intervals=tuple(sorted((str(a), str(b), str(p), int(n)) for (a, b, p), n in grouped.items())),
    )


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

    def summary(self) -> StoreSummary:
        """Date span, filter values and count (:class:`StoreSummary`). This
        fallback reads everything; the backends override it with aggregates."""
        return summarize(self.read())

    def date_span(self) -> tuple[date, date] | None:
        """(first ``date``, last ``date_end``), None for an empty store."""
        return self.summary().date_span()


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
