"""Density at scale: map modes, the compact map data and its popup chunks,
table pages, and the plugin assets (supercluster fetched at setup and
checked against its pinned integrity; Leaflet.heat from folium's wheel)."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time

import pandas as pd
import pytest

from dashboard import assets, density, mapview
from pipelines.schema import Event, events_to_frame

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> ${alert(3)} `tick` {{ 7*7 }} {% raw %} \u2028"


def _event(i, lat=50.0, lon=36.0, geo="point", **kw):
    return Event(
        article_id=kw.pop("article_id", f"a{i}"), date=kw.pop("date", "2023-05-22"),
        date_end=kw.pop("date_end", "2023-05-22"), date_precision=kw.pop("date_precision", "day"),
        date_basis="explicit", place=kw.pop("place", f"Place {i}") if lat is not None else "",
        mention=kw.pop("mention", f"Place {i}"), sentence=kw.pop("sentence", f"Shelling in Place {i}."),
        source=kw.pop("source", "report"), published="2023-05-23", geo_precision=geo,
        admin1=kw.pop("admin1", "Belgorod Oblast"), country="Russia", lat=lat, lon=lon,
        resolved=lat is not None, url=kw.pop("url", ""),
    )


def frame(n, **kw):
    return events_to_frame([_event(i, 50 + i * 0.001, 36 + i * 0.001, **kw) for i in range(n)])


@pytest.fixture()
def hostile():
    return events_to_frame([
        _event(0, url="https://example.org/a?b=1&c=2"),
        _event(1, 50.5, 36.5, "region", sentence=HOSTILE, place="Sheb{{ 7*7 }}kino", url="javascript:alert(4)",
               source='<b onmouseover="alert(5)">src</b>', date="2023-05-01", date_end="2023-05-31",
               date_precision="month"),
        _event(2, None, None),
    ])


# --- modes ----------------------------------------------------------------------

@pytest.mark.parametrize(("choice", "n", "expected"), [
    ("auto", 0, "markers"), ("auto", 1000, "markers"), ("auto", 1001, "clusters"), ("auto", 100_000, "clusters"),
    ("markers", 5000, "markers"), ("markers", 5001, "clusters"), ("clusters", 3, "clusters"),
    ("heat", 3, "heat"), ("heat", 100_000, "heat"),
])
def test_resolve_mode(choice, n, expected):
    assert density.resolve_mode(choice, n) == expected


def test_mode_note_only_when_markers_are_refused():
    assert density.mode_note("markers", 10) is None
    assert density.mode_note("auto", 100_000) is None
    assert "showing clusters" in density.mode_note("markers", 100_000)


# --- table pages ----------------------------------------------------------------

def test_page_of_slices_and_clamps():
    table = pd.DataFrame({"x": range(250)})
    assert density.page_count(250, 100) == 3 and density.page_count(0, 100) == 1
    assert density.page_of(table, 1, 100)["x"].tolist() == list(range(100))
    assert density.page_of(table, 3, 100)["x"].tolist() == list(range(200, 250))
    assert density.page_of(table, 9, 100)["x"].tolist() == list(range(200, 250))
    assert density.page_of(table, 0, 100)["x"].tolist() == list(range(100))
    assert density.page_of(table.iloc[0:0], 1, 100).empty
    assert density.page_label(250, 3, 100) == "rows 201–250 of 250"
    assert density.page_label(12_345, 2, 100) == "rows 101–200 of 12,345"
    assert density.page_label(0, 1) == "no rows"
    with pytest.raises(ValueError):
        density.page_count(10, 0)


def test_page_of_does_not_touch_its_input():
    table = pd.DataFrame({"x": range(10)})
    page = density.page_of(table, 1, 5)
    page["x"] = -1
    assert table["x"].tolist() == list(range(10))


# --- compact data -----------------------------------------------------------------

def test_script_json_cannot_end_the_script_or_reach_jinja():
    text = density.script_json([[1.5, 2], ["</script><!--", "{{ 7*7 }}", "{% x %}", "a&b", "\u2028"]])
    for bad in ("<", ">", "{", "}", "&", "\u2028"):
        assert bad not in text
    assert json.loads(text) == [[1.5, 2], ["</script><!--", "{{ 7*7 }}", "{% x %}", "a&b", "\u2028"]]


def test_compact_points_are_numbers_only(hostile):
    points = hostile[hostile["resolved"]]
    coords, precision, rows = density.compact_points(points, [7, 9])
    assert coords == [50.0, 36.0, 50.5, 36.5]
    assert precision == [0, 2] and rows == [7, 9]
    assert density.compact_points(points) == [coords, [], []]


def test_popup_records_keep_text_as_data_and_links_only_http(hostile):
    first, second, _ = density.popup_records(hostile)
    assert first[-1] == "https://example.org/a?b=1&c=2"
    assert second == ["2023-05-01 – 2023-05-31 (month)", "Sheb{{ 7*7 }}kino", "region",
                      "Belgorod Oblast, Russia", "Place 1", HOSTILE, '<b onmouseover="alert(5)">src</b>', ""]
    long = events_to_frame([_event(0, sentence="x" * 2000)])
    (record,) = density.popup_records(long)
    assert len(record[5]) == density.POPUP_SENTENCE_CHARS and record[5].endswith("…")


def test_popups_are_written_once_in_chunks_and_old_folders_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(density, "CHUNK_ROWS", 4)
    events = frame(10)
    key = density.write_popups(events, tmp_path)
    folder = tmp_path / key
    assert sorted(p.name for p in folder.iterdir()) == ["0.json", "1.json", "2.json"]
    chunks = [json.loads((folder / f"{i}.json").read_text(encoding="utf-8")) for i in range(3)]
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert chunks[2][1][1] == "Place 9"
    stamp = (folder / "0.json").stat().st_mtime_ns
    assert density.write_popups(events, tmp_path) == key  # same content: not rewritten
    assert (folder / "0.json").stat().st_mtime_ns == stamp
    changed = events.copy()
    changed.loc[3, "sentence"] = "Corrected."
    other = density.write_popups(changed, tmp_path)
    assert other != key
    old = time.time() - density.POPUP_MAX_AGE_S - 10
    os.utime(folder, (old, old))
    density.write_popups(changed, tmp_path)
    assert not folder.exists() and (tmp_path / other).is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    by_version = density.write_popups(changed, tmp_path, version=("store", (1, 2, 3)))
    assert by_version != other and (tmp_path / by_version / "0.json").is_file()


def test_popup_rows_by_index_or_by_event_id():
    events = frame(6)
    shown = events.iloc[[4, 1]]
    assert density.popup_rows(shown, events) == [4, 1]
    assert density.popup_rows(shown.reset_index(drop=True), events) == [4, 1]
    with pytest.raises(ValueError):
        density.popup_rows(frame(8).iloc[[7]], events)


# --- the map in each mode ----------------------------------------------------------

def rendered(m) -> str:
    return m.get_root().render()


def _asset_urls(html: str) -> list[str]:
    return (re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
            + re.findall(r"<link[^>]*href=\"([^\"]+)\"", html))


def test_clusters_page_holds_numbers_not_popups(hostile, tmp_path):
    m = mapview.build_map(hostile, "/app/static", mode="clusters", static_dir=tmp_path)
    html = rendered(m)
    assert "new Supercluster(" in html and "L.circleMarker(" in html
    assert "alert" not in html and "Sheb" not in html  # no text of the data in the page
    assert sorted(u for u in _asset_urls(html)) == sorted([
        "/app/static/leaflet-1.9.3/leaflet.js",  # no jQuery: no folium Popup in this page
        "/app/static/supercluster-8.0.1/supercluster.min.js", "/app/static/leaflet-1.9.3/leaflet.css",
    ])
    (folder,) = (tmp_path / density.POPUP_FOLDER).iterdir()
    assert f'"/app/static/popups/{folder.name}"' in html
    records = json.loads((folder / "0.json").read_text(encoding="utf-8"))
    assert records[1][5] == HOSTILE  # data, shown with textContent by the page's script
    assert "textContent" in html and ".innerHTML" not in html.split("var map =")[-1].split("})();")[0]


def test_heat_map_sends_coordinates_only(hostile, tmp_path):
    html = rendered(mapview.build_map(hostile, "/app/static", mode="heat", static_dir=tmp_path))
    assert "L.heatLayer(" in html and "[50.0,36.0,50.5,36.5]" in html
    assert "/app/static/leaflet-heat-folium-0.20.0/leaflet-heat.js" in _asset_urls(html)
    assert "upercluster" not in html and "alert" not in html
    assert not (tmp_path / density.POPUP_FOLDER).exists()


def test_many_markers_are_drawn_from_compact_data(tmp_path):
    events = frame(density.FOLIUM_MARKERS_MAX + 1)
    html = rendered(mapview.build_map(events, "/app/static", mode="markers", static_dir=tmp_path))
    assert "L.featureGroup()" in html and '"markers", PLAY = false' in html
    assert ".bindPopup(" not in html and "supercluster.min.js" not in html
    few = rendered(mapview.build_map(events.iloc[:3], "/app/static", mode="auto", static_dir=tmp_path))
    assert few.count("L.circleMarker(") == 3 and few.count(".bindPopup(") == 3
    assert '"markers:3"' in few


def test_cdn_free_through_streamlit_folium(hostile, monkeypatch, tmp_path):
    import streamlit_folium

    calls = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: calls.append(kw) or {})
    static = assets.ensure_static(tmp_path / "static")
    for mode in ("clusters", "heat"):
        m = mapview.build_map(hostile, "/atlas/app/static", mode=mode, static_dir=tmp_path)
        streamlit_folium.st_folium(m, returned_objects=[])
        kwargs = calls[-1]
        for url in kwargs["js_links"] + kwargs["css_links"]:
            assert url.startswith("/atlas/app/static/"), url
            assert (static / url.removeprefix("/atlas/app/static/")).is_file(), url
        assert "alert" not in kwargs["script"] and "cdn" not in kwargs["script"].lower()
    assert "L.heatLayer(" in calls[-1]["script"] and "new Supercluster(" in calls[0]["script"]


def test_100k_events_stay_compact(tmp_path):
    n = 100_000
    events = pd.DataFrame({
        "event_id": [f"{i:016x}" for i in range(n)], "lat": [50 + (i % 997) / 1000 for i in range(n)],
        "lon": [36 + (i % 991) / 1000 for i in range(n)], "geo_precision": ["point"] * n,
        "resolved": [True] * n,
    })
    layer = density.ClusterLayer(events, ["#000"] * 5, list(range(n)), "/app/static/popups/x")
    layer.add_to(mapview.folium.Map())
    assert len(layer.js().encode("utf-8")) < 3_000_000  # ~25 bytes an event
    heat = density.HeatLayer(events)
    heat.add_to(mapview.folium.Map())
    assert len(heat.js().encode("utf-8")) < 2_000_000


# --- assets ---------------------------------------------------------------------

def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path):
    fake = _tarball({f"package/{n}": b"evil()" for n in assets.SUPERCLUSTER.files})
    with pytest.raises(ValueError, match="integrity"):
        assets.extract_npm(assets.SUPERCLUSTER, fake, tmp_path / "vendor")
    assert not assets.npm_ready(assets.SUPERCLUSTER, tmp_path / "vendor")


def test_the_pinned_tarball_is_extracted_and_then_ready(tmp_path, monkeypatch):
    tarball = _tarball({"package/dist/supercluster.min.js": b"var Supercluster;", "package/README.md": b"x"})
    pinned = assets.NpmPackage("supercluster", "8.0.1", assets._integrity(tarball), ("dist/supercluster.min.js",))
    target = assets.extract_npm(pinned, tarball, tmp_path / "vendor")
    assert sorted(p.name for p in target.iterdir()) == ["INTEGRITY", "supercluster.min.js"]
    assert assets.npm_ready(pinned, tmp_path / "vendor")
    assert pinned.tarball == "supercluster/-/supercluster-8.0.1.tgz"


def test_missing_supercluster_says_run_make_setup(tmp_path):
    with pytest.raises(assets.MissingAssetError, match="make setup"):
        assets.ensure_static(tmp_path / "static", vendor_dir=tmp_path / "no-vendor")
    assert assets.main([str(tmp_path / "static")]) == 0  # the real vendor folder, after make setup


def test_vendored_supercluster_is_the_pinned_release():
    assert assets.npm_ready(assets.SUPERCLUSTER), (
        "supercluster is not vendored: run `make setup` (python -m dashboard.assets --fetch)")
    js = (assets.npm_vendor(assets.SUPERCLUSTER) / "supercluster.min.js").read_text(encoding="utf-8")
    assert ".Supercluster=" in js[:400] and "KDBush" in js  # kdbush bundled in the UMD build
    assert assets.cluster_js("/s") == [("supercluster", "/s/supercluster-8.0.1/supercluster.min.js")]
    assert assets.heat_js("/s") == [("leaflet-heat.js", "/s/leaflet-heat-folium-0.20.0/leaflet-heat.js")]
