"""The downloads: exactly the events on screen, as GeoJSON, CSV or GeoPackage,
each with its provenance.

Built by :mod:`pipelines.exporters`, the CLI's own writers, so a download and
``python -m pipelines export`` with the same filters agree. Every download
records where it comes from (:func:`provenance`): the generator, the time of
export (UTC, taken when the button is pressed), the store, the filters on
screen (dates narrowed to the playback window), the number of events, the
equivalent CLI command and the dashboard link's query string.

- GeoJSON (RFC 7946): ``[lon, lat]`` in WGS84, no ``crs`` member, unresolved
  events as features with ``geometry: null``; the provenance is the
  ``metadata`` foreign member (RFC 7946 §6.1).
- CSV: the schema's columns with ``lat``/``lon``; the provenance comes first
  as ``# key: value`` lines; text cells that a spreadsheet would run as a
  formula (starting with ``= + - @``, tab or CR) get a leading ``'``.
- GeoPackage: layer ``events`` and table ``export_metadata(key, value)``.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd

from pipelines.exporters import csv_text, to_geojson, write_gpkg
from pipelines.filters import EventFilter

MIME = "application/geo+json"
CSV_MIME = "text/csv"
GPKG_MIME = "application/geopackage+sqlite3"
GENERATOR = "event-atlas dashboard"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def provenance(events: pd.DataFrame, filters: EventFilter | None = None, *, store: str | None = None,
               url_query: dict | None = None, exported_at: str | None = None) -> dict:
    """What a download records about itself."""
    filters = filters or EventFilter()
    meta = {
        "generator": GENERATOR,
        "exported_at": exported_at or _now(),
        "store": store,
        "filters": filters.describe(),
        "count": len(events),
        "query": filters.cli_command(),
    }
    if url_query is not None:
        meta["url_query"] = "?" + urlencode(url_query, doseq=True) if url_query else ""
    return {k: v for k, v in meta.items() if v is not None}


def _filters(start, end, filters: EventFilter | None) -> EventFilter:
    if filters is not None:
        return filters
    if isinstance(start, EventFilter):
        return start
    return EventFilter(start=start, end=end)


def feature_collection(events: pd.DataFrame, start: date | None = None, end: date | None = None, *,
                       filters: EventFilter | None = None, store: str | None = None,
                       url_query: dict | None = None) -> dict:
    """The FeatureCollection of ``events`` with its provenance as ``metadata``."""
    meta = provenance(events, _filters(start, end, filters), store=store, url_query=url_query)
    return to_geojson(events, metadata=meta)


def geojson_bytes(events: pd.DataFrame, start: date | None = None, end: date | None = None, *,
                  filters: EventFilter | None = None, store: str | None = None,
                  url_query: dict | None = None) -> bytes:
    """UTF-8 JSON text; ``allow_nan=False`` so NaN can never leak as invalid JSON."""
    collection = feature_collection(events, start, end, filters=filters, store=store, url_query=url_query)
    return json.dumps(collection, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


def csv_bytes(events: pd.DataFrame, filters: EventFilter | None = None, *, store: str | None = None,
              url_query: dict | None = None) -> bytes:
    """UTF-8 CSV with a ``# key: value`` provenance header and formula-safe cells."""
    meta = provenance(events, filters, store=store, url_query=url_query)
    return csv_text(events, header=meta).encode("utf-8")


def gpkg_bytes(events: pd.DataFrame, filters: EventFilter | None = None, *, store: str | None = None,
               url_query: dict | None = None) -> bytes:
    """A GeoPackage file's bytes (layer ``events`` + table ``export_metadata``).
    Needs at least one event."""
    meta = provenance(events, filters, store=store, url_query=url_query)
    with tempfile.TemporaryDirectory(prefix="event-atlas-export-") as folder:
        path = Path(folder) / "events.gpkg"
        write_gpkg(events, path, metadata=meta)
        return path.read_bytes()


def file_name(start: date | None, end: date | None, suffix: str = "geojson") -> str:
    if start and end:
        return f"events_{start.isoformat()}_{end.isoformat()}.{suffix}"
    return f"events.{suffix}"
