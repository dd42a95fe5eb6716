"""``python -m pipelines import FILE.geojson`` and the size limit on every input path.

A malformed file imports nothing: exit code 2, one line per problem naming
the feature and the field, no traceback, the store byte-identical. Our own
export round-trips exactly; a minimal hand-made file gets documented defaults.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import PROJECT_ROOT, run_cli
from pipelines.importer import MAX_PROBLEMS, GeoJSONRejected, parse_feature_collection
from pipelines.schema import EVENT_COLUMNS
from pipelines.store import read_events

EXAMPLES = PROJECT_ROOT / "geodata" / "examples"
LIMIT = 5 * 1024 * 1024  # the documented default of EVENT_ATLAS_MAX_ARTICLE_BYTES


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _sorted(frame) -> pd.DataFrame:
    return pd.DataFrame(frame.loc[:, list(EVENT_COLUMNS)]).sort_values("event_id").reset_index(drop=True)


def _records(frame: pd.DataFrame) -> dict[str, tuple]:
    """event_id → the row's values, with every kind of missing value as None."""
    return {row[0]: tuple(None if pd.isna(v) else v for v in row)
            for row in frame.loc[:, ["event_id", *EVENT_COLUMNS]].itertuples(index=False)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """A store of the example articles and its GeoJSON export."""
    folder = tmp_path_factory.mktemp("roundtrip")
    store, out = folder / "source.gpkg", folder / "export.geojson"
    assert run_cli("ingest", str(EXAMPLES), "--store", str(store)).returncode == 0
    result = run_cli("export", "--store", str(store), "--format", "geojson", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return store, out


@pytest.fixture()
def filled_store(exported, tmp_path) -> Path:
    """A store that already holds events, to show a refusal leaves it as it was."""
    store = tmp_path / "filled.gpkg"
    shutil.copy(exported[0], store)
    return store


# ---------------------------------------------------------------- round trip

def test_export_then_import_gives_the_same_events(exported, tmp_path, figures):
    source, geojson = exported
    target = tmp_path / "empty.gpkg"
    result = run_cli("import", str(geojson), "--store", str(target))
    assert result.returncode == 0, result.stderr
    before, after = _sorted(read_events(str(source))), _sorted(read_events(str(target)))
    assert len(before) > 0
    old, new = _records(before), _records(after)
    lost = len(old.keys() - new.keys())
    changed = sum(1 for key, row in old.items() if key in new and new[key] != row)
    figures.add("events lost", lost + changed)
    assert lost == 0 and changed == 0
    pd.testing.assert_frame_equal(before, after)
    assert f"imported {len(before)} events, already stored 0" in result.stdout

    again = run_cli("import", str(geojson), "--store", str(target))
    assert again.returncode == 0, again.stderr
    assert f"imported 0 events, already stored {len(before)}" in again.stdout
    assert "already stored: " in again.stdout


def test_minimal_hand_made_file_gets_documented_defaults(tmp_path):
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.6026, 50.4613]},
         "properties": {"date": "2023-05-22", "name": "Kozinka"}},
        {"type": "Feature", "geometry": None, "properties": {"date": "2023-05-23", "mention": "Zzyzxovka"}},
    ]
    path = tmp_path / "hand.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    store = tmp_path / "events.gpkg"
    result = run_cli("import", str(path), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "imported 2 events, already stored 0" in result.stdout
    events = read_events(str(store)).set_index("mention")
    kozinka, unknown = events.loc["Kozinka"], events.loc["Zzyzxovka"]
    assert (kozinka["place"], kozinka["date"], kozinka["date_end"]) == ("Kozinka", "2023-05-22", "2023-05-22")
    assert (kozinka["date_precision"], kozinka["date_basis"], kozinka["geo_precision"]) == ("day", "explicit", "point")
    assert kozinka["resolved"] and (kozinka["lon"], kozinka["lat"]) == (35.6026, 50.4613)
    assert kozinka["geocoder"] == "import" and kozinka["source"] == "hand.geojson" and kozinka["ingested_at"]
    assert len(kozinka["event_id"]) == 16
    assert not unknown["resolved"] and unknown["place"] == "" and pd.isna(unknown["lat"])

    renamed = tmp_path / "same-features.geojson"  # same features, other file: nothing new
    shutil.copy(path, renamed)
    again = run_cli("import", str(renamed), "--store", str(store))
    assert again.returncode == 0 and "imported 0 events, already stored 2" in again.stdout


# ---------------------------------------------------------------- malformed files

def _collection(*properties_and_geometry) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p} for p, g in properties_and_geometry]})


