"""Review and correction of stored events: the analyst's decisions.

An analyst accepts or rejects an event, moves it to one of the geocoder's
alternative candidates or to a point, or fixes its date. Each decision is a
:class:`ReviewAction`; :func:`apply_review` is the pure transform (frame in,
new frame out) and :func:`review_event` applies it to a store in one locked,
atomic write.

Every decision is recorded with who and when in ``review_history`` (with the
old and new value of each changed field), and the event keeps its
``event_id``: a later re-ingest of the article recognises the event and
leaves the analyst's version alone (see :mod:`pipelines.merge`).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Callable

import geopandas as gpd
import pandas as pd

from .config import GEODATA_DIR
from .errors import InputError
from .gazetteer.index import FEATURE_PRECISION
from .schema import conform
from .store import update_events

__all__ = ["ReviewAction", "ReviewError", "apply_review", "find_event", "review_event"]

#: Statuses an analyst can set directly; "corrected" follows from a change.
VERDICTS = ("accepted", "rejected", "")
COUNTRIES_CSV = GEODATA_DIR / "gazetteer" / "countries.csv"


class ReviewError(InputError):
    """A review that cannot be applied: unknown event, bad candidate, bad point."""


@dataclass(frozen=True)
class ReviewAction:
    """One decision. Fields left None are not changed.

    :param verdict: "accepted", "rejected", or "" to reopen (a reopened event
        may be updated by the next re-ingest again).
    :param candidate: index into the event's ``candidates`` list.
    :param point: (lat, lon) clicked on the map or typed.
    :param place: a name for the place (with ``point``; keeps the old name
        when None).
    :param date, date_end: the corrected day(s); ``date_end`` defaults to ``date``.
    """

    verdict: str | None = None
    candidate: int | None = None
    point: tuple[float, float] | None = None
    place: str | None = None
    date: date | None = None
    date_end: date | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise ReviewError(f"verdict {self.verdict!r}: use accepted, rejected or '' (reopen)")
        if self.candidate is not None and self.point is not None:
            raise ReviewError("move to a candidate or to a point, not both")
        if self.point is not None:
            lat, lon = self.point
            if not (_finite(lat) and _finite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                raise ReviewError(f"point {lat}, {lon}: latitude must be in -90..90, longitude in -180..180")
        if self.date_end is not None and self.date is None:
            raise ReviewError("date_end needs date")
        if self.date is not None and self.date_end is not None and self.date_end < self.date:
            raise ReviewError(f"date_end {self.date_end} is before date {self.date}")

    @property
    def changes_event(self) -> bool:
        return self.candidate is not None or self.point is not None or self.date is not None

    @property
    def name(self) -> str:
        parts = []
        if self.candidate is not None:
            parts.append("move to candidate")
        if self.point is not None:
            parts.append("move to point")
        if self.date is not None:
            parts.append("fix date")
        if self.verdict is not None:
            parts.append({"accepted": "accept", "rejected": "reject", "": "reopen"}[self.verdict])
        return ", ".join(parts) or "note"


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    with open(COUNTRIES_CSV, encoding="utf-8") as fh:
        return {row["iso"]: row["aliases"].split("|")[0] for row in csv.DictReader(fh)}


def country_name(code: str) -> str:
    return _country_names().get(code.upper(), code.upper()) if code else ""


def find_event(events: pd.DataFrame, event_id: str) -> Any:
    """The index label of the event whose id is ``event_id`` or starts with it
    (at least 6 characters, as the CLI table shows them)."""
    event_id = event_id.strip()
    exact = events.index[events["event_id"] == event_id]
    if len(exact) == 1:
        return exact[0]
    if len(event_id) < 6:
        raise ReviewError(f"no event {event_id!r} (give at least 6 characters of the id)")
    matches = events.index[events["event_id"].str.startswith(event_id)]
    if len(matches) == 0:
        raise ReviewError(f"no event {event_id!r} in the store")
    if len(matches) > 1:
        raise ReviewError(f"{event_id!r} matches {len(matches)} events; give more of the id")
    return matches[0]


def _moved_to_candidate(row: pd.Series, index: int) -> dict[str, Any]:
    try:
        candidates = json.loads(row["candidates"] or "[]")
    except json.JSONDecodeError:
        candidates = []
    if not 0 <= index < len(candidates):
        raise ReviewError(
            f"event {row['event_id']} has {len(candidates)} candidate(s); "
            f"candidate {index} does not exist"
        )
    chosen = candidates[index]
    if row["resolved"]:  # the old place becomes an alternative: the move can be undone
        candidates[index] = {
            "name": row["place"], "lat": float(row["lat"]), "lon": float(row["lon"]),
            "feature_code": row["feature_code"], "admin1": row["admin1"],
            "country_code": row["country_code"],
            "geonameid": None if pd.isna(row["geonameid"]) else int(row["geonameid"]),
            "score": float(row["score"]), "source": row["geocoder"],
        }
    else:
        del candidates[index]
    code = str(chosen.get("country_code") or "")
    return {
        "place": chosen["name"], "lat": float(chosen["lat"]), "lon": float(chosen["lon"]),
        "feature_code": chosen.get("feature_code") or "", "admin1": chosen.get("admin1") or "",
        "admin2": "", "country_code": code,
        "country": row["country"] if code == row["country_code"] else country_name(code),
        "geonameid": chosen.get("geonameid"),
        "geo_precision": FEATURE_PRECISION.get(chosen.get("feature_code") or "", "point"),
        "resolved": True, "candidates": json.dumps(candidates, ensure_ascii=False),
        "geocoder": "review",
    }


def _moved_to_point(row: pd.Series, point: tuple[float, float], name: str | None) -> dict[str, Any]:
    lat, lon = point
    place = name if name else (row["place"] or row["mention"].split(" | ")[0])
    return {
        "place": place, "lat": float(lat), "lon": float(lon), "feature_code": "",
        "geonameid": None, "admin1": "", "admin2": "", "geo_precision": "point",
        "resolved": True, "geocoder": "review",
    }


def _same(old: Any, new: Any) -> bool:
    if (old is None or (isinstance(old, float) and math.isnan(old)) or old is pd.NA) and new is None:
        return True
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return False


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def apply_review(events: gpd.GeoDataFrame, event_id: str, action: ReviewAction, *,
                 by: str, at: datetime | None = None) -> gpd.GeoDataFrame:
    """A new frame with ``action`` applied to one event (``events`` is not changed)."""
    if not by or not by.strip():
        raise ReviewError("a review needs the reviewer's name")
    label = find_event(events, event_id)
    row = events.loc[label]
    updates: dict[str, Any] = {}
    if action.candidate is not None:
        updates.update(_moved_to_candidate(row, action.candidate))
    if action.point is not None:
        updates.update(_moved_to_point(row, action.point, action.place))
    elif action.place is not None and action.candidate is None:
        updates["place"] = action.place
    if action.date is not None:
        end = action.date_end or action.date
        updates.update(date=action.date.isoformat(), date_end=end.isoformat(),
                       date_precision="day", date_basis="review")
    changes = {k: [_jsonable(row[k]), _jsonable(v)] for k, v in updates.items() if not _same(row[k], v)}

    status = row["review_status"]
    if action.verdict is not None:
        status = action.verdict
    if changes:
        status = "rejected" if action.verdict == "rejected" else "corrected"
    stamp = (at or datetime.now(timezone.utc)).replace(microsecond=0).isoformat()
    history = json.loads(row["review_history"] or "[]")
    history.append({"at": stamp, "by": by.strip(), "action": action.name, "note": action.note,
                    "changes": changes})
    updates.update(review_status=status, reviewed_by=by.strip(), reviewed_at=stamp,
                   review_history=json.dumps(history, ensure_ascii=False))

    frame = pd.DataFrame(events.drop(columns="geometry"))  # a copy: the input stays as it was
    for key, value in updates.items():
        frame.at[label, key] = value
    return conform(frame)


def review_event(store: str, event_id: str, action: ReviewAction, *, by: str,
                 at: datetime | None = None) -> pd.Series:
    """Apply one review to the store atomically; returns the event as stored."""
    found: dict[str, Any] = {}

    def transform(events: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        reviewed = apply_review(events, event_id, action, by=by, at=at)
        found["id"] = events.loc[find_event(events, event_id), "event_id"]
        return reviewed

    frame = update_events(store, transform, ids_starting_with=event_id.strip())
    return frame.loc[frame["event_id"] == found["id"]].iloc[0]
