"""The offline gazetteer: a real geopy geocoder with context-aware ranking."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from conftest import PROJECT_ROOT, haversine_km, run_cli
from pipelines.gazetteer.geocoder import split_area_suffix
from pipelines.gazetteer.names import district_stem, name_key, skeleton_key

BELGOROD_OBLAST = (50.75, 37.3)
GRAYVORONSKY = (50.4833, 35.6667)
KOZINKA = (50.4613, 35.6026)


def test_is_a_geopy_geocoder_returning_locations(geocoder):
    assert isinstance(geocoder, Geocoder)
    loc = geocoder.geocode("Kozinka", near="Belgorod Oblast")
    assert isinstance(loc, Location)
    assert haversine_km(loc.latitude, loc.longitude, *KOZINKA) < 1
    assert loc.raw["geonameid"] == 543229 and loc.raw["precision"] == "point"
    assert "Belgorod" in loc.address and "Russia" in loc.address


@pytest.mark.parametrize("spelling", ["Kozinka", "Kozynka", "KOZINKA", "kozinka"])
def test_transliteration_variants_meet(geocoder, spelling):
    loc = geocoder.geocode(spelling, near="Belgorod Oblast")
    assert loc.raw["geonameid"] == 543229


@pytest.mark.parametrize("spelling", ["Graivoronsky district", "Grayvoronsky District", "Grayvoronskiy district",
                                      "Grayvoronskiy Rayon"])
def test_district_spellings(geocoder, spelling):
    loc = geocoder.geocode(spelling, near="Belgorod Oblast")
    assert loc.raw["precision"] == "district"
    assert haversine_km(loc.latitude, loc.longitude, *GRAYVORONSKY) < 25


@pytest.mark.parametrize("text", ["Belgorod Oblast", "Belgorod region", "Belgorod Region", "Belgorod province"])
def test_region_patterns(geocoder, text):
    loc = geocoder.geocode(text)
    assert loc.raw["precision"] == "region" and loc.raw["country_code"] == "RU"
    assert haversine_km(loc.latitude, loc.longitude, *BELGOROD_OBLAST) < 100


def test_region_named_after_its_capital(geocoder):
    loc = geocoder.geocode("Kharkiv region")
    assert loc.raw["precision"] == "region" and loc.raw["country_code"] == "UA"
    assert haversine_km(loc.latitude, loc.longitude, 49.8, 36.5) < 120


def test_context_decides_between_homonyms(geocoder):
    default = geocoder.geocode("Alexandria")
    louisiana = geocoder.geocode("Alexandria", near="Louisiana")
    virginia = geocoder.geocode("Alexandria", near="Virginia")
    assert default.raw["country_code"] == "EG"
    assert haversine_km(louisiana.latitude, louisiana.longitude, 31.311, -92.445) < 10
    assert haversine_km(virginia.latitude, virginia.longitude, 38.805, -77.047) < 10


def test_candidates_keep_alternatives_with_scores(geocoder):
    locations = geocoder.geocode("Alexandria", exactly_one=False)
    assert len(locations) > 5
    scores = [loc.raw["score"] for loc in locations]
    assert scores == sorted(scores, reverse=True)
    assert {loc.raw["country_code"] for loc in locations} >= {"EG", "US", "RO"}


def test_reverse_finds_the_nearest_place(geocoder):
    loc = geocoder.reverse((50.462, 35.603))
    assert loc.raw["name"] == "Kozinka"


def test_unknown_name_is_none(geocoder):
    assert geocoder.geocode("Qwzxyvillezzz") is None


def test_name_keys():
    assert name_key("Gora-Podol") == name_key("gora podol") == "gora podol"
    assert name_key("Bélgorod") == "belgorod"
    assert name_key("St. Petersburg") == "saint petersburg"
    assert skeleton_key("Kozynka") == skeleton_key("Kozinka")
    assert skeleton_key("Graivoronsky") == skeleton_key("Grayvoronskiy") == skeleton_key("Grayvoronsky")
    assert district_stem("Graivoronsky") == "graivoron"
    assert district_stem("Kozinka") is None
    assert split_area_suffix("Belgorod Oblast") == ("Belgorod", "region")
    assert split_area_suffix("Baldwin County") == ("Baldwin", "district")


def test_index_is_not_rebuilt_on_start(settings):
    """A second process opens the existing index instead of rebuilding it."""
    before = settings.gazetteer_path.stat().st_mtime_ns
    code = "from pipelines.config import Settings; from pipelines.gazetteer import open_gazetteer; " \
           "print(open_gazetteer(Settings.from_env()).geocode('Kozinka').raw['geonameid'])"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "543229", out.stderr
    assert settings.gazetteer_path.stat().st_mtime_ns == before


GEONAMES_ROWS = [
    # geonameid, name, asciiname, alternatenames, lat, lon, fclass, fcode, cc, cc2, admin1, admin2, admin3,
    # admin4, population, elevation, dem, timezone, modified
    ["9990001", "Bezymeno", "Bezymeno", "Bezymeno,Безымено", "50.5306", "35.5547", "P", "PPL", "RU", "", "09",
     "9990002", "", "", "0", "", "180", "Europe/Moscow", "2023-05-01"],
    ["9990002", "Grayvoronskiy Rayon", "Grayvoronskiy Rayon", "Grayvoronsky District", "50.4833", "35.6667", "A",
     "ADM2", "RU", "", "09", "9990002", "", "", "0", "", "170", "Europe/Moscow", "2023-05-01"],
    ["not-a-number", "Broken row"],
]


def test_gazetteer_import_makes_villages_resolvable(tmp_path, settings):
    cache = tmp_path / "cache"
    cache.mkdir()
    # share the packaged index, keep this test's imports apart
    os.symlink(settings.gazetteer_path, cache / settings.gazetteer_path.name)
    dump = tmp_path / "RU-small.txt"
    dump.write_text("\n".join("\t".join(r) for r in GEONAMES_ROWS) + "\n", encoding="utf-8")
    env = {"EVENT_ATLAS_CACHE_DIR": str(cache)}
    assert '"found": false' in run_cli("geocode", "Bezymeno", env=env).stdout
    result = run_cli("gazetteer", "import", str(dump), env=env)
    assert result.returncode == 0, result.stderr
    assert "imported 2 places (1 rows skipped)" in result.stdout
    after = run_cli("geocode", "Bezymeno", env=env)
    record = json.loads(after.stdout)
    assert record["found"] and record["source"] == "geonames-import"
    assert haversine_km(record["lat"], record["lon"], 50.5306, 35.5547) < 0.1
    assert record["admin1"] == "Belgorod Oblast" and record["admin2"] == "Grayvoronskiy Rayon"


def test_gazetteer_import_rejects_a_non_geonames_file(tmp_path, settings):
    os.symlink(settings.gazetteer_path, tmp_path / settings.gazetteer_path.name)
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\nnothing tabular\n", encoding="utf-8")
    result = run_cli("gazetteer", "import", str(bad), env={"EVENT_ATLAS_CACHE_DIR": str(tmp_path)})
    assert result.returncode == 2 and "no GeoNames rows" in result.stderr


def _area(geocoder, name, code):
    return next(p for p in geocoder.index.lookup(name, fuzzy=False) if p.match == 0 and p.feature_code == code)


@pytest.mark.parametrize("name, lat, lon, km", [
    # the Factbook / GeoNames / encyclopaedia point, not the centroid of the outline
    ("Canada", 60.0, -95.0, 100), ("Indonesia", -5.0, 120.0, 100), ("India", 20.0, 77.0, 161),
    ("Russia", 60.0, 100.0, 100), ("Sudan", 15.0, 30.0, 161),
    # documented geographic centres (geodata/gazetteer/country_points.csv)
    ("United States", 39.83, -98.58, 30), ("Australia", -25.61, 134.35, 30),
])
def test_country_representative_points(geocoder, name, lat, lon, km):
    country = _area(geocoder, name, "PCLI")
    assert haversine_km(country.lat, country.lon, lat, lon) < km


def test_state_point_is_not_its_biggest_city(geocoder):
    state = _area(geocoder, "New York", "ADM1")
    assert haversine_km(state.lat, state.lon, 40.71, -74.01) > 100  # not New York City
    assert haversine_km(state.lat, state.lon, 43.0, -75.0) < 161
