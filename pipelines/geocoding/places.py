"""Turn a Nominatim or Photon answer (a geopy Location) into our place fields.

``feature_code`` speaks the gazetteer's language (GeoNames codes: PPL, PPLX,
ADM1, ADM2, PCLI …) where the OSM tag has a clear equivalent and is ""
otherwise; the OSM tag itself is always kept in ``osm_tag`` ("place:village").
``geo_precision`` is point | district | region | country, from the place type
(Nominatim ``addresstype``/``type``, then ``place_rank``; Photon ``type``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from geopy.location import Location

__all__ = ["OnlinePlace", "place_from_location"]

# OSM place type (Nominatim addresstype/type, Photon osm_value) → (GeoNames code, precision)
_PLACE_TYPES: dict[str, tuple[str, str]] = {
    "country": ("PCLI", "country"),
    "state": ("ADM1", "region"),
    "province": ("ADM1", "region"),
    "region": ("ADM1", "region"),
    "state_district": ("ADM2", "district"),
    "county": ("ADM2", "district"),
    "district": ("ADM2", "district"),
    "municipality": ("ADM2", "district"),
    "city": ("PPL", "point"),
    "town": ("PPL", "point"),
    "village": ("PPL", "point"),
    "hamlet": ("PPL", "point"),
    "isolated_dwelling": ("PPL", "point"),
    "farm": ("PPL", "point"),
    "allotments": ("PPL", "point"),
    "borough": ("PPLX", "point"),
    "city_district": ("PPLX", "point"),
    "suburb": ("PPLX", "point"),
    "quarter": ("PPLX", "point"),
    "neighbourhood": ("PPLX", "point"),
    "city_block": ("PPLX", "point"),
    "locality": ("LCTY", "point"),
    "island": ("ISL", "point"),
    "islet": ("ISL", "point"),
}

# (OSM key, value) → GeoNames code, for features that are not places.
_OSM_TAGS: dict[tuple[str, str], str] = {
    ("natural", "peak"): "PK",
    ("natural", "hill"): "HLL",
    ("natural", "water"): "LK",
    ("natural", "wood"): "FRST",
    ("landuse", "forest"): "FRST",
    ("waterway", "river"): "STM",
    ("waterway", "stream"): "STM",
    ("waterway", "dam"): "DAM",
    ("aeroway", "aerodrome"): "AIRP",
    ("railway", "station"): "RSTN",
    ("landuse", "military"): "MILB",
    ("military", "base"): "MILB",
    ("military", "airfield"): "AIRB",
    ("power", "plant"): "PS",
    ("bridge", "yes"): "BDG",
    ("man_made", "bridge"): "BDG",
    ("amenity", "hospital"): "HSP",
    ("amenity", "school"): "SCH",
}

# Photon's address-level "type" → precision (settlements and below are points).
_PHOTON_TYPES = {"country": "country", "state": "region", "county": "district"}


def _rank_precision(rank: Any) -> str | None:
    """Nominatim place/search rank → precision (4 country, 5-9 state, 10-12 county)."""
    try:
        rank = int(rank)
    except (TypeError, ValueError):
        return None
    if rank <= 4:
        return "country"
    if rank <= 9:
        return "region"
    if rank <= 12:
        return "district"
    return "point"


@dataclass(frozen=True)
class OnlinePlace:
    """Fields of one online answer, in the event schema's vocabulary."""

    name: str
    lat: float
    lon: float
    feature_code: str
    osm_tag: str
    admin1: str
    admin2: str
    country: str
    country_code: str
    geo_precision: str
    source: str
    address: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_candidate(self, score: float = 0.0):
        """A :class:`pipelines.schema.Candidate` (``geonameid`` None)."""
        from pipelines.schema import Candidate  # geopandas is only needed here

        return Candidate(
            name=self.name, lat=self.lat, lon=self.lon, feature_code=self.feature_code,
            admin1=self.admin1, country_code=self.country_code, geonameid=None,
            score=score, source=self.source,
        )