POINT = {"type": "Point", "coordinates": [35.6, 50.4]}
GOOD = ({"date": "2023-05-22", "place": "Kozinka"}, POINT)

MALFORMED = {
    "not JSON": ('{"type": "FeatureCollection", "features": [', ["not JSON", "line 1"]),
    "not a FeatureCollection": ('{"type": "Feature", "geometry": null, "properties": {}}', ["not a GeoJSON FeatureCollection"]),
    "features not a list": ('{"type": "FeatureCollection", "features": {}}', ["'features' must be a list"]),
    "a feature that is a number": ('{"type": "FeatureCollection", "features": [7]}', ["feature 0", "type"]),
    "polygon geometry": (_collection(GOOD, ({"date": "2023-05-22", "place": "X"},
                                            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]})),
                         ["feature 1", "geometry.type"]),
    "longitude out of range": (_collection(({"date": "2023-05-22", "place": "X", "event_id": "e1"},
                                            {"type": "Point", "coordinates": [200.0, 50.0]})),
                               ["feature 0 (event_id e1)", "geometry.coordinates", "longitude"]),
    "swapped lat/lon": (_collection(({"date": "2023-05-22", "place": "X"}, {"type": "Point", "coordinates": [50.4, 135.6]})),
                        ["feature 0", "geometry.coordinates", "latitude"]),
    "coordinates as strings": (_collection(({"date": "2023-05-22", "place": "X"},
                                            {"type": "Point", "coordinates": ["35.6", "50.4"]})),
                               ["feature 0", "geometry.coordinates"]),
    "NaN coordinate": ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                       '{"date": "2023-05-22", "place": "X"}, "geometry": {"type": "Point", "coordinates": [NaN, 1]}}]}',
                       ["feature 0", "geometry.coordinates"]),
    "missing date": (_collection(GOOD, ({"place": "X"}, POINT)), ["feature 1", "properties.date", "missing"]),
    "32 May": (_collection(({"date": "2023-05-32", "place": "X"}, POINT)), ["feature 0", "properties.date"]),
    "date as a number": (_collection(({"date": 20230522, "place": "X"}, POINT)), ["feature 0", "properties.date"]),
    "date_end before date": (_collection(({"date": "2023-05-22", "date_end": "2023-05-21", "place": "X"}, POINT)),
                             ["feature 0", "properties.date_end", "before"]),
    "unknown date_precision": (_collection(({"date": "2023-05-22", "place": "X", "date_precision": "week"}, POINT)),
                               ["feature 0", "properties.date_precision"]),
    "unknown geo_precision": (_collection(({"date": "2023-05-22", "place": "X", "geo_precision": "street"}, POINT)),
                              ["feature 0", "properties.geo_precision"]),
    "resolved as a string": (_collection(({"date": "2023-05-22", "place": "X", "resolved": "yes"}, POINT)),
                             ["feature 0", "properties.resolved"]),
    "geonameid as a float": (_collection(({"date": "2023-05-22", "place": "X", "geonameid": 1.5}, POINT)),
                             ["feature 0", "properties.geonameid"]),
    "no name": (_collection(({"date": "2023-05-22"}, POINT)), ["feature 0", "properties.place"]),
    "lat disagrees with geometry": (_collection(({"date": "2023-05-22", "place": "X", "lat": 10.0}, POINT)),
                                    ["feature 0", "properties.lat"]),
    "duplicate event_id": (_collection(({"date": "2023-05-22", "place": "X", "event_id": "same"}, POINT),
                                       ({"date": "2023-05-23", "place": "Y", "event_id": "same"}, POINT)),
                           ["feature 1 (event_id same)", "properties.event_id"]),
    "not UTF-8": (b'{"type": "FeatureCollection", "features": [], "x": "\xff"}', ["not UTF-8"]),
    "empty file": ("", ["empty"]),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_imports_nothing(case, filled_store, tmp_path, figures):
    content, expected = MALFORMED[case]
    path = tmp_path / "bad.geojson"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = _digest(filled_store)
    result = run_cli("import", str(path), "--store", str(filled_store))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith("error: ")
    for words in expected:
        assert words in result.stderr, (words, result.stderr)
    assert _digest(filled_store) == before
    figures.add("malformed imports refused")


