"""The timeline's pure parts: days, steps, where play starts, following the
range, the intervals strip, the caption; and the page's playback controls run
headless (streamlit.testing)."""

from __future__ import annotations

from datetime import date

from conftest import count_line, run_app
from streamlit.testing.v1 import AppTest

from dashboard import timeline
from dashboard.filters import ViewState
from pipelines.schema import Event, events_to_frame


def _event(date_, place, lat=None, lon=None, date_end=None, precision="day", type_=""):
    return Event(
        article_id="timeline", date=date_, date_end=date_end or date_, date_precision=precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Reported in {place}.", source="report", published="2023-06-02",
        admin1="Belgorod Oblast", country="Russia", lat=lat, lon=lon, resolved=lat is not None,
        event_type=type_,
    )


EVENTS = [
    _event("2023-05-22", "Kozinka", 50.4397, 35.5306, type_="armed_clash"),
    _event("2023-05-22", "Gora-Podol", 50.4867, 35.6644, type_="shelling_strike"),
    _event("2023-05-23", "Belgorod Oblast", 50.6, 36.6),
    _event("2023-05-23", "Glotovo-Nowhere"),
    _event("2023-05-01", "Grayvoron", 50.4797, 35.6766, date_end="2023-05-31", precision="month"),
    _event("2023-05-24", "Shebekino", 50.4, 36.89, date_end="2023-05-25"),
]


def test_days_and_steps():
    assert timeline.days(date(2023, 5, 30), date(2023, 6, 2)) == [
        date(2023, 5, 30), date(2023, 5, 31), date(2023, 6, 1), date(2023, 6, 2)]
    start, end = date(2023, 5, 20), date(2023, 5, 23)
    assert timeline.step(date(2023, 5, 21), start, end) == timeline.Step(date(2023, 5, 22), True)
    assert timeline.step(date(2023, 5, 22), start, end) == timeline.Step(date(2023, 5, 23), False)
    assert timeline.step(date(2023, 5, 23), start, end) == timeline.Step(date(2023, 5, 23), False)
    assert timeline.step(date(2023, 5, 20), start, end, by=-1).day == date(2023, 5, 20)


def test_play_starts_where_it_was_or_from_the_start_at_the_end():
    start, end = date(2023, 5, 20), date(2023, 5, 26)
    assert timeline.play_from(None, start, end) == start
    assert timeline.play_from(end, start, end) == start
    assert timeline.play_from(date(2023, 5, 23), start, end) == date(2023, 5, 23)
    assert timeline.play_from(date(2023, 5, 1), start, end) == start


def test_the_position_follows_a_range_change():
    old = (date(2023, 5, 1), date(2023, 5, 31))
    # At the old end: stays at the (new) end, i.e. the whole new range in cumulative mode.
    assert timeline.follow_range(date(2023, 5, 31), old, date(2023, 5, 10), date(2023, 5, 20)) == date(2023, 5, 20)
    assert timeline.follow_range(date(2023, 5, 15), old, date(2023, 5, 10), date(2023, 5, 20)) == date(2023, 5, 15)
    assert timeline.follow_range(date(2023, 5, 5), old, date(2023, 5, 10), date(2023, 5, 20)) == date(2023, 5, 10)
    assert timeline.follow_range(None, None, date(2023, 5, 10), date(2023, 5, 20)) == date(2023, 5, 20)


def test_month_precision_is_an_interval_not_a_day():
    frame = timeline.interval_frame(events_to_frame(EVENTS))
    month = frame[frame["date_precision"] == "month"].iloc[0]
    assert (month["date"], month["date_end"], month["stop"], month["count"]) == (
        "2023-05-01", "2023-05-31", "2023-06-01", 1)
    two_days = frame[frame["date"] == "2023-05-24"].iloc[0]
    assert two_days["stop"] == "2023-05-26"
    assert frame[frame["date"] == "2023-05-22"]["count"].tolist() == [2]
    assert len(timeline.interval_frame(events_to_frame([]))) == 0


