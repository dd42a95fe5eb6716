"""Claims about the same place and time, side by side (pure).

Every event carries ``claims``: each attribution in its evidence sentences,
``{claimant, stance, sentence, start, end}`` (see :mod:`pipelines.tagging`).
:func:`related_claims` gathers, for one event, the claims of every stored
event that may describe the same happening, one row per claim, never merged:

* ``same event``   the event itself;
* ``same place``   the same place (same GeoNames id, else the same point and
                   name, else the same unresolved mention), any article;
* ``nearby``       another point-precision place within ``radius_km``
                   (default 5 km) of a point-precision event;
* ``enclosing area``  the region (admin1) or district (admin2) the event's
                   place lies in, e.g. Belgorod Oblast for Kozinka;
* ``inside area``  for an event about a region or district, the places in it
                   (their admin1/admin2 is the event's place).

Only events whose date interval overlaps the event's own are related. A claim
quoted in several related events (one sentence naming two places) appears
once, under its closest relation.

A row is a ``conflict`` when the rows also hold the opposite stance: someone
asserts what someone denies (another claimant, or the same one contradicting
itself). ``conflicts_with`` names the claimants on the other side. The stance
belongs to a whole sentence, so a denial of something else said in the same
sentence is flagged too: the flag asks an analyst to look, it decides nothing.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from .schema import normalise_space

RELATIONS = ("same event", "same place", "nearby", "enclosing area", "inside area")
COLUMNS = ["event_id", "relation", "date", "date_end", "place", "event_type", "claimant", "stance",
           "sentence", "source", "url", "published", "article_id", "conflict", "conflicts_with"]
DEFAULT_RADIUS_KM = 5.0
_AREA_PRECISIONS = ("region", "district")


def related_claims(events: pd.DataFrame, event_id: str, *, radius_km: float = DEFAULT_RADIUS_KM) -> pd.DataFrame:
    """Every claim about the event's place (or a place nearby, or its enclosing
    or enclosed areas) on overlapping dates, with who made it and its stance.

    ``events`` is a frame with the schema's columns (the store's ``read``);
    ``event_id`` may be a unique prefix. Raises ``KeyError`` when no event has it."""
    if events is None or len(events) == 0:
        raise KeyError(event_id)
    ids = events["event_id"].astype(str)
    match = events[ids == event_id]
    if match.empty:
        match = events[ids.str.startswith(event_id)]
    if len(match) != 1:
        raise KeyError(event_id)
    target = match.iloc[0]
    start, end = str(target["date"]), str(target["date_end"] or target["date"])
    overlapping = events[(events["date"].astype(str) <= end)
                         & (events["date_end"].where(events["date_end"] != "", events["date"]).astype(str) >= start)]
    overlapping = overlapping[_may_relate(overlapping, target, radius_km)]
    rows: list[dict] = []
    for _, other in overlapping.iterrows():
        relation = _relation(target, other, radius_km)
        if relation is None:
            continue
        for claim in _claims_of(other):
            rows.append({
                "event_id": other["event_id"], "relation": relation, "date": other["date"],
                "date_end": other["date_end"], "place": other["place"] or other["mention"],
                "event_type": _get(other, "event_type"), "claimant": claim["claimant"],
                "stance": claim["stance"], "sentence": claim["sentence"], "source": other["source"],
                "url": other["url"], "published": other["published"], "article_id": other["article_id"],
                "_start": claim.get("start"),
            })
    frame = pd.DataFrame(rows, columns=[*COLUMNS[:-2], "_start"])
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame["_rank"] = frame["relation"].map(RELATIONS.index)
    frame = frame.sort_values(["_rank", "date", "article_id", "_start"], kind="stable")
    frame = frame.drop_duplicates(["article_id", "claimant", "stance", "sentence"], keep="first")
    frame = frame.drop(columns=["_rank", "_start"]).reset_index(drop=True)
    _flag_conflicts(frame)
    return frame[COLUMNS]


def has_conflict(claims_json: str) -> bool:
    """True when one event's own claims hold both stances (a claim and its denial)."""
    stances = {c.get("stance") for c in _load(claims_json)}
    return "asserts" in stances and "denies" in stances