def test_every_problem_is_listed_one_per_line_up_to_a_cap(filled_store, tmp_path, figures):
    bad = [({"date": f"2023-05-{d:02d}", "date_end": "2023-01-01", "place": f"P{d}"}, POINT) for d in range(1, 29)]
    path = tmp_path / "many.geojson"
    path.write_text(_collection(GOOD, *bad), encoding="utf-8")
    before = _digest(filled_store)
    result = run_cli("import", str(path), "--store", str(filled_store))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.rstrip("\n").split("\n")
    assert lines[0].endswith("28 problems; nothing imported")
    assert len(lines) == 1 + MAX_PROBLEMS + 1 and lines[-1].strip() == f"… and {28 - MAX_PROBLEMS} more"
    assert lines[1].strip().startswith("feature 1: properties.date_end")
    assert _digest(filled_store) == before
    figures.add("malformed imports refused")


def test_the_parser_reports_every_bad_feature():
    with pytest.raises(GeoJSONRejected) as err:
        parse_feature_collection(_collection(({"place": "X"}, POINT), GOOD, ({"date": "x", "place": "Y"}, None)),
                                 name="f.geojson")
    assert [p.split(":")[0] for p in err.value.problems] == ["feature 0", "feature 2"]


# ---------------------------------------------------------------- size limit, every input path

def _oversize(path: Path, head: str, fill: str = " ", tail: str = "") -> Path:
    """A real file just over the default 5 MB limit."""
    room = LIMIT + 1 - len(head.encode()) - len(tail.encode())
    body = head + (fill * (room // len(fill) + 1))[:room] + tail
    path.write_text(body, encoding="utf-8")
    assert path.stat().st_size == LIMIT + 1
    return path


def test_oversize_article_is_refused(filled_store, tmp_path):
    article = _oversize(tmp_path / "huge.txt", "Shelling hit Kozinka on 22 May 2023. ", "word ")
    before = _digest(filled_store)
    result = run_cli("ingest", str(article), "--store", str(filled_store))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "over the 5,242,880-byte limit" in result.stderr and "huge.txt" in result.stderr
    assert _digest(filled_store) == before


def test_oversize_geojson_is_refused(filled_store, tmp_path, figures):
    path = _oversize(tmp_path / "huge.geojson", '{"type": "FeatureCollection", "features": []', " ", "}")
    before = _digest(filled_store)
    result = run_cli("import", str(path), "--store", str(filled_store))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "over the 5,242,880-byte limit (EVENT_ATLAS_MAX_ARTICLE_BYTES)" in result.stderr
    assert _digest(filled_store) == before
    figures.add("malformed imports refused")


def test_oversize_jsonl_document_is_refused(tmp_path):
    path = tmp_path / "docs.jsonl"
    line = json.dumps({"id": 2, "text": "Kozinka " * (LIMIT // 8 + 1)})
    path.write_text(json.dumps({"id": 1, "text": "Kozinka"}) + "\n" + line + "\n", encoding="utf-8")
    result = run_cli("extract", "--jsonl", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
    assert f"{path}:2: " in result.stderr and "over the 5,242,880-byte limit" in result.stderr


def test_the_limit_is_configurable(filled_store, exported, tmp_path):
    small = {"EVENT_ATLAS_MAX_ARTICLE_BYTES": "1000"}
    before = _digest(filled_store)
    result = run_cli("import", str(exported[1]), "--store", str(filled_store), env=small)
    assert result.returncode == 2 and "over the 1,000-byte limit" in result.stderr
    article = tmp_path / "a.txt"
    article.write_text("Shelling hit Kozinka on 22 May 2023. " * 40, encoding="utf-8")
    result = run_cli("ingest", str(article), "--store", str(filled_store), env=small)
    assert result.returncode == 2 and "over the 1,000-byte limit" in result.stderr
    assert _digest(filled_store) == before
