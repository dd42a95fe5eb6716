"""The dashboard's GeoJSON download: RFC 7946, exactly the filtered events."""

from __future__ import annotations

import json
import math
import re
from datetime import date

import pytest

from dashboard import data, export
from pipelines.exporters import write_export
from pipelines.schema import Event, events_to_frame

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _event(date_, place, lat=None, lon=None, date_end=None, precision="day", geo="point", url=""):
    return Event(
        article_id="export", date=date_, date_end=date_end or date_, date_precision=precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Shelling hit {place}.", source="test article", published="2023-06-02",
        geo_precision=geo, admin1="Belgorod Oblast", country="Russia", country_code="RU",
        lat=lat, lon=lon, resolved=lat is not None, url=url,
    )


@pytest.fixture()
def events():
    return events_to_frame([
        _event("2023-05-22", "Kozinka", 50.4397123, 35.5306789, url="https://example.org/r"),
        _event("2023-05-23", "Belgorod Oblast", 50.6, 36.6, geo="region"),
        _event("2023-05-23", "Glotovo-Nowhere"),
        _event("2023-05-01", "Grayvoron", 50.4797, 35.6766, date_end="2023-05-31", precision="month"),
        _event("2023-06-01", "Shebekino", 50.4, 36.89),
    ])


def test_feature_collection_is_rfc7946(events):
    shown = data.filter_dates(events, date(2023, 5, 22), date(2023, 5, 23))
    raw = export.geojson_bytes(shown, date(2023, 5, 22), date(2023, 5, 23))
    fc = json.loads(raw.decode("utf-8"))
    assert fc["type"] == "FeatureCollection"
    assert "crs" not in fc
    assert len(fc["features"]) == len(shown) == 4
    assert fc["metadata"]["filters"] == {"start": "2023-05-22", "end": "2023-05-23"}
    assert fc["metadata"]["count"] == 4
    by_mention = {f["properties"]["mention"]: f for f in fc["features"]}
    assert set(by_mention) == {"Kozinka", "Belgorod Oblast", "Glotovo-Nowhere", "Grayvoron"}
    for feature in fc["features"]:
        assert feature["type"] == "Feature"
        assert "crs" not in feature
        props = feature["properties"]
        for key in ("date", "date_end", "published"):
            assert isinstance(props[key], str) and ISO_DAY.match(props[key]), (key, props[key])
        if feature["geometry"] is None:
            continue
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert lon == pytest.approx(props["lon"], abs=1e-6)
        assert lat == pytest.approx(props["lat"], abs=1e-6)
    kozinka = by_mention["Kozinka"]["geometry"]["coordinates"]
    assert abs(kozinka[0] - 35.5306789) < 1e-6 and abs(kozinka[1] - 50.4397123) < 1e-6  # [lon, lat]
    assert by_mention["Grayvoron"]["properties"]["date_end"] == "2023-05-31"


def test_unresolved_events_are_features_with_null_geometry(events):
    fc = json.loads(export.geojson_bytes(events))
    unresolved = [f for f in fc["features"] if f["properties"]["mention"] == "Glotovo-Nowhere"]
    assert len(unresolved) == 1
    assert unresolved[0]["geometry"] is None
    assert unresolved[0]["properties"]["resolved"] is False
    assert unresolved[0]["properties"]["lat"] is None and unresolved[0]["properties"]["lon"] is None
    assert sum(f["geometry"] is None for f in fc["features"]) == 1


def test_json_round_trip_is_lossless_and_has_no_nan(events):
    raw = export.geojson_bytes(events)
    text = raw.decode("utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == export.feature_collection(events)
    assert json.loads(json.dumps(json.loads(text))) == json.loads(text)
    for feature in json.loads(text)["features"]:
        for value in feature["properties"].values():
            assert not (isinstance(value, float) and math.isnan(value))


def test_empty_selection_is_an_empty_feature_collection(events):
    none = data.filter_dates(events, date(2020, 1, 1), date(2020, 1, 2))
    fc = json.loads(export.geojson_bytes(none, date(2020, 1, 1), date(2020, 1, 2)))
    assert fc["type"] == "FeatureCollection" and fc["features"] == []


def test_download_equals_the_cli_export_of_the_same_range(events, tmp_path):
    start, end = date(2023, 5, 23), date(2023, 6, 1)
    shown = data.filter_dates(events, start, end)
    out = tmp_path / "cli.geojson"
    write_export(shown, "geojson", out)
    cli = json.loads(out.read_text(encoding="utf-8"))
    ours = json.loads(export.geojson_bytes(shown, start, end))
    assert ours["features"] == cli["features"]
    assert [f["properties"]["mention"] for f in ours["features"]] == [
        "Belgorod Oblast", "Glotovo-Nowhere", "Grayvoron", "Shebekino"]


def test_file_name_names_the_range():
    assert export.file_name(date(2023, 5, 22), date(2023, 6, 1)) == "events_2023-05-22_2023-06-01.geojson"
    assert export.file_name(None, None) == "events.geojson"
    assert export.MIME == "application/geo+json"
