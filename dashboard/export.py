"""The "Download GeoJSON" payload: exactly the events shown.

Built by :func:`pipelines.exporters.to_geojson`, the CLI's own exporter, so the
dashboard download and ``python -m pipelines export`` agree: an RFC 7946
FeatureCollection, ``[lon, lat]`` in WGS84, no ``crs`` member, dates as ISO
strings, unresolved events as features with ``geometry: null``. (Not
``GeoDataFrame.to_json()``, which adds nothing here and fails on Timestamp
columns.)
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from pipelines.exporters import to_geojson

MIME = "application/geo+json"


def feature_collection(events: pd.DataFrame, start: date | None = None, end: date | None = None) -> dict:
    """The FeatureCollection of ``events``, with a ``metadata`` foreign member
    (RFC 7946 §6.1) recording the date filter, as the CLI export does."""
    metadata = {
        "generator": "event-atlas dashboard",
        "filters": {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        "count": len(events),
    }
    return to_geojson(events, metadata=metadata)


def geojson_bytes(events: pd.DataFrame, start: date | None = None, end: date | None = None) -> bytes:
    """UTF-8 JSON text; ``allow_nan=False`` so NaN can never leak as invalid JSON."""
    collection = feature_collection(events, start, end)
    return json.dumps(collection, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


def file_name(start: date | None, end: date | None) -> str:
    if start and end:
        return f"events_{start.isoformat()}_{end.isoformat()}.geojson"
    return "events.geojson"
