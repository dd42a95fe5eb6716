"""Dashboard data functions: store loading, date-interval filtering, counts."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard import data
from pipelines.schema import Event, events_to_frame


def make_event(date_, date_end, precision="day", place="Kozinka", lat=50.44, lon=35.53,
               geo_precision="point", resolved=True, mention=None) -> Event:
    return Event(
        article_id="t", date=date_, date_end=date_end, date_precision=precision,
        date_basis="explicit", place=place if resolved else "", mention=mention or place,
        sentence=f"Something happened in {place}.", source="test", published="2023-06-02",
        geo_precision=geo_precision, admin1="Belgorod Oblast", country="Russia",
        lat=lat if resolved else None, lon=lon if resolved else None, resolved=resolved,
    )


@pytest.fixture()
def events():
    return events_to_frame([
        make_event("2023-05-22", "2023-05-22", place="Kozinka"),
        make_event("2023-05-23", "2023-05-23", place="Grayvoronsky District", lat=50.48, lon=35.68,
                   geo_precision="district"),
        make_event("2023-05-23", "2023-05-23", place="Nowhere", resolved=False),
        make_event("2023-06-01", "2023-06-01", place="Shebekino", lat=50.40, lon=36.89),
        make_event("2023-05-01", "2023-05-31", "month", place="Belgorod Oblast", lat=50.6, lon=36.6,
                   geo_precision="region"),
        make_event("2023-01-01", "2023-12-31", "year", place="Russia", lat=61.5, lon=105.3,
                   geo_precision="country"),
    ])


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, {"Kozinka", "Grayvoronsky District", "Nowhere", "Shebekino", "Belgorod Oblast", "Russia"}),
    ("2023-05-22", "2023-05-22", {"Kozinka", "Belgorod Oblast", "Russia"}),
    ("2023-05-23", "2023-05-23", {"Grayvoronsky District", "Nowhere", "Belgorod Oblast", "Russia"}),
    ("2023-05-31", "2023-05-31", {"Belgorod Oblast", "Russia"}),           # last day of the month interval
    ("2023-06-01", "2023-06-30", {"Shebekino", "Russia"}),
    ("2023-04-01", "2023-04-30", {"Russia"}),                              # only the year interval overlaps
    ("2023-05-24", "2023-05-31", {"Belgorod Oblast", "Russia"}),
    ("2022-01-01", "2022-12-31", set()),
    ("2023-06-02", None, {"Russia"}),
    (None, "2023-05-01", {"Belgorod Oblast", "Russia"}),                   # first day of the month interval
])
def test_filter_keeps_events_whose_interval_overlaps_the_range(events, start, end, expected):
    start = date.fromisoformat(start) if start else None
    end = date.fromisoformat(end) if end else None
    shown = data.filter_dates(events, start, end)
    names = set(shown["place"].where(shown["place"] != "", shown["mention"]))
    assert names == expected
    assert len(shown) == len(expected)


def test_filter_returns_a_new_frame_and_leaves_the_input_alone(events):
    before = events.copy()
    shown = data.filter_dates(events, date(2023, 5, 23), date(2023, 5, 23))
    shown.loc[:, "place"] = "changed"
    pd.testing.assert_frame_equal(pd.DataFrame(events), pd.DataFrame(before))
    assert shown is not events
    assert shown.crs == events.crs


def test_date_span_runs_from_first_date_to_last_date_end(events):
    span = data.date_span(events)
    assert (span.start, span.end) == (date(2023, 1, 1), date(2023, 12, 31))
    days = data.filter_dates(events, date(2023, 5, 22), date(2023, 6, 1))
    assert data.date_span(data.resolved(days[days["date_precision"] == "day"])) == data.DateSpan(
        date(2023, 5, 22), date(2023, 6, 1))
    assert data.date_span(data.filter_dates(events, date(2022, 1, 1), date(2022, 1, 2))) is None


def test_counts_split_resolved_and_unresolved(events):
    c = data.counts(data.filter_dates(events, date(2023, 5, 23), date(2023, 5, 23)))
    assert (c.total, c.resolved, c.unresolved) == (4, 3, 1)
    assert c.by_precision == {"district": 1, "region": 1, "country": 1}
    assert data.counts(events.iloc[0:0]) == data.Counts(0, 0, 0, {})
    assert data.shown_label(4, 6) == "4 events shown of 6"
    assert data.shown_label(1, 6) == "1 event shown of 6"


def test_resolved_and_unresolved_partition_the_events(events):
    on_map, review = data.resolved(events), data.unresolved(events)
    assert len(on_map) == 5 and len(review) == 1
    assert list(review["mention"]) == ["Nowhere"]
    assert review.geometry.isna().all() and on_map.geometry.notna().all()


def test_table_has_the_listed_columns_sorted_by_date(events):
    table = data.table_frame(events)
    assert list(table.columns) == list(data.TABLE_COLUMNS)
    assert "geometry" not in table.columns
    assert list(table["date"]) == sorted(events["date"])
    assert table.loc[table["mention"] == "Nowhere", "geo_precision"].tolist() == ["unresolved"]
    assert table.loc[table["place"] == "Kozinka", "geo_precision"].tolist() == ["point"]
    review = data.unresolved_frame(events)
    assert list(review.columns) == list(data.UNRESOLVED_COLUMNS)
    assert review["mention"].tolist() == ["Nowhere"]


@pytest.mark.parametrize("page", [0, 1, 2, 3, 7, 99])
def test_table_page_is_that_page_of_the_whole_sorted_table(page):
    """Ties on every key (the stable order decides), a shuffled and repeated
    index: a page of the key-only sort equals paging the fully sorted table."""
    from dashboard import density

    days = ["2023-05-22", "2023-05-23", "2023-05-21"]
    frame = events_to_frame([make_event(days[i % 3], days[i % 3], place=f"P{i % 4}", mention=f"m{i % 2}")
                             for i in range(61)])
    frame.index = [i % 5 for i in range(61)][::-1]
    want = data.table_frame(density.page_of(data.table_order(frame), page, 10))
    got = data.table_page(frame, page, 10)
    pd.testing.assert_frame_equal(got, want)
    assert len(got) == (1 if page >= 7 else 10)
    assert data.table_page(frame.iloc[0:0], 1, 10).empty


def test_load_events_reads_the_store_and_its_version_changes_on_write(events, tmp_path):
    store = str(tmp_path / "events.gpkg")
    assert data.store_version(store) is None
    assert len(data.load_events(store)) == 0
    events.to_file(store, driver="GPKG", layer="events")
    version = data.store_version(store)
    loaded = data.load_events(store)
    assert len(loaded) == 6
    assert loaded["date"].map(type).eq(str).all()
    row = loaded.loc[loaded["place"] == "Shebekino"].iloc[0]
    assert (row["lat"], row["lon"]) == pytest.approx((50.40, 36.89))
    assert data.filter_dates(loaded, date(2023, 5, 22), date(2023, 5, 22))["place"].tolist().count("Kozinka") == 1
    # A new store renamed over the old one, as pipelines.store writes it.
    events.iloc[:2].to_file(tmp_path / "new.gpkg", driver="GPKG", layer="events")
    (tmp_path / "new.gpkg").replace(store)
    assert data.store_version(store) != version
    assert len(data.load_events(store)) == 2
