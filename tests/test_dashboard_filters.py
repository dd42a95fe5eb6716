"""The shared filter (pipelines.filters), the dashboard's ViewState and its URL,
the exports' provenance and formula-safe CSV, and ``export`` with the same
filters on the command line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date

import geopandas as gpd
import pytest

from dashboard import export
from dashboard.filters import ViewState, apply_filters, from_query, to_query
from pipelines.config import PROJECT_ROOT
from pipelines.errors import InputError
from pipelines.exporters import csv_frame, csv_sidecar, formula_safe, read_gpkg_metadata, write_export
from pipelines.filters import (
    NONE, UNRESOLVED, UNREVIEWED, EventFilter, actor_choices, parse_actors, parse_bbox, source_choices,
    text_terms, type_choices,
)
from pipelines.filters import apply_filters as pure_filter
from pipelines.schema import Event, events_to_frame
from pipelines.store import ingest_events

RVC, FRL, MOD = "Russian Volunteer Corps", "Freedom of Russia Legion", "Russian Ministry of Defence"


def _event(date_, place, lat=None, lon=None, *, type_="", actors=(), source="A", status="",
           precision="point", date_end=None, date_precision="day", sentence=None):
    return Event(
        article_id=f"filters-{source}", date=date_, date_end=date_end or date_, date_precision=date_precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=sentence or f"Fighting was reported in {place}.", source=source, published="2023-05-27",
        geo_precision=precision, admin1="Belgorod Oblast", country="Russia", country_code="RU",
        lat=lat, lon=lon, resolved=lat is not None, review_status=status,
        event_type=type_, actors=json.dumps(list(actors)),
    )


EVENTS = [
    _event("2023-05-20", "Kozinka", 50.4397, 35.5306, type_="armed_clash", actors=[RVC]),
    _event("2023-05-21", "Gora-Podol", 50.4867, 35.6644, type_="shelling_strike", actors=[MOD], source="B",
           status="accepted"),
    _event("2023-05-22", "Grayvoron", 50.4797, 35.6766, type_="incursion_movement", actors=[RVC, FRL]),
    _event("2023-05-22", "Grayvoronsky District", 50.48, 35.68, type_="armed_clash", actors=[FRL],
           status="corrected", precision="district"),
    _event("2023-05-23", "Belgorod Oblast", 50.6, 36.6, type_="statement", actors=[MOD], source="B",
           precision="region", sentence="The Russian MoD said the raiders were defeated."),
    _event("2023-05-23", "Glotovo-Nowhere"),
    _event("2023-05-24", "Shebekino", 50.4, 36.89, type_="shelling_strike", source="B", status="rejected",
           sentence="=HYPERLINK(\"http://evil\",\"click\") shelling hit Shebekino."),
    _event("2023-05-01", "Belgorod", 50.5977, 36.5858, type_="statement", actors=[RVC],
           date_end="2023-05-31", date_precision="month"),
]


@pytest.fixture()
def events():
    return events_to_frame(EVENTS)


def places(frame) -> list[str]:
    return sorted(frame["mention"])


def test_each_filter_keeps_what_it_says(events):
    assert len(pure_filter(events, EventFilter())) == 8
    assert places(pure_filter(events, EventFilter(types=("shelling_strike",)))) == ["Gora-Podol", "Shebekino"]
    assert places(pure_filter(events, EventFilter(types=(NONE,)))) == ["Glotovo-Nowhere"]
    assert places(pure_filter(events, EventFilter(actors=(FRL,)))) == ["Grayvoron", "Grayvoronsky District"]
    assert places(pure_filter(events, EventFilter(actors=(FRL, MOD)))) == [
        "Belgorod Oblast", "Gora-Podol", "Grayvoron", "Grayvoronsky District"]
    assert len(pure_filter(events, EventFilter(sources=("B",)))) == 3
    assert places(pure_filter(events, EventFilter(precisions=(UNRESOLVED,)))) == ["Glotovo-Nowhere"]
    assert places(pure_filter(events, EventFilter(precisions=("district", "region")))) == [
        "Belgorod Oblast", "Grayvoronsky District"]
    assert len(pure_filter(events, EventFilter(statuses=(UNREVIEWED,)))) == 5
    assert places(pure_filter(events, EventFilter(statuses=("accepted", "rejected")))) == ["Gora-Podol", "Shebekino"]


def test_dates_keep_overlapping_intervals_including_a_month(events):
    kept = pure_filter(events, EventFilter(start=date(2023, 5, 23), end=date(2023, 5, 23)))
    assert places(kept) == ["Belgorod", "Belgorod Oblast", "Glotovo-Nowhere"]
    assert places(pure_filter(events, EventFilter(end=date(2023, 5, 19)))) == ["Belgorod"]


def test_free_text_every_word_case_insensitive_over_place_mention_sentence(events):
    assert places(pure_filter(events, EventFilter(text="GRAYVORON"))) == ["Grayvoron", "Grayvoronsky District"]
    assert places(pure_filter(events, EventFilter(text="raiders defeated"))) == ["Belgorod Oblast"]
    assert places(pure_filter(events, EventFilter(text='"defeated raiders"'))) == []
    assert places(pure_filter(events, EventFilter(text="  fighting   kozinka "))) == ["Kozinka"]
    assert text_terms('a "b c" D') == ["a", "b c", "d"]
    assert text_terms('unbalanced "quote') == ["unbalanced", "quote"]


def test_filters_combine_with_and_and_return_a_new_frame(events):
    f = EventFilter(start=date(2023, 5, 21), types=("shelling_strike", "statement"), sources=("B",))
    kept = pure_filter(events, f)
    assert places(kept) == ["Belgorod Oblast", "Gora-Podol", "Shebekino"]
    assert isinstance(kept, gpd.GeoDataFrame) and kept.crs == events.crs
    kept.loc[kept.index[0], "place"] = "changed"
    assert "changed" not in set(events["place"])


def test_bbox_keeps_located_points_inside(events):
    kept = pure_filter(events, EventFilter(bbox=parse_bbox("35.5,50.4,35.7,50.5")))
    assert places(kept) == ["Gora-Podol", "Grayvoron", "Grayvoronsky District", "Kozinka"]
    with pytest.raises(InputError):
        parse_bbox("1,2,3")
    with pytest.raises(InputError):
        parse_bbox("0,60,10,50")


def test_absent_or_empty_later_columns_read_as_empty(events):
    old = events.drop(columns=["event_type", "actors"])
    assert len(pure_filter(old, EventFilter(types=(NONE,)))) == 8
    assert len(pure_filter(old, EventFilter(actors=(RVC,)))) == 0
    assert type_choices(old) == [NONE]
    assert actor_choices(old) == []
    assert parse_actors("") == () and parse_actors("[]") == () and parse_actors("Wagner") == ("Wagner",)
    assert parse_actors('[{"name": "X"}, "Y"]') == ("X", "Y")


def test_choices_most_frequent_first(events):
    assert type_choices(events) == ["armed_clash", "shelling_strike", "statement", "incursion_movement", NONE]
    assert actor_choices(events) == [RVC, FRL, MOD]
    assert source_choices(events) == ["A", "B"]


def test_bad_filter_values_are_input_errors():
    with pytest.raises(InputError):
        EventFilter(precisions=("street",))
    with pytest.raises(InputError):
        EventFilter(statuses=("maybe",))
    with pytest.raises(InputError):
        EventFilter(start=date(2023, 5, 2), end=date(2023, 5, 1))


def test_describe_and_cli_command():
    f = EventFilter(start=date(2023, 5, 21), types=("armed_clash",), actors=(RVC,), text="Kozinka")
    assert f.describe() == {"start": "2023-05-21", "end": None, "types": ["armed_clash"], "actors": [RVC],
                            "text": "Kozinka"}
    assert EventFilter(start=date(2023, 5, 1), end=date(2023, 5, 2)).describe() == {
        "start": "2023-05-01", "end": "2023-05-02"}
    assert f.cli_command() == ("python -m pipelines export --start 2023-05-21 --type armed_clash "
                               "--actor 'Russian Volunteer Corps' --text Kozinka")


# --- the view state and the URL --------------------------------------------------------

def test_view_state_round_trips_through_the_url():
    state = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26), types=("armed_clash", "statement"),
                      actors=(RVC,), sources=("B",), precisions=("point", UNRESOLVED), statuses=(UNREVIEWED,),
                      text='Kozinka "border crossing"', mode="window", window=3, speed=0.5,
                      day=date(2023, 5, 23))
    query = to_query(state)
    assert query["type"] == ["armed_clash", "statement"] and query["q"] == 'Kozinka "border crossing"'
    assert query["mode"] == "window" and query["window"] == "3" and query["day"] == "2023-05-23"
    assert from_query(query) == state
    assert to_query(ViewState()) == {}
    assert from_query({}) == ViewState()


def test_a_hand_edited_url_never_fails():
    state = from_query({"start": ["2023-13-01"], "end": "2023-05-26", "precision": ["street", "region"],
                        "status": ["maybe", "accepted"], "mode": "sideways", "window": "0", "speed": "fast",
                        "day": "yesterday", "bbox": "1,2"})
    assert state == ViewState(end=date(2023, 5, 26), precisions=("region",), statuses=("accepted",))
    swapped = from_query({"start": "2023-05-26", "end": "2023-05-20"})
    assert (swapped.start, swapped.end) == (date(2023, 5, 20), date(2023, 5, 26))


def test_shown_range_cumulative_and_moving_window(events):
    whole = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26))
    assert whole.shown_range() == (date(2023, 5, 20), date(2023, 5, 26))
    day = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26), day=date(2023, 5, 22))
    assert day.shown_range() == (date(2023, 5, 20), date(2023, 5, 22))
    # Kozinka (20), Gora-Podol (21), two on the 22nd, and the May event.
    assert len(apply_filters(events, day)) == 5
    window = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26), day=date(2023, 5, 23), mode="window",
                       window=2)
    assert window.shown_range() == (date(2023, 5, 22), date(2023, 5, 23))
    assert places(apply_filters(events, window)) == [
        "Belgorod", "Belgorod Oblast", "Glotovo-Nowhere", "Grayvoron", "Grayvoronsky District"]
    early = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26), day=date(2023, 5, 20), mode="window", window=7)
    assert early.shown_range() == (date(2023, 5, 20), date(2023, 5, 20))
    assert window.shown_filter().describe() == {"start": "2023-05-22", "end": "2023-05-23"}


# --- exports: provenance, formula-safe CSV, GeoPackage metadata --------------------------

def test_downloads_carry_their_provenance(events, tmp_path):
    state = ViewState(start=date(2023, 5, 20), end=date(2023, 5, 26), sources=("B",), day=date(2023, 5, 23))
    shown = apply_filters(events, state)
    assert places(shown) == ["Belgorod Oblast", "Gora-Podol"]
    kw = {"filters": state.shown_filter(), "store": "/data/events.gpkg", "url_query": to_query(state)}
    fc = json.loads(export.geojson_bytes(shown, **kw))
    meta = fc["metadata"]
    assert meta["filters"] == {"start": "2023-05-20", "end": "2023-05-23", "sources": ["B"]}
    assert meta["count"] == 2 and meta["store"] == "/data/events.gpkg"
    assert meta["query"] == "python -m pipelines export --start 2023-05-20 --end 2023-05-23 --source B"
    assert meta["url_query"] == "?start=2023-05-20&end=2023-05-26&source=B&day=2023-05-23"
    assert meta["exported_at"].endswith("+00:00")
    assert "crs" not in fc and len(fc["features"]) == 2

    text = export.csv_bytes(shown, **kw).decode("utf-8")
    header = [line for line in text.splitlines() if line.startswith("# ")]
    assert "# count: 2" in header and '# store: "/data/events.gpkg"' in header
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("# ")))))
    assert len(rows) == 2 and {"lat", "lon"} <= set(rows[0])
    assert {r["mention"]: float(r["lat"]) for r in rows} == {"Belgorod Oblast": 50.6, "Gora-Podol": 50.4867}

    path = tmp_path / "shown.gpkg"
    path.write_bytes(export.gpkg_bytes(shown, **kw))
    assert read_gpkg_metadata(path)["count"] == 2
    assert len(gpd.read_file(path, layer="events")) == 2


def test_csv_cells_cannot_become_formulas(events):
    assert formula_safe("=1+1") == "'=1+1" and formula_safe("+7") == "'+7" and formula_safe("-x") == "'-x"
    assert formula_safe("@SUM(A1)") == "'@SUM(A1)" and formula_safe("\tx") == "'\tx"
    assert formula_safe("Kozinka") == "Kozinka" and formula_safe(-3.5) == -3.5
    frame = csv_frame(events)
    assert frame.loc[frame["mention"] == "Shebekino", "sentence"].iloc[0].startswith("'=HYPERLINK")
    west = events_to_frame([_event("2023-05-20", "Madrid", 40.4, -3.7)])
    assert "-3.7" in csv_frame(west).to_csv(index=False).splitlines()[1].split(",")


def test_cli_export_takes_the_same_filters(events, tmp_path):
    store = tmp_path / "events.gpkg"
    ingest_events(str(store), events, sorted(set(events["article_id"])))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "pipelines", "export", "--store", str(store), *args],
                              cwd=PROJECT_ROOT, capture_output=True, text=True)

    out = tmp_path / "out.geojson"
    result = run("--format", "geojson", "-o", str(out), "--start", "2023-05-21", "--type", "shelling_strike",
                 "--type", "statement", "--source", "B")
    assert result.returncode == 0, result.stderr
    fc = json.loads(out.read_text(encoding="utf-8"))
    wanted = pure_filter(events, EventFilter(start=date(2023, 5, 21), types=("shelling_strike", "statement"),
                                             sources=("B",)))
    assert sorted(f["properties"]["mention"] for f in fc["features"]) == places(wanted) == [
        "Belgorod Oblast", "Gora-Podol", "Shebekino"]
    assert fc["metadata"]["filters"] == {"start": "2023-05-21", "end": None,
                                         "types": ["shelling_strike", "statement"], "sources": ["B"]}
    assert fc["metadata"]["count"] == 3

    out_csv = tmp_path / "out.csv"
    result = run("--format", "csv", "-o", str(out_csv), "--actor", FRL, "--precision", "point", "--status",
                 "unreviewed", "--text", "grayvoron", "--bbox", "35,50,36,51")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["mention"] for r in rows] == ["Grayvoron"]
    sidecar = json.loads(csv_sidecar(out_csv).read_text(encoding="utf-8"))
    assert sidecar["count"] == 1 and sidecar["filters"]["bbox"] == [35.0, 50.0, 36.0, 51.0]

    out_gpkg = tmp_path / "out.gpkg"
    assert run("--format", "gpkg", "-o", str(out_gpkg), "--precision", "unresolved").returncode == 0
    assert read_gpkg_metadata(out_gpkg)["filters"]["precisions"] == ["unresolved"]
    assert list(gpd.read_file(out_gpkg, layer="events")["mention"]) == ["Glotovo-Nowhere"]

    bad = run("--format", "csv", "-o", str(tmp_path / "x.csv"), "--bbox", "1,2")
    assert bad.returncode == 2 and bad.stderr.startswith("error: bbox") and "Traceback" not in bad.stderr


def test_write_export_csv_without_metadata_has_no_sidecar(events, tmp_path):
    out = tmp_path / "plain.csv"
    write_export(events, "csv", out)
    assert out.exists() and not csv_sidecar(out).exists()
