"""The offline gazetteer as a geopy geocoder.

``GazetteerGeocoder`` subclasses :class:`geopy.geocoders.base.Geocoder` and
returns :class:`geopy.location.Location` objects, so code written for
Nominatim works with it unchanged. It never makes a network request.
"""

from __future__ import annotations

import re

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

from .index import GazetteerIndex, Place
from .names import district_stem
from .resolve import Context, confidence, rank

REGION_WORDS = frozenset({"region", "oblast", "province", "krai", "kray", "governorate", "prefecture", "state", "voivodeship", "canton", "territory"})
DISTRICT_WORDS = frozenset({"district", "raion", "rayon", "county", "municipality", "hromada", "okrug", "parish", "borough"})
_SUFFIX = re.compile(r"^(?P<name>.+?)[\s\-]+(?P<word>[A-Za-z]+)$")


def split_area_suffix(text: str) -> tuple[str, str | None]:
    """"Belgorod Oblast" → ("Belgorod", "region"); "Kozinka" → ("Kozinka", None)."""
    m = _SUFFIX.match(text.strip())
    if m:
        word = m.group("word").lower()
        if word in REGION_WORDS:
            return m.group("name"), "region"
        if word in DISTRICT_WORDS:
            return m.group("name"), "district"
    return text.strip(), None


class GazetteerGeocoder(Geocoder):
    """Offline geocoder over the GeoNames-derived index (see ``build.py``)."""

    source_name = "gazetteer"

    def __init__(self, index: GazetteerIndex, *, user_agent: str = "event-atlas", timeout=DEFAULT_SENTINEL):
        super().__init__(user_agent=user_agent, timeout=timeout)
        self.index = index
        self._country_table: dict[str, str] | None = None

    # --- geopy interface -------------------------------------------------
    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL, near=None, country_codes=None):
        """Resolve ``query``; ``near`` is a place text ("Belgorod Oblast") or a
        :class:`Context` that biases the choice among homonyms."""
        context = near if isinstance(near, Context) else self.context_for(near) if near else Context()
        if country_codes:
            codes = [country_codes] if isinstance(country_codes, str) else list(country_codes)
            context = context.merged(Context(countries=frozenset(c.upper() for c in codes)))
        ranked = self.candidates(str(query), context)
        if not ranked:
            return None
        if exactly_one:  # build only the answer: Location objects are not free
            place, score = ranked[0]
            return self.to_location(place, score, ranked)
        return [self.to_location(p, s, ranked) for p, s in ranked]

    def reverse(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        point = Point(query)
        places = self.index.nearest(point.latitude, point.longitude)
        if not places:
            return None
        locations = [self.to_location(p, 1.0, []) for p in places[:10]]
        return locations[0] if exactly_one else locations

    # --- ranking ---------------------------------------------------------
    def candidates(self, query: str, context: Context = Context()) -> list[tuple[Place, float]]:
        """All places ``query`` may mean, best first, with their scores."""
        name, area = split_area_suffix(query)
        places = self.index.lookup(query)
        if area:
            places = [p for p in places if p.is_admin] or self._area_candidates(name, area)
        return rank(places, context)

    def _area_candidates(self, name: str, area: str) -> list[Place]:
        """Places for "X region"/"X district" when the area itself is not indexed."""
        wanted = "ADM1" if area == "region" else "ADM2"
        found = [p for p in self.index.lookup(name) if p.feature_code == wanted]
        if found:
            return found
        if area == "district":
            found = [p for p in self.index.lookup(f"{name} district") if p.is_admin]
            if found:
                return found
            stem = district_stem(name)
            towns = [p for p in self.index.lookup(stem) if p.feature_class == "P"] if stem else []
            # the district's administrative centre stands for the district
            return [
                t._replace(name=f"{name} district", feature_code="ADM2", feature_class="A",
                           admin2_name=f"{name} district",
                           source=f"district named after {t.name}: its centre")
                for t in towns
            ]
        # a region named after its capital: Kharkiv region → the ADM1 of Kharkiv
        areas = []
        for town in self.index.lookup(name):
            if town.feature_class == "P" and town.admin1_code:
                areas.extend(self.index.admin_areas(town.country_code, town.admin1_code, "ADM1"))
        return list({a.id: a for a in areas}.values())

    def context_for(self, text: str | None) -> Context:
        """A context from a place text such as "Belgorod Oblast" or "Russia"."""
        if not text:
            return Context()
        ranked = self.candidates(text)
        if not ranked:
            return Context()
        place = ranked[0][0]
        return context_of(place)

    # --- output ----------------------------------------------------------
    def country_name(self, code: str) -> str:
        """The country's name for an ISO code (the code itself when unknown)."""
        if self._country_table is None:  # ~250 rows, read once on first use
            self._country_table = self.index.country_names()
        return self._country_table.get(code, code)

    def to_location(self, place: Place, score: float, ranked: list[tuple[Place, float]]) -> Location:
        country = self.country_name(place.country_code) if place.country_code else ""
        parts = [place.name]
        for part in (place.admin2_name, place.admin1_name, country):
            if part and part not in parts:
                parts.append(part)
        raw = {
            "name": place.name,
            "lat": place.lat,
            "lon": place.lon,
            "feature_class": place.feature_class,
            "feature_code": place.feature_code,
            "admin1": place.admin1_name,
            "admin2": place.admin2_name,
            "country": country,
            "country_code": place.country_code,
            "geonameid": place.geonameid,
            "population": place.population,
            "precision": place.geo_precision,
            "score": score,
            "confidence": confidence(ranked) if ranked and ranked[0][0] is place else None,
            "source": source_label(place),
            "source_detail": place.source,
        }
        return Location(", ".join(parts), (place.lat, place.lon), raw)


def source_label(place: Place) -> str:
    """Short provenance: which data answered."""
    if place.source.startswith("overlay"):
        return "overlay"
    if place.source.startswith("geonames-import"):
        return "geonames-import"
    return "gazetteer"


def context_of(place: Place) -> Context:
    if place.is_country:
        return Context(countries=frozenset({place.country_code}))
    admin1 = frozenset({(place.country_code, place.admin1_code)}) if place.admin1_code else frozenset()
    return Context(countries=frozenset({place.country_code}), admin1=admin1, points=((place.lat, place.lon),))


