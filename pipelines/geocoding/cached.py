"""CachedGeocoder: cache first, then a rate-limited, retried online lookup.

::

    geocoder = CachedGeocoder.from_settings(settings)   # None when "off"
    try:
        location = geocoder.geocode("Kozinka", context="Belgorod Oblast, Russia",
                                    country_codes=["ru"])
    except OnlineGeocoderError:
        ...  # keep the mention unresolved; nothing was cached, a later run retries

``geocode`` returns a :class:`geopy.location.Location`, ``None`` when the
service really found nothing (an answer of ``[]``; cached too), or raises
:class:`~pipelines.geocoding.exc.OnlineGeocoderUnavailable` /
:class:`~pipelines.geocoding.exc.OnlineGeocoderRefused` — it never returns
None for a failure, and a failure is never cached.

Every request goes through a :class:`~pipelines.geocoding.retry.BackoffRateLimiter`
(geopy's RateLimiter with our :class:`~pipelines.geocoding.retry.RetryPolicy`):
``min_delay_seconds`` between any two requests, retries and threads included;
transient errors retried with capped exponential back-off; ``Retry-After``
honoured for every query; a malformed answer retried once; refusals (HTTP
400/401/403) not retried. After a lookup gives up the geocoder rests for
``failure_cooldown`` seconds: lookups that miss the cache fail at once
instead of each waiting out its own timeouts and retries.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from os import PathLike
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from geopy.exc import (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderParseError,
    GeocoderQuotaExceeded,
    GeocoderServiceError,
)
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from pipelines.config import Settings

from .cache import MISS, CacheKey, GeocodeCache
from .exc import OnlineGeocoderError, OnlineGeocoderRefused, OnlineGeocoderUnavailable
from .online import make_online_geocoder, service_name
from .places import OnlinePlace, place_from_location
from .retry import BackoffRateLimiter, Fault, RetryPolicy, ServiceResting, SharedRequestSlot, classify

__all__ = ["CachedGeocoder", "query_with_context"]

#: Refusals that will hit every request alike (auth, blocked user agent, quota).
_SERVICE_WIDE_REFUSALS = (
    GeocoderAuthenticationFailure,
    GeocoderInsufficientPrivileges,
    GeocoderQuotaExceeded,
)


def query_with_context(query: str, context: str | None) -> str:
    """"Kozinka" + "Belgorod Oblast, Russia" → "Kozinka, Belgorod Oblast, Russia".

    The context is not repeated when the query already ends with it."""
    query = " ".join(query.split())
    context = " ".join((context or "").split()).strip(" ,")
    if not context or query.casefold().endswith(context.casefold()):
        return query
    return f"{query}, {context}"


def _normalise_codes(country_codes: str | Iterable[str] | None) -> tuple[str, ...]:
    if not country_codes:
        return ()
    if isinstance(country_codes, str):
        country_codes = country_codes.split(",")
    return tuple(sorted({c.strip().lower() for c in country_codes if c and c.strip()}))


def _check_location(location: Location) -> Location:
    lat, lon = location.latitude, location.longitude
    if not (
        isinstance(lat, (int, float)) and isinstance(lon, (int, float))
        and math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180
    ):
        raise GeocoderParseError(f"answer without usable coordinates: {lat!r}, {lon!r}")
    return location


# -- how to ask each service ------------------------------------------------
class _Service:
    """Adapter: turns (query, country codes, language) into one geopy call."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder = geocoder
        self.params = inspect.signature(geocoder.geocode).parameters

    def options(self, country_codes: tuple[str, ...], language: str | None) -> dict[str, Any]:
        """The options that change the answer, as they enter the cache key."""
        opts: dict[str, Any] = {}
        if country_codes and "country_codes" in self.params:
            opts["country_codes"] = list(country_codes)
        if language and "language" in self.params:
            opts["language"] = language
        return opts

    def lookup(self, call: Callable[..., Any], query: str, opts: dict[str, Any]) -> Location | None:
        kwargs = dict(opts)
        if "exactly_one" in self.params:
            kwargs["exactly_one"] = True
        return call(query, **kwargs)


class _NominatimService(_Service):
    def lookup(self, call, query, opts):
        # addressdetails: state/country for the candidate fields.
        return call(query, exactly_one=True, addressdetails=True, **opts)


