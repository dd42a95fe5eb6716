"""The Streamlit page run headless with streamlit.testing (no browser): the
empty-store message, the count line, the timeline slider filtering the table,
and a new ingest showing up without a restart."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from conftest import count_line, run_app

from pipelines.config import PROJECT_ROOT
from pipelines.schema import Event, events_to_frame

APP = PROJECT_ROOT / "dashboard" / "app.py"


def _event(date_, place, lat=None, lon=None, geo="point"):
    return Event(
        article_id="apptest", date=date_, date_end=date_, date_precision="day",
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Reported in {place}.", source="report", published="2023-06-02",
        geo_precision=geo, admin1="Belgorod Oblast", country="Russia",
        lat=lat, lon=lon, resolved=lat is not None,
    )


EVENTS = [
    _event("2023-05-22", "Kozinka", 50.4397, 35.5306),
    _event("2023-05-22", "Gora-Podol", 50.4867, 35.6644),
    _event("2023-05-23", "Belgorod Oblast", 50.6, 36.6, "region"),
    _event("2023-05-23", "Glotovo-Nowhere"),
    _event("2023-06-01", "Shebekino", 50.4, 36.89),
]


def write_store(path: Path, events) -> None:
    """Write aside and rename over, as pipelines.store does."""
    tmp = path.with_name("incoming.gpkg")
    events_to_frame(events).to_file(tmp, driver="GPKG", layer="events")
    tmp.replace(path)


def test_empty_store_says_how_to_fill_it(monkeypatch, tmp_path):
    at = run_app(monkeypatch, tmp_path / "events.gpkg")
    assert at.title[0].value == "Event Atlas"
    (info,) = at.info
    assert "No events yet" in info.value and "python -m pipelines ingest" in info.value
    assert len(at.slider) == 0 and len(at.get("download_button")) == 0


def test_slider_filters_the_count_and_the_tables(monkeypatch, tmp_path):
    store = tmp_path / "events.gpkg"
    write_store(store, EVENTS)
    at = run_app(monkeypatch, store)
    assert count_line(at).startswith("**5 events shown of 5** · 4 on the map · 1 unresolved")
    (slider,) = at.slider
    assert slider.value == (date(2023, 5, 22), date(2023, 6, 1))
    assert at.get("download_button")[0].proto.label == "Download GeoJSON"
    assert len(at.dataframe[0].value) == 5

    slider.set_value((date(2023, 5, 23), date(2023, 5, 31))).run()
    assert count_line(at).startswith("**2 events shown of 5** · 1 on the map · 1 unresolved")
    table = at.dataframe[0].value
    assert list(table["mention"]) == ["Belgorod Oblast", "Glotovo-Nowhere"]
    assert list(table.columns) == ["date", "date_end", "place", "mention", "geo_precision",
                                   "admin1", "country", "sentence", "source"]
    (expander,) = [e for e in at.expander if "Unresolved" in e.label]
    assert "Unresolved mentions" in expander.label and "(1)" in expander.label
    assert list(at.dataframe[1].value["mention"]) == ["Glotovo-Nowhere"]


def test_a_new_ingest_shows_up_without_a_restart(monkeypatch, tmp_path):
    store = tmp_path / "events.gpkg"
    write_store(store, EVENTS[:2])
    at = run_app(monkeypatch, store)
    assert count_line(at).startswith("**2 events shown of 2**")
    assert len(at.slider) == 0  # one date: nothing to slide
    assert any("All events are dated 2023-05-22" in c.value for c in at.caption)
    write_store(store, EVENTS)
    at.run()
    assert count_line(at).startswith("**5 events shown of 5**")


def test_app_module_is_thin():
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "Import", "Assign", "If", "FunctionDef"}
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert "main" in functions
    last = tree.body[-1]
    assert isinstance(last, ast.If) and ast.unparse(last.body[0]) == "main()"
    # The view's state (filters seeded from the URL, the playback position)
    # lives in the session by design (issue #4: "the slider position lives in
    # Python state"); only the two modules that own it touch it.
    owners = {"filters.py", "timeline.py"}
    for source in (PROJECT_ROOT / "dashboard").glob("*.py"):
        if source.name not in owners:
            assert "session_state" not in source.read_text(encoding="utf-8"), source
