"""The embedded default store: one GeoPackage file, layer ``events``.

Why GeoPackage: a single SQLite file that QGIS, GDAL and geopandas open
directly, with real geometry and no server. Writes are all-or-nothing: the
new store is written beside the old one and renamed over it under an
exclusive lock, so a crash or a concurrent ingest never leaves a half-written
store, and ``event_id`` stays unique. Every write is one transaction:
read → pure transform (:mod:`pipelines.merge`, :mod:`pipelines.review`) →
atomic replace, all under the lock.
"""

from __future__ import annotations

import fcntl
import glob
import os
import sqlite3
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError

from ..errors import StoreError
from ..merge import MergeResult, merge_append, merge_reingest
from ..schema import EVENT_COLUMNS, conform, empty_events_frame, iso_day
from .base import (UNRESOLVED, BBox, EventStore, StoreSummary, WriteResult, _counts, actor_counts,
                   check_bbox, select_events)

LAYER = "events"


def _check_path(store: str) -> Path:
    path = Path(store)
    if path.suffix.lower() != ".gpkg":
        raise StoreError(f"{store}: the store must be a GeoPackage file ending in .gpkg "
                         "(or a postgresql:// URL)")
    return path


@contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_unlocked(path: Path, *, where: str | None = None, bbox: BBox | None = None) -> gpd.GeoDataFrame:
    """Read through Arrow (5× faster than row by row); ``where`` (OGR SQL) and
    ``bbox`` (the GeoPackage's R-tree) are evaluated by GDAL."""
    if not path.exists():
        return empty_events_frame()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(path, layer=LAYER, engine="pyogrio", use_arrow=True, where=where, bbox=bbox)
    except (DataSourceError, DataLayerError) as exc:
        raise StoreError(f"{path}: cannot read the event store ({exc})") from exc
    if frame.empty:
        return empty_events_frame()
    return conform(pd.DataFrame(frame.drop(columns="geometry")))