def test_caption_says_what_is_shown():
    assert timeline.caption(ViewState(start=date(2023, 5, 1), end=date(2023, 5, 31))) == \
        "Showing 2023-05-01 – 2023-05-31."
    assert timeline.caption(ViewState(start=date(2023, 5, 1), end=date(2023, 5, 31), day=date(2023, 5, 22))) == \
        "Day 2023-05-22: everything from 2023-05-01 up to this day."
    assert timeline.caption(ViewState(start=date(2023, 5, 1), end=date(2023, 5, 31), day=date(2023, 5, 22),
                                      mode="window", window=3)) == \
        "Day 2023-05-22: the 3-day window 2023-05-20 – 2023-05-22."


# --- the page, headless -------------------------------------------------------------

def _app(monkeypatch, tmp_path, query: dict | None = None) -> AppTest:
    store = tmp_path / "events.gpkg"
    events_to_frame(EVENTS).to_file(store, driver="GPKG", layer="events")
    return run_app(monkeypatch, str(store), query)


def test_stepping_and_the_moving_window_drive_the_count_and_the_url(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path)
    assert count_line(at).startswith("**6 events shown of 6**")
    (day,) = at.select_slider
    assert day.value == date(2023, 5, 31)
    day.set_value(date(2023, 5, 22)).run()
    # Up to 22 May: Kozinka, Gora-Podol and the May event.
    assert count_line(at).startswith("**3 events shown of 6** · 3 on the map · 0 unresolved")
    assert at.query_params["day"] == "2023-05-22"
    assert len(at.dataframe[0].value) == 3
    at.button(key="step_forward").click().run()
    assert at.select_slider[0].value == date(2023, 5, 23)
    assert count_line(at).startswith("**5 events shown of 6**")
    at.radio(key=timeline.MODE).set_value("window").run()
    at.number_input(key=timeline.WINDOW).set_value(1).run()
    # Only 23 May: Belgorod Oblast, Glotovo-Nowhere, and the May event.
    assert count_line(at).startswith("**3 events shown of 6** · 2 on the map · 1 unresolved")
    assert at.query_params["mode"] == "window" and at.query_params["window"] == "1"
    assert set(at.dataframe[0].value["mention"]) == {"Belgorod Oblast", "Glotovo-Nowhere", "Grayvoron"}


def test_play_button_starts_from_the_range_start(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path, {"start": "2023-05-20", "end": "2023-05-25"})
    assert at.slider[0].value == (date(2023, 5, 20), date(2023, 5, 25))
    at.button(key="play_button").click().run()
    assert at.session_state[timeline.PLAYING] is True
    assert at.select_slider[0].value == date(2023, 5, 20)
    assert count_line(at).startswith("**1 event shown of 6**")  # the May event only
    at.button(key="play_button").click().run()
    assert at.session_state[timeline.PLAYING] is False


def test_a_url_opens_the_same_view(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path, {"start": "2023-05-22", "end": "2023-05-23", "type": "armed_clash"})
    assert at.multiselect(key="f_types").value == ["armed_clash"]
    assert count_line(at).startswith("**1 event shown of 6**")
    assert dict(at.query_params) == {"start": "2023-05-22", "end": "2023-05-23", "type": "armed_clash"}


def test_the_map_mode_survives_playing(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path, {"start": "2023-05-20", "end": "2023-05-25"})
    at.radio(key=timeline.MAP_MODE).set_value("markers").run()
    at.button(key="play_button").click().run()
    # While playing, the map panel's radio is replaced by a caption (the map stays, the day's events change) ...
    assert any("while playing, only the day's events change" in c.value for c in at.caption)
    assert at.session_state[timeline.MAP_MODE] == "markers"
    at.button(key="play_button").click().run()
    # ... and comes back with the analyst's choice.
    assert at.radio(key=timeline.MAP_MODE).value == "markers"


def test_a_heat_map_is_kept_while_playing(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path, {"start": "2023-05-20", "end": "2023-05-25"})
    at.radio(key=timeline.MAP_MODE).set_value("heat").run()
    at.button(key="play_button").click().run()
    # The heat map also plays in place now (a stable map, the day picked in the browser).
    assert any(c.value.startswith("Map: Heat map · while playing") for c in at.caption)
    assert at.session_state[timeline.MAP_MODE] == "heat"
    at.button(key="play_button").click().run()
    assert at.radio(key=timeline.MAP_MODE).value == "heat"
