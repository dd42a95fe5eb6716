"""Online geocoding against a real local HTTP server; never the internet.

Failure contract under test: a service failure (HTTP 5xx, malformed or
wrongly shaped JSON, missing coordinates, a socket that never answers) makes
``CachedGeocoder.geocode`` RAISE ``OnlineGeocoderUnavailable`` (it never
returns None for a failure: None means a real "not found") and caches
nothing, so a later call after the service recovers resolves the place.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import time

import pytest
from geopy.geocoders import Nominatim, Photon
from geopy.location import Location

from pipelines.config import Settings
from pipelines.errors import EventAtlasError
from pipelines.geocoding import (
    CachedGeocoder,
    GeocodeCache,
    GeocodeCacheError,
    OnlineGeocoderConfigError,
    OnlineGeocoderRefused,
    OnlineGeocoderUnavailable,
    make_online_geocoder,
    place_from_location,
    query_with_context,
)
from pipelines.geocoding.cache import CacheKey

try:
    from tests.geoservers import FakeGeoServer
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from geoservers import FakeGeoServer

KOZINKA = (50.4613, 35.6026)
GORA_PODOL = (50.4739, 35.6464)
CONTEXT = "Belgorod Oblast, Russia"
UA = "event-atlas-tests/1.0 (tests@example.org)"


@pytest.fixture
def server():
    with FakeGeoServer() as srv:
        yield srv


def settings_for(server, tmp_path, service="nominatim", **overrides) -> Settings:
    values = dict(
        cache_dir=tmp_path / "cache",
        online_geocoder=service,
        user_agent=UA,
        geocoder_domain=server.domain,
        geocoder_scheme="http",
        geocoder_timeout=2.0,
        geocoder_min_delay=0.0,
    )
    return dataclasses.replace(Settings(), **{**values, **overrides})


def cached(settings: Settings, **kwargs) -> CachedGeocoder:
    kwargs.setdefault("error_wait_seconds", 0.01)
    kwargs.setdefault("failure_cooldown", 0.0)
    geocoder = CachedGeocoder.from_settings(settings, **kwargs)
    assert geocoder is not None
    return geocoder


def assert_at(location: Location, expected: tuple[float, float]) -> None:
    assert location is not None
    assert location.latitude == pytest.approx(expected[0], abs=1e-4)
    assert location.longitude == pytest.approx(expected[1], abs=1e-4)


# -- building ------------------------------------------------------------------
def test_off_builds_nothing_and_sends_nothing(server, tmp_path):
    settings = dataclasses.replace(settings_for(server, tmp_path), online_geocoder="off")
    assert make_online_geocoder(settings) is None
    assert CachedGeocoder.from_settings(settings) is None
    assert make_online_geocoder(Settings.from_env({})) is None  # the default is off
    assert server.count == 0


def test_builds_nominatim_and_photon_from_settings(server, tmp_path):
    nominatim = make_online_geocoder(settings_for(server, tmp_path, geocoder_timeout=3.5))
    assert isinstance(nominatim, Nominatim)
    assert nominatim.api == f"http://{server.domain}/search"
    assert nominatim.timeout == 3.5
    assert nominatim.headers["User-Agent"] == UA
    photon = make_online_geocoder(settings_for(server, tmp_path, "photon"))
    assert isinstance(photon, Photon)
    assert photon.api == f"http://{server.domain}/api"


def test_unknown_geocoder_is_a_config_error(server, tmp_path):
    with pytest.raises(OnlineGeocoderConfigError, match="unknown online geocoder"):
        make_online_geocoder(settings_for(server, tmp_path, "no-such-service"))
    # A geopy service that needs more than Settings holds (a GeoNames username).
    with pytest.raises(OnlineGeocoderConfigError, match="cannot build the geonames geocoder"):
        make_online_geocoder(settings_for(server, tmp_path, "geonames"))


def test_query_with_context():
    assert query_with_context("Kozinka", CONTEXT) == "Kozinka, Belgorod Oblast, Russia"
    assert query_with_context(" Kozinka ", None) == "Kozinka"
    assert query_with_context("Kozinka, Belgorod Oblast, Russia", "belgorod oblast, russia") == (
        "Kozinka, Belgorod Oblast, Russia"
    )


# -- Nominatim -----------------------------------------------------------------------
def test_nominatim_resolves_kozinka_and_sends_what_is_configured(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path))
    location = geocoder.geocode("Kozinka", CONTEXT, country_codes="RU")

    assert_at(location, KOZINKA)
    assert server.count == 1
    request = server.requests[0]
    assert request.path == "/search"
    assert request.user_agent == UA
    assert request.q == "Kozinka, Belgorod Oblast, Russia"
    assert request.params["format"] == "json"
    assert request.params["addressdetails"] == "1"
    assert request.params["countrycodes"] == "ru"
    assert request.params["accept-language"] == "en"
    assert request.params["limit"] == "1"

    place = place_from_location(location)
    assert place.as_dict() == {
        "name": "Kozinka",
        "lat": pytest.approx(KOZINKA[0], abs=1e-4),
        "lon": pytest.approx(KOZINKA[1], abs=1e-4),
        "feature_code": "PPL",
        "osm_tag": "place:village",
        "admin1": "Belgorod Oblast",
        "admin2": "Grayvoronsky District",
        "country": "Russia",
        "country_code": "RU",
        "geo_precision": "point",
        "source": "nominatim",
        "address": "Kozinka, Grayvoronsky District, Belgorod Oblast, Russia",
    }
    candidate = place.as_candidate(score=0.5)
    assert (candidate.name, candidate.source, candidate.geonameid) == ("Kozinka", "nominatim", None)


def test_second_lookup_is_served_from_the_cache_across_instances(server, tmp_path):
    settings = settings_for(server, tmp_path)
    first = cached(settings)
    assert_at(first.geocode("Kozinka", CONTEXT), KOZINKA)
    assert_at(first.geocode("Kozinka", CONTEXT), KOZINKA)
    assert_at(first.geocode("  kozinka ", "belgorod oblast,  russia"), KOZINKA)  # same key
    assert server.count == 1
    first.close()

    second = cached(settings)  # new instance, same cache file
    again = second.geocode("Kozinka", CONTEXT)
    assert_at(again, KOZINKA)
    assert again.raw["address"]["state"] == "Belgorod Oblast"
    assert place_from_location(again).feature_code == "PPL"
    assert server.count == 1
    assert settings.geocode_cache_path.exists()

    # The context is part of the key: another context is another question.
    assert_at(second.geocode("Kozinka", "Russia"), KOZINKA)
    assert server.count == 2
    assert server.requests[-1].q == "Kozinka, Russia"


def test_not_found_is_cached(server, tmp_path):
    settings = settings_for(server, tmp_path)
    geocoder = cached(settings)
    assert geocoder.geocode("Nowhereville", CONTEXT) is None
    assert geocoder.geocode("Nowhereville", CONTEXT) is None
    assert server.count == 1
    assert cached(settings).geocode("Nowhereville", CONTEXT) is None
    assert server.count == 1
    key = geocoder.cache_key("Nowhereville", CONTEXT)
    assert geocoder.cache.get(key) is None  # a cached "not found", not a miss


def test_requests_are_rate_limited(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path), min_delay_seconds=0.2)
    # The first request of a process pays one-off costs (a few ms of lazy set-up
    # in requests) that would shift its arrival; take it before measuring.
    assert geocoder.geocode("Warm-up") is None
    started = time.monotonic()
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    assert_at(geocoder.geocode("Gora-Podol", CONTEXT), GORA_PODOL)
    assert geocoder.geocode("Nowhereville", CONTEXT) is None
    elapsed = time.monotonic() - started
    times = [r.at for r in server.requests[1:]]
    assert [r.q.split(",")[0] for r in server.requests[1:]] == ["Kozinka", "Gora-Podol", "Nowhereville"]
    # A request starts min_delay after the previous one ended, so the
    # spacing holds at the server itself (1 ms for clock noise).
    assert times[-1] - times[0] >= 0.4 - 0.001
    assert all(b - a >= 0.2 - 0.001 for a, b in zip(times, times[1:]))
    assert 0.4 <= elapsed < 1.0


@pytest.mark.parametrize(("mode", "attempts"), [
    ("500", 3), ("503", 3),  # transient: 1 + max_retries; no hidden retries below geopy
    ("malformed", 2), ("wrong-shape", 2), ("no-coords", 2),  # garbage: retried once only
])
def test_service_failure_raises_caches_nothing_and_recovers(server, tmp_path, mode, attempts):
    geocoder = cached(settings_for(server, tmp_path), max_retries=2)
    server.mode = mode
    with pytest.raises(OnlineGeocoderUnavailable) as info:
        geocoder.geocode("Kozinka", CONTEXT)
    assert isinstance(info.value, EventAtlasError)
    assert info.value.query == "Kozinka, Belgorod Oblast, Russia"
    assert server.count == attempts
    assert len(geocoder.cache) == 0

    server.mode = "ok"
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    assert server.count == attempts + 1
    assert len(geocoder.cache) == 1


def test_a_socket_that_never_answers_times_out(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path, geocoder_timeout=0.5), max_retries=1)
    server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderTimedOut"):
        geocoder.geocode("Kozinka", CONTEXT)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 2.5  # two attempts of 0.5 s each, then give up
    assert server.count == 2
    assert len(geocoder.cache) == 0

    server.mode = "ok"
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)


def test_a_transient_error_is_retried_within_the_call(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path))
    server.mode, server.fail_next = "503", 1
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    assert server.count == 2


def test_a_refusal_is_not_retried_nor_cached(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path))
    server.mode = "403"
    with pytest.raises(OnlineGeocoderRefused):
        geocoder.geocode("Kozinka", CONTEXT)
    assert server.count == 1
    assert len(geocoder.cache) == 0


def test_after_a_failure_the_service_rests_for_the_cooldown(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path), max_retries=0, failure_cooldown=60.0)
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    server.mode = "503"
    with pytest.raises(OnlineGeocoderUnavailable):
        geocoder.geocode("Gora-Podol", CONTEXT)
    assert server.count == 2
    server.mode = "ok"
    with pytest.raises(OnlineGeocoderUnavailable, match="not asked"):
        geocoder.geocode("Gora-Podol", CONTEXT)
    assert server.count == 2  # no request during the cooldown
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)  # the cache still answers
    geocoder.failure_cooldown = 0.0
    assert_at(geocoder.geocode("Gora-Podol", CONTEXT), GORA_PODOL)
    assert server.count == 3


# -- Photon ----------------------------------------------------------------------------
def test_photon_resolves_kozinka_and_maps_its_properties(server, tmp_path):
    settings = settings_for(server, tmp_path, "photon")
    geocoder = cached(settings)
    location = geocoder.geocode("Kozinka", CONTEXT)
    assert_at(location, KOZINKA)
    request = server.requests[0]
    assert request.path == "/api"
    assert request.q == "Kozinka, Belgorod Oblast, Russia"
    assert request.user_agent == UA
    assert request.params["lang"] == "en"

    place = geocoder.geocode_place("Kozinka", CONTEXT)  # from the cache
    assert server.count == 1
    assert (place.name, place.feature_code, place.osm_tag, place.geo_precision) == (
        "Kozinka", "PPL", "place:village", "point")
    assert (place.admin1, place.admin2, place.country, place.country_code, place.source) == (
        "Belgorod Oblast", "Grayvoronsky District", "Russia", "RU", "photon")
    assert place.lat == pytest.approx(KOZINKA[0], abs=1e-4)
    assert place.lon == pytest.approx(KOZINKA[1], abs=1e-4)

    assert_at(cached(settings).geocode("Kozinka", CONTEXT), KOZINKA)  # persisted
    assert server.count == 1


def test_photon_country_codes_filter_the_answers(server, tmp_path):
    geocoder = cached(settings_for(server, tmp_path, "photon"))
    assert geocoder.geocode("Kozinka", country_codes=["ua"]) is None
    assert server.requests[-1].params["limit"] == "5"
    assert_at(geocoder.geocode("Kozinka", country_codes=["ru"]), KOZINKA)
    assert geocoder.geocode("Kozinka", country_codes=["ua"]) is None  # cached "not found"
    assert server.count == 2


@pytest.mark.parametrize("mode", ["503", "malformed", "wrong-shape", "no-coords"])
def test_photon_failures_raise_and_cache_nothing(server, tmp_path, mode):
    geocoder = cached(settings_for(server, tmp_path, "photon"), max_retries=0)
    server.mode = mode
    with pytest.raises(OnlineGeocoderUnavailable):
        geocoder.geocode("Kozinka", CONTEXT)
    assert len(geocoder.cache) == 0
    server.mode = "ok"
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)


# -- mapping of coarser places ------------------------------------------------------------
def test_region_and_country_answers_get_coarse_precision():
    oblast = Location("Belgorod Oblast, Russia", (50.7, 37.4), {
        "place_id": 1, "osm_type": "relation", "class": "boundary", "type": "administrative",
        "addresstype": "state", "place_rank": 8, "name": "Belgorod Oblast",
        "address": {"state": "Belgorod Oblast", "country": "Russia", "country_code": "ru"},
    })
    place = place_from_location(oblast)
    assert (place.feature_code, place.geo_precision, place.admin1) == ("ADM1", "region", "Belgorod Oblast")

    russia = Location("Russia", (64.7, 97.7), {
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [97.7, 64.7]},
        "properties": {"osm_key": "place", "osm_value": "country", "type": "country",
                       "name": "Russia", "country": "Russia", "countrycode": "RU"},
    })
    place = place_from_location(russia)
    assert (place.source, place.feature_code, place.geo_precision, place.country_code) == (
        "photon", "PCLI", "country", "RU")


# -- the cache itself ---------------------------------------------------------------------
def _write_entries(path: str, worker: int, n: int) -> None:
    cache = GeocodeCache(path)
    for i in range(n):
        location = Location(f"place {worker}-{i}", (50.0 + i / 1000, 35.0 + worker / 1000), {"i": i})
        cache.put(CacheKey.make("nominatim", f"place {worker}-{i}"), location if i % 2 else None)
    cache.close()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_cache_is_wal_and_safe_with_several_processes(tmp_path):
    path = tmp_path / "deep" / "geocode-cache.sqlite"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write_entries, args=(str(path), w, 40)) for w in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=20)
        assert w.exitcode == 0
    cache = GeocodeCache(path)
    assert len(cache) == 120
    hit = cache.get(CacheKey.make("nominatim", "PLACE 2-39"))
    assert (hit.address, hit.latitude, hit.longitude, hit.raw) == ("place 2-39", 50.039, 35.002, {"i": 39})
    assert cache.get(CacheKey.make("nominatim", "place 1-0")) is None  # cached "not found"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cache.close()


def test_a_corrupt_cache_file_is_a_clear_error(tmp_path):
    path = tmp_path / "geocode-cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(GeocodeCacheError, match="safe to delete"):
        GeocodeCache(path).get(CacheKey.make("nominatim", "Kozinka"))


def test_any_geopy_service_can_be_named_with_its_credentials(tmp_path):
    """Nominatim and Photon are tested end to end; any other geopy service is
    built the same way, with the key or user name it needs, and is strict too."""
    from geopy.geocoders import GeoNames, OpenCage, Pelias

    from pipelines.geocoding.online import StrictResponseMixin

    opencage = make_online_geocoder(Settings.from_env({
        "EVENT_ATLAS_ONLINE_GEOCODER": "opencage", "EVENT_ATLAS_GEOCODER_API_KEY": "k-123"}))
    assert isinstance(opencage, OpenCage) and isinstance(opencage, StrictResponseMixin)
    assert opencage.api_key == "k-123"
    pelias = make_online_geocoder(Settings.from_env({
        "EVENT_ATLAS_ONLINE_GEOCODER": "pelias", "EVENT_ATLAS_GEOCODER_DOMAIN": "127.0.0.1:4000",
        "EVENT_ATLAS_GEOCODER_SCHEME": "http", "EVENT_ATLAS_GEOCODER_API_KEY": "k"}))
    assert isinstance(pelias, Pelias) and pelias.domain == "127.0.0.1:4000"
    geonames = make_online_geocoder(Settings.from_env({
        "EVENT_ATLAS_ONLINE_GEOCODER": "geonames", "EVENT_ATLAS_GEOCODER_USERNAME": "analyst"}))
    assert isinstance(geonames, GeoNames) and geonames.username == "analyst"
    settings = Settings.from_env({"EVENT_ATLAS_ONLINE_GEOCODER": "opencage", "EVENT_ATLAS_GEOCODER_API_KEY": "k-123"})
    assert "k-123" not in repr(settings)
    with pytest.raises(ValueError, match="geopy service name"):
        Settings.from_env({"EVENT_ATLAS_ONLINE_GEOCODER": "no-such-service"})
