"""Exceptions of the online geocoding layer.

geopy's own exceptions never leave this package: they are translated into
these, each an :class:`~pipelines.errors.EventAtlasError`, and the geopy
error is kept as ``__cause__``.

* :class:`OnlineGeocoderUnavailable` - the service could not answer now
  (timeout, refused connection, HTTP 5xx, 429, a response that is not the
  service's format). Nothing is cached, so the mention stays unresolved and a
  later run asks again.
* :class:`OnlineGeocoderRefused` - the service answered but refused the
  request (HTTP 400/401/403, e.g. a blocked user agent). Nothing is cached
  either; retrying without changing the configuration will not help.
* :class:`OnlineGeocoderConfigError` - the settings name a geocoder that
  cannot be built.
* :class:`GeocodeCacheError` - the on-disk cache cannot be used.
"""

from __future__ import annotations

from pipelines.errors import EventAtlasError


class OnlineGeocoderError(EventAtlasError):
    """Base class: an online geocoder did not give a usable answer."""

    def __init__(self, message: str, *, service: str = "", query: str = "") -> None:
        super().__init__(message)
        self.service = service
        self.query = query


class OnlineGeocoderUnavailable(OnlineGeocoderError):
    """The service is unreachable, too slow, overloaded or answered garbage.

    Transient: keep the mention unresolved; a later run retries it."""


class OnlineGeocoderRefused(OnlineGeocoderError):
    """The service refused the request (bad query, blocked or unauthorised)."""


class OnlineGeocoderConfigError(EventAtlasError):
    """The configured online geocoder cannot be built from the settings."""


class GeocodeCacheError(EventAtlasError):
    """The geocode cache file is unreadable, corrupt or from a newer version."""