def _flag_conflicts(frame: pd.DataFrame) -> None:
    by_stance = {s: list(dict.fromkeys(frame.loc[frame["stance"] == s, "claimant"])) for s in ("asserts", "denies")}
    opposite = {"asserts": by_stance["denies"], "denies": by_stance["asserts"]}
    conflict, others = [], []
    for stance in frame["stance"]:
        names = opposite.get(stance, [])
        conflict.append(bool(names))
        others.append(json.dumps(names, ensure_ascii=False))
    frame["conflict"] = conflict
    frame["conflicts_with"] = others


def _claims_of(event: pd.Series) -> list[dict]:
    claims = [c for c in _load(_get(event, "claims")) if isinstance(c, dict)]
    if claims:
        return [{"claimant": str(c.get("claimant", "")), "stance": str(c.get("stance", "")),
                 "sentence": str(c.get("sentence", "")), "start": c.get("start")} for c in claims]
    # an event stored before claims were recorded: its own sentence, said by its source
    claimant = _get(event, "claimant") or str(event["source"])
    return [{"claimant": claimant, "stance": _get(event, "claim_stance") or "asserts",
             "sentence": str(event["sentence"]), "start": None}]


def _relation(target: pd.Series, other: pd.Series, radius_km: float) -> str | None:
    if other["event_id"] == target["event_id"]:
        return "same event"
    if _place_key(other) == _place_key(target):
        return "same place"
    t_area, o_area = target["geo_precision"] in _AREA_PRECISIONS, other["geo_precision"] in _AREA_PRECISIONS
    if (not t_area and not o_area and target["geo_precision"] == "point" and other["geo_precision"] == "point"
            and _located(target) and _located(other)
            and _km(target["lat"], target["lon"], other["lat"], other["lon"]) <= radius_km):
        return "nearby"
    if o_area and _fold(other["place"]) and _fold(other["place"]) in _areas_of(target):
        return "enclosing area"
    if t_area and _fold(target["place"]) and _fold(target["place"]) in _areas_of(other):
        return "inside area"
    return None


def _may_relate(frame: pd.DataFrame, target: pd.Series, radius_km: float) -> pd.Series:
    """A vectorised superset of :func:`_relation`, so a store of 100,000 events
    is not walked row by row."""
    place = _folded(frame["place"])
    mention = _folded(frame["mention"])
    own = _fold(target["place"])
    mask = (place == own) | (mention == _fold(target["mention"])) | place.isin(_areas_of(target))
    if own:
        for column in ("admin1", "admin2"):
            mask |= _folded(frame[column]) == own
    gid = target.get("geonameid")
    if gid is not None and not pd.isna(gid):
        mask |= frame["geonameid"] == gid
    if _located(target):
        dlat = radius_km / 111.0 + 1e-9
        dlon = dlat / max(0.01, math.cos(math.radians(float(target["lat"]))))
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        mask |= ((lat - float(target["lat"])).abs() <= dlat) & ((lon - float(target["lon"])).abs() <= dlon)
    return mask.fillna(False).astype(bool)


def _folded(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.replace(r"\s+", " ", regex=True).str.strip().str.casefold()


def _areas_of(event: pd.Series) -> set[str]:
    own = _fold(event["place"])
    return {a for a in (_fold(event["admin1"]), _fold(event["admin2"])) if a and a != own}


def _place_key(event: pd.Series) -> str:
    gid = event.get("geonameid")
    if gid is not None and not pd.isna(gid):
        return f"gn:{int(gid)}"
    if bool(event["resolved"]) and _located(event):
        return f"pt:{float(event['lat']):.4f},{float(event['lon']):.4f}:{_fold(event['place'])}"
    return f"unresolved:{_fold(event['mention'])}"


def _located(event: pd.Series) -> bool:
    return bool(event["resolved"]) and not pd.isna(event["lat"]) and not pd.isna(event["lon"])


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(float(lon2) - float(lon1)) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def _fold(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return normalise_space(str(value)).casefold()


def _get(event: pd.Series, column: str) -> str:
    value = event.get(column, "")
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _load(text: str) -> list:
    try:
        value = json.loads(text or "[]")
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []
