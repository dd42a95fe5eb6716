"""The dashboard reads the timeline's window from the store, not everything
(issue #5: "the dashboard reads from it with the date and bbox filters pushed
into SQL"), on both backends:

* the store summary (count, date span, the values each filter offers) equals
  what a full read gives, and PostGIS computes it with aggregates;
* a window read returns only the window's rows, PostGIS runs it as a WHERE
  that uses the GiST and (date, date_end) indexes, GeoPackage hands the dates
  and the box to GDAL;
* the page (streamlit.testing) on a PostGIS store opened from a link with a
  bbox shows exactly the events inside the box and the dates, reads only that
  window (never the whole store), does not read again while the day moves,
  and keeps the map mode in the link.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta

import pytest
from conftest import count_line, run_app

from pipelines.filters import EventFilter, apply_filters, parse_bbox
from pipelines.schema import Event, events_to_frame
from pipelines.store import ingest_events, open_store, read_events, select_events, store_summary, summarize
from pipelines.store.geopackage import GeoPackageStore
from pipelines.store.postgis import PostGISStore

from dashboard import data, filters

RVC, MOD = "Russian Volunteer Corps", "Russian Ministry of Defence"


def _event(day, mention, point=None, *, end=None, article="pd-a", type_="", actors="[]", source="wire A",
           status="", precision="point", date_precision="day") -> Event:
    lat, lon = point if point else (None, None)
    return Event(
        article_id=article, date=day, date_end=end or day, date_precision=date_precision, date_basis="explicit",
        place=mention if point else "", mention=mention, sentence=f"Shelling near {mention} on {day}.",
        source=source, published="2023-06-01", geo_precision=precision, lat=lat, lon=lon,
        resolved=point is not None, event_type=type_, actors=actors, review_status=status,
        reviewed_by="analyst" if status else "",
    )


# Belgorod Oblast (inside the box below) and farther away (outside it).
EVENTS = [
    _event("2023-05-20", "Kozinka", (50.4397, 35.5306), type_="armed_clash", actors=json.dumps([RVC])),
    _event("2023-05-22", "Gora-Podol", (50.4867, 35.6644), type_="shelling_strike", actors=json.dumps([MOD, RVC]),
           source="wire B", status="accepted"),
    _event("2023-05-23", "Grayvoronsky District", (50.48, 35.68), precision="district", status="corrected"),
    _event("2023-05-23", "Glotovo-Nowhere"),  # unresolved: never inside a box
    _event("2023-05-24", "Shebekino", (50.4, 36.89), type_="shelling_strike", actors='"Lone name"',
           source="wire B", status="rejected"),
    _event("2023-05-01", "Belgorod", (50.5977, 36.5858), end="2023-05-31", date_precision="month",
           type_="statement", actors='[{"name": "Governor of Belgorod Oblast"}, "Esc\\"aped"]'),
    _event("2023-05-22", "Kyiv", (50.4501, 30.5234), article="pd-b", actors="not json"),
    _event("2023-05-25", "Kharkiv", (49.9935, 36.2304), article="pd-b", type_="armed_clash", source="wire C"),
    _event("2023-06-10", "Valuyki", (50.2111, 38.0996), article="pd-b", type_="armed_clash", actors=json.dumps([RVC])),
]
BOX = "35,50.3,37,50.7"  # Kozinka .. Shebekino, Belgorod; not Kyiv, Kharkiv (south), Valuyki (east)


def _fill(store: str, events=EVENTS) -> None:
    frame = events_to_frame(events)
    ingest_events(store, frame, sorted(set(frame["article_id"])))


# --- the store summary ---------------------------------------------------------------

def test_summary_and_date_span_equal_a_full_read(any_store):
    assert store_summary(any_store).count == 0
    assert open_store(any_store).date_span() is None
    _fill(any_store)
    full = read_events(any_store)
    store = open_store(any_store)
    summary = store.summary()
    assert summary == summarize(full)
    assert summary.count == len(EVENTS) == store.count()
    assert store.date_span() == summary.date_span() == (date(2023, 5, 1), date(2023, 6, 10))
    span = data.date_span(full)
    assert data.summary_span(summary) == span
    # The facets the sidebar offers, as the frame functions give them.
    assert filters.type_options(summary.types) == filters.type_choices(full)
    assert filters.actor_options(summary.actors) == filters.actor_choices(full)
    assert filters.source_options(summary.sources) == filters.source_choices(full)
    assert summary.actors == {RVC: 3, MOD: 1, "Lone name": 1, "Governor of Belgorod Oblast": 1, 'Esc"aped': 1,
                              "not json": 1}
    assert summary.precisions == {"point": 7, "district": 1, "unresolved": 1}
    assert summary.statuses == {"": 6, "accepted": 1, "corrected": 1, "rejected": 1}
    # The timeline strip's bars: the whole store's intervals, as interval_frame counts them.
    from dashboard.timeline import interval_frame

    assert data.summary_intervals(summary).to_dict("records") == (
        interval_frame(full).sort_values(["date", "date_end", "date_precision"]).reset_index(drop=True)
        .to_dict("records"))


def test_postgis_summary_runs_in_sql_not_a_full_read(postgis_url, monkeypatch):
    url = f"{postgis_url}?schema=t_{uuid.uuid4().hex[:16]}"
    _fill(url)
    expected = summarize(read_events(url))

    def no_full_read(*args, **kwargs):
        raise AssertionError("the summary read every event")

    monkeypatch.setattr(PostGISStore, "_select", no_full_read)
    monkeypatch.setattr(PostGISStore, "read", no_full_read)
    assert open_store(url).summary() == expected
    assert open_store(url).date_span() == (date(2023, 5, 1), date(2023, 6, 10))


def test_geopackage_summary_reads_no_frame(store, monkeypatch):
    _fill(store)
    expected = summarize(read_events(store))
    import pipelines.store.geopackage as gpkg

    def no_frame(*args, **kwargs):
        raise AssertionError("the summary built a frame of every event")

    monkeypatch.setattr(gpkg, "_read_unlocked", no_frame)
    assert open_store(store).summary() == expected


# --- window reads ----------------------------------------------------------------------

def _many(n: int, seed: int = 5) -> list[Event]:
    """n events over 400 days and a 10°×6° box, 4 per article."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = date(2022, 3, 1) + timedelta(days=rng.randrange(400))
        point = (round(rng.uniform(44, 50), 5), round(rng.uniform(28, 38), 5)) if i % 10 else None
        end = (day + timedelta(days=rng.choice([0, 0, 1, 30]))).isoformat()
        out.append(_event(day.isoformat(), f"Place {i}", point, end=end, article=f"many{i // 4:05d}"))
    return out


