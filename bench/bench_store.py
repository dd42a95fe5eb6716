"""Store figures (issue #5): PostGIS vs the embedded GeoPackage at 100,000 events.

Prints, for each backend: the time to write 100,000 events in one ingest,
the time to add one more article to the full store, the time of a
date + bbox query (median and p95 over random windows, as the dashboard
asks), and the time to read everything; then what the dashboard itself
reads (``dashboard.data``): the store summary (count, date span, filter
values, from aggregates) and its window read (date + bbox pushed into the
store's query) against the full read it replaced. Target: a date+bbox query
on 100,000 events in PostGIS under 200 ms. Asserts nothing.

PostGIS: $EVENT_ATLAS_BENCH_POSTGIS (a URL), or a private server started
from the machine's PostgreSQL binaries like the tests do.

    python bench/bench_store.py [--events 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipelines.schema import EVENT_COLUMNS, conform, make_event_id  # noqa: E402
from pipelines.store import ingest_events, read_events  # noqa: E402

DAY0 = date(2022, 2, 24)
DAYS = 640
# Eastern Europe: where a conflict dataset of this size would cluster.
WEST, SOUTH, EAST, NORTH = 22.0, 44.0, 40.0, 53.0


def synthetic_events(n: int, seed: int = 7, article_prefix: str = "bench") -> pd.DataFrame:
    """n schema-valid events: 5 per article, points and dates spread at random."""
    rng = np.random.default_rng(seed)
    articles = [f"{article_prefix}{i // 5:06d}" for i in range(n)]
    days = rng.integers(0, DAYS, n)
    lengths = rng.choice([0, 0, 0, 1, 2, 30], n)
    lat = rng.uniform(SOUTH, NORTH, n).round(5)
    lon = rng.uniform(WEST, EAST, n).round(5)
    start = [(DAY0 + timedelta(days=int(d))).isoformat() for d in days]
    end = [(DAY0 + timedelta(days=int(d + k))).isoformat() for d, k in zip(days, lengths)]
    frame = pd.DataFrame({c: "" for c in EVENT_COLUMNS}, index=range(n))
    frame = frame.assign(
        article_id=articles, date=start, date_end=end, date_precision="day", date_basis="explicit",
        place=[f"Place {i % 5000}" for i in range(n)], mention=[f"Place {i % 5000}" for i in range(n)],
        sentence="Shelling was reported near the place on that day, officials said.",
        source="bench wire", published=start, evidence="[]", geo_precision="point",
        country_code="UA", country="Ukraine", feature_code="PPL", geonameid=None,
        lat=lat, lon=lon, resolved=True, score=0.9, candidates="[]", geocoder="gazetteer",
        ingested_at="2024-01-01T00:00:00+00:00", review_status="", reviewed_by="", reviewed_at="",
        review_history="[]",
    )
    frame["event_id"] = [make_event_id(a, f"pt:{la},{lo}", d) for a, la, lo, d in zip(articles, lat, lon, start)]
    return conform(frame)


def windows(k: int, seed: int = 11):
    """Random dashboard-like views: a 1–3 month window and a ~4°×3° box."""
    rng = random.Random(seed)
    for _ in range(k):
        first = DAY0 + timedelta(days=rng.randrange(0, DAYS - 90))
        last = first + timedelta(days=rng.randrange(30, 90))
        west = rng.uniform(WEST, EAST - 4)
        south = rng.uniform(SOUTH, NORTH - 3)
        yield first, last, (west, south, west + 4, south + 3)


def measure(label: str, store: str, events: pd.DataFrame, queries: int) -> None:
    ids = sorted(set(events["article_id"]))
    started = time.perf_counter()
    ingest_events(store, events, ids)
    write_s = time.perf_counter() - started

    one = synthetic_events(5, seed=99, article_prefix="extra")
    started = time.perf_counter()
    ingest_events(store, one, ["extra000000"])
    one_s = time.perf_counter() - started

    times, rows = [], []
    for first, last, bbox in windows(queries):
        started = time.perf_counter()
        found = read_events(store, start=first, end=last, bbox=bbox)
        times.append(time.perf_counter() - started)
        rows.append(len(found))
    started = time.perf_counter()
    everything = read_events(store)
    all_s = time.perf_counter() - started
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"{label:<11} write {len(events):,} events {write_s:7.2f} s | add one article {one_s * 1000:7.0f} ms | "
          f"date+bbox query median {statistics.median(times) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms "
          f"(~{int(statistics.median(rows)):,} rows) | read all {len(everything):,} in {all_s:5.2f} s")
    dashboard_reads(store, queries, all_s)


def dashboard_reads(store: str, queries: int, all_s: float) -> None:
    """The dashboard's reads, through the functions it calls (dashboard.data)."""
    from dashboard.data import load_events, load_summary

    started = time.perf_counter()
    summary = load_summary(store)
    summary_s = time.perf_counter() - started
    times, rows = [], []
    for first, last, bbox in windows(queries, seed=13):
        started = time.perf_counter()
        rows.append(len(load_events(store, first, last, bbox)))
        times.append(time.perf_counter() - started)
    print(f"{'':<11} dashboard: store summary ({summary.count:,} events, {len(summary.actors)} actors, "
          f"{len(summary.intervals):,} intervals) {summary_s * 1000:6.0f} ms | "
          f"dashboard window read median {statistics.median(times) * 1000:6.1f} ms "
          f"(~{int(statistics.median(rows)):,} rows) vs the full read {all_s * 1000:6.0f} ms")


def sql_only(url: str, schema: str, queries: int) -> None:
    """The database's share of a query: the same SELECT timed without building a frame."""
    import psycopg

    times = []
    with psycopg.connect(url) as conn:
        for first, last, (west, south, east, north) in windows(queries):
            started = time.perf_counter()
            conn.execute(
                f"SELECT * FROM {schema}.events WHERE date_end >= %s AND date <= %s "
                "AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                (first, last, west, south, east, north),
            ).fetchall()
            times.append(time.perf_counter() - started)
    print(f"{'':<11} of which SQL only (execute + fetch rows): median {statistics.median(times) * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()

    events = synthetic_events(args.events)
    print(f"{args.events:,} synthetic events, {DAYS} days, box {WEST}..{EAST}E {SOUTH}..{NORTH}N; "
          f"{args.queries} random date+bbox queries (1–3 months × 4°×3°)")
    with tempfile.TemporaryDirectory() as folder:
        measure("geopackage", str(Path(folder) / "events.gpkg"), events, args.queries)

    import os

    url = os.environ.get("EVENT_ATLAS_BENCH_POSTGIS")
    server = None
    if not url:
        from pgcluster import TemporaryPostgres, postgis_available, postgres_bindir

        bindir = postgres_bindir()
        if bindir is None or not postgis_available(bindir):
            print("postgis     skipped: no PostgreSQL with PostGIS on this machine (.ci/run installs it)")
            return 0
        server = TemporaryPostgres(bindir)
        url = server.start()
    try:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        measure("postgis", f"{url}?schema={schema}", events, args.queries)
        sql_only(url, schema, args.queries)
    finally:
        if server is not None:
            server.stop()
    print("target: date+bbox query on 100,000 events in PostGIS under 200 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
