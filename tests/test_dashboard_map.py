"""The folium map: markers, legend, bounds, escaping of untrusted text, and
that it loads only local JS/CSS (no CDN), also through streamlit-folium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2.utils import htmlsafe_json_dumps

from dashboard import assets, mapview
from pipelines.schema import Event, events_to_frame

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> ${alert(3)} `tick` \\u </div>"


def _event(place, lat, lon, geo="point", sentence="Shelling was reported.", url="", source="report", **kw):
    resolved = lat is not None
    return Event(
        article_id="map", date=kw.pop("date", "2023-05-22"), date_end=kw.pop("date_end", "2023-05-22"),
        date_precision=kw.pop("date_precision", "day"), date_basis="explicit",
        place=place if resolved else "", mention=kw.pop("mention", place), sentence=sentence,
        source=source, published="2023-05-23", geo_precision=geo, admin1="Belgorod Oblast",
        country="Russia", lat=lat, lon=lon, resolved=resolved, url=url,
    )


@pytest.fixture()
def events():
    return events_to_frame([
        _event("Kozinka", 50.4397, 35.5306, url="https://example.org/raid?a=1&b=2"),
        _event("Grayvoronsky District", 50.48, 35.68, "district"),
        _event("Belgorod Oblast", 50.6, 36.6, "region"),
        _event("Shebekino", 50.4, 36.89, sentence=HOSTILE, url="javascript:alert(4)",
               source='<b onmouseover="alert(5)">src</b>', mention="Shebekino`${alert(6)}`"),
        _event("Glotovo-Nowhere", None, None),
    ])


def rendered(m) -> str:
    return m.get_root().render()


def row(frame, place):
    return frame.loc[frame["place"] == place].iloc[0]


# --- escaping -----------------------------------------------------------------

def test_popup_escapes_hostile_text(events):
    html = mapview.popup_html(row(events, "Shebekino"))
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;/div&gt;" in html
    # Nothing that could end folium's JS template literal or start a ${...}.
    assert "`" not in html and "$" not in html and "\\" not in html
    assert "&#36;&#123;alert(3)&#125; &#96;tick&#96; &#92;u" in html
    assert "&lt;b onmouseover=&quot;alert(5)&quot;&gt;src&lt;/b&gt;" in html
    assert "<a " not in html and "javascript:" not in html.replace("&", "")  # no link for javascript:


def test_popup_links_only_http_urls_and_escapes_them(events):
    html = mapview.popup_html(row(events, "Kozinka"))
    assert '<a href="https://example.org/raid?a=1&amp;b=2" target="_blank" rel="noopener noreferrer nofollow">' \
           '<bdi>report</bdi></a>' in html
    assert "<b><bdi>2023-05-22</bdi></b>" in html and "<b><bdi>Kozinka</bdi></b>" in html


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.org/a", "https://example.org/a"),
    ("  http://example.org/a?b=1  ", "http://example.org/a?b=1"),
    ("HTTPS://EXAMPLE.ORG", "HTTPS://EXAMPLE.ORG"),
    ("javascript:alert(1)", None),
    (" JavaScript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("vbscript:msgbox", None),
    ("//example.org/a", None),
    ("/relative", None),
    ("http://", None),
    ("https://exa mple.org", None),
    ("", None),
    (None, None),
    (float("nan"), None),
])
def test_safe_url(url, expected):
    assert mapview.safe_url(url) == expected


def test_rendered_map_has_no_script_from_data(events):
    html = rendered(mapview.build_map(events))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the sentence is there, as text
    for live in ("<script>alert", "<img src=x", "${alert", 'onmouseover="alert', "javascript:alert"):
        assert live not in html, live
    assert len(re.findall(r"<script\b", html)) == html.count("</script>") == 4  # 2 of folium, 2 src
    # Tooltips are escaped too (folium puts them in a template literal unescaped).
    assert "2023-05-22 · Shebekino&#96;&#36;{alert(6)}&#96;" not in html  # tooltip shows place, not mention
    assert "2023-05-22 · Shebekino" in html


# --- markers, legend, bounds ----------------------------------------------------

def test_one_circle_marker_per_resolved_event_coloured_by_precision(events):
    m = mapview.build_map(events)
    html = rendered(m)
    assert html.count("L.circleMarker(") == 4
    assert html.count('"fillColor": "#d7301f"') == 2  # Kozinka, Shebekino (point)
    assert html.count('"fillColor": "#fc8d59"') == 1  # district
    assert html.count('"fillColor": "#4575b4"') == 1  # region
    assert html.count('"className": "ea-event ea-point"') == 2
    assert html.count(".bindPopup(") == 4
    (legend,) = [c for c in m._children.values() if isinstance(c, mapview.Legend)]
    for label in ('point (town, village, site) &middot; <span data-ea-precision="0">2</span>',
                  'district &middot; <span data-ea-precision="1">1</span>',
                  'region &middot; <span data-ea-precision="2">1</span>',
                  'country &middot; <span data-ea-precision="3">0</span>'):
        assert label in legend.html
    assert htmlsafe_json_dumps(legend.html) in html  # passed to JS as a JSON string
    assert "[50.4397, 35.5306]" in html  # Leaflet takes [lat, lon]


def test_map_fits_the_bounds_of_the_events(events):
    html = rendered(mapview.build_map(events))
    bounds = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", html, re.S).group(1)
    numbers = [float(x) for x in re.findall(r"-?\d+\.?\d*", bounds)]
    assert numbers == pytest.approx([50.4, 35.5306, 50.6, 36.89])


def test_map_of_no_events_shows_the_world_without_markers(events):
    html = rendered(mapview.build_map(events.iloc[0:0]))
    assert "L.circleMarker(" not in html and ".fitBounds(" not in html
    only_unresolved = rendered(mapview.build_map(events[~events["resolved"]]))
    assert "L.circleMarker(" not in only_unresolved


# --- local assets only ----------------------------------------------------------

def _asset_urls(html: str) -> list[str]:
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    styles = re.findall(r"<link[^>]*rel=\"stylesheet\"[^>]*href=\"([^\"]+)\"", html)
    styles += re.findall(r"<link[^>]*href=\"([^\"]+)\"[^>]*rel=\"stylesheet\"", html)
    return scripts + styles


def _is_local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def test_map_html_references_only_local_js_and_css(events):
    html = rendered(mapview.build_map(events))
    urls = _asset_urls(html)
    assert sorted(urls) == [
        "/app/static/jquery-3.7.1/jquery.min.js",
        "/app/static/leaflet-1.9.3/leaflet.css",
        "/app/static/leaflet-1.9.3/leaflet.js",
    ]
    assert all(_is_local(u) for u in urls)
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs", "bootstrapcdn", "unpkg"):
        assert cdn not in html


def test_streamlit_folium_is_given_only_local_links_that_exist(events, monkeypatch, tmp_path):
    import streamlit_folium

    calls = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: calls.append(kw) or {})
    m = mapview.build_map(events, asset_base="/atlas/app/static")
    streamlit_folium.st_folium(m, returned_objects=[])
    (kwargs,) = calls
    links = kwargs["js_links"] + kwargs["css_links"]
    assert kwargs["js_links"] == ["/atlas/app/static/leaflet-1.9.3/leaflet.js",
                                  "/atlas/app/static/jquery-3.7.1/jquery.min.js"]
    assert kwargs["css_links"] == ["/atlas/app/static/leaflet-1.9.3/leaflet.css"]
    static = assets.ensure_static(tmp_path / "static")
    for url in links:
        assert (static / url.removeprefix("/atlas/app/static/")).is_file(), url
    assert "http" not in kwargs["header"].replace("http-equiv", "")
    assert kwargs["script"].count("L.circleMarker(") == 4
    assert "$(`" in kwargs["script"]  # folium's popups need the jQuery we serve


def test_localize_does_not_touch_other_maps():
    import folium

    local = mapview.localize(folium.Map(), "/app/static")
    other = folium.Map()
    assert all(_is_local(url) for _, url in local.default_js + local.default_css)
    assert any(url.startswith("https://") for _, url in other.default_js)
