"""The embedded event store: one GeoPackage file, layer ``events``.

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
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError

from .errors import StoreError
from .merge import MergeResult, merge_append, merge_reingest
from .schema import EVENT_COLUMNS, conform, empty_events_frame

LAYER = "events"


@dataclass(frozen=True)
class WriteResult:
    added: int
    already_stored: int
    total: int


def _check_path(store: str) -> Path:
    if "://" in store:
        raise StoreError(f"{store}: only file stores are supported in this version (a .gpkg path)")
    path = Path(store)
    if path.suffix.lower() != ".gpkg":
        raise StoreError(f"{store}: the store must be a GeoPackage file ending in .gpkg")
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


def _read_unlocked(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        return empty_events_frame()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(path, layer=LAYER, engine="pyogrio")
    except (DataSourceError, DataLayerError) as exc:
        raise StoreError(f"{path}: cannot read the event store ({exc})") from exc
    if frame.empty:
        return empty_events_frame()
    return conform(pd.DataFrame(frame.drop(columns="geometry")))


def read_events(store: str) -> gpd.GeoDataFrame:
    """All stored events as a schema-conformant GeoDataFrame (empty if none)."""
    path = _check_path(store)
    if not path.exists():
        return empty_events_frame()
    with _locked(path, exclusive=False):
        return _read_unlocked(path)


def append_events(store: str, events: gpd.GeoDataFrame) -> WriteResult:
    """Add the events whose ``event_id`` is not stored yet, atomically (imports)."""
    result = _transaction(store, lambda existing: merge_append(existing, events))
    return WriteResult(result.added, result.already_stored, len(result.frame))


def ingest_events(store: str, events: gpd.GeoDataFrame, article_ids: Iterable[str]) -> MergeResult:
    """Store the events of freshly (re-)analysed articles, atomically.

    See :func:`pipelines.merge.merge_reingest`: same text adds nothing,
    reviewed events are never overwritten, superseded unreviewed ones go."""
    ids = list(article_ids)
    return _transaction(store, lambda existing: merge_reingest(existing, events, ids))


def update_events(store: str, transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Apply ``transform`` (a pure frame → frame function, e.g. a review) to
    the stored events under the exclusive lock and write the result atomically."""
    def step(existing: gpd.GeoDataFrame) -> MergeResult:
        frame = conform(pd.DataFrame(transform(existing).drop(columns="geometry")))
        return MergeResult(frame, 0, 0, 0, 0)

    return _transaction(store, step, always_write=True).frame


def _transaction(store: str, step: Callable[[gpd.GeoDataFrame], MergeResult], *,
                 always_write: bool = False) -> MergeResult:
    """Read, transform and replace the store while holding the exclusive lock."""
    path = _check_path(store)
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
