"""Rank gazetteer candidates for one name, given what else the text says.

Population and feature class are priors; the context (countries, first-level
areas and positions of the other places in the same article) decides between
homonyms: of the many Kozinkas, the one in Belgorod Oblast wins when the
article talks about the Belgorod region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .index import FEATURE_PRECISION, Place

MATCH_PENALTY = {0: 0.0, 1: 0.12, 2: 0.3}


@dataclass(frozen=True)
class Context:
    """What the rest of a text (or ``--near``) says about where it is."""

    countries: frozenset[str] = frozenset()
    admin1: frozenset[tuple[str, str]] = frozenset()
    points: tuple[tuple[float, float], ...] = field(default=())

    def merged(self, other: "Context") -> "Context":
        return Context(
            self.countries | other.countries, self.admin1 | other.admin1, self.points + other.points
        )

    @property
    def empty(self) -> bool:
        return not (self.countries or self.admin1 or self.points)


def prior(place: Place) -> float:
    """0..1 from population; areas count a little less than the towns named like
    them, but a country (or continent) named by its own name is that country:
    "Mexico" is Mexico before it is Mexico City."""
    value = min(1.0, math.log10(place.population + 1) / 7.0)
    if place.match == 0 and place.feature_code in _COUNTRY_CODES:  # place.is_country, without two property calls
        value += 0.3
    if place.feature_code == "ADM2":
        value -= 0.1
    elif place.feature_code == "ADM1":
        value -= 0.15
    return value


#: Feature codes of :attr:`Place.is_country`.
_COUNTRY_CODES = frozenset(code for code, precision in FEATURE_PRECISION.items() if precision == "country")

#: A context point with its latitude in radians and that latitude's cosine, computed
#: once per ranking instead of once per (candidate, point) pair.
_TrigPoint = tuple[float, float, float, float]


def _trig_points(points: tuple[tuple[float, float], ...]) -> tuple[_TrigPoint, ...]:
    return tuple((lat, lon, math.radians(lat), math.cos(math.radians(lat))) for lat, lon in points)


def _nearest_km(lat: float, lon: float, points: tuple[_TrigPoint, ...]) -> float:
    """min(haversine_km(lat, lon, p_lat, p_lon) for each point), the same
    operations in the same order (so the same floats), inlined: this is the
    innermost loop of geoparsing."""
    p1 = math.radians(lat)
    cos_p1 = math.cos(p1)
    sin, radians = math.sin, math.radians
    best = math.inf
    for lat2, lon2, p2, cos_p2 in points:
        a = sin((p2 - p1) / 2) ** 2 + cos_p1 * cos_p2 * sin(radians(lon2 - lon) / 2) ** 2
        d = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
        if d < best:
            best = d
    return best


def score(place: Place, context: Context) -> float:
    return _score(place, context, _trig_points(context.points))


def _score(place: Place, context: Context, points: tuple[_TrigPoint, ...]) -> float:
    total = prior(place) - MATCH_PENALTY.get(place.match, 0.3)
    if (place.country_code, place.admin1_code) in context.admin1:
        total += 0.9
    if place.country_code in context.countries:
        total += 0.6
    if points:
        total += 0.6 * math.exp(-_nearest_km(place.lat, place.lon, points) / 150.0)
    return round(total, 4)


def rank(places: list[Place], context: Context, bonus: dict[int, float] | None = None) -> list[tuple[Place, float]]:
    """Best first; ties go to the larger place, then the smaller id (stable).
    ``bonus`` adds a per-place amount (place id → score), e.g. for readings
    that lie near a reading of another name of the same text."""
    points = _trig_points(context.points) if places else ()
    if bonus:
        scored = [(p, round(_score(p, context, points) + bonus.get(p.id, 0.0), 4)) for p in places]
    else:
        scored = [(p, _score(p, context, points)) for p in places]
    scored.sort(key=lambda ps: (-ps[1], -ps[0].population, ps[0].id))
    return scored


def confidence(ranked: list[tuple[Place, float]]) -> float:
    """Share of the winner in a softmax over candidate scores (0..1)."""
    if not ranked:
        return 0.0
    top = ranked[0][1]
    weights = [math.exp((s - top) / 0.15) for _, s in ranked[:10]]
    return round(1.0 / sum(weights), 3)
