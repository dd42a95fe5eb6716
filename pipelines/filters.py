"""The event filters shared by the dashboard and ``python -m pipelines export``.

One pure function, :func:`apply_filters`, so that what the dashboard shows,
what its downloads hold and what the CLI exports for the same filters are the
same rows. It takes a frame and returns a new one; it never mutates its input.

Every filter is optional and they combine with AND; the values of one filter
combine with OR (``types=("armed_clash", "shelling_strike")`` keeps either):

=============  ==============================================================
start, end     the event's [date, date_end] interval overlaps [start, end],
               both ends included (a "May 2023" event is in a 22 May window)
types          ``event_type`` is one of these; :data:`NONE` stands for events
               with no type
actors         one of these names is in the event's ``actors`` JSON list
sources        ``source`` is one of these
precisions     ``geo_precision`` is one of these; :data:`UNRESOLVED` stands
               for mentions that could not be located
statuses       ``review_status`` is one of these; :data:`UNREVIEWED` stands
               for "" (never reviewed)
text           every word of it occurs (case-insensitive) in the place, the
               mention or the sentence; "quoted words" count as one phrase
bbox           (west, south, east, north): the point lies inside; unresolved
               events have no point and are left out
=============  ==============================================================

Columns added to the schema later (``event_type``, ``actors``) may be absent
from an old frame: an absent column reads as empty everywhere.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from typing import Mapping

import pandas as pd

from .errors import InputError

#: Stands for events whose ``event_type`` is "".
NONE = "none"
#: Stands for mentions with no location, in the ``geo_precision`` filter.
UNRESOLVED = "unresolved"
#: Stands for ``review_status`` "" (never reviewed).
UNREVIEWED = "unreviewed"
REVIEW_CHOICES = (UNREVIEWED, "accepted", "rejected", "corrected")
PRECISION_CHOICES = ("point", "district", "region", "country", UNRESOLVED)
#: Columns the free-text filter searches.
TEXT_COLUMNS = ("place", "mention", "sentence")

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class EventFilter:
    """What to keep. The empty filter keeps everything."""

    start: date | None = None
    end: date | None = None
    types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    text: str = ""
    bbox: BBox | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("types", "actors", "sources", "precisions", "statuses"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(dict.fromkeys(str(v) for v in value)))
        object.__setattr__(self, "text", " ".join(str(self.text or "").split()))
        bad = [p for p in self.precisions if p not in PRECISION_CHOICES]
        if bad:
            raise InputError(f"geo precision {bad[0]!r}: use one of {', '.join(PRECISION_CHOICES)}")
        bad = [s for s in self.statuses if s not in REVIEW_CHOICES]
        if bad:
            raise InputError(f"review status {bad[0]!r}: use one of {', '.join(REVIEW_CHOICES)}")
        if self.start and self.end and self.start > self.end:
            raise InputError(f"start {self.start} is after end {self.end}")
        if self.bbox is not None:
            west, south, east, north = (float(v) for v in self.bbox)
            if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
                raise InputError(f"bbox {self.bbox}: need west,south,east,north in degrees with south <= north")
            object.__setattr__(self, "bbox", (west, south, east, north))

    def is_empty(self) -> bool:
        return self.base() == EventFilter()

    def base(self) -> "EventFilter":
        """Just the filter (a subclass may carry more state, e.g. the dashboard's view)."""
        return EventFilter(**self.as_kwargs())

    def without_dates(self) -> "EventFilter":
        return EventFilter(**{**self.as_kwargs(), "start": None, "end": None})

    def as_kwargs(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(EventFilter)}

    def describe(self) -> dict:
        """The filters as plain JSON values (the provenance of an export):
        ``start`` and ``end`` always (ISO, or None), then only the other
        filters that are set (lists for the multi-valued ones)."""
        out: dict = {"start": self.start.isoformat() if self.start else None,
                     "end": self.end.isoformat() if self.end else None}
        for name in ("types", "actors", "sources", "precisions", "statuses"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.text:
            out["text"] = self.text
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
        return out

    def cli_args(self) -> list[str]:
        """The ``python -m pipelines export`` options that select the same events."""
        args: list[str] = []
        if self.start:
            args += ["--start", self.start.isoformat()]
        if self.end:
            args += ["--end", self.end.isoformat()]
        for name, flag in (("types", "--type"), ("actors", "--actor"), ("sources", "--source"),
                           ("precisions", "--precision"), ("statuses", "--status")):
            for value in getattr(self, name):
                args += [flag, value]
        if self.text:
            args += ["--text", self.text]
        if self.bbox is not None:
            box = format_bbox(self.bbox)
            # "--bbox -10,…" would read as an option: a west of the meridian needs "--bbox=…".
            args += [f"--bbox={box}"] if box.startswith("-") else ["--bbox", box]
        return args

    def cli_command(self) -> str:
        return shlex.join(["python", "-m", "pipelines", "export", *self.cli_args()])


def column(events: pd.DataFrame, name: str, default: str = "") -> pd.Series:
    """``events[name]`` as strings, or ``default`` everywhere when the column is absent."""
    if name not in events.columns:
        return pd.Series(default, index=events.index, dtype=object)
    return events[name].where(events[name].notna(), default).astype(str)


@lru_cache(maxsize=65536)
def parse_actors(value: str) -> tuple[str, ...]:
    """The names of an ``actors`` cell: a JSON list ("[]" or "" for none);
    a bare name that is not JSON counts as one actor."""
    text = (value or "").strip()
    if not text or text == "[]":
        return ()
    try:
        parsed = json.loads(text)
    except ValueError:
        return (text,)
    if isinstance(parsed, str):
        return (parsed,) if parsed else ()
    if not isinstance(parsed, list):
        return ()
    return tuple(str(a.get("name", "")) if isinstance(a, dict) else str(a) for a in parsed if a)


def actor_lists(events: pd.DataFrame) -> pd.Series:
    return column(events, "actors", "[]").map(parse_actors)


def located(events: pd.DataFrame) -> pd.Series:
    resolved = events["resolved"].astype(bool) if "resolved" in events.columns else pd.Series(True, index=events.index)
    return resolved & events["lat"].notna() & events["lon"].notna()


def text_terms(text: str) -> list[str]:
    """Words of a free-text query, casefolded; "quoted words" stay together."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unbalanced quote: plain words
        words = text.replace('"', " ").split()
    return [w.casefold() for w in words if w.strip()]


def date_mask(events: pd.DataFrame, start: date | None, end: date | None) -> pd.Series:
    """[date, date_end] overlaps [start, end] (ISO strings compare in date order)."""
    keep = pd.Series(True, index=events.index)
    if start is not None:
        ends = events["date_end"].where(events["date_end"].astype(str) != "", events["date"])
        keep &= ends.astype(str) >= start.isoformat()
    if end is not None:
        keep &= events["date"].astype(str) <= end.isoformat()
    return keep


def mask(events: pd.DataFrame, f: EventFilter) -> pd.Series:
    """True for the rows ``f`` keeps."""
    keep = date_mask(events, f.start, f.end)
    if f.types:
        types = column(events, "event_type")
        wanted = {"" if t == NONE else t for t in f.types}
        keep &= types.isin(wanted)
    if f.actors:
        wanted = set(f.actors)
        keep &= actor_lists(events).map(lambda names: not wanted.isdisjoint(names)).astype(bool)
    if f.sources:
        keep &= column(events, "source").isin(set(f.sources))
    if f.precisions:
        on_map = located(events)
        precision = column(events, "geo_precision").where(on_map, UNRESOLVED)
        keep &= precision.isin(set(f.precisions))
    if f.statuses:
        wanted = {"" if s == UNREVIEWED else s for s in f.statuses}
        keep &= column(events, "review_status").isin(wanted)
    if f.text:
        haystack = column(events, TEXT_COLUMNS[0])
        for name in TEXT_COLUMNS[1:]:
            haystack = haystack + "\n" + column(events, name)
        haystack = haystack.str.casefold()
        for term in text_terms(f.text):
            keep &= haystack.str.contains(term, regex=False)
    if f.bbox is not None:
        west, south, east, north = f.bbox
        lon, lat = events["lon"], events["lat"]
        lon_ok = (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
        keep &= located(events) & lon_ok & (lat >= south) & (lat <= north)
    return keep.fillna(False).astype(bool)


def apply_filters(events: pd.DataFrame, f: EventFilter) -> pd.DataFrame:
    """The rows of ``events`` that ``f`` keeps, as a new frame (same type, same order)."""
    if f.is_empty() or len(events) == 0:
        return events.copy()
    return events.loc[mask(events, f)].copy()


# --- the values offered for each filter ---------------------------------------

def type_options(counts: Mapping[str, int]) -> list[str]:
    """Event types of a {type: count} facet ("" untyped), most frequent first,
    then by id (:data:`NONE`, untyped, last of its count)."""
    merged: dict[str, int] = {}
    for t, n in counts.items():
        key = NONE if str(t) == "" else str(t)
        merged[key] = merged.get(key, 0) + int(n)
    return sorted(merged, key=lambda t: (-merged[t], t == NONE, t))


def actor_options(counts: Mapping[str, int]) -> list[str]:
    """Actor names of a {name: count} facet, most frequent first, then by name."""
    return sorted((str(n) for n in counts if str(n)), key=lambda n: (-int(counts[n]), n.casefold()))


def source_options(counts: Mapping[str, int]) -> list[str]:
    """Sources of a {source: count} facet ("" left out), most frequent first, then by name."""
    return sorted((str(s) for s in counts if str(s)), key=lambda s: (-int(counts[s]), s.casefold()))


def type_choices(events: pd.DataFrame) -> list[str]:
    """Event types present, most frequent first, then by id (:data:`NONE`, untyped, last of its count)."""
    return type_options(column(events, "event_type").value_counts().to_dict())


def actor_choices(events: pd.DataFrame) -> list[str]:
    """Actor names present, most frequent first, then by name."""
    counts: dict[str, int] = {}
    for names in actor_lists(events):
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return actor_options(counts)


def source_choices(events: pd.DataFrame) -> list[str]:
    return source_options(column(events, "source").value_counts().to_dict())


def format_bbox(bbox: BBox) -> str:
    """``"west,south,east,north"`` with each number as short as it reads back
    exactly (a link or a command reproduces the same box)."""
    def short(v: float) -> str:
        text = f"{v:g}"
        return text if float(text) == v else repr(float(v))
    return ",".join(short(float(v)) for v in bbox)


def parse_bbox(text: str) -> BBox:
    """``"west,south,east,north"`` → a bbox (the CLI's ``--bbox``)."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InputError(f"bbox {text!r}: need four numbers west,south,east,north") from None
    if len(values) != 4:
        raise InputError(f"bbox {text!r}: need four numbers west,south,east,north")
    return EventFilter(bbox=values).bbox  # validated
