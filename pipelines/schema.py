"""The event schema: one row per (article, place, date) claim.

An :class:`Event` is what the pipeline produces and what the store keeps. In a
frame the events are a GeoDataFrame in EPSG:4326 whose columns are
:data:`EVENT_COLUMNS` plus ``geometry`` (a Point, or None when unresolved).
Dates are ISO strings (``YYYY-MM-DD``) everywhere so that every export is
valid JSON without conversion.

Column reference (also in README.md):

=================  ===========================================================
event_id           stable id: hash of (article_id, place key, date)
article_id         hash of the article's normalised text (whitespace-folded)
date               first day the claim covers, ISO
date_end           last day it covers (== date for a single day; later for
                   ranges such as "22-23 May" and for month/year precision)
date_precision     day | month | year
date_basis         explicit (a date in the sentence), relative ("yesterday"
                   resolved against the publication date), article (the
                   sentence has no date; the article's main event date is
                   used), published (no date anywhere; publication date)
place              resolved place name ("" when unresolved)
mention            the words as written in the article; when the same place
                   and date is named with several spellings in one article,
                   they are joined with " | " ("Kozinka | Kozynka …")
admin1, admin2     first/second-level administrative area names
country            country name; country_code the ISO 3166-1 alpha-2 code
feature_code       GeoNames feature code (PPL, ADM1, ADM2, PPLX …)
geonameid          GeoNames id when the place comes from GeoNames, else <NA>
geo_precision      point | district | region | country
lat, lon           WGS84 degrees; NaN when unresolved
resolved           False when the mention could not be geocoded (kept for
                   review, no geometry)
score              resolution confidence 0..1
candidates         JSON list of the next best places (name, lat, lon, …)
sentence           the evidence, verbatim from the article (first sentence)
evidence           JSON list of the supporting {mention, sentence, start,
                   end} with character offsets into the article text (the
                   first 50; a sentence over 1,000 characters is quoted as
                   a verbatim window around the mention)
source             article title or file name
url                article URL when known, else ""
published          publication date, ISO, or "" when unknown
geocoder           which geocoder answered (gazetteer, overlay, nominatim …)
ingested_at        UTC timestamp of the ingest, ISO 8601
review_status      "" (not reviewed), accepted, rejected or corrected
reviewed_by        who reviewed it last ("" when never)
reviewed_at        when, UTC ISO 8601
review_history     JSON list of every review action: {at, by, action, note,
                   changes: {field: [old, new]}}; the pipeline's original
                   values stay recoverable after a correction
event_type         taxonomy id from pipelines/tagging.py (armed_clash,
                   shelling_strike, incursion_movement, displacement,
                   statement), "" when no rule applies
actors             JSON list of canonical actor names named in the
                   event's evidence sentences (geodata/actors.csv plus
                   generic patterns), "[]" when none
claimant           who makes the claim: the first attribution in the
                   evidence ("X said/reported/denied", "according to X"),
                   canonical when known; the article's source by default
claim_stance       asserts | denies | "" (no attribution found)
claims             JSON list of every attribution in the evidence:
                   {claimant, stance, sentence, start, end} (offsets into
                   the article text, of the sentence); one event can be
                   reported by several speakers in one article
=================  ===========================================================

Reviewed events (any ``review_status``) are the analyst's record: a
re-ingest of their article never overwrites or removes them. A correction
keeps the ``event_id``, so the re-ingested original is recognised and
skipped.
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Iterable

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

CRS = "EPSG:4326"

DATE_PRECISIONS = ("day", "month", "year")
DATE_BASES = ("explicit", "relative", "article", "published", "review")
REVIEW_STATUSES = ("", "accepted", "rejected", "corrected")
CLAIM_STANCES = ("", "asserts", "denies")
GEO_PRECISIONS = ("point", "district", "region", "country")


@dataclass(frozen=True)
class Candidate:
    """One possible resolution of a mention, as offered for review."""

    name: str
    lat: float
    lon: float
    feature_code: str
    admin1: str
    country_code: str
    geonameid: int | None
    score: float
    source: str


@dataclass
class Event:
    """A dated, located claim made by one article. See the module docstring."""

    article_id: str
    date: str
    date_end: str
    date_precision: str
    date_basis: str
    place: str
    mention: str
    sentence: str
    source: str
    published: str
    evidence: str = "[]"
    geo_precision: str = "point"
    admin1: str = ""
    admin2: str = ""
    country: str = ""
    country_code: str = ""
    feature_code: str = ""
    geonameid: int | None = None
    lat: float | None = None
    lon: float | None = None
    resolved: bool = False
    score: float = 0.0
    candidates: str = "[]"
    url: str = ""
    geocoder: str = ""
    ingested_at: str = ""
    review_status: str = ""
    reviewed_by: str = ""
    reviewed_at: str = ""
    review_history: str = "[]"
    event_type: str = ""
    actors: str = "[]"
    claimant: str = ""
    claim_stance: str = ""
    claims: str = "[]"
    event_id: str = field(default="")

    def __post_init__(self) -> None:
        if self.date_precision not in DATE_PRECISIONS:
            raise ValueError(f"date_precision {self.date_precision!r}")
        if self.date_basis not in DATE_BASES:
            raise ValueError(f"date_basis {self.date_basis!r}")
        if self.geo_precision not in GEO_PRECISIONS:
            raise ValueError(f"geo_precision {self.geo_precision!r}")
        if self.review_status not in REVIEW_STATUSES:
            raise ValueError(f"review_status {self.review_status!r}")
        if not self.event_id:
            self.event_id = make_event_id(self.article_id, self.place_key, self.date)

    @property
    def place_key(self) -> str:
        """What makes two mentions the same place within one article."""
        if self.geonameid is not None:
            return f"gn:{self.geonameid}"
        if self.resolved:
            return f"pt:{self.lat:.4f},{self.lon:.4f}:{self.place.casefold()}"
        return f"unresolved:{normalise_space(self.mention).casefold()}"


EVENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Event))
#: Columns added after the first release, with the value older stores and
#: imported files get when they lack them.
LATER_COLUMNS: dict[str, str] = {
    "review_status": "",
    "reviewed_by": "",
    "reviewed_at": "",
    "review_history": "[]",
    "event_type": "",
    "actors": "[]",
    "claimant": "",
    "claim_stance": "",
    "claims": "[]",
}

# Column dtypes in a frame; geonameid is a nullable integer.
_DTYPES = {
    "geonameid": "Int64",
    "lat": "float64",
    "lon": "float64",
    "resolved": "bool",
    "score": "float64",
}


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def article_id_for(text: str) -> str:
    """Same text, whatever its whitespace or file name, gives the same id."""
    return hashlib.sha1(normalise_space(text).encode("utf-8")).hexdigest()[:16]


def iso_day(value: object) -> date | None:
    """The day an ISO date cell holds (its first 10 characters: "2023-05" is
    no day); None for an empty, missing or malformed cell."""
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def make_event_id(article_id: str, place_key: str, date: str) -> str:
    raw = f"{article_id}|{place_key}|{date}".encode("utf-8")
    return hashlib.sha1(raw).hexdigest()[:16]


def candidates_json(candidates: Iterable[Candidate]) -> str:
    """The ``candidates`` column's JSON. A shallow dict per candidate (its
    fields are str, float and int), not ``asdict``'s deep copy, and one
    encoder for every call: this runs for every resolved event of an ingest."""
    return _JSON.encode([{f: getattr(c, f) for f in _CANDIDATE_FIELDS} for c in candidates])


_CANDIDATE_FIELDS = tuple(f.name for f in fields(Candidate))
#: One C-level getter for every field (a generator of getattr calls was a third
#: of the time of building the frame of a 2,000-article ingest).
_EVENT_VALUES = operator.attrgetter(*EVENT_COLUMNS)
_JSON = json.JSONEncoder(ensure_ascii=False)


def empty_events_frame() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "object")) for c in EVENT_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def event_values(event: Event) -> tuple:
    """An event's field values in :data:`EVENT_COLUMNS` order (``Event(*values)``
    rebuilds it). Every field is a scalar, so this equals ``dataclasses.astuple``
    without its deep copy, which was most of the cost of building an ingest's
    frame and of sending events back from Dask workers."""
    return _EVENT_VALUES(event)


def events_to_frame(events: Iterable[Event]) -> gpd.GeoDataFrame:
    """Events → GeoDataFrame with the schema's columns, dtypes and CRS."""
    rows = [event_values(e) for e in events]
    if not rows:
        return empty_events_frame()
    # object columns: pandas would infer Arrow strings that conform() turns back into objects
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS), dtype=object)
    return conform(frame)


