"""Charts: events per day stacked by type (month/year-dated events are not
spread over days), top places, the strip of intervals, and reading a click."""

from __future__ import annotations

from datetime import date

from dashboard import charts, timeline
from pipelines.schema import Event, events_to_frame


def _event(date_, place, lat=None, lon=None, date_end=None, precision="day", type_=""):
    return Event(
        article_id="charts", date=date_, date_end=date_end or date_, date_precision=precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Reported in {place}.", source="report", published="2023-06-02",
        lat=lat, lon=lon, resolved=lat is not None, event_type=type_,
    )


EVENTS = events_to_frame([
    _event("2023-05-22", "Kozinka", 50.44, 35.53, type_="armed_clash"),
    _event("2023-05-22", "Kozinka", 50.44, 35.53, type_="shelling_strike"),
    _event("2023-05-22", "Gora-Podol", 50.49, 35.66, type_="shelling_strike"),
    _event("2023-05-23", "Kozinka", 50.44, 35.53, date_end="2023-05-24", type_="armed_clash"),
    _event("2023-05-23", "Glotovo-Nowhere"),
    _event("2023-05-01", "Grayvoron", 50.48, 35.68, date_end="2023-05-31", precision="month", type_="statement"),
    _event("2023-01-01", "Shebekino", 50.4, 36.89, date_end="2023-12-31", precision="year"),
])


def test_per_day_counts_day_events_on_each_of_their_days_by_type():
    rows = charts.per_day(EVENTS).to_dict("records")
    assert rows == [
        {"day": "2023-05-22", "type": "armed clash", "count": 1},
        {"day": "2023-05-22", "type": "shelling strike", "count": 2},
        {"day": "2023-05-23", "type": "armed clash", "count": 1},
        {"day": "2023-05-23", "type": "no type", "count": 1},
        {"day": "2023-05-24", "type": "armed clash", "count": 1},
    ]
    # The May event and the 2023 event are intervals, never a count on one day.
    assert charts.coarse(EVENTS).sum() == 2
    assert len(charts.per_day(EVENTS.iloc[0:0])) == 0


def test_top_places_most_first_ties_by_name():
    assert charts.top_places(EVENTS, 3).to_dict("records") == [
        {"place": "Kozinka", "count": 3},
        {"place": "Glotovo-Nowhere", "count": 1},
        {"place": "Gora-Podol", "count": 1},
    ]


def test_per_day_chart_from_counts_computed_before_is_the_same_chart():
    """The page passes the cached counts of its filtered window (cache.per_day_counts)."""
    shown = (date(2023, 5, 22), date(2023, 5, 22))
    assert charts.per_day_chart(EVENTS, shown, counts=charts.per_day(EVENTS)).to_dict() \
        == charts.per_day_chart(EVENTS, shown).to_dict()
    # the counts decide, not the frame beside them
    spec = charts.per_day_chart(EVENTS.iloc[0:0], shown, counts=charts.per_day(EVENTS)).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert sum(v["count"] for v in values) == int(charts.per_day(EVENTS)["count"].sum()) > 0


def test_charts_build_valid_specs_with_a_day_selection():
    spec = charts.per_day_chart(EVENTS, (date(2023, 5, 22), date(2023, 5, 22))).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["params"][0]["name"] == charts.DAY_SELECTION
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert {v["shown"] for v in values if v["day"] == "2023-05-22"} == {"shown"}
    assert {v["shown"] for v in values if v["day"] == "2023-05-23"} == {"not shown"}
    charts.top_places_chart(EVENTS).to_dict()
    strip = charts.strip_chart(timeline.interval_frame(EVENTS), date(2023, 1, 1), date(2023, 12, 31),
                               (date(2023, 5, 22), date(2023, 5, 23))).to_dict()
    assert len(strip["layer"]) == 2
    assert charts.frame_height(charts.per_day_chart(EVENTS)) == 220 + 60 + 70
    lanes = timeline.interval_frame(EVENTS)["date_precision"].nunique()
    assert charts.frame_height(charts.strip_chart(timeline.interval_frame(EVENTS), date(2023, 1, 1),
                                                  date(2023, 12, 31), (None, None))) == 26 * lanes + 14 + 60


def test_a_click_on_a_bar_reads_as_a_day():
    epoch_ms = 1684713600000  # 2023-05-22T00:00Z, how Vega-Lite sends a temporal value
    assert charts.selected_day({"selection": {"day": [{"yearmonthdate_day": epoch_ms}]}}) == date(2023, 5, 22)
    assert charts.selected_day({"selection": {"day": [{"day": "2023-05-23"}]}}) == date(2023, 5, 23)
    assert charts.selected_day({"selection": {"day": []}}) is None
    assert charts.selected_day(None) is None
    assert charts.type_label("shelling_strike") == "shelling strike" and charts.type_label("") == "no type"
