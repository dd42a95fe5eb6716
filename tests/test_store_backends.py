"""The same store behaviour from the embedded GeoPackage and from PostGIS."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import date

import pytest

from conftest import PROJECT_ROOT
from pipelines.errors import StoreError
from pipelines.review import ReviewAction, review_event
from pipelines.schema import Candidate, Event, candidates_json, events_to_frame
from pipelines.store import (append_events, ingest_events, open_store, read_events, select_events,
                             store_version)

FORK = multiprocessing.get_context("fork")
KOZINKA = (50.4613, 35.6026)
KYIV = (50.4501, 30.5234)
SUVA = (-18.1416, 178.4419)  # east of the antimeridian box's west edge
APIA = (-13.8333, -171.7667)  # west of its east edge


def _event(article: str, mention: str, day: str, point=None, *, end: str | None = None, **kw) -> Event:
    lat, lon = point if point else (None, None)
    return Event(
        article_id=article, date=day, date_end=end or day, date_precision="day", date_basis="explicit",
        place=mention if point else "", mention=mention, sentence=f"Shelling near {mention} on {day}.",
        source="wire", published="2023-06-01", lat=lat, lon=lon, resolved=point is not None,
        geonameid=None, country_code="RU" if point else "",
        candidates=candidates_json([Candidate("Kozinka", 52.52, 39.33, "PPL", "Lipetsk Oblast", "RU", 2, 0.4, "geonames")]),
        **kw,
    )


def _ingest(store: str, events: list[Event]):
    return ingest_events(store, events_to_frame(events), {e.article_id for e in events})


def test_round_trip_keeps_every_value(any_store):
    events = [_event("a1", "Kozinka", "2023-05-22", KOZINKA, end="2023-05-23"), _event("a1", "Hlyboke", "2023-05-22")]
    result = _ingest(any_store, events)
    assert (result.added, result.stored_total) == (2, 2)
    back = read_events(any_store).set_index("event_id")
    for event in events:
        row = back.loc[event.event_id]
        assert (row["date"], row["date_end"], row["mention"], bool(row["resolved"])) == (
            event.date, event.date_end, event.mention, event.resolved)
        assert json.loads(row["candidates"])[0]["lat"] == 52.52
        assert row["review_history"] == "[]"
    kozinka = back.loc[events[0].event_id]
    assert (kozinka["lat"], kozinka["lon"]) == KOZINKA
    assert kozinka.geometry.x == pytest.approx(KOZINKA[1]) and kozinka.geometry.y == pytest.approx(KOZINKA[0])
    assert back.loc[events[1].event_id].geometry is None
    assert back.crs.to_epsg() == 4326


def test_reingest_rules_hold_in_both_backends(any_store):
    _ingest(any_store, [_event("a1", "Hlyboke", "2023-05-22"), _event("a2", "Kyiv", "2023-05-22", KYIV)])
    version = store_version(any_store)

    same = _ingest(any_store, [_event("a1", "Hlyboke", "2023-05-22")])
    assert (same.added, same.superseded, same.already_stored) == (0, 0, 1)

    resolved = _ingest(any_store, [_event("a1", "Hlyboke", "2023-05-22", (50.3861, 36.6519))])
    assert (resolved.added, resolved.superseded, resolved.stored_total) == (1, 1, 2)
    assert store_version(any_store) != version

    offline = _ingest(any_store, [_event("a1", "Hlyboke", "2023-05-22")])
    assert (offline.added, offline.superseded) == (0, 0)
    events = read_events(any_store)
    assert sorted(events["article_id"]) == ["a1", "a2"]
    assert events.loc[events["article_id"] == "a1", "resolved"].all()


def test_reviews_are_stored_and_survive_reingest(any_store):
    kozinka = _event("a1", "Kozinka", "2023-05-22", KOZINKA)
    _ingest(any_store, [kozinka])
    review_event(any_store, kozinka.event_id[:8], ReviewAction(candidate=0, date=date(2023, 5, 23)), by="alice")
    again = _ingest(any_store, [_event("a1", "Kozinka", "2023-05-22", KOZINKA)])
    assert (again.added, again.reviewed_kept) == (0, 1)
    row = read_events(any_store).iloc[0]
    assert (row["lat"], row["lon"], row["date"], row["review_status"], row["reviewed_by"]) == (
        52.52, 39.33, "2023-05-23", "corrected", "alice")


def test_append_skips_what_is_stored(any_store):
    first = [_event("a1", "Kozinka", "2023-05-22", KOZINKA)]
    assert append_events(any_store, events_to_frame(first)).added == 1
    both = first + [_event("a3", "Kyiv", "2023-06-01", KYIV)]
    result = append_events(any_store, events_to_frame(both))
    assert (result.added, result.already_stored, result.total) == (1, 1, 2)


@pytest.mark.parametrize("start, end, bbox", [
    (date(2023, 5, 23), date(2023, 5, 31), None),
    (None, date(2023, 5, 22), None),
    (date(2023, 6, 1), None, None),
    (None, None, (35.0, 50.0, 36.0, 51.0)),
    (date(2023, 5, 1), date(2023, 6, 30), (30.0, 50.0, 36.0, 51.0)),
    (None, None, (170.0, -25.0, -170.0, -10.0)),  # across the antimeridian
])
def test_date_and_bbox_filters_agree_with_the_pure_filter(any_store, start, end, bbox):
    events = [
        _event("a1", "Kozinka", "2023-05-22", KOZINKA, end="2023-05-24"),
        _event("a1", "Hlyboke", "2023-05-22"),
        _event("a2", "Kyiv", "2023-06-01", KYIV),
        _event("a3", "Suva", "2023-05-10", SUVA),
        _event("a3", "Apia", "2023-05-11", APIA),
    ]
    _ingest(any_store, events)
    everything = read_events(any_store)
    got = read_events(any_store, start=start, end=end, bbox=bbox)
    want = select_events(everything, start=start, end=end, bbox=bbox)
    assert sorted(got["event_id"]) == sorted(want["event_id"])
    assert len(want) > 0


def _writer(store: str, batches: list[list[Event]]) -> None:
    for batch in batches:
        _ingest(store, batch)
    os._exit(0)


def test_several_writers_at_once_lose_and_duplicate_nothing(any_store):
    articles = [[_event(f"art{i}", name, "2023-05-22", KOZINKA if j == 0 else KYIV) for j, name in
                 enumerate(("Kozinka", "Kyiv"))] for i in range(12)]
    # Three processes, overlapping article sets, all at once.
    plans = [articles[:8], articles[4:12], articles[::2]]
    children = [FORK.Process(target=_writer, args=(any_store, plan)) for plan in plans]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
    assert [c.exitcode for c in children] == [0, 0, 0]
    events = read_events(any_store)
    assert len(events) == 24
    assert not events["event_id"].duplicated().any()


def test_event_id_uniqueness_is_enforced_by_the_database(postgis_url):
    import psycopg

    store = f"{postgis_url}?schema=t_unique"
    _ingest(store, [_event("a1", "Kozinka", "2023-05-22", KOZINKA)])
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO t_unique.events (event_id, article_id, date, date_end, resolved) "
                         "SELECT event_id, 'x', date, date_end, false FROM t_unique.events")
        indexes = {row[0] for row in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 't_unique' AND tablename = 'events'")}
    assert any("gist (geom)" in i for i in indexes)
    assert any("(date, date_end)" in i for i in indexes)


def test_unreachable_database_is_a_one_line_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match="cannot connect"):
        read_events(f"postgresql://nobody:secret@127.0.0.1:{port}/nothing")
    with pytest.raises(StoreError) as error:
        read_events(f"postgresql://nobody:secret@127.0.0.1:{port}/nothing")
    assert "secret" not in str(error.value)
    with pytest.raises(StoreError, match="not supported"):
        open_store("mysql://x/y")


def test_cli_works_on_either_backend(any_store, tmp_path):
    from conftest import run_cli

    raid = PROJECT_ROOT / "geodata" / "examples" / "belgorod-raid-2023-05.md"
    first = run_cli("ingest", str(raid), "--store", any_store)
    assert first.returncode == 0, first.stderr
    assert "secret" not in first.stdout
    again = run_cli("ingest", str(raid), "--store", any_store)
    assert again.stdout.startswith("0 events added"), again.stdout
    listed = run_cli("events", "--store", any_store)
    assert listed.returncode == 0 and "Kozinka" in listed.stdout
    out = tmp_path / "out.geojson"
    exported = run_cli("export", "--store", any_store, "--format", "geojson", "-o", str(out),
                       "--start", "2023-05-22", "--end", "2023-05-22")
    assert exported.returncode == 0, exported.stderr
    features = json.loads(out.read_text())["features"]
    kozinka = [f for f in features if f["properties"]["place"] == "Kozinka"]
    assert kozinka and kozinka[0]["geometry"]["coordinates"] == pytest.approx([KOZINKA[1], KOZINKA[0]], abs=1e-3)
    assert all(f["properties"]["date"] <= "2023-05-22" <= f["properties"]["date_end"] for f in features)
