"""``export --format geoparquet``: a month-partitioned GeoParquet dataset that
geopandas and dask-geopandas read back with geometry and CRS."""

from __future__ import annotations

import json
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import run_cli
from pipelines.errors import InputError
from pipelines.exporters import (
    GEOPARQUET_MARKER,
    filter_by_dates,
    geojson_text,
    partition_by_month,
    write_export,
    write_geoparquet,
)
from pipelines.schema import EVENT_COLUMNS, Event, conform, events_to_frame

NUMERIC_DTYPES = {"geonameid": "Int64", "lat": "float64", "lon": "float64", "resolved": "bool", "score": "float64"}


def _event(date_, place, lat=None, lon=None, date_end=None, precision="day", geonameid=None):
    return Event(
        article_id="geoparquet", date=date_, date_end=date_end or date_, date_precision=precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Shelling hit {place}.", source="test article", published="2023-07-02",
        admin1="Belgorod Oblast", country="Russia", country_code="RU", geonameid=geonameid,
        lat=lat, lon=lon, resolved=lat is not None, score=0.75 if lat is not None else 0.0,
    )


@pytest.fixture()
def events() -> gpd.GeoDataFrame:
    return events_to_frame([
        _event("2023-05-22", "Kozinka", 50.4397123456789, 35.5306789012345, geonameid=12345),
        _event("2023-05-23", "Glotovo-Nowhere"),  # unresolved, in a month with points
        _event("2023-05-01", "Grayvoron", 50.4797, 35.6766, date_end="2023-05-31", precision="month"),
        _event("2023-05-30", "Shebekino", 50.4, 36.89, date_end="2023-06-02"),  # spans May and June
        _event("2023-06-01", "Nowhere-Only"),  # June: the only unresolved ones
        _event("2023-06-03", "Other-Nowhere"),
        _event("2023-07-04", "Valuyki", 50.2111, 38.0997, geonameid=67890),
        _event("2022-12-31", "Sumy", 50.9216, 34.80029),  # another year
    ])


def _months_of(frame: pd.DataFrame) -> set[str]:
    return set(frame["date"].str.slice(0, 7))


def _check_round_trip(read: gpd.GeoDataFrame, events: gpd.GeoDataFrame) -> None:
    assert read.crs is not None and read.crs.to_epsg() == 4326
    assert read.geometry.name == "geometry"
    assert sorted(read["event_id"]) == sorted(events["event_id"])
    assert len(read) == len(events)
    read = read.set_index("event_id")
    for _, row in events.iterrows():
        got = read.loc[row["event_id"]]
        if row.geometry is None:
            assert got.geometry is None or got.geometry.is_empty
            assert pd.isna(got["lat"]) and pd.isna(got["lon"])
        else:
            assert got.geometry.geom_type == "Point"
            assert abs(got.geometry.x - row.geometry.x) <= 1e-9 and abs(got.geometry.y - row.geometry.y) <= 1e-9
            assert abs(got["lat"] - row["lat"]) <= 1e-9 and abs(got["lon"] - row["lon"]) <= 1e-9
        assert str(got["month"]) == row["date"][:7]  # partitioned by the start date


