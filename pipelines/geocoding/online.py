"""Build the optional online geocoder named in the settings.

Online geocoding is off by default: sending place names to a third party is a
privacy decision the user makes with ``EVENT_ATLAS_ONLINE_GEOCODER``.

The geocoders built here are geopy's own classes, made strict about what the
service sends back. Stock geopy turns a Nominatim answer without ``lat`` into
a Location at (0, 0), reads ``{}`` as "not found" and lets a Photon answer
without ``features`` escape as a bare ``KeyError``. Here every answer that is
not in the service's format raises :class:`geopy.exc.GeocoderParseError`, so
it is retried, reported as "unavailable" and never cached as a place or as a
"not found".

HTTP is done by geopy's ``RequestsAdapter`` with its own retries switched off
(``max_retries=0``): the only retry policy is the
:class:`~pipelines.geocoding.retry.BackoffRateLimiter` (geopy's RateLimiter
with back-off and Retry-After) used by :mod:`pipelines.geocoding.cached`,
which also spaces the retries out.
Without ``requests`` installed, geopy's stdlib ``URLLibAdapter`` is used; it
never retries.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Callable

from geopy.adapters import RequestsAdapter, URLLibAdapter
from geopy.exc import ConfigurationError, GeocoderNotFound, GeocoderParseError, GeopyError
from geopy.geocoders import Nominatim, Photon, get_geocoder_for_service
from geopy.geocoders.base import Geocoder

from pipelines.config import Settings

from .exc import OnlineGeocoderConfigError

__all__ = [
    "OFF",
    "StrictNominatim",
    "StrictPhoton",
    "default_adapter_factory",
    "make_online_geocoder",
    "service_name",
]

#: Values of ``Settings.online_geocoder`` that mean "no online geocoding".
OFF = frozenset({"", "off", "none", "false", "0"})


def default_adapter_factory() -> Callable[..., Any]:
    """geopy adapter without hidden retries: requests if installed, else urllib."""
    if RequestsAdapter.is_available:
        return partial(RequestsAdapter, max_retries=0)
    return URLLibAdapter


def _coordinate(value: Any, limit: float) -> float:
    """float(value) if it is a finite number within ±limit, else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a coordinate: {value!r}")
    number = float(value)  # TypeError/ValueError for None, "", "abc", {}
    if not math.isfinite(number) or abs(number) > limit:
        raise ValueError(f"coordinate out of range: {value!r}")
    return number


class StrictResponseMixin:
    """Turn any answer the geocoder cannot parse into ``GeocoderParseError``.

    Works for every geopy geocoder because all of them send each request
    through ``Geocoder._call_geocoder(url, callback)``; the callback is the
    geocoder's parser, and the mixin wraps it. Subclasses may also check the
    decoded JSON of a geocode request in :meth:`_check_geocode_payload`.
    """

    api: str  # the geocode endpoint, set by the geopy class

    def _check_geocode_payload(self, payload: Any) -> None:
        """Raise GeocoderParseError unless ``payload`` has the service's shape."""

    def _call_geocoder(self, url, callback, **kwargs):  # noqa: D102 - geopy hook
        service = type(self).__name__
        is_geocode = isinstance(url, str) and url.startswith(getattr(self, "api", "\0"))

        def strict_callback(payload):
            try:
                if is_geocode:
                    self._check_geocode_payload(payload)
                return callback(payload)
            except GeopyError:
                raise
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
                raise GeocoderParseError(
                    f"{service}: unexpected response ({type(error).__name__}: {error})"
                ) from error

        return super()._call_geocoder(url, strict_callback, **kwargs)


class StrictNominatim(StrictResponseMixin, Nominatim):
    """Nominatim that accepts only a JSON list of places with real coordinates."""

    def _check_geocode_payload(self, payload: Any) -> None:
        if isinstance(payload, Mapping) and "error" in payload:
            return  # geopy raises GeocoderQueryError for it
        if not isinstance(payload, list):
            raise GeocoderParseError(
                f"Nominatim: expected a JSON list of places, got {type(payload).__name__}"
            )
        for place in payload:
            if not isinstance(place, Mapping):
                raise GeocoderParseError("Nominatim: a place is not a JSON object")
            _coordinate(place.get("lat"), 90.0)
            _coordinate(place.get("lon"), 180.0)