def _detect_source(raw: Mapping[str, Any]) -> str:
    if isinstance(raw.get("properties"), Mapping) and "geometry" in raw:
        return "photon"
    if "osm_type" in raw or "place_id" in raw or "display_name" in raw:
        return "nominatim"
    return ""


def _s(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _classify(key: str, value: str, kinds: list[str], rank: Any = None) -> tuple[str, str]:
    """(feature_code, geo_precision) from the OSM tag and the place types."""
    code = ""
    precision = None
    for kind in kinds:
        if kind in _PLACE_TYPES:
            code, precision = _PLACE_TYPES[kind]
            break
    if (key, value) in _OSM_TAGS and key not in ("place", "boundary"):
        code = _OSM_TAGS[(key, value)]
    return code, precision or _rank_precision(rank) or "point"


def _from_nominatim(location: Location, raw: Mapping[str, Any]) -> OnlinePlace:
    address = raw.get("address") if isinstance(raw.get("address"), Mapping) else {}
    key, value = _s(raw.get("class") or raw.get("category")), _s(raw.get("type"))
    addresstype = _s(raw.get("addresstype"))
    kinds = [addresstype, value] if key in ("place", "boundary") else [addresstype]
    code, precision = _classify(key, value, [k for k in kinds if k], raw.get("place_rank"))
    name = _s(raw.get("name")) or _s(address.get(addresstype)) or _s(location.address).split(",")[0]
    return OnlinePlace(
        name=name,
        lat=float(location.latitude),
        lon=float(location.longitude),
        feature_code=code,
        osm_tag=f"{key}:{value}" if key else "",
        admin1=_s(address.get("state") or address.get("region") or address.get("province")),
        admin2=_s(address.get("county") or address.get("state_district") or address.get("district")
                  or address.get("municipality")),
        country=_s(address.get("country")),
        country_code=_s(address.get("country_code")).upper(),
        geo_precision=precision,
        source="nominatim",
        address=_s(location.address),
    )


def _from_photon(location: Location, raw: Mapping[str, Any]) -> OnlinePlace:
    props = raw.get("properties") or {}
    key, value, kind = _s(props.get("osm_key")), _s(props.get("osm_value")), _s(props.get("type"))
    kinds = [value] if key in ("place", "boundary") else []
    code, precision = _classify(key, value, kinds)
    if kind in _PHOTON_TYPES and not (key == "place" and value in _PLACE_TYPES):
        precision = _PHOTON_TYPES[kind]
        code = code or {"country": "PCLI", "region": "ADM1", "district": "ADM2"}[precision]
    return OnlinePlace(
        name=_s(props.get("name")) or _s(location.address).split(",")[0],
        lat=float(location.latitude),
        lon=float(location.longitude),
        feature_code=code,
        osm_tag=f"{key}:{value}" if key else "",
        admin1=_s(props.get("state")),
        admin2=_s(props.get("county")),
        country=_s(props.get("country")),
        country_code=_s(props.get("countrycode")).upper(),
        geo_precision=precision,
        source="photon",
        address=_s(location.address),
    )


def place_from_location(location: Location, source: str | None = None) -> OnlinePlace:
    """Our fields for a Nominatim or Photon Location (source detected from
    ``location.raw`` unless given). Other services get coordinates, name and
    address only, with precision "point"."""
    raw = location.raw if isinstance(location.raw, Mapping) else {}
    source = (source or _detect_source(raw)).lower()
    if source == "nominatim":
        return _from_nominatim(location, raw)
    if source == "photon":
        return _from_photon(location, raw)
    return OnlinePlace(
        name=_s(location.address).split(",")[0], lat=float(location.latitude),
        lon=float(location.longitude), feature_code="", osm_tag="", admin1="", admin2="",
        country="", country_code="", geo_precision="point", source=source,
        address=_s(location.address),
    )
