"""A shared event store in PostgreSQL/PostGIS, for teams.

Selected by a URL: ``postgresql://user:password@host:5432/dbname`` (the
optional ``?schema=NAME`` keeps several stores in one database). The table
``events`` has the schema's columns plus ``geom geometry(Point, 4326)``, a
GiST index on it, a B-tree index on (date, date_end) and ``event_id`` as
primary key, so uniqueness holds in the database whatever the writers do.

Every write is one transaction that reads only the rows it touches:
an ingest takes a transaction-level advisory lock per article (in sorted
order, so two writers never deadlock), reads that article's rows, lets the
pure :func:`pipelines.merge.merge_reingest` decide, then deletes and inserts
(``ON CONFLICT DO NOTHING``). Date and bbox filters of :meth:`read` run in
SQL. A connection is opened per operation: cheap on a local network, and
safe across ``fork`` (Dask workers, the tests' killed writers).
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import pandas as pd

from ..errors import StoreError
from ..merge import MergeResult, merge_append, merge_reingest
from ..schema import EVENT_COLUMNS, conform, empty_events_frame
from .base import UNRESOLVED, BBox, EventStore, StoreSummary, WriteResult, actor_counts, check_bbox

try:
    import psycopg
    from psycopg import sql
except ImportError as error:  # pragma: no cover - psycopg is in requirements.txt
    raise StoreError("a postgresql:// store needs psycopg: pip install 'psycopg[binary]'") from error

#: SQL types of columns that are not text.
COLUMN_TYPES = {
    "date": "date",
    "date_end": "date",
    "geonameid": "bigint",
    "lat": "double precision",
    "lon": "double precision",
    "score": "double precision",
    "resolved": "boolean",
}
TABLE = "events"
META = "event_atlas_meta"


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _split_url(url: str) -> tuple[str, str]:
    """(libpq URL, schema): our own ``schema`` parameter is not libpq's."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", "public")
    if not schema.replace("_", "").isalnum():
        raise StoreError(f"schema {schema!r}: use letters, digits and underscores")
    return urlunsplit(parts._replace(query=urlencode(query))), schema


