"""The CLI as a user runs it: ingest, export, events, geocode, and bad input."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pytest

from conftest import PROJECT_ROOT, haversine_km, run_cli

EXAMPLES = PROJECT_ROOT / "geodata" / "examples"
RAID = EXAMPLES / "belgorod-raid-2023-05.md"

GOLD_POINTS = {
    "Kozinka": (50.4613, 35.6026),
    "Kozynka": (50.4613, 35.6026),
    "Gora Podol": (50.4739, 35.6464),
}


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="module")
def example_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("examples") / "events.gpkg"
    result = run_cli("ingest", str(EXAMPLES), "--store", str(store))
    assert result.returncode == 0, result.stderr
    return store


def test_ingest_reports_counts_and_store(tmp_path):
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", str(RAID), "--store", str(store))
    assert result.returncode == 0, result.stderr
    events = gpd.read_file(store, layer="events")
    assert f"{len(events)} events added" in result.stdout
    assert str(store.resolve()) in result.stdout
    assert "unresolved" in result.stdout
    places = set(events["place"])
    assert {"Kozinka", "Gora-Podol", "Grayvoron", "Grayvoronsky District"} <= places
    # the article's front matter gave the publication date
    assert set(events["published"]) == {"2023-05-23"}


def test_reingest_same_text_adds_nothing(tmp_path):
    store = tmp_path / "events.gpkg"
    assert run_cli("ingest", str(RAID), "--store", str(store)).returncode == 0
    before = _digest(store)
    # same article, other file name and other whitespace
    copy = tmp_path / "copy-of-raid.md"
    copy.write_text(RAID.read_text(encoding="utf-8").replace("\n\n", "\n\n\n").replace(". ", ".  "), encoding="utf-8")
    again = run_cli("ingest", str(copy), "--store", str(store))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 events added")
    assert _digest(store) == before


def test_environment_variable_selects_the_store(tmp_path):
    store = tmp_path / "from-env.gpkg"
    result = run_cli("ingest", str(RAID), env={"EVENT_ATLAS_STORE": str(store)})
    assert result.returncode == 0, result.stderr
    assert store.exists()
    listing = run_cli("events", env={"EVENT_ATLAS_STORE": str(store)})
    assert "Kozinka" in listing.stdout


def test_export_date_range_is_inclusive(example_store, tmp_path):
    everything = gpd.read_file(example_store, layer="events")
    out = tmp_path / "may22.geojson"
    result = run_cli("export", "--store", str(example_store), "--start", "2023-05-22", "--end", "2023-05-22",
                     "--format", "geojson", "-o", str(out))
    assert result.returncode == 0, result.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert "crs" not in collection
    expected = everything[(everything["date"] <= "2023-05-22") & (everything["date_end"] >= "2023-05-22")]
    assert len(collection["features"]) == len(expected) > 0
    for feature in collection["features"]:
        props = feature["properties"]
        assert props["date"] <= "2023-05-22" <= props["date_end"]
        if feature["geometry"]:
            lon, lat = feature["geometry"]["coordinates"]
            assert abs(lat - props["lat"]) < 1e-6 and abs(lon - props["lon"]) < 1e-6


def test_export_csv_and_gpkg(example_store, tmp_path):
    out_csv, out_gpkg = tmp_path / "e.csv", tmp_path / "e.gpkg"
    assert run_cli("export", "--store", str(example_store), "--format", "csv", "-o", str(out_csv)).returncode == 0
    assert run_cli("export", "--store", str(example_store), "--format", "gpkg", "-o", str(out_gpkg)).returncode == 0
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    frame = gpd.read_file(out_gpkg, layer="events")
    assert len(rows) == len(frame) == len(gpd.read_file(example_store, layer="events"))
    kozinka = [r for r in rows if r["place"] == "Kozinka"]
    assert kozinka and abs(float(kozinka[0]["lat"]) - 50.4613) < 1e-4
    assert frame.crs.to_epsg() == 4326


def test_events_table_lists_places(example_store):
    result = run_cli("events", "--store", str(example_store))
    assert result.returncode == 0, result.stderr
    for place in ("Kozinka", "Shebekino", "Nova Kakhovka", "Bakhmut"):
        assert place in result.stdout
    assert "events (" in result.stdout.splitlines()[-1]


def test_geocode_answers_near_belgorod_oblast():
    result = run_cli("geocode", "Kozinka", "Kozynka", "Gora Podol", "--near", "Belgorod Oblast")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in lines] == ["Kozinka", "Kozynka", "Gora Podol"]
    for record in lines:
        lat, lon = GOLD_POINTS[record["query"]]
        assert haversine_km(record["lat"], record["lon"], lat, lon) < 5, record
        assert record["country_code"] == "RU" and record["admin1"] == "Belgorod Oblast"
        for key in ("name", "feature_class", "feature_code", "geonameid", "precision", "source", "candidates"):
            assert key in record
    assert lines[0]["geonameid"] == lines[1]["geonameid"] == 543229


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("Обстрел Козинки 22 мая".encode("cp1251"), "UTF-8"),
    ],
    ids=["empty", "binary", "non-utf8"],
)
def test_bad_files_fail_in_one_line_and_leave_the_store(tmp_path, example_store, content, expected):
    store = tmp_path / "events.gpkg"
    store.write_bytes(example_store.read_bytes())
    before = _digest(store)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    result = run_cli("ingest", str(bad), "--published", "2023-05-23", "--store", str(store))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert _digest(store) == before


def test_missing_path_and_bad_date_fail_cleanly(tmp_path):
    store = tmp_path / "events.gpkg"
    missing = run_cli("ingest", str(tmp_path / "nope.txt"), "--store", str(store))
    bad_date = run_cli("ingest", str(RAID), "--published", "2023-13-45", "--store", str(store))
    for result, word in ((missing, "no such file"), (bad_date, "2023-13-45")):
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert word in result.stderr and "Traceback" not in result.stderr
    assert not store.exists()


def test_a_bad_file_in_a_batch_writes_nothing(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.md").write_text(RAID.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.txt").write_bytes(b"")
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", str(folder), "--store", str(store))
    assert result.returncode != 0 and "b.txt" in result.stderr
    assert not store.exists()


def test_year_unknown_without_published(tmp_path):
    article = tmp_path / "undated.txt"
    article.write_text("On May 22, fighters entered the village of Kozinka in the Belgorod region.\n", encoding="utf-8")
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", str(article), "--store", str(store))
    assert result.returncode != 0
    assert "year" in result.stderr and "unknown" in result.stderr and "--published" in result.stderr
    assert not store.exists()
    # with a year in the text the date is known
    article.write_text("On 22 May 2023, fighters entered the village of Kozinka in the Belgorod region.\n", encoding="utf-8")
    ok = run_cli("ingest", str(article), "--store", str(store))
    assert ok.returncode == 0, ok.stderr
    events = gpd.read_file(store, layer="events")
    assert set(events["date"]) == {"2023-05-22"} and set(events["published"]) == {""}


def test_publication_date_used_when_the_text_has_none(tmp_path):
    article = tmp_path / "plain.txt"
    article.write_text("Explosions were heard in Shebekino, local residents said.\n", encoding="utf-8")
    store = tmp_path / "events.gpkg"
    assert run_cli("ingest", str(article), "--published", "2023-06-01", "--store", str(store)).returncode == 0
    events = gpd.read_file(store, layer="events")
    row = events[events["place"] == "Shebekino"].iloc[0]
    assert (row["date"], row["date_precision"], row["date_basis"]) == ("2023-06-01", "day", "published")


def test_example_articles_resolve_every_place_near_the_real_one(example_store):
    """The overlay covers what the example articles need: nothing unresolved,
    and the villages land where they are."""
    from conftest import haversine_km

    events = gpd.read_file(example_store, layer="events")
    assert not events["resolved"].isna().any() and events["resolved"].astype(bool).all()
    expected = {  # (lat, lon) of the real places; tolerance km
        "Kozinka": (50.4613, 35.6026, 5),
        "Gora-Podol": (50.4739, 35.6464, 5),
        "Klishchiivka": (48.5333, 37.9667, 5),
        "Bakhmut": (48.5942, 37.9989, 5),
        "Shebekino": (50.4008, 36.8876, 5),
        "Nova Kakhovka": (46.7551, 33.3486, 5),
    }
    for place, (lat, lon, km) in expected.items():
        rows = events[events["place"] == place]
        assert len(rows), place
        for _, row in rows.iterrows():
            assert haversine_km(row["lat"], row["lon"], lat, lon) < km, (place, row["lat"], row["lon"])