def test_layout_is_hive_partitioned_by_start_month(events, tmp_path):
    out = tmp_path / "events.parquet"
    months = write_geoparquet(events, out)
    assert months == ["2022-12", "2023-05", "2023-06", "2023-07"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == [
        f"month={m}/part-0.parquet" for m in months
    ]
    marker = json.loads((out / GEOPARQUET_MARKER).read_text(encoding="utf-8"))
    assert marker["format"] == "geoparquet" and marker["months"] == months
    # the event spanning May and June is in May only
    may = gpd.read_parquet(out / "month=2023-05" / "part-0.parquet")
    june = gpd.read_parquet(out / "month=2023-06" / "part-0.parquet")
    assert "Shebekino" in set(may["place"]) and "Shebekino" not in set(june["place"])
    assert june.geometry.isna().all()  # a month of unresolved events only


def test_files_have_geoparquet_metadata_and_the_schema_columns(events, tmp_path):
    out = tmp_path / "ds"
    write_geoparquet(events, out)
    path = out / "month=2023-05" / "part-0.parquet"
    schema = pq.read_schema(path)
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["Point"]
    assert column["crs"]["id"] == {"authority": "EPSG", "code": 4326}
    assert schema.names == [*EVENT_COLUMNS, "geometry"]  # the month is the folder, not a column
    assert str(schema.field("geonameid").type) == "int64"
    assert str(schema.field("resolved").type) == "bool"
    assert {str(schema.field(c).type) for c in ("lat", "lon", "score")} == {"double"}
    strings = [c for c in EVENT_COLUMNS if c not in NUMERIC_DTYPES]
    assert {str(schema.field(c).type) for c in strings} == {"string"}


def test_geopandas_reads_the_dataset_back(events, tmp_path):
    out = tmp_path / "ds"
    write_geoparquet(events, out)
    read = gpd.read_parquet(out)
    _check_round_trip(read, events)
    assert list(read.columns) == [*EVENT_COLUMNS, "geometry", "month"]
    for column, dtype in NUMERIC_DTYPES.items():
        assert str(read[column].dtype) == dtype, column
    assert all(pd.api.types.is_string_dtype(read[c]) for c in EVENT_COLUMNS if c not in NUMERIC_DTYPES)
    # and back in the schema's own form, nothing changed
    again = conform(pd.DataFrame(read.drop(columns=["geometry", "month"])))
    pd.testing.assert_frame_equal(
        again.sort_values("event_id").reset_index(drop=True),
        events.sort_values("event_id").reset_index(drop=True),
    )


def test_dask_geopandas_reads_the_dataset_back(events, tmp_path):
    out = tmp_path / "ds"
    write_geoparquet(events, out)
    lazy = dask_geopandas.read_parquet(out)
    assert isinstance(lazy, dask_geopandas.GeoDataFrame)
    assert lazy.crs.to_epsg() == 4326
    assert lazy.npartitions == len(_months_of(events))
    for column, dtype in NUMERIC_DTYPES.items():
        assert str(lazy.dtypes[column]) == dtype, column
    read = lazy.compute()
    assert isinstance(read, gpd.GeoDataFrame)
    _check_round_trip(read, events)
    # each Dask partition is one month
    for i in range(lazy.npartitions):
        part = lazy.get_partition(i).compute()
        assert part["month"].astype(str).nunique() == 1
        assert set(part["date"].str.slice(0, 7)) == {str(part["month"].iloc[0])}


def test_readers_can_select_a_month(events, tmp_path):
    out = tmp_path / "ds"
    write_geoparquet(events, out)
    may = gpd.read_parquet(out, filters=[("month", "=", "2023-05")])
    assert set(may["event_id"]) == set(events.loc[events["date"].str.startswith("2023-05"), "event_id"])
    lazy_may = dask_geopandas.read_parquet(out, filters=[("month", "=", "2023-05")]).compute()
    assert set(lazy_may["event_id"]) == set(may["event_id"])


def test_partition_by_month_is_pure(events):
    before = events.copy()
    parts = partition_by_month(events)
    pd.testing.assert_frame_equal(events, before)
    assert [m for m, _ in parts] == sorted(_months_of(events))
    assert sum(len(p) for _, p in parts) == len(events)
    assert all(list(p.columns) == [*EVENT_COLUMNS, "geometry"] for _, p in parts)


def test_refuses_a_folder_that_is_not_ours_and_replaces_an_earlier_export(events, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        write_geoparquet(events, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    # an earlier export of ours with a stranger's file inside is not ours any more
    out = tmp_path / "ds"
    write_geoparquet(events, out)
    (out / "month=2023-05" / "extra.csv").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        write_geoparquet(events.iloc[:1], out)
    (out / "month=2023-05" / "extra.csv").unlink()

    # an earlier export is replaced whole: no partition of the old one survives
    only_july = events.loc[events["date"].str.startswith("2023-07")]
    assert write_geoparquet(only_july, out) == ["2023-07"]
    assert sorted(p.name for p in out.iterdir()) == [GEOPARQUET_MARKER, "month=2023-07"]
    assert list(gpd.read_parquet(out)["event_id"]) == list(only_july["event_id"])

    empty = tmp_path / "empty"
    empty.mkdir()
    write_geoparquet(events, empty)
    assert len(gpd.read_parquet(empty)) == len(events)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_refuses_nothing_to_write_and_a_file(events, tmp_path):
    with pytest.raises(InputError, match="no events"):
        write_geoparquet(events.iloc[:0], tmp_path / "none")
    assert not (tmp_path / "none").exists()
    a_file = tmp_path / "a.parquet"
    a_file.write_bytes(b"x")
    with pytest.raises(InputError, match="not a folder"):
        write_export(events, "geoparquet", a_file)
    assert a_file.read_bytes() == b"x"


def test_a_killed_exports_temporary_is_removed(events, tmp_path):
    out = tmp_path / "ds"
    stale = tmp_path / f".ds.{2**22 + 12345}.tmp"  # above pid_max: no such process
    (stale / "month=2023-05").mkdir(parents=True)
    write_geoparquet(events, out)
    assert not stale.exists()


def test_cli_export_applies_the_date_filters(events, tmp_path):
    source = tmp_path / "events.geojson"
    source.write_text(geojson_text(events), encoding="utf-8")
    store = tmp_path / "events.gpkg"
    imported = run_cli("import", str(source), "--store", str(store))
    assert imported.returncode == 0, imported.stderr

    out = tmp_path / "window"
    result = run_cli("export", "--store", str(store), "--start", "2023-05-31", "--end", "2023-06-05",
                     "--format", "geoparquet", "-o", str(out))
    assert result.returncode == 0, result.stderr
    expected = filter_by_dates(events, pd.Timestamp("2023-05-31").date(), pd.Timestamp("2023-06-05").date())
    assert f"{len(expected)} events written" in result.stdout
    read = gpd.read_parquet(out)
    assert sorted(read["event_id"]) == sorted(expected["event_id"])
    assert set(read["month"].astype(str)) == {"2023-05", "2023-06"}  # the month-long and spanning events start in May
    marker = json.loads((out / GEOPARQUET_MARKER).read_text(encoding="utf-8"))
    assert marker["filters"] == {"start": "2023-05-31", "end": "2023-06-05"}
    _check_round_trip(dask_geopandas.read_parquet(out).compute(), expected)

    again = run_cli("export", "--store", str(store), "--format", "geoparquet", "-o", str(out))
    assert again.returncode == 0, again.stderr  # an earlier export of ours is replaced
    assert len(gpd.read_parquet(out)) == len(events)

    refused = run_cli("export", "--store", str(store), "--format", "geoparquet", "-o", str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr.startswith("error:") and "not empty" in refused.stderr
    assert "Traceback" not in refused.stderr