def _sql_value(column: str, value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if column in ("date", "date_end"):
        return str(value)[:10]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


#: GROUPING(t, s, p, r, d) of each grouping set of :data:`_SUMMARY_SQL` (a bit is 1 when
#: its column is not grouped).
_FACET_SETS = {"types": 0b01111, "sources": 0b10111, "precisions": 0b11011, "statuses": 0b11101}
_INTERVALS = 0b11110
_ALL = 0b11111
_SUMMARY_SQL = """
WITH e AS (
  SELECT coalesce(event_type, '') AS t, coalesce(source, '') AS s,
         CASE WHEN resolved AND lat IS NOT NULL AND lon IS NOT NULL THEN coalesce(geo_precision, '')
              ELSE %(unresolved)s END AS p,
         coalesce(review_status, '') AS r, date, coalesce(date_end, date) AS date_end,
         coalesce(date::text, '') AS d, coalesce(coalesce(date_end, date)::text, '') AS de,
         coalesce(date_precision, '') AS dp
  FROM {table})
SELECT GROUPING(t, s, p, r, d), t, s, p, r, d, de, dp, count(*), min(date), max(date_end)
FROM e GROUP BY GROUPING SETS ((t), (s), (p), (r), (d, de, dp), ())
"""
#: An ``actors`` cell that is a JSON list of plain strings (no escapes, no
#: control characters), as the tagger writes it: safe to cast to jsonb and
#: unnest in SQL. Anything else (hand-made imports) is grouped and parsed in
#: Python by :func:`pipelines.filters.parse_actors`, so a malformed cell never
#: fails the query.
_PLAIN_ACTORS = r'^\[[ \t\n\r]*("[^"\\[:cntrl:]]*"[ \t\n\r]*(,[ \t\n\r]*"[^"\\[:cntrl:]]*"[ \t\n\r]*)*)?\]$'
_ACTORS_SQL = """
SELECT name, count(*) FROM {table},
  jsonb_array_elements_text(CASE WHEN actors ~ %(plain)s THEN actors::jsonb ELSE '[]'::jsonb END) AS name
WHERE name <> '' GROUP BY name
"""
_OTHER_ACTORS_SQL = "SELECT actors, count(*) FROM {table} WHERE actors !~ %(plain)s GROUP BY actors"


class PostGISStore(EventStore):
    """Events in a PostGIS table (see the module docstring)."""

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        self.url, self.schema = _split_url(url)
        self.location = _hide_password(url)
        self.connect_timeout = connect_timeout
        self._ready = False

    # -- connections and DDL ---------------------------------------------------
    def _connect(self) -> "psycopg.Connection":
        try:
            conn = psycopg.connect(self.url, connect_timeout=self.connect_timeout, autocommit=False)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise StoreError(f"{self.location}: cannot connect to the database ({reason})") from error
        if not self._ready:
            self._ensure_schema(conn)
            self._ready = True
        return conn

    def _ident(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _ensure_schema(self, conn: "psycopg.Connection") -> None:
        """Create what is missing; add columns the schema gained since (idempotent)."""
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('event-atlas-ddl'))")
                cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
                if cur.fetchone() is None:
                    cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                columns = [
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(COLUMN_TYPES.get(c, "text")))
                    for c in EVENT_COLUMNS if c != "event_id"
                ]
                cur.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY, {}, geom geometry(Point, 4326))"
                ).format(self._ident(TABLE), sql.SQL(", ").join(columns)))
                for column in EVENT_COLUMNS:  # columns added to the schema later
                    cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                        self._ident(TABLE), sql.Identifier(column), sql.SQL(COLUMN_TYPES.get(column, "text"))))
                for name, definition in (
                    ("events_geom_idx", "USING gist (geom)"),
                    ("events_dates_idx", "(date, date_end)"),
                    ("events_article_idx", "(article_id)"),
                ):
                    cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} " + definition).format(
                        sql.Identifier(name), self._ident(TABLE)))
                cur.execute(sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL)"
                ).format(self._ident(META)))
                cur.execute(sql.SQL("INSERT INTO {} VALUES (1, 0) ON CONFLICT DO NOTHING").format(self._ident(META)))
        except psycopg.errors.InsufficientPrivilege as error:
            conn.close()
            raise StoreError(
                f"{self.location}: the PostGIS extension or the events table is missing and this user "
                f"may not create it ({error}); ask the database owner to run CREATE EXTENSION postgis"
            ) from error
        except psycopg.Error as error:
            conn.close()
            raise StoreError(f"{self.location}: cannot prepare the events table ({error})") from error

    # -- reading ---------------------------------------------------------------
    def _select(self, cur: "psycopg.Cursor", where: sql.Composable, params: dict, *,
                for_update: bool = False) -> gpd.GeoDataFrame:
        query = sql.SQL("SELECT {} FROM {} WHERE {}{}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in EVENT_COLUMNS), self._ident(TABLE), where,
            sql.SQL(" FOR UPDATE") if for_update else sql.SQL(""),
        )
        cur.execute(query, params)
        rows = cur.fetchall()
        if not rows:
            return empty_events_frame()
        return conform(pd.DataFrame(rows, columns=list(EVENT_COLUMNS)))

    def read(self, *, start: date | None = None, end: date | None = None,
             bbox: BBox | None = None) -> gpd.GeoDataFrame:
        where, params = self.read_conditions(start=start, end=end, bbox=bbox)
        with self._connect() as conn, conn.cursor() as cur:
            return self._select(cur, where, params)

    def read_query(self, *, start: date | None = None, end: date | None = None,
                   bbox: BBox | None = None) -> tuple[sql.Composed, dict[str, Any]]:
        """The SELECT :meth:`read` runs, with its parameters (to EXPLAIN it)."""
        where, params = self.read_conditions(start=start, end=end, bbox=bbox)
        return sql.SQL("SELECT {} FROM {} WHERE {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in EVENT_COLUMNS), self._ident(TABLE), where), params

    def read_conditions(self, *, start: date | None = None, end: date | None = None,
                        bbox: BBox | None = None) -> tuple[sql.Composable, dict[str, Any]]:
        """The WHERE of a window read: dates against the (date, date_end)
        index, the box against the GiST index on ``geom``."""
        bbox = check_bbox(bbox)
        conditions: list[sql.Composable] = [sql.SQL("TRUE")]
        params: dict[str, Any] = {}
        if start is not None:
            conditions.append(sql.SQL("date_end >= %(start)s"))
            params["start"] = start
        if end is not None:
            conditions.append(sql.SQL("date <= %(end)s"))
            params["end"] = end
        if bbox is not None:
            west, south, east, north = bbox
            params.update(west=west, south=south, east=east, north=north)
            if west <= east:
                conditions.append(sql.SQL("geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)"))
            else:  # across the antimeridian: two boxes
                conditions.append(sql.SQL(
                    "(geom && ST_MakeEnvelope(%(west)s, %(south)s, 180, %(north)s, 4326) OR "
                    "geom && ST_MakeEnvelope(-180, %(south)s, %(east)s, %(north)s, 4326))"))
        return sql.SQL(" AND ").join(conditions), params

    def count(self) -> int:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(self._ident(TABLE)))
            return int(cur.fetchone()[0])

    def date_span(self) -> tuple[date, date] | None:
        """min(date), max(date_end): two ends of the (date, date_end) index."""
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT min(date), max(coalesce(date_end, date)) FROM {}").format(
                self._ident(TABLE)))
            first, last = cur.fetchone()
        return None if first is None or last is None else (first, last)

    def summary(self) -> StoreSummary:
        """One scan with GROUPING SETS for the facets, the timeline's
        intervals, the span and the count; actors unnested from their JSON
        lists in SQL (see :data:`_PLAIN_ACTORS`)."""
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL(_SUMMARY_SQL).format(table=self._ident(TABLE)), {"unresolved": UNRESOLVED})
            rows = cur.fetchall()
            cur.execute(sql.SQL(_ACTORS_SQL).format(table=self._ident(TABLE)), {"plain": _PLAIN_ACTORS})
            plain = cur.fetchall()
            cur.execute(sql.SQL(_OTHER_ACTORS_SQL).format(table=self._ident(TABLE)), {"plain": _PLAIN_ACTORS})
            other = actor_counts(cur.fetchall())
        facets: dict[int, dict[str, int]] = {mask: {} for mask in _FACET_SETS.values()}
        intervals, total, first, last = [], 0, None, None
        for grouping, t, s, p, r, d, de, dp, n, lo, hi in rows:
            if grouping == _ALL:
                total, first, last = int(n), lo, hi
            elif grouping == _INTERVALS:
                intervals.append((d, de, dp, int(n)))
            else:
                facets[grouping][{_FACET_SETS["types"]: t, _FACET_SETS["sources"]: s,
                                  _FACET_SETS["precisions"]: p, _FACET_SETS["statuses"]: r}[grouping]] = int(n)
        actors = {name: int(n) for name, n in plain}
        for name, n in other.items():
            actors[name] = actors.get(name, 0) + n
        return StoreSummary(count=total, first=first, last=last, actors=actors, intervals=tuple(sorted(intervals)),
                            **{name: facets[mask] for name, mask in _FACET_SETS.items()})

    def version(self) -> int:
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT revision FROM {} WHERE id = 1").format(self._ident(META)))
            return int(cur.fetchone()[0])

    # -- writing ---------------------------------------------------------------
    def _rows(self, frame: pd.DataFrame) -> Iterator[tuple]:
        for record in frame.loc[:, list(EVENT_COLUMNS)].itertuples(index=False, name=None):
            values = {c: _sql_value(c, v) for c, v in zip(EVENT_COLUMNS, record)}
            geom = None
            if values["resolved"] and values["lat"] is not None and values["lon"] is not None:
                geom = f"SRID=4326;POINT({values['lon']!r} {values['lat']!r})"
            yield (*values.values(), geom)

    def _insert(self, cur: "psycopg.Cursor", frame: pd.DataFrame | None) -> int:
        """COPY into a staging table, then insert what is not stored yet."""
        if frame is None or len(frame) == 0:
            return 0
        cur.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS event_atlas_staging "
                            "(LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS").format(self._ident(TABLE)))
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in (*EVENT_COLUMNS, "geom"))
        with cur.copy(sql.SQL("COPY event_atlas_staging ({}) FROM STDIN").format(columns)) as copy:
            for row in self._rows(frame):
                copy.write_row(row)
        cur.execute(sql.SQL("INSERT INTO {} ({cols}) SELECT {cols} FROM event_atlas_staging "
                            "ON CONFLICT (event_id) DO NOTHING").format(self._ident(TABLE), cols=columns))
        inserted = cur.rowcount
        cur.execute("TRUNCATE event_atlas_staging")
        return inserted

    def _delete(self, cur: "psycopg.Cursor", event_ids: Iterable[str]) -> int:
        ids = list(event_ids)
        if not ids:
            return 0
        cur.execute(sql.SQL("DELETE FROM {} WHERE event_id = ANY(%s)").format(self._ident(TABLE)), (ids,))
        return cur.rowcount

    def _bump(self, cur: "psycopg.Cursor") -> None:
        cur.execute(sql.SQL("UPDATE {} SET revision = revision + 1 WHERE id = 1").format(self._ident(META)))

    def _total(self, cur: "psycopg.Cursor") -> int:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(self._ident(TABLE)))
        return int(cur.fetchone()[0])

    #: Articles are locked by hash bucket: a batch of thousands of articles
    #: takes at most this many locks (PostgreSQL's lock table is small).
    LOCK_BUCKETS = 256

    def _lock_articles(self, cur: "psycopg.Cursor", article_ids: Iterable[str]) -> None:
        """Serialise writers of the same articles; buckets are locked in a
        fixed order, so two writers never deadlock."""
        buckets = sorted({int(hashlib.sha1(a.encode("utf-8")).hexdigest()[:8], 16) % self.LOCK_BUCKETS
                          for a in article_ids})
        cur.execute("SELECT pg_advisory_xact_lock(7245110, b) FROM unnest(%s::int[]) AS b ORDER BY b",
                    (buckets,))

    def ingest(self, events: gpd.GeoDataFrame, article_ids: Iterable[str]) -> MergeResult:
        ids = sorted(set(article_ids) | set(events["article_id"]))
        with self._connect() as conn, conn.transaction(), conn.cursor() as cur:
            self._lock_articles(cur, ids)
            existing = self._select(cur, sql.SQL("article_id = ANY(%(ids)s)"), {"ids": ids}, for_update=True)
            result = merge_reingest(existing, events, ids)
            self._delete(cur, result.removed_ids)
            added = self._insert(cur, result.new_rows)
            if added or result.removed_ids:
                self._bump(cur)
            total = self._total(cur)
        # A concurrent writer may have inserted some of "our" new rows first.
        already = result.already_stored + (result.added - added)
        return MergeResult(result.frame, added, already, result.superseded, result.reviewed_kept,
                           result.new_rows, result.removed_ids, total)

    def append(self, events: gpd.GeoDataFrame) -> WriteResult:
        fresh_ids = list(dict.fromkeys(events["event_id"]))
        with self._connect() as conn, conn.transaction(), conn.cursor() as cur:
            existing = self._select(cur, sql.SQL("event_id = ANY(%(ids)s)"), {"ids": fresh_ids})
            result = merge_append(existing, events)
            added = self._insert(cur, result.new_rows)
            if added:
                self._bump(cur)
            total = self._total(cur)
        return WriteResult(added, len(events) - added, total)

    def update(self, transform: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], *,
               ids_starting_with: str | None = None) -> gpd.GeoDataFrame:
        with self._connect() as conn, conn.transaction(), conn.cursor() as cur:
            if ids_starting_with is None:
                where, params = sql.SQL("TRUE"), {}
            else:
                prefix = ids_starting_with.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                where, params = sql.SQL("event_id LIKE %(prefix)s"), {"prefix": prefix + "%"}
            given = self._select(cur, where, params, for_update=True)
            changed = conform(pd.DataFrame(transform(given).drop(columns="geometry")))
            self._delete(cur, set(given["event_id"]) | set(changed["event_id"]))
            self._insert(cur, changed)
            self._bump(cur)
        return changed
