"""Persistent cache of online geocoder answers (SQLite, stdlib only).

One row per (geocoder, query, context, options) holds either a place (JSON:
address, lat, lon, raw) or a real "not found". Timeouts and service errors
are never written, so a later run asks again.

Safe with several processes and threads: the database runs in WAL mode
(readers never block the writer), every write is one ``INSERT … ON CONFLICT``
statement (atomic: a crash leaves the old row or the new one, never half a
row) and a busy timeout makes concurrent writers wait instead of failing.
WAL needs a local file system (not NFS/SMB), as SQLite documents.

Keys are normalised: whitespace is folded and case is ignored, so
"Kozinka" and " kozinka " share an entry.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from geopy.location import Location

from .exc import GeocodeCacheError

__all__ = ["CacheKey", "GeocodeCache", "MISS", "normalise_key_part"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS geocode_cache (
    geocoder   TEXT NOT NULL,
    query      TEXT NOT NULL,
    context    TEXT NOT NULL,
    options    TEXT NOT NULL,
    found      INTEGER NOT NULL CHECK (found IN (0, 1)),
    answer     TEXT,
    cached_at  REAL NOT NULL,
    PRIMARY KEY (geocoder, query, context, options)
)
"""


class _Miss:
    """Sentinel: the key is not in the cache (distinct from a cached None)."""

    def __repr__(self) -> str:
        return "MISS"

    def __bool__(self) -> bool:
        return False


#: Returned by :meth:`GeocodeCache.get` when nothing is cached for the key.
MISS: Any = _Miss()


def normalise_key_part(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


@dataclass(frozen=True)
class CacheKey:
    """What identifies one online lookup. Build with :meth:`make`."""

    geocoder: str
    query: str
    context: str = ""
    options: str = ""

    @classmethod
    def make(
        cls,
        geocoder: str,
        query: str,
        context: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> "CacheKey":
        """Normalised key; ``options`` (country codes, language …) that change
        the answer are part of it, serialised canonically."""
        opts = {k: v for k, v in (options or {}).items() if v not in (None, "", (), [])}
        return cls(
            geocoder=geocoder.strip().lower(),
            query=normalise_key_part(query),
            context=normalise_key_part(context),
            options=json.dumps(opts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            if opts
            else "",
        )


def _location_to_json(location: Location) -> str:
    lat, lon = float(location.latitude), float(location.longitude)
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"refusing to cache non-finite coordinates {lat}, {lon}")
    return json.dumps(
        {"address": location.address, "lat": lat, "lon": lon, "raw": location.raw},
        ensure_ascii=False,
        allow_nan=False,
    )


def _location_from_json(text: str) -> Location:
    data = json.loads(text)
    return Location(data["address"], (data["lat"], data["lon"]), data.get("raw") or {})


class GeocodeCache:
    """SQLite cache of geocoder answers at ``path`` (created on first use).

    ``get(key)`` returns a :class:`geopy.location.Location`, ``None`` for a
    cached "not found", or :data:`MISS`. ``put(key, location_or_None)``
    stores an answer. Thread-safe; each process opens its own connection.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    # -- connection -----------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit: each statement is its own transaction
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as error:
            raise GeocodeCacheError(f"cannot open the geocode cache {self.path}: {error}") from error
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"WAL mode unavailable (journal_mode={mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise GeocodeCacheError(
                    f"the geocode cache {self.path} was written by a newer Event Atlas "
                    f"(schema {version} > {SCHEMA_VERSION}); delete it or upgrade"
                )
            conn.execute(_SCHEMA)
            if version < SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as error:
            conn.close()
            raise GeocodeCacheError(
                f"the geocode cache {self.path} is unusable ({error}); "
                "it only holds cached answers, so it is safe to delete"
            ) from error
        except GeocodeCacheError:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            conn = self._connect()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise GeocodeCacheError(f"geocode cache {self.path}: {error}") from error

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = self._pid = None

    def __enter__(self) -> "GeocodeCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API --------------------------------------------------------------
    def get(self, key: CacheKey) -> Location | None:
        """The cached Location, None for a cached "not found", else MISS."""
        rows = self._execute(
            "SELECT found, answer FROM geocode_cache"
            " WHERE geocoder = ? AND query = ? AND context = ? AND options = ?",
            (key.geocoder, key.query, key.context, key.options),
        )
        if not rows:
            return MISS
        found, answer = rows[0]
        if not found:
            return None
        try:
            return _location_from_json(answer)
        except (ValueError, KeyError, TypeError):
            return MISS  # an unreadable row is as good as none; the next put replaces it

    def put(self, key: CacheKey, location: Location | None) -> None:
        """Store a real answer: a Location, or None for "not found"."""
        answer = None if location is None else _location_to_json(location)
        self._execute(
            "INSERT INTO geocode_cache (geocoder, query, context, options, found, answer, cached_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (geocoder, query, context, options) DO UPDATE SET"
            " found = excluded.found, answer = excluded.answer, cached_at = excluded.cached_at",
            (key.geocoder, key.query, key.context, key.options,
             0 if location is None else 1, answer, time.time()),
        )

    def delete(self, key: CacheKey) -> bool:
        """Forget one entry (e.g. a "not found" that OSM has since fixed)."""
        with self._lock:
            before = self._connect().total_changes
            self._execute(
                "DELETE FROM geocode_cache"
                " WHERE geocoder = ? AND query = ? AND context = ? AND options = ?",
                (key.geocoder, key.query, key.context, key.options),
            )
            return self._connect().total_changes > before

    def __len__(self) -> int:
        return self._execute("SELECT COUNT(*) FROM geocode_cache")[0][0]
