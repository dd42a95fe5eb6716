"""All configuration in one place.

Every setting has a default that works offline on a fresh clone and can be
overridden by an ``EVENT_ATLAS_*`` environment variable. Code receives a
:class:`Settings` object instead of reading the environment itself, so tests
can build one with ``Settings.from_env({...})`` or ``dataclasses.replace``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

#: Root of the repository (the folder that holds ``pipelines/``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Curated data that ships with the repository.
GEODATA_DIR = PROJECT_ROOT / "geodata"
DEFAULT_STORE = GEODATA_DIR / "events.gpkg"
OVERLAY_PATH = GEODATA_DIR / "gazetteer" / "overlay.csv"
EXAMPLES_DIR = GEODATA_DIR / "examples"

#: The online geocoders tested here; any other geopy service name (geopy's
#: ``SERVICE_TO_GEOCODER``: "opencage", "pelias", "geonames", …) may be named
#: in ``EVENT_ATLAS_ONLINE_GEOCODER`` too, with its key or user name in
#: ``EVENT_ATLAS_GEOCODER_API_KEY`` / ``EVENT_ATLAS_GEOCODER_USERNAME``.
ONLINE_GEOCODERS = ("nominatim", "photon")


def _geopy_services() -> frozenset[str]:
    from geopy.geocoders import SERVICE_TO_GEOCODER

    return frozenset(SERVICE_TO_GEOCODER)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "event-atlas"


def _number(var: str, text: str, kind: type) -> float | int:
    """A non-negative number from an environment variable, or a clear error."""
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{var}={text!r}: not a {'whole ' if kind is int else ''}number") from None
    if value < 0:
        raise ValueError(f"{var}={text!r}: must not be negative")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime settings; build with :meth:`from_env`."""

    #: Event store: a file path (GeoPackage) by default.
    store: str = str(DEFAULT_STORE)
    #: Where derived data lives: the gazetteer index and the geocoder cache.
    cache_dir: Path = field(default_factory=_default_cache_dir)
    #: Curated gazetteer rows for places the packaged data lacks.
    overlay_path: Path = OVERLAY_PATH
    #: "off" (default: nothing leaves the machine), "nominatim" or "photon".
    online_geocoder: str = "off"
    #: Sent with every online request; Nominatim's policy requires a real one.
    user_agent: str = "event-atlas/0.1 (+https://github.com/event-atlas)"
    #: Seconds before an online geocoder request is abandoned.
    geocoder_timeout: float = 10.0
    #: Minimum seconds between two online requests (Nominatim: 1 per second).
    geocoder_min_delay: float = 1.0
    #: Retries of one lookup after a transient failure (timeouts, 429, 5xx).
    geocoder_max_retries: int = 2
    #: First back-off wait in seconds (doubled each retry, capped below);
    #: None: twice the minimum delay, at least 1 s.
    geocoder_backoff: float | None = None
    geocoder_max_backoff: float = 30.0
    #: A Retry-After longer than this gives up at once (the mention stays
    #: unresolved) and the service rests until then, for every process.
    geocoder_max_retry_after: float = 60.0
    #: Seconds without asking after a lookup gave up.
    geocoder_cooldown: float = 60.0
    #: Credentials for services that need them (OpenCage, Mapbox: a key;
    #: GeoNames: a user name). Never logged.
    geocoder_api_key: str | None = field(default=None, repr=False)
    geocoder_username: str | None = None
    #: Override the online service's host (tests point it at 127.0.0.1:PORT).
    geocoder_domain: str | None = None
    geocoder_scheme: str = "https"
    #: Name recorded with review decisions made from the CLI (default: login name).
    reviewer: str = ""
    #: Largest article accepted, in bytes.
    max_article_bytes: int = 5 * 1024 * 1024
    #: Seconds before fetching a page or feed is abandoned (connect and each read).
    fetch_timeout: float = 15.0
    #: Feed items written to the store per write: a crash loses at most one batch.
    ingest_batch_size: int = 200
    #: Seconds between two progress lines on stderr when it is not a terminal.
    progress_interval: float = 2.0
    #: Seconds to wait for a Dask scheduler given with ``--scheduler``.
    dask_connect_timeout: float = 10.0

    @property
    def gazetteer_path(self) -> Path:
        return self.cache_dir / "gazetteer.sqlite"

    @property
    def geocode_cache_path(self) -> Path:
        return self.cache_dir / "geocode-cache.sqlite"

    @property
    def seen_items_path(self) -> Path:
        """Feed items already ingested, per store (see ``pipelines.sources.seen``)."""
        return self.cache_dir / "seen-items.sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read ``EVENT_ATLAS_*`` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        kwargs: dict = {}
        if env.get("EVENT_ATLAS_STORE"):
            kwargs["store"] = env["EVENT_ATLAS_STORE"]
        if env.get("EVENT_ATLAS_CACHE_DIR"):
            kwargs["cache_dir"] = Path(env["EVENT_ATLAS_CACHE_DIR"])
        if env.get("EVENT_ATLAS_OVERLAY"):
            kwargs["overlay_path"] = Path(env["EVENT_ATLAS_OVERLAY"])
        if env.get("EVENT_ATLAS_ONLINE_GEOCODER"):
            name = env["EVENT_ATLAS_ONLINE_GEOCODER"].strip().lower()
            if name != "off" and name not in _geopy_services():
                raise ValueError(
                    f"EVENT_ATLAS_ONLINE_GEOCODER={name!r}: use off, "
                    + ", ".join(ONLINE_GEOCODERS) + " or another geopy service name"
                )
            kwargs["online_geocoder"] = name
        if env.get("EVENT_ATLAS_USER_AGENT"):
            kwargs["user_agent"] = env["EVENT_ATLAS_USER_AGENT"]
        for var, key in (
            ("EVENT_ATLAS_GEOCODER_TIMEOUT", "geocoder_timeout"),
            ("EVENT_ATLAS_GEOCODER_MIN_DELAY", "geocoder_min_delay"),
            ("EVENT_ATLAS_GEOCODER_BACKOFF", "geocoder_backoff"),
            ("EVENT_ATLAS_GEOCODER_MAX_BACKOFF", "geocoder_max_backoff"),
            ("EVENT_ATLAS_GEOCODER_MAX_RETRY_AFTER", "geocoder_max_retry_after"),
            ("EVENT_ATLAS_GEOCODER_COOLDOWN", "geocoder_cooldown"),
            ("EVENT_ATLAS_FETCH_TIMEOUT", "fetch_timeout"),
            ("EVENT_ATLAS_PROGRESS_INTERVAL", "progress_interval"),
            ("EVENT_ATLAS_DASK_CONNECT_TIMEOUT", "dask_connect_timeout"),
        ):
            if env.get(var):
                kwargs[key] = _number(var, env[var], float)
        if env.get("EVENT_ATLAS_GEOCODER_MAX_RETRIES"):
            kwargs["geocoder_max_retries"] = _number("EVENT_ATLAS_GEOCODER_MAX_RETRIES",
                                                     env["EVENT_ATLAS_GEOCODER_MAX_RETRIES"], int)
        if env.get("EVENT_ATLAS_GEOCODER_DOMAIN"):
            kwargs["geocoder_domain"] = env["EVENT_ATLAS_GEOCODER_DOMAIN"]
        if env.get("EVENT_ATLAS_GEOCODER_API_KEY"):
            kwargs["geocoder_api_key"] = env["EVENT_ATLAS_GEOCODER_API_KEY"].strip()
        if env.get("EVENT_ATLAS_GEOCODER_USERNAME"):
            kwargs["geocoder_username"] = env["EVENT_ATLAS_GEOCODER_USERNAME"].strip()
        if env.get("EVENT_ATLAS_GEOCODER_SCHEME"):
            kwargs["geocoder_scheme"] = env["EVENT_ATLAS_GEOCODER_SCHEME"]
        if env.get("EVENT_ATLAS_REVIEWER"):
            kwargs["reviewer"] = env["EVENT_ATLAS_REVIEWER"].strip()
        if env.get("EVENT_ATLAS_MAX_ARTICLE_BYTES"):
            kwargs["max_article_bytes"] = _number("EVENT_ATLAS_MAX_ARTICLE_BYTES", env["EVENT_ATLAS_MAX_ARTICLE_BYTES"], int)
        if env.get("EVENT_ATLAS_INGEST_BATCH_SIZE"):
            size = _number("EVENT_ATLAS_INGEST_BATCH_SIZE", env["EVENT_ATLAS_INGEST_BATCH_SIZE"], int)
            if size < 1:
                raise ValueError(f"EVENT_ATLAS_INGEST_BATCH_SIZE={size}: must be at least 1")
            kwargs["ingest_batch_size"] = size
        return cls(**kwargs)