class _PhotonService(_Service):
    """Photon has no country filter: ask for a few results and keep the first
    one in the wanted countries (a real "not found" when none is)."""

    CANDIDATES = 5

    def options(self, country_codes, language):
        opts: dict[str, Any] = {}
        if country_codes:
            opts["country_codes"] = list(country_codes)
        if language:
            opts["language"] = language
        return opts

    def lookup(self, call, query, opts):
        codes = set(opts.get("country_codes", ()))
        kwargs = {"language": opts["language"]} if "language" in opts else {}
        if not codes:
            return call(query, exactly_one=True, **kwargs)
        found = call(query, exactly_one=False, limit=self.CANDIDATES, **kwargs) or []
        for location in found:
            props = (location.raw or {}).get("properties") or {}
            if str(props.get("countrycode", "")).lower() in codes:
                return location
        return None


_SERVICES: dict[str, type[_Service]] = {"nominatim": _NominatimService, "photon": _PhotonService}


class CachedGeocoder:
    """Cache-first, rate-limited wrapper around one online geopy geocoder.

    :param geocoder: a geopy geocoder (see :func:`make_online_geocoder`).
    :param cache: a :class:`GeocodeCache` or the path of its SQLite file.
    :param name: the geocoder's name in the cache key and in results
        (default: the geopy service name, e.g. "nominatim").
    :param min_delay_seconds: least time between two requests (all threads,
        retries included).
    :param max_retries: retries of a transient failure (timeout, refused
        connection, 429, 5xx).
    :param error_wait_seconds: first back-off wait; doubled on each retry
        (default: twice ``min_delay_seconds``, at least 1 s).
    :param max_error_wait_seconds: cap of the back-off wait.
    :param max_retry_after: the longest ``Retry-After`` worth waiting for; a
        longer one gives up at once and the service rests until then.
    :param malformed_retries: retries of an answer not in the service's format.
    :param failure_cooldown: seconds to stop asking after a lookup gave up.
    :param language: preferred language of names in answers (Nominatim
        ``accept-language``, Photon ``lang``); part of the cache key.
    """

    def __init__(
        self,
        geocoder: Geocoder,
        cache: GeocodeCache | str | PathLike[str],
        *,
        name: str | None = None,
        min_delay_seconds: float = 1.0,
        max_retries: int = 2,
        error_wait_seconds: float | None = None,
        max_error_wait_seconds: float = 30.0,
        max_retry_after: float = 60.0,
        malformed_retries: int = 1,
        failure_cooldown: float = 60.0,
        language: str | None = "en",
        share_rate_across_processes: bool = True,
    ) -> None:
        self.geocoder = geocoder
        self.cache = cache if isinstance(cache, GeocodeCache) else GeocodeCache(cache)
        self.name = (name or service_name(geocoder)).lower()
        self.language = language
        self.failure_cooldown = failure_cooldown
        self._service = _SERVICES.get(service_name(geocoder), _Service)(geocoder)
        if error_wait_seconds is None:
            error_wait_seconds = max(2.0 * min_delay_seconds, 1.0)
        self.policy = RetryPolicy(
            max_retries=max_retries,
            backoff_seconds=error_wait_seconds,
            max_backoff_seconds=max(max_error_wait_seconds, error_wait_seconds),
            max_retry_after=max_retry_after,
            malformed_retries=malformed_retries,
        )
        shared = None
        if share_rate_across_processes and str(self.cache.path) != ":memory:":
            # one slot file per service, beside the cache
            shared = SharedRequestSlot(Path(self.cache.path).with_name(f"{self.name}.rate"))
        self.rate_limited = BackoffRateLimiter(
            self._call_once, min_delay_seconds=min_delay_seconds, policy=self.policy,
            shared_slot=shared,
        )
        self._state_lock = threading.Lock()
        self._failed_at: float | None = None
        self._failure: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> "CachedGeocoder | None":
        """The configured online geocoder with the cache at
        ``settings.geocode_cache_path``; None when online geocoding is off."""
        geocoder = make_online_geocoder(settings)
        if geocoder is None:
            return None
        kwargs.setdefault("min_delay_seconds", settings.geocoder_min_delay)
        kwargs.setdefault("max_retries", settings.geocoder_max_retries)
        kwargs.setdefault("error_wait_seconds", settings.geocoder_backoff)
        kwargs.setdefault("max_error_wait_seconds", settings.geocoder_max_backoff)
        kwargs.setdefault("max_retry_after", settings.geocoder_max_retry_after)
        kwargs.setdefault("failure_cooldown", settings.geocoder_cooldown)
        return cls(geocoder, settings.geocode_cache_path, **kwargs)

    # -- one HTTP request (called by the rate limiter) --------------------
    def _call_once(self, query: str, **kwargs: Any) -> Any:
        result = self.geocoder.geocode(query, **kwargs)
        if isinstance(result, Location):
            _check_location(result)
        elif isinstance(result, list):
            for location in result:
                _check_location(location)
        elif result is not None:
            raise GeocoderParseError(f"unexpected result type {type(result).__name__}")
        return result

    # -- public API -------------------------------------------------------
    def cache_key(
        self,
        query: str,
        context: str | None = None,
        *,
        country_codes: str | Sequence[str] | None = None,
    ) -> CacheKey:
        opts = self._service.options(_normalise_codes(country_codes), self.language)
        return CacheKey.make(self.name, query, context, opts)

    def geocode(
        self,
        query: str,
        context: str | None = None,
        *,
        country_codes: str | Sequence[str] | None = None,
    ) -> Location | None:
        """Best place for ``query`` (with ``context`` appended), or None.

        Raises OnlineGeocoderUnavailable / OnlineGeocoderRefused; nothing is
        cached then.
        """
        if not query or not query.strip():
            raise ValueError("empty geocoder query")
        codes = _normalise_codes(country_codes)
        opts = self._service.options(codes, self.language)
        key = CacheKey.make(self.name, query, context, opts)
        cached = self.cache.get(key)
        if cached is not MISS:
            return cached

        sent = query_with_context(query, context)
        self._check_cooldown(sent)
        try:
            location = self._service.lookup(self.rate_limited, sent, opts)
        except ServiceResting as error:
            raise OnlineGeocoderUnavailable(
                f"{self.name} not asked for {sent!r}: {error}; left unresolved, a later run retries",
                service=self.name,
                query=sent,
            ) from error
        except GeocoderServiceError as error:
            raise self._give_up(error, sent) from error
        self.cache.put(key, location)
        return location

    __call__ = geocode

    def geocode_place(
        self,
        query: str,
        context: str | None = None,
        *,
        country_codes: str | Sequence[str] | None = None,
    ) -> OnlinePlace | None:
        """:meth:`geocode`, mapped to our fields (see :func:`place_from_location`)."""
        location = self.geocode(query, context, country_codes=country_codes)
        return None if location is None else place_from_location(location, self.name)

    # -- failures -----------------------------------------------------------
    def _give_up(self, error: GeocoderServiceError, sent: str) -> OnlineGeocoderError:
        """The error to raise once the rate limiter stopped retrying."""
        if classify(error) is Fault.REFUSED:
            if isinstance(error, _SERVICE_WIDE_REFUSALS):
                self._record_failure(str(error))
            return OnlineGeocoderRefused(
                f"{self.name} refused {sent!r}: {error}", service=self.name, query=sent
            )
        self._record_failure(str(error))  # timeouts, 5xx, 429, garbage
        return OnlineGeocoderUnavailable(
            f"{self.name} could not geocode {sent!r} ({type(error).__name__}: {error}); "
            "left unresolved, a later run retries",
            service=self.name,
            query=sent,
        )

    def _record_failure(self, message: str) -> None:
        with self._state_lock:
            self._failed_at = time.monotonic()
            self._failure = message

    def _check_cooldown(self, sent: str) -> None:
        with self._state_lock:
            if self._failed_at is None:
                return
            waited = time.monotonic() - self._failed_at
            if waited >= self.failure_cooldown:
                self._failed_at = None
                return
            message = self._failure
        raise OnlineGeocoderUnavailable(
            f"{self.name} not asked for {sent!r}: it failed {waited:.0f} s ago ({message}); "
            f"retrying after {self.failure_cooldown:g} s",
            service=self.name,
            query=sent,
        )

    def close(self) -> None:
        self.cache.close()
        adapter = getattr(self.geocoder, "adapter", None)
        if adapter is not None and hasattr(adapter, "__exit__"):
            adapter.__exit__(None, None, None)

    def __enter__(self) -> "CachedGeocoder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
