"""Online geocoder faults, produced by a real HTTP server on 127.0.0.1.

One test per fault kind (timeouts, 429 with and without Retry-After in both
forms, 500/502/503/504, malformed/empty/HTML answers, a refused or dropped
connection, refusals), the rate limit across retries and threads, and a
pipeline test: a failing service leaves the mention unresolved (nothing
lost, nothing cached) and a later run resolves it.

Policy under test (pipelines/geocoding/retry.py): transient faults are
retried with capped exponential back-off; Retry-After holds for every query
and a too-long one gives up at once; a malformed answer is retried once;
refusals are not retried; only a real ``[]`` is cached as "not found".

Every test counts the faults the server produced into ``figures`` and, once
its assertions held, counts them as survived.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import os
import threading
import time
from datetime import date

import pytest
from geopy.location import Location

from pipelines.articles import parse_article
from pipelines.config import Settings
from pipelines.geocoding import (
    MISS,
    CachedGeocoder,
    GeocodeCache,
    OnlineGeocoderRefused,
    OnlineGeocoderUnavailable,
)
from pipelines.pipeline import Pipeline
from pipelines.store import read_events

from conftest import haversine_km  # tests/ is on sys.path (it is not a package)

try:
    from tests.geoservers import PLACES, FakeGeoServer, refused_port
except ImportError:
    from geoservers import PLACES, FakeGeoServer, refused_port

UA = "event-atlas-tests/1.0 (tests@example.org)"
CONTEXT = "Belgorod Oblast, Russia"
KOZINKA = (50.4613, 35.6026)
GORA_PODOL = (50.4739, 35.6464)
#: An invented village the offline gazetteer does not know; the fake server does.
VILLAGE = {
    **PLACES[0],
    "name": "Zhuravlyovka-Nizhnyaya",
    "lat": 50.5234,
    "lon": 35.7121,
    "osm_id": 1000099,
    "address": {**PLACES[0]["address"], "village": "Zhuravlyovka-Nizhnyaya"},
}

TIMEOUT = 0.3  # seconds before a request that gets no answer is abandoned (timeout tests)
#: Timeout everywhere else: long enough that a server thread stalled by a busy
#: machine is not mistaken for a timeout fault.
PATIENT = 2.0
MIN_DELAY = 0.1  # seconds between two requests
BACKOFF = 0.1  # first back-off wait; doubled each retry
#: Clock noise only. The limiter starts a request min_delay after the previous
#: one *ended*, so arrivals at the server are spaced by at least min_delay
#: however late a busy machine schedules the client's threads.
SLACK = 0.001


@pytest.fixture
def server():
    with FakeGeoServer(places=[*PLACES, VILLAGE]) as srv:
        yield srv


def settings_for(domain: str, tmp_path, **overrides) -> Settings:
    values = dict(
        cache_dir=tmp_path / "cache",
        online_geocoder="nominatim",
        user_agent=UA,
        geocoder_domain=domain,
        geocoder_scheme="http",
        geocoder_timeout=PATIENT,
        geocoder_min_delay=MIN_DELAY,
    )
    return dataclasses.replace(Settings(), **{**values, **overrides})


def online(settings: Settings, **kwargs) -> CachedGeocoder:
    kwargs = {
        "error_wait_seconds": BACKOFF,
        "max_error_wait_seconds": 1.0,
        "max_retry_after": 3.0,
        "failure_cooldown": 0.0,
        **kwargs,
    }
    geocoder = CachedGeocoder.from_settings(settings, **kwargs)
    assert geocoder is not None
    return geocoder


def assert_at(location: Location | None, expected: tuple[float, float]) -> None:
    assert location is not None
    assert location.latitude == pytest.approx(expected[0], abs=1e-4)
    assert location.longitude == pytest.approx(expected[1], abs=1e-4)


def assert_rate_held(server: FakeGeoServer, min_delay: float = MIN_DELAY) -> None:
    """Measured where it matters: request arrivals at the server."""
    gaps = server.gaps()
    assert all(g >= min_delay - SLACK for g in gaps), gaps


def assert_backoff(server: FakeGeoServer, waits: list[float], extra: float = 0.0) -> None:
    """Each retry arrived at least its back-off (plus ``extra``, e.g. a timeout) later."""
    gaps = server.gaps()
    assert len(gaps) >= len(waits)
    for gap, wait in zip(gaps, waits):
        assert gap >= wait + extra - SLACK, (gaps, waits)


def assert_nothing_cached(geocoder: CachedGeocoder, *queries: str) -> None:
    """Neither a place nor a "not found" is stored for ``queries``."""
    for query in queries:
        assert geocoder.cache.get(geocoder.cache_key(query, CONTEXT)) is MISS


def later_run_resolves(settings: Settings, query: str, expected: tuple[float, float]) -> None:
    """A new geocoder on the same cache (a later run) asks again and gets it."""
    with online(settings) as later:
        assert_at(later.geocode(query, CONTEXT), expected)
        assert later.cache.get(later.cache_key(query, CONTEXT)) is not MISS


def survived(figures, n: int) -> None:
    figures.add("geocoder faults survived", n)


def injected(figures, n: int) -> int:
    figures.add("geocoder faults injected", n)
    return n


# -- timeouts ----------------------------------------------------------------------
def test_timeout_is_retried_with_backoff_then_left_unresolved(server, tmp_path, figures):
    settings = settings_for(server.domain, tmp_path, geocoder_timeout=TIMEOUT)
    geocoder = online(settings, max_retries=2)

    server.script = ["hang"]  # one timeout, then an answer: resolved within the call
    assert_at(geocoder.geocode("Gora-Podol", CONTEXT), GORA_PODOL)
    assert server.count == 2

    server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderTimedOut"):
        geocoder.geocode("Kozinka", CONTEXT)
    elapsed = time.monotonic() - started
    n = injected(figures, server.faults)
    assert server.count == 2 + 3  # 1 + max_retries
    requests = server.requests[2:]
    gaps = [b.at - a.at for a, b in zip(requests, requests[1:])]
    # The timeout runs from the client's send, a little before the server logs the arrival.
    assert gaps[0] >= TIMEOUT + BACKOFF - 0.02 and gaps[1] >= TIMEOUT + 2 * BACKOFF - 0.02, gaps
    assert 3 * TIMEOUT + 3 * BACKOFF - SLACK <= elapsed < 3 * TIMEOUT + 3 * BACKOFF + 1.0
    assert_nothing_cached(geocoder, "Kozinka")
    assert_rate_held(server)
    server.mode = "ok"
    later_run_resolves(dataclasses.replace(settings, geocoder_timeout=PATIENT), "Kozinka", KOZINKA)
    assert n == 4
    survived(figures, n)


# -- 429 -----------------------------------------------------------------------------
def test_429_without_retry_after_backs_off_exponentially_with_a_cap(server, tmp_path, figures):
    geocoder = online(settings_for(server.domain, tmp_path), min_delay_seconds=0.05,
                      max_retries=3, error_wait_seconds=0.1, max_error_wait_seconds=0.25)
    server.script = ["429", "429", "429"]
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    n = injected(figures, server.faults)
    assert server.count == 4
    gaps = server.gaps()
    assert_backoff(server, [0.1, 0.2, 0.25])  # 0.4 capped at 0.25
    assert gaps[2] < 0.4 - 0.05, gaps  # the cap really applied
    assert len(geocoder.cache) == 1
    assert n == 3
    survived(figures, n)


def test_429_without_retry_after_gives_up_after_max_retries(server, tmp_path, figures):
    settings = settings_for(server.domain, tmp_path)
    geocoder = online(settings, max_retries=2)
    server.mode = "429"
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderRateLimited"):
        geocoder.geocode("Kozinka", CONTEXT)
    n = injected(figures, server.faults)
    assert server.count == 3
    assert_backoff(server, [BACKOFF, 2 * BACKOFF])
    assert_nothing_cached(geocoder, "Kozinka")
    server.mode = "ok"
    later_run_resolves(settings, "Kozinka", KOZINKA)
    survived(figures, n)


@pytest.mark.parametrize("fault", ["429;retry-after=1", "503;retry-after=1",
                                   "429;retry-after-date=1", "503;retry-after-date=1"])
def test_retry_after_holds_for_every_query(server, tmp_path, figures, fault):
    """The retried query and another thread's query both wait it out."""
    geocoder = online(settings_for(server.domain, tmp_path), max_retries=2)
    server.script = [fault]
    results: dict[str, Location | None] = {}

    def lookup(name: str) -> None:
        results[name] = geocoder.geocode(name, CONTEXT)

    first = threading.Thread(target=lookup, args=("Kozinka",))
    first.start()
    deadline = time.monotonic() + 5
    while server.count < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    other = threading.Thread(target=lookup, args=("Gora-Podol",))
    other.start()
    first.join(10)
    other.join(10)
    n = injected(figures, server.faults)

    assert_at(results["Kozinka"], KOZINKA)
    assert_at(results["Gora-Podol"], GORA_PODOL)
    assert server.count == 3
    refused_at = server.requests[0]
    later = server.requests[1:]
    if "date" in fault:
        not_before = email.utils.parsedate_to_datetime(server.retry_after_sent[0]).timestamp()
        assert all(r.wall >= not_before - SLACK for r in later), (not_before, later)
    else:
        assert all(r.at - refused_at.at >= 1.0 for r in later), later
    assert {r.q.split(",")[0] for r in later} == {"Kozinka", "Gora-Podol"}
    assert_rate_held(server)
    assert n == 1
    survived(figures, n)


