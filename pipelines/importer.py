"""Import events from a GeoJSON FeatureCollection: our own exports, or hand-made files.

Why all-or-nothing: the store is the analysts' record, so a file with one bad
feature imports nothing. :func:`parse_feature_collection` is pure (text in,
events or one :class:`GeoJSONRejected` listing every problem out);
:func:`read_geojson` does the reading and the size check, and
:func:`import_geojson` the write. The CLI wires them together.

A feature needs (see README "Importing events"):

* ``geometry``: a Point ``[lon, lat]`` (WGS84, RFC 7946), or ``null`` for an
  unresolved mention kept for review;
* ``properties.date``: ``YYYY-MM-DD``;
* a name: ``properties.place``, else ``name``, else ``mention``.

Every other schema column is optional; an absent one takes the default given
in :data:`DEFAULTS` (or the :class:`~pipelines.schema.Event` default), and an
absent ``event_id`` is computed as for ingested events, so importing the same
features twice adds nothing. Properties that are not schema columns are ignored.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import MISSING, dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd

from .errors import InputError
from . import schema
from .schema import DATE_BASES, DATE_PRECISIONS, GEO_PRECISIONS, Event, article_id_for, events_to_frame
from .store import append_events, read_events

#: At most this many problems are listed; the rest are counted.
MAX_PROBLEMS = 20
#: The article_id of hand-made features that give neither url nor source.
IMPORTED_ARTICLE = "imported events"
#: Defaults for a hand-made feature, where they differ from the Event's own.
DEFAULTS: dict[str, Any] = {
    "date_precision": "day",
    "date_basis": "explicit",
    "geo_precision": "point",
    "published": "",
    "sentence": "",
}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHOICES = {"date_precision": DATE_PRECISIONS, "date_basis": DATE_BASES, "geo_precision": GEO_PRECISIONS,
            "review_status": getattr(schema, "REVIEW_STATUSES", ("",))}
_DATE_FIELDS = ("date", "date_end", "published")
_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}


class GeoJSONRejected(InputError):
    """A file that imports nothing: one line per problem, naming feature and field."""

    def __init__(self, name: str, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        lines = [f"{name}: {len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing imported"]
        lines += [f"  {p}" for p in shown]
        if more:
            lines.append(f"  … and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class ImportReport:
    imported: int
    already_stored: int
    already_stored_ids: list[str]
    total_in_store: int


def _shown(value: Any) -> str:
    """A value for an error line: short, one line, control characters escaped."""
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else ascii(value)[1:-1]
    return text if len(text) <= 40 else text[:37] + "…"


def _kind(annotation: str) -> tuple[str, bool]:
    """('str' | 'int' | 'float' | 'bool', may be null) from a field annotation."""
    parts = [p.strip() for p in annotation.split("|")]
    return next(p for p in parts if p != "None"), "None" in parts


def _typed(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return True


def _iso(value: str) -> date | None:
    if not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _point(geometry: Any, problem) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON Point; None for null geometry or after a problem."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        problem("geometry", f"must be a Point object or null, not {_shown(geometry)}")
        return None
    if geometry.get("type") != "Point":
        problem("geometry.type", f"must be \"Point\", not {_shown(geometry.get('type'))}")
        return None
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) not in (2, 3) or not all(_typed(c, "float") for c in coords):
        problem("geometry.coordinates", f"must be [lon, lat] numbers, not {_shown(coords)}")
        return None
    lon, lat = float(coords[0]), float(coords[1])
    if not -180 <= lon <= 180:
        problem("geometry.coordinates", f"longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        problem("geometry.coordinates", f"latitude {lat} is outside -90..90 (is it [lat, lon]? GeoJSON is [lon, lat])")
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def feature_event(feature: Any, *, source: str, imported_at: str, problem) -> Event | None:
    """One feature → an Event, or None after reporting its problems through
    ``problem(field, message)``."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        problem("type", "must be a GeoJSON Feature object")
        return None
    if "geometry" not in feature:
        problem("geometry", "missing (use null for an unresolved mention)")
        return None
    props = feature.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        problem("properties", "must be an object")
        return None
    point = _point(feature["geometry"], problem)
    if feature["geometry"] is not None and point is None:
        return None

    kwargs: dict[str, Any] = {}
    ok = True
    for f in fields(Event):
        if f.name not in props or props[f.name] is None:
            continue
        value = props[f.name]
        if f.name == "date_end" and value == "":
            continue  # same as date
        kind, nullable = _kind(str(f.type))
        if not _typed(value, kind):
            problem(f"properties.{f.name}", f"must be {_KIND_NAMES.get(kind, kind)}"
                    f"{' or null' if nullable else ''}, not {_shown(value)}")
            ok = False
            continue
        kwargs[f.name] = value
    if not ok:
        return None

    for name in _DATE_FIELDS:
        if name in kwargs and _iso(kwargs[name]) is None and not (name == "published" and kwargs[name] == ""):
            problem(f"properties.{name}", f"must be a date YYYY-MM-DD, not {_shown(kwargs[name])}")
            ok = False
    if "date" not in kwargs:
        problem("properties.date", "missing (YYYY-MM-DD)")
        ok = False
    for name, allowed in _CHOICES.items():
        if name in kwargs and kwargs[name] not in allowed:
            problem(f"properties.{name}", f"must be one of {', '.join(allowed)}, not {_shown(kwargs[name])}")
            ok = False
    if "score" in kwargs and not 0 <= kwargs["score"] <= 1:
        problem("properties.score", f"must be between 0 and 1, not {kwargs['score']}")
        ok = False
    for name in ("candidates", "evidence"):
        if name in kwargs:
            try:
                listed = isinstance(json.loads(kwargs[name]), list)
            except json.JSONDecodeError:
                listed = False
            if not listed:
                problem(f"properties.{name}", "must be a JSON list in a string, e.g. \"[]\"")
                ok = False
    if not ok:
        return None
    if "date_end" in kwargs and kwargs["date_end"] < kwargs["date"]:
        problem("properties.date_end", f"{kwargs['date_end']} is before date {kwargs['date']}")
        return None

    name = kwargs.get("place") or (props.get("name") if isinstance(props.get("name"), str) else "") or kwargs.get("mention")
    if not name or not name.strip():
        problem("properties.place", "missing: give place (or name, or mention)")
        return None
    resolved = point is not None
    if kwargs.get("resolved", resolved) != resolved:
        problem("properties.resolved", f"is {kwargs['resolved']} but geometry is {'a Point' if resolved else 'null'}")
        return None
    if point is not None:
        for axis, value in (("lon", point[0]), ("lat", point[1])):
            given = kwargs.get(axis)
            if given is not None and abs(given - value) > 1e-5:
                problem(f"properties.{axis}", f"{given} disagrees with the geometry ({value})")
                return None
            kwargs.setdefault(axis, value)  # the properties keep full precision; the geometry is rounded
    else:
        kwargs["lat"] = kwargs["lon"] = None
    kwargs["resolved"] = resolved
    if resolved:
        kwargs.setdefault("place", name)
        kwargs.setdefault("geocoder", "import")
    else:
        kwargs.setdefault("place", "")
    kwargs.setdefault("mention", name)
    kwargs.setdefault("date_end", kwargs["date"])
    kwargs.setdefault("article_id", article_id_for(kwargs.get("url") or kwargs.get("source") or IMPORTED_ARTICLE))
    kwargs.setdefault("source", source)
    kwargs.setdefault("ingested_at", imported_at)
    for key, value in DEFAULTS.items():
        kwargs.setdefault(key, value)
    for f in fields(Event):  # required fields the defaults above do not cover (a new schema column)
        if f.default is MISSING and f.default_factory is MISSING and f.name not in kwargs:
            kwargs[f.name] = ""
    return Event(**kwargs)