WINDOW = {"start": date(2022, 6, 1), "end": date(2022, 7, 10), "bbox": (30.0, 45.0, 34.0, 47.5)}


def test_a_window_read_returns_the_window_only_on_both_backends(any_store):
    _fill(any_store, _many(600))
    full = read_events(any_store)
    window = data.load_events(any_store, **WINDOW)
    expected = select_events(full, **WINDOW)
    assert 0 < len(window) < len(full) // 10
    assert sorted(window["event_id"]) == sorted(expected["event_id"])
    # the same rows as the dashboard's own filter over everything
    same = apply_filters(full, EventFilter(**WINDOW))
    assert sorted(same["event_id"]) == sorted(window["event_id"])


def test_postgis_window_read_is_a_where_on_the_indexes(postgis_url):
    url = f"{postgis_url}?schema=t_{uuid.uuid4().hex[:16]}"
    _fill(url, _many(4000))
    store = open_store(url)
    query, params = store.read_query(**WINDOW)
    with store._connect() as conn:
        text = query.as_string(conn)
        assert " WHERE " in text and "date_end >= %(start)s" in text and "date <= %(end)s" in text
        assert "geom && ST_MakeEnvelope(" in text
        conn.execute(f"ANALYZE {store.schema}.events")
        plan = json.dumps(conn.execute(sql_explain(query), params).fetchone()[0])
        total = conn.execute(f"SELECT count(*) FROM {store.schema}.events").fetchone()[0]
        returned = len(conn.execute(query, params).fetchall())
    assert "events_geom_idx" in plan or "events_dates_idx" in plan, plan
    assert '"Seq Scan"' not in plan, plan
    assert 0 < returned < total // 20
    assert returned == len(store.read(**WINDOW))