class GeoPackageStore(EventStore):
    """The embedded default: one GeoPackage file, no server."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = _check_path(str(path))
        self.location = str(path)

    def read(self, *, start=None, end=None, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        bbox = check_bbox(bbox)
        if not self.path.exists():
            return empty_events_frame()
        conditions = []
        if start is not None:
            conditions.append(f"\"date_end\" >= '{start.isoformat()}'")  # ISO dates from date objects only
        if end is not None:
            conditions.append(f"\"date\" <= '{end.isoformat()}'")
        pushed_bbox = bbox if bbox is not None and bbox[0] <= bbox[2] else None  # not across the antimeridian
        with _locked(self.path, exclusive=False):
            events = _read_unlocked(self.path, where=" AND ".join(conditions) or None, bbox=pushed_bbox)
        # The pure filter again: exact edges, the antimeridian, and what GDAL did not do.
        return select_events(events, start=start, end=end, bbox=bbox)

    @contextmanager
    def _sqlite(self) -> Iterator[tuple[sqlite3.Connection, set[str]] | None]:
        """A read-only SQLite connection to the GeoPackage (it is an SQLite
        file) and its column names, under the shared lock; None when there is
        no store yet. Aggregates in SQLite need no GDAL and no frame."""
        if not self.path.exists():
            yield None
            return
        with _locked(self.path, exclusive=False):
            try:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot read the event store ({exc})") from exc
            try:
                columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{LAYER}")')}
                yield (conn, columns) if columns else None
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot read the event store ({exc})") from exc
            finally:
                conn.close()

    def count(self) -> int:
        with self._sqlite() as db:
            return 0 if db is None else int(db[0].execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])

    def date_span(self):
        with self._sqlite() as db:
            if db is None:
                return None
            first, last = db[0].execute(_SPAN_SQL).fetchone()
        first, last = iso_day(first), iso_day(last)
        return None if first is None or last is None else (first, last)

    def summary(self) -> StoreSummary:
        """Aggregates in SQLite: a few scans of the table, no frame built."""
        with self._sqlite() as db:
            if db is None:
                return StoreSummary(0)
            conn, columns = db

            def col(name: str) -> str:  # an absent later column reads as ""
                return f'coalesce("{name}", \'\')' if name in columns else "''"

            def facet(expr: str) -> dict[str, int]:
                return _counts(conn.execute(f'SELECT {expr}, count(*) FROM "{LAYER}" GROUP BY 1'))

            total = int(conn.execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])
            first, last = conn.execute(_SPAN_SQL).fetchone()
            located = ('("resolved" IS NOT NULL AND "resolved" <> 0 AND "lat" IS NOT NULL AND "lon" IS NOT NULL)')
            intervals = conn.execute(
                f'SELECT {col("date")}, CASE WHEN {col("date_end")} <> \'\' THEN "date_end" ELSE {col("date")} END, '
                f'{col("date_precision")}, count(*) FROM "{LAYER}" GROUP BY 1, 2, 3').fetchall()
            return StoreSummary(
                count=total, first=iso_day(first), last=iso_day(last),
                types=facet(col("event_type")), sources=facet(col("source")),
                precisions=facet(f"CASE WHEN {located} THEN {col('geo_precision')} ELSE '{UNRESOLVED}' END"),
                statuses=facet(col("review_status")),
                actors=actor_counts(conn.execute(f'SELECT {col("actors")}, count(*) FROM "{LAYER}" GROUP BY 1')),
                intervals=tuple(sorted((str(a), str(b), str(p), int(n)) for a, b, p, n in intervals)),
            )

    def ingest(self, events: gpd.GeoDataFrame, article_ids: Iterable[str]) -> MergeResult:
        ids = list(article_ids)
        return _transaction(self.path, lambda existing: merge_reingest(existing, events, ids))

    def append(self, events: gpd.GeoDataFrame) -> WriteResult:
        result = _transaction(self.path, lambda existing: merge_append(existing, events))
        return WriteResult(result.added, result.already_stored, len(result.frame))

    def update(self, transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], *,
               ids_starting_with: str | None = None) -> gpd.GeoDataFrame:
        def step(existing: gpd.GeoDataFrame) -> MergeResult:
            frame = conform(pd.DataFrame(transform(existing).drop(columns="geometry")))
            return MergeResult(frame, 0, 0, 0, 0)

        return _transaction(self.path, step, always_write=True).frame

    def version(self) -> tuple[int, int, int] | None:
        """(inode, mtime_ns, size): every write renames a new file over the
        old one, so the inode changes even when the clock is too coarse."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)


#: First ``date`` and last ``date_end`` (or ``date``) that look like ISO dates.
_ISO = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
_SPAN_SQL = (
    f'SELECT min("date"), max(CASE WHEN "date_end" GLOB {_ISO} THEN "date_end" ELSE "date" END) '
    f'FROM "{LAYER}" WHERE "date" GLOB {_ISO}'
)


def _transaction(path: Path, step: Callable[[gpd.GeoDataFrame], MergeResult], *,
                 always_write: bool = False) -> MergeResult:
    """Read, transform and replace the store while holding the exclusive lock."""
    with _locked(path, exclusive=True):
        _remove_stale_temporaries(path)
        result = step(_read_unlocked(path))
        if always_write or result.changed or not path.exists():
            _write_atomic(path, result.frame)
        return result


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp.gpkg")


def _remove_stale_temporaries(path: Path) -> None:
    """Temporaries of writers that were killed mid-write (we hold the
    exclusive lock, so no live writer owns one)."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp.gpkg*"):
        stale.unlink(missing_ok=True)


def _write_atomic(path: Path, frame: gpd.GeoDataFrame) -> None:
    tmp = _temporary_name(path)
    try:
        frame.loc[:, [*EVENT_COLUMNS, "geometry"]].to_file(
            tmp, layer=LAYER, driver="GPKG", engine="pyogrio", geometry_type="Point"
        )
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (a power cut after it keeps the new store)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
