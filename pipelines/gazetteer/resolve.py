"""Rank gazetteer candidates for one name, given what else the text says.

Population and feature class are priors; the context (countries, first-level
areas and positions of the other places in the same article) decides between
homonyms: of the many Kozinkas, the one in Belgorod Oblast wins when the
article talks about the Belgorod region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .build import haversine_km
from .index import Place

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
    if place.is_country and place.match == 0:
        value += 0.3
    if place.feature_code == "ADM2":
        value -= 0.1
    elif place.feature_code == "ADM1":
        value -= 0.15
    return value


def score(place: Place, context: Context) -> float:
    total = prior(place) - MATCH_PENALTY.get(place.match, 0.3)
    if (place.country_code, place.admin1_code) in context.admin1:
        total += 0.9
    if place.country_code in context.countries:
        total += 0.6
    if context.points:
        nearest = min(haversine_km(place.lat, place.lon, lat, lon) for lat, lon in context.points)
        total += 0.6 * math.exp(-nearest / 150.0)
    return round(total, 4)


def rank(places: list[Place], context: Context, bonus: dict[int, float] | None = None) -> list[tuple[Place, float]]:
    """Best first; ties go to the larger place, then the smaller id (stable).
    ``bonus`` adds a per-place amount (place id → score), e.g. for readings
    that lie near a reading of another name of the same text."""
    if bonus:
        scored = [(p, round(score(p, context) + bonus.get(p.id, 0.0), 4)) for p in places]
    else:
        scored = [(p, score(p, context)) for p in places]
    scored.sort(key=lambda ps: (-ps[1], -ps[0].population, ps[0].id))
    return scored


def confidence(ranked: list[tuple[Place, float]]) -> float:
    """Share of the winner in a softmax over candidate scores (0..1)."""
    if not ranked:
        return 0.0
    top = ranked[0][1]
    weights = [math.exp((s - top) / 0.15) for _, s in ranked[:10]]
    return round(1.0 / sum(weights), 3)
