"""Every HTML builder of the dashboard on hostile strings (tests/fixtures/
hostile_strings.json) put into every field: only our own tags and attributes
come out, links only to http(s), and the hostile text reads back literally."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from dashboard import detail, mapview, safe
from pipelines.schema import Event, events_to_frame

HOSTILE = [s["value"] for s in json.loads(
    (Path(__file__).parent / "fixtures" / "hostile_strings.json").read_text(encoding="utf-8"))["strings"]]
FIELDS = ("place", "mention", "sentence", "source", "url", "admin1", "admin2", "country", "geocoder")

#: The only markup our builders write.
OUR_TAGS = {"div", "b", "br", "small", "i", "blockquote", "a", "bdi", "table", "tr", "th", "td", "p", "code"}
OUR_ATTRS = {"class", "style", "href", "target", "rel"}


class Fragment(HTMLParser):
    """Tags, attributes and text of an HTML fragment, as a browser parses them."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def joined(self) -> str:
        return "".join(self.text)


def hostile_row(value: str, **extra) -> pd.Series:
    """A schema-valid event whose every text field is ``value``."""
    event = Event(
        article_id="hostile", date="2023-05-22", date_end="2023-05-22", date_precision="day",
        date_basis="explicit", place=value, mention=value, sentence=value, source=value,
        published="2023-05-23", admin1=value, admin2=value, country=value, geocoder=value, url=value,
        lat=50.44, lon=35.53, resolved=True,
        evidence=json.dumps([{"mention": value, "sentence": value, "start": 0, "end": 1}]),
        candidates=json.dumps([{"name": value, "lat": 1.0, "lon": 2.0}]), **extra,
    )
    return events_to_frame([event]).iloc[0]


def assert_inert(markup: str, value: str) -> Fragment:
    frag = Fragment(markup)
    for tag, attrs in frag.tags:
        assert tag in OUR_TAGS, (tag, value)
        assert set(attrs) <= OUR_ATTRS, (attrs, value)
        assert not any(a.startswith("on") for a in attrs), (attrs, value)
        if tag == "a":
            assert re.match(r"https?://", attrs["href"]), attrs
    # Nothing can leave folium's `$(`...`)` template literal either.
    assert "`" not in markup and "$" not in markup and "\\" not in markup
    return frag


@pytest.mark.parametrize("value", HOSTILE)
def test_popup_tooltip_and_detail_are_inert_and_literal(value, figures):
    row = hostile_row(value)
    for build in (mapview.popup_html, mapview.tooltip_html, detail.detail_html):
        frag = assert_inert(build(row), value)
        assert value.replace("\n", " ") in frag.joined.replace("\n", " ") or value in frag.joined, build
    assert not [t for t, _ in Fragment(mapview.popup_html(row)).tags if t == "a"]  # not an http(s) URL
    figures.add("hostile strings tried", 3)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_beside_a_real_link(value):
    row = hostile_row(value, **{}) .copy()
    row["url"] = "https://example.org/raid?a=1&b=2"
    for markup in (mapview.popup_html(row), detail.detail_html(row)):
        links = [a for t, a in Fragment(markup).tags if t == "a"]
        assert [a["href"] for a in links] == ["https://example.org/raid?a=1&b=2"]
        assert links[0]["rel"] == "noopener noreferrer nofollow"


def test_marker_classes_come_from_known_precisions_only():
    assert mapview.marker_class("point") == "ea-event ea-point"
    assert mapview.marker_class('point" onload="x') == "ea-event ea-unknown"


def test_rendered_map_of_hostile_events_holds_no_markup_from_data(figures):
    frame = events_to_frame([
        Event(article_id="hostile", date="2023-05-22", date_end="2023-05-22", date_precision="day",
              date_basis="explicit", place=v, mention=v, sentence=v, source=v, published="",
              url=v, admin1=v, country=v, lat=50.0 + i / 100, lon=35.0, resolved=True)
        for i, v in enumerate(HOSTILE)
    ])
    page = mapview.build_map(frame).get_root().render()
    assert len(re.findall(r"<script\b", page)) == 4  # folium's two, Leaflet and jQuery
    for live in ("<script>window", "<img", "<svg", "<iframe", "<a href=\"javascript", "onerror=\"",
                 "${window", 'href="javascript', 'href="data'):
        assert live not in page, live
    # folium compiles popup and tooltip scripts as Jinja templates: data must not be one.
    assert "{{" not in page and "{%" not in page and "=49" not in page
    assert "&#123;&#123; 7*7 &#125;&#125;" in page
    assert page.count("L.circleMarker(") == len(HOSTILE)
    figures.add("hostile strings tried", len(HOSTILE))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.org/a", "https://example.org/a"),
    ("https://exa\u202emple.org/a", None),
    ("https://example.org/\u200b", None),
    ("java\u200bscript:alert(1)", None),
    ("\x01javascript:alert(1)", None),
    ("&#106;avascript:alert(1)", None),
    ("data:text/html;base64,PHNjcmlwdD4=", None),
    ("https:alert(1)", None),
    ("http:///path", None),
])
def test_safe_url_refuses_disguised_schemes(url, expected):
    assert safe.safe_url(url) == expected


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_text_escapes_every_markdown_character(value, figures):
    out = safe.markdown_text(value)
    # Unescaping CommonMark backslash escapes gives the text back (whitespace folded).
    assert re.sub(r"\\(.)", r"\1", out) == " ".join(value.split())
    assert not re.search(r"(?<!\\)[\[\]()<>:$*_`!]", out)
    figures.add("hostile strings tried", 1)


@pytest.mark.parametrize(("name", "label"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\win.ini", "win.ini"),
    ("/etc/shadow", "shadow"),
    ("..", "upload"),
    ("../", "upload"),
    ("", "upload"),
    (None, "upload"),
    ("report\u202etxt.exe", "reporttxt.exe"),
    ("re\x00po\nrt\x1b[31m.md", "report[31m.md"),
    ("Ko\u200bzin\u200dka.txt", "Kozinka.txt"),
    ("<script>x</script>.txt", "script>.txt"),
    ("a" * 300 + ".txt", "a" * 119 + "…"),
])
def test_clean_label_is_a_basename_without_controls(name, label, figures):
    assert safe.clean_label(name) == label
    figures.add("hostile strings tried", 1)


def test_event_label_is_one_short_line():
    row = hostile_row("line one\nline two " + "x" * 200)
    label = detail.event_label(row)
    assert "\n" not in label and len(label) <= detail.MAX_LABEL


def test_detail_shows_a_non_web_url_as_text_only():
    row = hostile_row("report")
    row["url"] = "javascript:alert(1)"
    frag = assert_inert(detail.detail_html(row), "javascript:alert(1)")
    assert "a" not in [t for t, _ in frag.tags]
    assert "javascript:alert(1)" in frag.joined and "not a web link" in frag.joined