def test_retry_after_longer_than_the_maximum_gives_up_at_once(server, tmp_path, figures):
    settings = settings_for(server.domain, tmp_path)
    geocoder = online(settings, max_retries=2, max_retry_after=0.5)
    server.mode = "429;retry-after=2"
    started = time.monotonic()
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderRateLimited"):
        geocoder.geocode("Kozinka", CONTEXT)
    assert time.monotonic() - started < 0.5  # no waiting, no retry
    n = injected(figures, server.faults)
    assert server.count == 1
    # The service rests until then: other lookups fail at once, without a request,
    # in this process and in any other sharing the cache directory.
    assert geocoder.rate_limited.resting_for() > 1.5
    with pytest.raises(OnlineGeocoderUnavailable, match="not asked"):
        geocoder.geocode("Gora-Podol", CONTEXT)
    other_process = online(settings, max_retries=2, max_retry_after=0.5)
    with pytest.raises(OnlineGeocoderUnavailable, match="Retry-After"):
        other_process.geocode("Gora-Podol", CONTEXT)
    assert server.count == 1
    assert_nothing_cached(geocoder, "Kozinka", "Gora-Podol")
    server.mode = "ok"
    time.sleep(max(0.0, started + 2.05 - time.monotonic()))  # the rest is over
    later_run_resolves(settings, "Kozinka", KOZINKA)
    assert n == 1
    survived(figures, n)


