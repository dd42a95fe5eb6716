"""Read side of the gazetteer: keyed lookups in the SQLite index.

The packaged index (rebuilt from installed data) and the user's imports
(``gazetteer import``, kept in their own file so a rebuild never loses them)
are queried together. Opening costs milliseconds; each lookup is one indexed
query, so nothing is ever scanned.
"""

from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .build import MATCH_SKELETON, SCHEMA, ensure_index
from .names import name_key, skeleton_key

FEATURE_PRECISION = {
    "PCLI": "country", "PCL": "country", "PCLD": "country", "PCLF": "country", "PCLS": "country",
    "PCLIX": "country", "TERR": "country", "DEMONYM": "country",
    "CONT": "country",  # a continent: the coarsest precision there is
    "ADM1": "region", "ADM1H": "region",
    "ADM2": "district", "ADM3": "district", "ADM2H": "district", "ADM3H": "district",
}


class Place(NamedTuple):
    """One gazetteer entry, as a lookup returns it (a NamedTuple: a lookup
    builds thousands of these, and a tuple is several times cheaper to build
    than a frozen dataclass)."""

    id: int
    geonameid: int | None
    name: str
    lat: float
    lon: float
    feature_class: str
    feature_code: str
    country_code: str
    admin1_code: str
    admin1_name: str
    admin2_name: str
    population: int
    source: str
    match: int = 0  # 0 main name, 1 alternate name, 2 transliteration skeleton

    @property
    def geo_precision(self) -> str:
        return FEATURE_PRECISION.get(self.feature_code, "point")

    @property
    def is_country(self) -> bool:
        return self.geo_precision == "country"

    @property
    def is_admin(self) -> bool:
        return self.feature_class == "A"


_COLUMNS = (
    "p.id, p.geonameid, p.name, p.lat, p.lon, p.feature_class, p.feature_code, p.country_code, "
    "p.admin1_code, p.admin1_name, p.admin2_name, p.population, p.source"
)


class GazetteerIndex:
    """Thread-safe reader over the packaged index and the user's imports."""

    def __init__(self, index_path: Path, user_path: Path | None = None, overlay_path: Path | None = None):
        if overlay_path is not None:
            ensure_index(index_path, overlay_path)
        self.index_path = index_path
        self.user_path = user_path
        self._local = threading.local()
        self._cache_lookup = lru_cache(maxsize=50000)(self._lookup_uncached)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # immutable: the index is only ever replaced whole (build writes a new file and renames it),
            # never changed in place, so SQLite may skip the file locks it takes around every query
            # (two fcntl calls each; ~40% of a lookup). The user's imports below do change: no such flag.
            conn = sqlite3.connect(f"file:{self.index_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            # read pages through mmap instead of copying them into SQLite's own cache
            conn.execute("PRAGMA mmap_size=268435456")
            if self.user_path is not None and self.user_path.exists():
                conn.execute("ATTACH DATABASE ? AS user", (f"file:{self.user_path}?mode=ro",))
                self._local.has_user = True
            else:
                self._local.has_user = False
            self._local.conn = conn
        return conn

    def refresh(self) -> None:
        """Forget cached answers and reopen (after a ``gazetteer import``)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local = threading.local()
        self._cache_lookup.cache_clear()

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        conn = self._conn()
        rows = conn.execute(sql.format(db="main"), params).fetchall()
        if self._local.has_user:
            rows += conn.execute(sql.format(db="user"), params).fetchall()
        return rows

    def _lookup_uncached(self, key: str, skel: str = "") -> tuple[Place, ...]:
        """One indexed query for the key (and the skeleton key, whose matches
        count as ``match=2`` unless the exact key found the place too)."""
        if skel:
            sql = (f"SELECT {_COLUMNS}, CASE WHEN n.key = ? THEN n.match ELSE {MATCH_SKELETON} END "
                   "FROM {db}.names n JOIN {db}.places p ON p.id = n.place_id WHERE n.key IN (?, ?)")
            rows = self._query(sql, (key, key, skel))
        else:
            sql = f"SELECT {_COLUMNS}, n.match FROM {{db}}.names n JOIN {{db}}.places p ON p.id = n.place_id WHERE n.key = ?"
            rows = self._query(sql, (key,))
        best: dict[int, Place] = {}
        for row in rows:
            known = best.get(row[0])
            if known is None or known.match > row[-1]:
                best[row[0]] = Place(*row)
        return tuple(best.values())

    def lookup(self, name: str, *, fuzzy: bool = True) -> list[Place]:
        """Places whose name or alternate name is ``name``; with ``fuzzy`` also
        places whose transliteration skeleton matches (marked ``match=2``)."""
        key = name_key(name)
        if not key:
            return []
        skel = skeleton_key(name) if fuzzy else ""
        if len(skel) < 5 or skel == key:
            skel = ""
        return list(self._cache_lookup(key, skel))

    def has_key(self, key: str) -> bool:
        return bool(self._cache_lookup(key))

    def admin_areas(self, country_code: str, admin1_code: str, feature_code: str = "ADM1") -> list[Place]:
        rows = self._query(
            f"SELECT {_COLUMNS}, 0 FROM {{db}}.places p WHERE p.country_code = ? AND p.admin1_code = ? "
            "AND p.feature_code = ?",
            (country_code, admin1_code, feature_code),
        )
        return [Place(*row) for row in rows]

    def country(self, country_code: str) -> Place | None:
        rows = self._query(
            f"SELECT {_COLUMNS}, 0 FROM {{db}}.places p WHERE p.country_code = ? AND p.feature_code = 'PCLI'",
            (country_code,),
        )
        return Place(*rows[0]) if rows else None

    def country_names(self) -> dict[str, str]:
        """Country code → country name, for every country (one query)."""
        rows = self._query("SELECT country_code, name FROM {db}.places WHERE feature_code = 'PCLI'", ())
        return {code: name for code, name in rows}

    def nearest(self, lat: float, lon: float, radius_deg: float = 0.5) -> list[Place]:
        rows = self._query(
            f"SELECT {_COLUMNS}, 0 FROM {{db}}.places p WHERE p.lat BETWEEN ? AND ? AND p.lon BETWEEN ? AND ? "
            "AND p.feature_class = 'P'",
            (lat - radius_deg, lat + radius_deg, lon - radius_deg, lon + radius_deg),
        )
        places = [Place(*row) for row in rows]
        return sorted(places, key=lambda p: (p.lat - lat) ** 2 + (p.lon - lon) ** 2)

    def count(self) -> int:
        return sum(r[0] for r in self._query("SELECT count(*) FROM {db}.places", ()))


def create_user_db(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.executescript("PRAGMA journal_mode=WAL;" + SCHEMA)
    return conn