def parse_feature_collection(text: str, *, name: str, source: str | None = None,
                             imported_at: str = "") -> list[Event]:
    """Every feature of a GeoJSON FeatureCollection as an Event, or
    :class:`GeoJSONRejected` listing every problem (nothing is half-parsed)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{name}: not usable JSON (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{name}: not a GeoJSON FeatureCollection (type is {_shown(found)})")
    features = doc.get("features")
    if not isinstance(features, list):
        raise InputError(f"{name}: 'features' must be a list")
    problems: list[str] = []
    events: list[Event] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        given_id = feature.get("properties", {}).get("event_id") if isinstance(feature, dict) and isinstance(feature.get("properties"), dict) else None
        label = f"feature {index}" + (f" (event_id {_shown(given_id)})" if isinstance(given_id, str) and given_id else "")

        def problem(field: str, message: str, label: str = label) -> None:
            problems.append(f"{label}: {field}: {message}")

        event = feature_event(feature, source=source or name, imported_at=imported_at, problem=problem)
        if event is None:
            continue
        if event.event_id in seen:
            problem("properties.event_id", f"{event.event_id} is also feature {seen[event.event_id]}")
            continue
        seen[event.event_id] = index
        events.append(event)
    if problems:
        raise GeoJSONRejected(name, problems)
    return events


def read_geojson(path: Path, *, max_bytes: int) -> str:
    """The file's text, refusing what is missing, too large or not UTF-8."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit (EVENT_ATLAS_MAX_ARTICLE_BYTES)")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None


def import_geojson(path: Path, store: str, *, max_bytes: int, imported_at: str = "") -> ImportReport:
    """Validate every feature, then append the new ones in one atomic write."""
    events = parse_feature_collection(read_geojson(path, max_bytes=max_bytes), name=str(path),
                                      source=path.name, imported_at=imported_at)
    frame: gpd.GeoDataFrame = events_to_frame(events)
    known = set(read_events(store)["event_id"])
    written = append_events(store, frame)
    return ImportReport(written.added, written.already_stored,
                        [e for e in frame["event_id"] if e in known], written.total)
