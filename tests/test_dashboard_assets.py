"""The map's JS/CSS copied from xstatic packages into the static folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet

from dashboard import assets


def test_ensure_static_copies_leaflet_and_jquery_byte_for_byte(tmp_path):
    static = assets.ensure_static(tmp_path / "static")
    leaflet_js = static / "leaflet-1.9.3" / "leaflet.js"
    assert leaflet_js.read_bytes() == (Path(xs_leaflet.BASE_DIR) / "leaflet.js").read_bytes()
    jquery = static / "jquery-3.7.1" / "jquery.min.js"
    assert jquery.read_bytes() == (Path(xs_jquery.BASE_DIR) / "jquery.min.js").read_bytes()
    assert b"jQuery v3.7.1" in jquery.read_bytes()[:200]
    css = (static / "leaflet-1.9.3" / "leaflet.css").read_text()
    images = set(re.findall(r"url\((images/[^)]+)\)", css))
    assert (static / ".gitignore").read_text().splitlines()[-1] == "*"
    assert images == {"images/layers.png", "images/layers-2x.png", "images/marker-icon.png"}
    for image in images:
        assert (static / "leaflet-1.9.3" / image).is_file()
    assert sorted(p.name for p in static.rglob("*") if p.is_file()) == sorted([
        ".gitignore", "leaflet.js", "leaflet.css", "jquery.min.js", "layers.png", "layers-2x.png",
        "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png",
        # the density modes' plugins (tests/test_dashboard_density.py)
        "leaflet-heat.js", "supercluster.min.js"])


def test_ensure_static_is_idempotent_and_repairs_damaged_copies(tmp_path):
    static = assets.ensure_static(tmp_path / "static")
    leaflet_js = static / "leaflet-1.9.3" / "leaflet.js"
    os.utime(leaflet_js, ns=(1_000_000_000, 1_000_000_000))
    assets.ensure_static(static)
    assert leaflet_js.stat().st_mtime_ns == 1_000_000_000  # identical: not rewritten
    leaflet_js.write_text("truncated")
    assets.ensure_static(static)
    assert leaflet_js.stat().st_size == os.path.getsize(os.path.join(xs_leaflet.BASE_DIR, "leaflet.js"))
    assert [p.name for p in static.rglob(".*") if p.is_file()] == [".gitignore"]  # no temporary files


def test_static_urls_follow_the_base_url_path():
    assert assets.static_base_url("") == "/app/static"
    assert assets.static_base_url("/atlas/") == "/atlas/app/static"
    assert assets.static_base_url("a/b") == "/a/b/app/static"
    assert assets.map_js("/app/static") == [
        ("leaflet", "/app/static/leaflet-1.9.3/leaflet.js"),
        ("jquery", "/app/static/jquery-3.7.1/jquery.min.js"),
    ]
    assert assets.map_css("/x") == [("leaflet_css", "/x/leaflet-1.9.3/leaflet.css")]


def test_static_dir_is_where_streamlit_serves_app_static_files():
    from streamlit import file_util

    app = assets.STATIC_DIR.parent / "app.py"
    assert file_util.get_app_static_dir(str(app)) == str(assets.STATIC_DIR)