def conform(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Give any frame with the schema's columns the schema's dtypes and a geometry
    built from lat/lon (None where unresolved)."""
    missing = [c for c in EVENT_COLUMNS if c not in frame.columns and c not in LATER_COLUMNS]
    if missing:
        raise ValueError(f"events frame lacks columns: {', '.join(missing)}")
    frame = frame.reindex(columns=list(EVENT_COLUMNS))
    for col, default in LATER_COLUMNS.items():
        frame[col] = frame[col].where(frame[col].notna() & (frame[col] != ""), default)
    for col in EVENT_COLUMNS:
        dtype = _DTYPES.get(col)
        if dtype == "bool":
            frame[col] = frame[col].fillna(False).astype(bool)
        elif dtype:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(dtype)
        elif not (frame[col].dtype == object and pd.api.types.infer_dtype(frame[col], skipna=False) == "string"):
            frame[col] = frame[col].where(frame[col].notna(), "").astype(str).astype(object)
    # Vectorised: 100,000 events in milliseconds, not a Python loop per point.
    located = (frame["resolved"] & frame["lat"].notna() & frame["lon"].notna()).to_numpy(dtype=bool)
    points = gpd.points_from_xy(frame["lon"].where(located, 0.0), frame["lat"].where(located, 0.0), crs=CRS)
    geometry = gpd.GeoSeries(points, index=frame.index, crs=CRS)
    if not located.all():
        geometry[~located] = None
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)
