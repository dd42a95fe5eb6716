"""Pure transforms of event frames, and writers for the export formats.

GeoParquet is a folder, not a file: one Hive partition per month of the
events' start dates (``month=2023-05/part-0.parquet``), which
``geopandas.read_parquet`` and ``dask_geopandas.read_parquet`` read whole or
filtered by month.

``filter_by_dates`` and ``to_geojson`` take frames and return new objects
(never mutating their input), so the CLI and the dashboard export exactly the
same thing for the same selection.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .schema import EVENT_COLUMNS

EXPORT_FORMATS = ("geojson", "csv", "gpkg", "geoparquet")


def filter_by_dates(events: gpd.GeoDataFrame, start: date | None = None, end: date | None = None) -> gpd.GeoDataFrame:
    """Events whose [date, date_end] interval overlaps [start, end] (inclusive).

    A month-precision event dated May 2023 is in a 22 May window: it may have
    happened that day. ISO strings compare in date order.
    """
    keep = pd.Series(True, index=events.index)
    if start is not None:
        keep &= events["date_end"].where(events["date_end"] != "", events["date"]) >= start.isoformat()
    if end is not None:
        keep &= events["date"] <= end.isoformat()
    return events.loc[keep]


def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def to_geojson(events: gpd.GeoDataFrame, *, metadata: dict | None = None) -> dict:
    """An RFC 7946 FeatureCollection: [lon, lat], WGS84, no ``crs`` member;
    unresolved events are features with ``geometry: null``."""
    features = []
    records = pd.DataFrame(events.loc[:, list(EVENT_COLUMNS)]).to_dict("records")
    for row in records:
        props = {k: _clean(v) for k, v in row.items()}
        lat, lon = props.get("lat"), props.get("lon")
        geometry = None
        if props.get("resolved") and lat is not None and lon is not None:
            geometry = {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
        features.append({"type": "Feature", "id": props["event_id"], "geometry": geometry, "properties": props})
    collection: dict = {"type": "FeatureCollection", "features": features}
    if metadata:
        collection["metadata"] = metadata  # foreign member, allowed by RFC 7946 §6.1
    return collection


def geojson_text(events: gpd.GeoDataFrame, *, metadata: dict | None = None) -> str:
    return json.dumps(to_geojson(events, metadata=metadata), ensure_ascii=False, indent=1)


def write_export(events: gpd.GeoDataFrame, fmt: str, out: Path, *, metadata: dict | None = None) -> None:
    """Write ``events`` as ``fmt`` to ``out`` (written aside, then renamed;
    ``geoparquet`` writes a folder, see :func:`write_geoparquet`).

    ``metadata`` is the export's provenance (filters, time, count, store): the
    GeoJSON ``metadata`` member, a CSV sidecar ``OUT.provenance.json`` (the
    CSV itself stays plain for spreadsheet and CSV readers), the GeoPackage's
    ``export_metadata`` table, the GeoParquet marker file."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if out.parent and not out.parent.exists():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    if fmt == "geoparquet":
        write_geoparquet(events, out, metadata=metadata)
        return
    tmp = out.with_name(f".{out.name}.tmp")
    sidecar = csv_sidecar(out)
    sidecar_tmp = sidecar.with_name(f".{sidecar.name}.tmp")
    try:
        if fmt == "geojson":
            tmp.write_text(geojson_text(events, metadata=metadata), encoding="utf-8")
        elif fmt == "csv":
            tmp.write_text(csv_text(events), encoding="utf-8", newline="")
            if metadata:
                sidecar_tmp.write_text(json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            write_gpkg(events, tmp, metadata=metadata)
        tmp.replace(out)
        if fmt == "csv" and metadata:
            sidecar_tmp.replace(sidecar)
    finally:
        tmp.unlink(missing_ok=True)
        sidecar_tmp.unlink(missing_ok=True)


# --- CSV: lat/lon columns, formula-safe cells -----------------------------------

#: A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_sidecar(out: Path) -> Path:
    """Where the CLI writes a CSV export's provenance."""
    return out.with_name(out.name + ".provenance.json")


def formula_safe(value):
    """A text cell that a spreadsheet would run as a formula gets a leading
    ``'`` (OWASP's advice); everything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_frame(events: gpd.GeoDataFrame) -> pd.DataFrame:
    """The schema's columns (``lat``/``lon`` as numbers, no geometry), every
    text cell through :func:`formula_safe`. Numbers are left as numbers, so a
    western longitude stays ``-3.7``."""
    frame = pd.DataFrame(events.loc[:, list(EVENT_COLUMNS)]).copy()
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(formula_safe)
    return frame


def csv_text(events: gpd.GeoDataFrame, *, header: dict | None = None) -> str:
    """CSV text of :func:`csv_frame`. With ``header``, the provenance comes
    first as ``# key: value`` lines (JSON values), before the column names."""
    lines = ""
    if header:
        lines = "".join(f"# {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in header.items())
    return lines + csv_frame(events).to_csv(index=False, lineterminator="\n")


# --- GeoPackage: the events layer and an export_metadata table --------------------

def write_gpkg(events: gpd.GeoDataFrame, path: Path, *, metadata: dict | None = None) -> None:
    """Layer ``events`` and, with ``metadata``, a non-spatial table
    ``export_metadata(key, value)`` (values as JSON) registered in
    ``gpkg_contents`` as attributes, so QGIS and ogr list it as a layer."""
    if len(events) == 0:
        raise InputError("no events in that selection: nothing to write to a GeoPackage")
    events.loc[:, [*EVENT_COLUMNS, "geometry"]].to_file(
        path, layer="events", driver="GPKG", engine="pyogrio", geometry_type="Point"
    )
    if not metadata:
        return
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE export_metadata (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
        db.executemany("INSERT INTO export_metadata (key, value) VALUES (?, ?)",
                       [(key, json.dumps(value, ensure_ascii=False)) for key, value in metadata.items()])
        db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                   "VALUES ('export_metadata', 'attributes', 'export_metadata', "
                   "'Event Atlas export provenance: filters, time of export, count, store')")
    # sqlite3's context manager commits but does not close
    db.close()


def read_gpkg_metadata(path: Path) -> dict:
    """The ``export_metadata`` table of a GeoPackage export, decoded."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return {key: json.loads(value) for key, value in db.execute("SELECT key, value FROM export_metadata")}
    finally:
        db.close()


# --- GeoParquet: a month-partitioned dataset ---------------------------------

#: Marks a folder as a GeoParquet export of ours, so a later export may replace it.
#: The leading underscore makes pyarrow, geopandas and Dask skip it when reading.
GEOPARQUET_MARKER = "_event_atlas_export.json"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_OUR_PART = re.compile(r"^part-\d+\.parquet$")


def event_month(events: gpd.GeoDataFrame) -> pd.Series:
    """The partition key of each event: the month of its start ``date``.

    An event spanning months (``2023-05-30`` to ``2023-06-02``) goes to the
    month it starts in, so every event is in exactly one partition and a
    reader filtering on ``month`` finds it where its ``date`` says."""
    months = events["date"].astype(str).str.slice(0, 7)
    bad = ~months.str.match(_MONTH.pattern)
    if bad.any():
        first = events.loc[bad, "event_id"].iloc[0]
        raise InputError(f"event {first}: date {events.loc[bad, 'date'].iloc[0]!r} is not YYYY-MM-DD; "
                         "cannot partition by month")
    return months


def partition_by_month(events: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    """(month, events of that month) in month order, each sorted by date and
    ``event_id`` with a fresh index, holding exactly the schema's columns and
    geometry (the month lives in the folder name, not in the files)."""
    columns = [*EVENT_COLUMNS, "geometry"]
    months = event_month(events)
    parts = []
    for month in sorted(months.unique()):
        part = events.loc[months == month, columns].sort_values(["date", "event_id"]).reset_index(drop=True)
        parts.append((month, part))
    return parts


def _is_our_export(folder: Path) -> bool:
    """True when ``folder`` holds nothing but what :func:`write_geoparquet` writes."""
    if not (folder / GEOPARQUET_MARKER).is_file():
        return False
    for entry in folder.iterdir():
        if entry.name == GEOPARQUET_MARKER:
            continue
        if not (entry.is_dir() and entry.name.startswith("month=") and _MONTH.match(entry.name[6:])):
            return False
        if not all(f.is_file() and _OUR_PART.match(f.name) for f in entry.iterdir()):
            return False
    return True


def _remove_stale_temporaries(out: Path) -> None:
    """Temporaries of earlier exports to ``out`` whose process is gone (killed mid-write)."""
    for stale in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        pid = stale.name[len(out.name) + 2: -len(".tmp")].split(".")[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def write_geoparquet(events: gpd.GeoDataFrame, out: Path, *, metadata: dict | None = None) -> list[str]:
    """Write ``events`` as a Hive-partitioned GeoParquet dataset
    ``out/month=YYYY-MM/part-0.parquet`` (WKB points, CRS EPSG:4326, null
    geometry for unresolved events) and return the months written.

    All or nothing: the dataset is built in a hidden sibling folder and
    renamed to ``out``. ``out`` may be absent, an empty folder, or a previous
    export of ours (marker file and only our partitions): anything else is
    refused, so an export never deletes someone's files.
    """
    if len(events) == 0:
        raise InputError("no events in that selection: nothing to write to a GeoParquet dataset")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; GeoParquet needs a folder")
    if out.is_dir() and any(out.iterdir()) and not _is_our_export(out):
        raise InputError(f"{out}: folder is not empty and is not an earlier GeoParquet export; "
                         "choose a new or empty folder")
    parts = partition_by_month(events)
    _remove_stale_temporaries(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    old = out.with_name(f".{out.name}.{os.getpid()}.old.tmp")
    try:
        tmp.mkdir()
        for month, part in parts:
            (tmp / f"month={month}").mkdir()
            part.to_parquet(tmp / f"month={month}" / "part-0.parquet", index=False, compression="zstd")
        marker = {"format": "geoparquet", "partitioning": "hive: month=YYYY-MM of the event's start date",
                  "months": [m for m, _ in parts], **(metadata or {})}
        (tmp / GEOPARQUET_MARKER).write_text(json.dumps(marker, ensure_ascii=False, indent=1), encoding="utf-8")
        replacing = out.is_dir() and any(out.iterdir())
        if replacing:
            out.rename(old)  # checked above: an earlier export of ours
        try:
            tmp.replace(out)  # onto an absent or empty folder
        except OSError:
            if replacing:
                old.rename(out)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return [m for m, _ in parts]