def sql_explain(query):
    from psycopg import sql

    return sql.SQL("EXPLAIN (FORMAT JSON) {}").format(query)


def test_geopackage_window_read_hands_dates_and_box_to_gdal(store, monkeypatch):
    _fill(store, _many(300))
    import pipelines.store.geopackage as gpkg

    calls = []
    real = gpkg._read_unlocked

    def spy(path, *, where=None, bbox=None):
        calls.append((where, bbox))
        return real(path, where=where, bbox=bbox)

    monkeypatch.setattr(gpkg, "_read_unlocked", spy)
    window = data.load_events(store, **WINDOW)
    ((where, bbox),) = calls
    assert where == "\"date_end\" >= '2022-06-01' AND \"date\" <= '2022-07-10'"
    assert bbox == WINDOW["bbox"]
    assert 0 < len(window) < 60


# --- the page on a PostGIS store ----------------------------------------------------------

@pytest.fixture()
def pg_store(postgis_url) -> str:
    url = f"{postgis_url}?schema=t_{uuid.uuid4().hex[:16]}"
    _fill(url)
    return url


def _reads(monkeypatch, cls) -> list[dict]:
    """Record every read of a store class (the app runs in this process)."""
    calls: list[dict] = []
    real = cls.read

    def spy(self, **kwargs):
        calls.append(kwargs)
        return real(self, **kwargs)

    monkeypatch.setattr(cls, "read", spy)
    return calls



@pytest.mark.parametrize("backend", ["postgis", "geopackage"])
def test_a_link_with_a_bbox_shows_exactly_the_events_inside_it(backend, pg_store, store, monkeypatch):
    if backend == "geopackage":
        _fill(store)
        where, cls = store, GeoPackageStore
    else:
        where, cls = pg_store, PostGISStore
    reads = _reads(monkeypatch, cls)
    query = {"start": "2023-05-21", "end": "2023-05-31", "bbox": BOX}
    at = run_app(monkeypatch, where, query)

    f = EventFilter(start=date(2023, 5, 21), end=date(2023, 5, 31), bbox=parse_bbox(BOX))
    expected = apply_filters(events_to_frame(EVENTS), f)
    assert sorted(expected["mention"]) == ["Belgorod", "Gora-Podol", "Grayvoronsky District", "Shebekino"]
    assert count_line(at).startswith(f"**{len(expected)} events shown of {len(EVENTS)}** · 4 on the map")
    assert sorted(at.dataframe[0].value["mention"]) == sorted(expected["mention"])
    assert at.text_input(key=filters.BBOX_KEY).value == BOX
    assert at.query_params["bbox"] == BOX
    # The window went into the store's query; the whole store was never read.
    window = {"start": date(2023, 5, 21), "end": date(2023, 5, 31), "bbox": parse_bbox(BOX)}
    assert window in reads and {"start": None, "end": None, "bbox": None} not in reads
    assert all(r.get("bbox") == window["bbox"] or r.get("bbox") is None for r in reads)
    page_reads = [r for r in reads if r.get("bbox") is not None]

    # Moving the day inside the range reads nothing again.
    at.button(key="step_back").click().run()
    assert not at.exception, at.exception
    assert at.query_params["day"] == "2023-05-30"
    assert [r for r in reads if r.get("bbox") is not None] == page_reads


def test_the_sidebar_offers_the_store_summarys_values(pg_store, monkeypatch):
    at = run_app(monkeypatch, pg_store, {"type": ["armed_clash", "no_such_type"], "actor": RVC})
    summary = store_summary(pg_store)
    assert at.multiselect(key="f_types").options == [filters._label(t) for t in filters.type_options(summary.types)]
    assert at.multiselect(key="f_actors").options == filters.actor_options(summary.actors)
    assert at.multiselect(key="f_sources").options == filters.source_options(summary.sources)
    # A value the store lacks is dropped from the link, the others kept.
    assert at.multiselect(key="f_types").value == ["armed_clash"]
    assert at.multiselect(key="f_actors").value == [RVC]
    assert count_line(at).startswith("**2 events shown of 9**")  # Kozinka, Valuyki


