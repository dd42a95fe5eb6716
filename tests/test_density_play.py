"""Playing in place: the map's data carries each event's dates as ranks, the
browser picks a day's events with two numbers, and the base map is the same
from step to step (so streamlit-folium keeps its Leaflet map and zoom)."""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard import density, mapview
from pipelines.filters import date_mask
from pipelines.schema import Event, events_to_frame


def _event(i: int, day: str, end: str = "", precision: str = "day", geo: str = "point") -> Event:
    return Event(
        article_id=f"a{i}", date=day, date_end=end or day, date_precision=precision, date_basis="explicit",
        place=f"Place {i}", mention=f"Place {i}", sentence=f"Shelling in Place {i}.", source="report",
        published="2023-06-01", geo_precision=geo, admin1="Belgorod Oblast", country="Russia",
        lat=50 + i * 0.01, lon=36 + i * 0.01, resolved=True,
    )


@pytest.fixture()
def events() -> pd.DataFrame:
    rng = random.Random(3)
    out = []
    for i in range(300):
        day = date(2023, 5, 1) + timedelta(days=rng.randrange(40))
        if rng.random() < 0.15:  # "May 2023" / "June 2023"
            first = day.replace(day=1)
            out.append(_event(i, first.isoformat(), first.replace(day=28).isoformat(), "month"))
        else:
            out.append(_event(i, day.isoformat(), geo=rng.choice(["point", "district", "region", "country"])))
    frame = events_to_frame(out)
    frame.loc[frame.index[:5], "date_end"] = ""  # an empty date_end means the event's own date
    return frame


def kept_in_browser(points: pd.DataFrame, start, end) -> np.ndarray:
    """What the layer's inWindow(lo, hi) keeps: end_rank >= lo and start_rank <= hi."""
    _, starts, ends = density.interval_ranks(points)
    lo, hi = density.window_ranks(points, start, end)
    return (ends >= lo) & (starts <= hi)


def test_ranks_keep_exactly_what_the_date_filter_keeps(events):
    rng = random.Random(5)
    windows = [(None, None), (None, date(2023, 5, 10)), (date(2023, 5, 30), None), (date(2023, 4, 1), date(2023, 4, 30))]
    for _ in range(200):
        a = date(2023, 4, 25) + timedelta(days=rng.randrange(50))
        windows.append((a, a + timedelta(days=rng.randrange(8))))
    for start, end in windows:
        want = date_mask(events, start, end).to_numpy()
        assert (kept_in_browser(events, start, end) == want).all(), (start, end)


def test_compact_play_data_has_dates_and_precisions():
    frame = events_to_frame([_event(0, "2023-05-02"), _event(1, "2023-05-01", "2023-05-31", "month", "region")])
    coords, precision, rows, starts, ends = density.compact_points(frame, [0, 1], play=True)
    assert precision == [0, 2] and rows == [0, 1]
    keys = ["2023-05-01", "2023-05-02", "2023-05-31"]
    assert starts == [1, 0] and ends == [1, 2]
    assert density.window_ranks(frame, date(2023, 5, 3), date(2023, 5, 3)) == (2, 1)  # only the month event
    assert list(density.interval_ranks(frame)[0]) == keys
    assert len(density.compact_points(frame, [0, 1])) == 3  # not playing: no dates sent
    heat = density.compact_points(frame, None, play=True)
    assert heat[1] == [0, 2] and heat[2] == []  # the heat map's legend needs the precisions


@pytest.mark.parametrize("mode", ["auto", "markers", "clusters", "heat"])
def test_play_map_draws_only_what_a_day_window_picks(events, mode, tmp_path):
    html = mapview.build_map(events, "/app/static", mode=mode, static_dir=tmp_path, play=True).get_root().render()
    assert "PLAY = true" in html
    assert ".bindPopup(" not in html and "Shelling" not in html  # no popup HTML, no data text
    assert html.count("L.circleMarker(") <= 1  # the layer's one constructor call, not one per event


def test_the_base_map_is_the_same_at_every_step_only_the_day_changes(events, monkeypatch, tmp_path):
    import folium
    import streamlit_folium

    calls = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: calls.append(kw) or {})
    for day in (date(2023, 5, 3), date(2023, 5, 4)):
        base = mapview.build_map(events, "/app/static", mode="clusters", static_dir=tmp_path, play=True,
                                 version="v1")
        layer = folium.FeatureGroup(name="day")
        density.DayWindow(*density.window_ranks(events, date(2023, 5, 1), day)).add_to(layer)
        streamlit_folium.st_folium(base, feature_group_to_add=layer, key="m", returned_objects=[])
    first, second = calls
    assert first["script"] == second["script"] and first["key"] == second["key"]  # same map, same component
    assert first["feature_group"] != second["feature_group"]
    windows = [json.loads(re.search(r"window\.eaDayWindow = (\[[^\]]*\])", c["feature_group"]).group(1))
               for c in calls]
    assert windows[0][0] == windows[1][0] and windows[1][1] > windows[0][1]
    assert "Shelling" not in first["feature_group"]