def test_two_processes_share_the_rate_limit(server, tmp_path, figures):
    """Two ingests at once must not double the rate the service sees."""
    import multiprocessing

    settings = settings_for(server.domain, tmp_path)
    names = [["Kozinka", "Gora-Podol", "Nowhereville"], ["Nowhere-Else", "Nowhere-At-All", VILLAGE["name"]]]

    def lookups(batch: list[str]) -> None:
        geocoder = online(settings, min_delay_seconds=MIN_DELAY)
        for name in batch:
            geocoder.geocode(name, CONTEXT)
        os._exit(0)

    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=lookups, args=(batch,)) for batch in names]
    for child in children:
        child.start()
    for child in children:
        child.join(30)
    assert [c.exitcode for c in children] == [0, 0]
    assert server.count == 6
    assert_rate_held(server)


# -- 5xx -------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["500", "502", "503", "504"])
def test_server_errors_are_retried_with_backoff(server, tmp_path, figures, status):
    settings = settings_for(server.domain, tmp_path)
    geocoder = online(settings, max_retries=2)

    server.script = [status, status]  # fails twice, then answers: resolved
    assert_at(geocoder.geocode("Gora-Podol", CONTEXT), GORA_PODOL)
    assert server.count == 3
    assert_backoff(server, [BACKOFF, 2 * BACKOFF])

    server.mode = status  # fails every time: given up after 1 + max_retries
    with pytest.raises(OnlineGeocoderUnavailable):
        geocoder.geocode("Kozinka", CONTEXT)
    n = injected(figures, server.faults)
    assert server.count == 6
    assert_nothing_cached(geocoder, "Kozinka")
    assert len(geocoder.cache) == 1  # Gora-Podol only
    assert_rate_held(server)
    server.mode = "ok"
    later_run_resolves(settings, "Kozinka", KOZINKA)
    assert n == 5
    survived(figures, n)