class StrictPhoton(StrictResponseMixin, Photon):
    """Photon that accepts only a GeoJSON FeatureCollection of Points."""

    def _check_geocode_payload(self, payload: Any) -> None:
        if not isinstance(payload, Mapping) or not isinstance(payload.get("features"), list):
            raise GeocoderParseError("Photon: expected a GeoJSON FeatureCollection")
        for feature in payload["features"]:
            if not isinstance(feature, Mapping) or not isinstance(feature.get("properties"), Mapping):
                raise GeocoderParseError("Photon: a feature has no properties")
            coordinates = (feature.get("geometry") or {}).get("coordinates")
            if not isinstance(coordinates, Sequence) or len(coordinates) < 2:
                raise GeocoderParseError("Photon: a feature has no Point coordinates")
            _coordinate(coordinates[0], 180.0)
            _coordinate(coordinates[1], 90.0)


_STRICT_CLASSES: dict[type, type] = {Nominatim: StrictNominatim, Photon: StrictPhoton}


def _strict_class(cls: type) -> type:
    if cls in _STRICT_CLASSES:
        return _STRICT_CLASSES[cls]
    strict = type(f"Strict{cls.__name__}", (StrictResponseMixin, cls), {})
    _STRICT_CLASSES[cls] = strict
    return strict


def service_name(geocoder: Geocoder) -> str:
    """"nominatim", "photon", … : the geopy service name of a geocoder instance."""
    for cls in type(geocoder).__mro__:
        if cls.__module__.startswith("geopy.geocoders."):
            return cls.__name__.lower()
    return type(geocoder).__name__.lower()


def make_online_geocoder(
    settings: Settings,
    *,
    adapter_factory: Callable[..., Any] | None = None,
) -> Geocoder | None:
    """The geopy geocoder named by ``settings.online_geocoder``, or None when "off".

    "nominatim" and "photon" are the supported services; any other geopy
    service name (see :func:`geopy.geocoders.get_geocoder_for_service`) is
    built the same way if it needs no more than a user agent, a timeout, a
    scheme and a domain. The geocoder is strict about responses (see the
    module docstring); ``settings.geocoder_timeout`` applies to every request.

    Raises :class:`OnlineGeocoderConfigError` when the geocoder cannot be
    built from the settings.
    """
    name = (settings.online_geocoder or "off").strip().lower()
    if name in OFF:
        return None
    try:
        cls = get_geocoder_for_service(name)
    except GeocoderNotFound as error:
        raise OnlineGeocoderConfigError(
            f"unknown online geocoder {name!r}; use off, nominatim, photon or another geopy service name"
        ) from error
    if settings.geocoder_timeout is None or not settings.geocoder_timeout > 0:
        raise OnlineGeocoderConfigError(
            f"geocoder_timeout must be a positive number of seconds, not {settings.geocoder_timeout!r}"
        )

    kwargs: dict[str, Any] = {
        "user_agent": settings.user_agent,
        "timeout": settings.geocoder_timeout,
        "scheme": settings.geocoder_scheme,
        "adapter_factory": adapter_factory or default_adapter_factory(),
    }
    accepted = inspect.signature(cls.__init__).parameters
    if settings.geocoder_domain:
        if "domain" not in accepted:
            raise OnlineGeocoderConfigError(
                f"the {name} geocoder has no configurable domain; unset EVENT_ATLAS_GEOCODER_DOMAIN"
            )
        kwargs["domain"] = settings.geocoder_domain
    if settings.geocoder_api_key and "api_key" in accepted:
        kwargs["api_key"] = settings.geocoder_api_key
    if settings.geocoder_username and "username" in accepted:
        kwargs["username"] = settings.geocoder_username
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    try:
        return _strict_class(cls)(**kwargs)
    except (ConfigurationError, TypeError, ValueError) as error:
        raise OnlineGeocoderConfigError(f"cannot build the {name} geocoder: {error}") from error