def test_legend_counts_are_cells_the_layer_can_rewrite():
    legend = mapview.Legend({"point": 3, "country": 1})
    cells = re.findall(r'<span data-ea-precision="(\d)">(\d+)</span>', legend.html)
    assert cells == [("0", "3"), ("1", "0"), ("2", "0"), ("3", "1")]
    assert [density.PRECISIONS[int(c)] for c, _ in cells] == list(mapview.PRECISION_COLORS)


# --- filters in place: a base map of the window and a selection of what is shown ----------

def test_selection_mask_round_trips_and_is_small():
    rows = [0, 7, 8, 99_999, 4_242]
    mask = density.selection_mask(100_000, rows)
    assert density.selected_rows(mask, 100_000) == sorted(rows)
    assert len(mask) <= 16_668  # 100,000 bits, base64
    assert density.selected_rows(density.selection_mask(5, []), 5) == []


@pytest.mark.parametrize("mode", ["auto", "markers", "clusters", "heat"])
def test_a_filter_change_keeps_the_base_map_and_sends_only_the_selection(events, mode, monkeypatch, tmp_path):
    import streamlit_folium

    calls = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: calls.append(kw) or {})
    narrow = events[events["date"] <= "2023-06-05"]  # more than folium's markers: the data layer in every mode
    no_district = events[events["geo_precision"] != "district"]
    assert min(len(narrow), len(no_district)) > density.FOLIUM_MARKERS_MAX and len(narrow) != len(no_district)
    for shown in (narrow, no_district):
        base, selection = mapview.filtered_map(events, shown, "/app/static", mode=mode, version="v1",
                                               static_dir=tmp_path)
        assert selection is not None
        streamlit_folium.st_folium(base, feature_group_to_add=selection, key="m", returned_objects=[])
    first, second = calls
    assert first["script"] == second["script"] and first["key"] == second["key"]  # the same Leaflet map
    assert "SELECT = true" in first["script"]
    masks = [re.search(r'window\.eaSelection = "([A-Za-z0-9+/=]*)"', c["feature_group"]).group(1) for c in calls]
    assert [len(density.selected_rows(m, len(events))) for m in masks] == [len(narrow), len(no_district)]
    picked = events.iloc[density.selected_rows(masks[1], len(events))]
    assert list(picked["event_id"]) == list(no_district["event_id"])  # the browser keeps exactly these
    assert "Shelling" not in first["feature_group"] + second["feature_group"]


def test_a_selection_found_by_event_id_when_the_frames_were_read_apart(events, tmp_path):
    """The window read for the table and the map's base read are two frames:
    their index labels do not match, so the selection goes by event_id."""
    shown = events[events["geo_precision"] == "region"].reset_index(drop=True)
    base, selection = mapview.filtered_map(events, shown, "/app/static", mode="clusters", static_dir=tmp_path)
    mask = _mask(selection)
    picked = events.iloc[density.selected_rows(mask, len(events))]
    assert sorted(picked["event_id"]) == sorted(shown["event_id"])


def test_a_small_window_keeps_folium_markers_with_their_popups(events, tmp_path):
    window = events.iloc[:150]
    base, selection = mapview.filtered_map(window, window.iloc[:12], "/app/static", mode="auto", static_dir=tmp_path)
    assert selection is None
    html = base.get_root().render()
    assert html.count("L.circleMarker(") == 12 and ".bindPopup(" in html


def test_auto_mode_follows_the_window_so_a_narrow_filter_keeps_the_clusters(events, monkeypatch, tmp_path):
    many = pd.concat([events] * 4, ignore_index=True)  # 1,200 located events: clusters in auto
    few = many.iloc[:40]
    base, selection = mapview.filtered_map(many, few, "/app/static", mode="auto", static_dir=tmp_path)
    html = base.get_root().render()
    assert 'MODE = "clusters"' in html and html.count("L.circleMarker(") == 1
    assert density.selected_rows(_mask(selection), len(many)) == list(range(40))
    # An explicit "markers" choice is honoured for what is shown.
    base, selection = mapview.filtered_map(many, few, "/app/static", mode="markers", static_dir=tmp_path)
    assert 'MODE = "markers"' in base.get_root().render()


def _mask(selection) -> str:
    return re.search(r'eaSelection = "([^"]*)"', _script(selection)).group(1)


def test_a_base_map_draws_nothing_before_its_selection(events, tmp_path):
    html = mapview.build_map(events, "/app/static", mode="clusters", static_dir=tmp_path,
                             select=True).get_root().render()
    assert "SELECT = true" in html and "PLAY = false" in html
    with pytest.raises(ValueError, match="needs the mode"):
        mapview.build_map(events, "/app/static", mode="auto", static_dir=tmp_path, select=True)


def _script(element) -> str:
    return "".join(child._template.module.script(child) for child in element._children.values())
