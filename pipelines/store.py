"""The embedded event store: one GeoPackage file, layer ``events``.

Why GeoPackage: a single SQLite file that QGIS, GDAL and geopandas open
directly, with real geometry and no server. Writes are all-or-nothing: the
new store is written beside the old one and renamed over it under an
exclusive lock, so a crash or a concurrent ingest never leaves a half-written
store, and ``event_id`` stays unique.
"""

from __future__ import annotations

import fcntl
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError

from .errors import StoreError
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
    """Add the events whose ``event_id`` is not stored yet, atomically."""
    path = _check_path(store)
    with _locked(path, exclusive=True):
        existing = _read_unlocked(path)
        known = set(existing["event_id"])
        fresh = events.loc[~events["event_id"].isin(known)].drop_duplicates("event_id")
        if fresh.empty:
            return WriteResult(0, len(events), len(existing))
        combined = conform(pd.concat([pd.DataFrame(existing.drop(columns="geometry")),
                                      pd.DataFrame(fresh.drop(columns="geometry"))], ignore_index=True))
        _write_atomic(path, combined)
        return WriteResult(len(fresh), len(events) - len(fresh), len(combined))


def replace_events(store: str, events: gpd.GeoDataFrame) -> None:
    """Overwrite the store (used by corrections and imports)."""
    path = _check_path(store)
    with _locked(path, exclusive=True):
        _write_atomic(path, conform(pd.DataFrame(events.drop(columns="geometry"))))


def _write_atomic(path: Path, frame: gpd.GeoDataFrame) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.gpkg")
    try:
        frame.loc[:, [*EVENT_COLUMNS, "geometry"]].to_file(
            tmp, layer=LAYER, driver="GPKG", engine="pyogrio", geometry_type="Point"
        )
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