def test_a_bad_area_says_why_and_filters_nothing(pg_store, monkeypatch):
    at = run_app(monkeypatch, pg_store, {})
    at.text_input(key=filters.BBOX_KEY).input("35,50,abc").run()
    assert not at.exception, at.exception
    assert any("Area not applied" in e.value and "four numbers" in e.value for e in at.error)
    assert count_line(at).startswith("**9 events shown of 9**")
    assert "bbox" not in at.query_params
    at.text_input(key=filters.BBOX_KEY).input("35,51,37,50").run()  # south above north
    assert any("in degrees with south" in e.value for e in at.error)  # (markdown-escaped "south <= north")
    at.text_input(key=filters.BBOX_KEY).input(BOX).run()
    assert not at.error
    assert count_line(at).startswith("**5 events shown of 9**")  # the box, every date
    assert at.query_params["bbox"] == BOX


def test_the_map_mode_is_in_the_link(pg_store, monkeypatch):
    at = run_app(monkeypatch, pg_store, {"map": "heat"})
    assert at.radio(key="map_mode").value == "heat"
    assert at.query_params["map"] == "heat"
    at.radio(key="map_mode").set_value("clusters").run()
    assert at.query_params["map"] == "clusters"
    at.radio(key="map_mode").set_value("auto").run()
    assert "map" not in at.query_params  # the default leaves the link bare
    again = run_app(monkeypatch, pg_store, {"map": "no-such-mode"})
    assert again.radio(key="map_mode").value == "auto"


def test_view_state_carries_the_map_mode_and_an_exact_bbox():
    state = filters.from_query({"map": "clusters", "bbox": "35.53061,50.1,37,50.72345"})
    assert state.map_mode == "clusters" and state.bbox == (35.53061, 50.1, 37.0, 50.72345)
    query = filters.to_query(state)
    assert query["map"] == "clusters" and query["bbox"] == "35.53061,50.1,37,50.72345"
    assert filters.from_query(query) == state
    assert "--bbox 35.53061,50.1,37,50.72345" in state.shown_filter().cli_command()


def test_a_download_s_export_command_parses_back_with_a_west_longitude():
    """The provenance's ``query`` is a command the CLI accepts, also for a box
    west of Greenwich ("--bbox -10,…" would read as an option)."""
    import shlex

    from pipelines.cli import build_parser

    f = EventFilter(start=date(2023, 5, 1), bbox=(-10.5, 40.0, 5.0, 50.25))
    argv = shlex.split(f.cli_command())[3:]  # after "python -m pipelines"
    args = build_parser().parse_args([*argv, "--format", "csv", "-o", "x.csv"])
    assert parse_bbox(args.bbox) == f.bbox
    assert args.start == date(2023, 5, 1)


def test_the_detail_view_s_claims_come_from_outside_the_area(postgis_url, monkeypatch):
    """The window read holds only the area; the claims about the picked event
    (here the enclosing region's, a point outside the area) are read by its dates."""
    url = f"{postgis_url}?schema=t_{uuid.uuid4().hex[:16]}"
    kozinka = _event("2023-05-22", "Kozinka", (50.4397, 35.5306))
    region = _event("2023-05-22", "Belgorod Oblast", (50.6, 36.6), article="pd-b", precision="region",
                    source="wire B")
    kozinka.admin1 = region.admin1 = "Belgorod Oblast"
    _fill(url, [kozinka, region])
    at = run_app(monkeypatch, url, {"bbox": "35.4,50.4,35.6,50.5"})  # Kozinka only
    assert count_line(at).startswith("**1 event shown of 2**")
    html = " ".join(str(h.proto.body) for h in at.get("html"))
    assert "Shelling near Belgorod Oblast on 2023-05-22." in html and "enclosing area" in html