# -- answers that are not the service's format -------------------------------------------
@pytest.mark.parametrize("fault", ["malformed", "empty", "html", "wrong-shape", "no-coords"])
def test_a_malformed_answer_is_retried_once_and_never_cached(server, tmp_path, figures, fault):
    settings = settings_for(server.domain, tmp_path)
    geocoder = online(settings, max_retries=3)

    server.script = [fault]  # once: the retry gets the answer
    assert_at(geocoder.geocode("Gora-Podol", CONTEXT), GORA_PODOL)
    assert server.count == 2

    server.mode = fault
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderParseError"):
        geocoder.geocode("Kozinka", CONTEXT)
    n = injected(figures, server.faults)
    assert server.count == 4  # retried once, not max_retries times
    key = geocoder.cache_key("Kozinka", CONTEXT)
    assert geocoder.cache.get(key) is MISS  # not a cached "not found"
    assert len(geocoder.cache) == 1  # Gora-Podol only
    server.mode = "ok"
    later_run_resolves(settings, "Kozinka", KOZINKA)
    assert n == 3
    survived(figures, n)


def test_an_empty_list_is_a_real_not_found_and_is_cached(server, tmp_path, figures):
    geocoder = online(settings_for(server.domain, tmp_path))
    server.mode = "empty-list"  # 200 [] even for a place the server knows
    n = injected(figures, 1)
    assert geocoder.geocode("Kozinka", CONTEXT) is None
    assert server.count == 1  # not retried
    assert geocoder.cache.get(geocoder.cache_key("Kozinka", CONTEXT)) is None  # cached "not found"
    server.mode = "ok"
    assert geocoder.geocode("Kozinka", CONTEXT) is None  # from the cache
    assert server.count == 1
    survived(figures, n)


# -- the connection itself ---------------------------------------------------------------
def test_a_refused_connection_is_retried_then_left_unresolved(server, tmp_path, figures, caplog):
    with refused_port() as domain:
        settings = settings_for(domain, tmp_path)
        geocoder = online(settings, max_retries=2)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="pipelines.geocoding.retry"):
            with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderUnavailable"):
                geocoder.geocode("Kozinka", CONTEXT)
        elapsed = time.monotonic() - started
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    n = injected(figures, len(retries) + 1)  # each attempt was refused
    assert len(retries) == 2
    assert elapsed >= BACKOFF + 2 * BACKOFF - SLACK
    assert_nothing_cached(geocoder, "Kozinka")
    # A later run, the service up again (same cache file), resolves it.
    later_run_resolves(dataclasses.replace(settings, geocoder_domain=server.domain), "Kozinka", KOZINKA)
    assert n == 3
    survived(figures, n)


def test_a_dropped_connection_is_retried(server, tmp_path, figures):
    geocoder = online(settings_for(server.domain, tmp_path), max_retries=2)
    server.script = ["drop", "drop"]
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    n = injected(figures, server.faults)
    assert server.count == 3
    assert_backoff(server, [BACKOFF, 2 * BACKOFF])
    assert n == 2
    survived(figures, n)


# -- refusals ----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["400", "401", "403"])
def test_a_refusal_is_neither_retried_nor_cached(server, tmp_path, figures, status):
    settings = settings_for(server.domain, tmp_path)
    geocoder = online(settings, max_retries=3)
    server.mode = status
    with pytest.raises(OnlineGeocoderRefused):
        geocoder.geocode("Kozinka", CONTEXT)
    n = injected(figures, server.faults)
    assert server.count == 1
    assert_nothing_cached(geocoder, "Kozinka")
    server.mode = "ok"
    later_run_resolves(settings, "Kozinka", KOZINKA)
    survived(figures, n)


