"""Optional online geocoding (Nominatim, Photon) behind a persistent cache.

Off by default; used only for mentions the offline gazetteer cannot resolve.

* :func:`make_online_geocoder` - the geopy geocoder named in the settings
  (None when "off"), strict about the responses it accepts.
* :class:`CachedGeocoder` - cache first, then a rate-limited, retried lookup;
  returns a geopy Location, None for a real "not found", or raises
  :class:`OnlineGeocoderError` (nothing cached; a later run retries).
* :class:`GeocodeCache` - the SQLite (WAL) cache behind it.
* :class:`RetryPolicy` / :class:`BackoffRateLimiter` - what is retried, with
  which back-off, and the rate limit (see :mod:`.retry`).
* :func:`place_from_location` - a Nominatim/Photon Location as our fields.
"""

from .cache import MISS, CacheKey, GeocodeCache
from .cached import CachedGeocoder, query_with_context
from .exc import (
    GeocodeCacheError,
    OnlineGeocoderConfigError,
    OnlineGeocoderError,
    OnlineGeocoderRefused,
    OnlineGeocoderUnavailable,
)
from .online import StrictNominatim, StrictPhoton, make_online_geocoder, service_name
from .places import OnlinePlace, place_from_location
from .retry import BackoffRateLimiter, Fault, RetryPolicy, classify

__all__ = [
    "MISS",
    "BackoffRateLimiter",
    "CacheKey",
    "CachedGeocoder",
    "Fault",
    "GeocodeCache",
    "GeocodeCacheError",
    "OnlineGeocoderConfigError",
    "OnlineGeocoderError",
    "OnlineGeocoderRefused",
    "OnlineGeocoderUnavailable",
    "OnlinePlace",
    "RetryPolicy",
    "StrictNominatim",
    "StrictPhoton",
    "classify",
    "make_online_geocoder",
    "place_from_location",
    "query_with_context",
    "service_name",
]
