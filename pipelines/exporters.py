"""Pure transforms of event frames, and writers for the export formats.

``filter_by_dates`` and ``to_geojson`` take frames and return new objects
(never mutating their input), so the CLI and the dashboard export exactly the
same thing for the same selection.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .schema import EVENT_COLUMNS

EXPORT_FORMATS = ("geojson", "csv", "gpkg")


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
    """Write ``events`` as ``fmt`` to ``out`` (written aside, then renamed)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if out.parent and not out.parent.exists():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        if fmt == "geojson":
            tmp.write_text(geojson_text(events, metadata=metadata), encoding="utf-8")
        elif fmt == "csv":
            pd.DataFrame(events.loc[:, list(EVENT_COLUMNS)]).to_csv(tmp, index=False)
        else:
            if len(events) == 0:
                raise InputError("no events in that selection: nothing to write to a GeoPackage")
            events.loc[:, [*EVENT_COLUMNS, "geometry"]].to_file(
                tmp, layer="events", driver="GPKG", engine="pyogrio", geometry_type="Point"
            )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