# -- the rate limit ------------------------------------------------------------------------
def test_min_delay_holds_across_retries_and_threads(server, tmp_path, figures):
    script = ["503", "429", "500", "drop", "malformed", "504", "429;retry-after=0"]
    # Enough retries that no lookup gives up whichever faults it happens to draw.
    geocoder = online(settings_for(server.domain, tmp_path), min_delay_seconds=MIN_DELAY,
                      max_retries=len(script), error_wait_seconds=0.02)
    server.script = list(script)
    names = ["Kozinka", "Gora-Podol", VILLAGE["name"], "Nowhereville", "Nowhere-Else", "Nowhere-At-All"]
    results: dict[str, Location | None] = {}
    errors: list[Exception] = []

    def lookup(name: str) -> None:
        try:
            results[name] = geocoder.geocode(name, CONTEXT)
        except OnlineGeocoderUnavailable as error:  # must not happen
            errors.append(error)

    threads = [threading.Thread(target=lookup, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    n = injected(figures, server.faults)

    assert not errors
    assert_at(results["Kozinka"], KOZINKA)
    assert_at(results["Gora-Podol"], GORA_PODOL)
    assert_at(results[VILLAGE["name"]], (VILLAGE["lat"], VILLAGE["lon"]))
    assert [results[name] for name in names[3:]] == [None, None, None]
    assert server.count == len(names) + n
    assert_rate_held(server)
    assert n == 7
    survived(figures, n)


# -- the pipeline ---------------------------------------------------------------------------
ARTICLE = (
    "Shelling hit the village of Zhuravlyovka-Nizhnyaya in Belgorod Oblast on 22 May 2023, "
    "the regional governor said. Residents of Kozinka were evacuated the same day."
)


def _village_events(frame):
    return frame[frame["mention"].str.contains(VILLAGE["name"], regex=False)]


def test_pipeline_keeps_the_mention_unresolved_then_a_later_run_resolves_it(
    server, tmp_path, settings, geocoder, pipeline, figures
):
    article = parse_article(ARTICLE, name="zhuravlyovka.txt", published=date(2023, 5, 23))
    offline = pipeline.events_for(article)  # online geocoding off
    village = [e for e in offline.events if VILLAGE["name"] in e.mention]
    assert len(village) == 1 and not village[0].resolved  # the gazetteer does not know it
    expected = len(offline.events)

    online_settings = dataclasses.replace(
        settings,
        cache_dir=tmp_path / "cache",  # the geocode cache; the gazetteer is passed in
        online_geocoder="nominatim",
        user_agent=UA,
        geocoder_domain=server.domain,
        geocoder_scheme="http",
        geocoder_timeout=PATIENT,
        geocoder_min_delay=0.05,
    )
    store = str(tmp_path / "events.gpkg")

    # Run 1: the service fails on every request.
    server.mode = "503"
    Pipeline(online_settings, geocoder=geocoder).ingest_articles([article], store=store)
    n = injected(figures, server.faults)
    assert n >= 1
    stored = read_events(store)
    lost = expected - len(stored)
    figures.add("events lost", max(lost, 0))
    assert lost == 0
    first = _village_events(stored)
    assert len(first) == 1
    assert not bool(first.iloc[0]["resolved"])
    cache_path = online_settings.geocode_cache_path
    assert not cache_path.exists() or len(GeocodeCache(cache_path)) == 0

    # Run 2: the service is back; the same article again.
    server.mode = "ok"
    asked_before = server.count
    Pipeline(online_settings, geocoder=geocoder).ingest_articles([article], store=store)
    assert server.count > asked_before
    stored = read_events(store)
    figures.add("events lost", max(expected - len(stored), 0))
    assert len(stored) == expected
    second = _village_events(stored)
    assert len(second) == 1, second[["mention", "place", "resolved"]]
    row = second.iloc[0]
    assert bool(row["resolved"])
    assert haversine_km(row["lat"], row["lon"], VILLAGE["lat"], VILLAGE["lon"]) < 1.0
    survived(figures, n)


def test_mixed_faults_in_one_lookup_share_the_retry_budget(server, tmp_path, figures):
    """Every retry counts against max_retries; a malformed answer earns its one
    retry even after other faults, and a second one ends the lookup."""
    geocoder = online(settings_for(server.domain, tmp_path), max_retries=3, error_wait_seconds=0.05)
    server.script = ["503", "malformed", "drop"]
    assert_at(geocoder.geocode("Kozinka", CONTEXT), KOZINKA)
    assert server.count == 4
    assert_backoff(server, [0.05, 0.1, 0.2])

    server.script = ["malformed", "503", "malformed", "ok"]
    with pytest.raises(OnlineGeocoderUnavailable, match="GeocoderParseError"):
        geocoder.geocode("Gora-Podol", CONTEXT)
    n = injected(figures, server.faults)
    assert server.count == 4 + 3
    assert_nothing_cached(geocoder, "Gora-Podol")
    assert_rate_held(server)
    assert n == 6
    survived(figures, n)
