"""The timeline that plays, the filters and the URL, in headless Chromium.

One dashboard for the module, on a synthetic store written through
pipelines.store.ingest_events: ten events in Belgorod Oblast from 20 to 26 May
2023 with types, actors, two sources, review decisions, every geo precision,
one unresolved mention and one event dated only to "May 2023".
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from pipelines.filters import EventFilter, apply_filters
from pipelines.schema import Event, events_to_frame
from pipelines.store import ingest_events, read_events

from .conftest import offline_page, running_dashboard
from .test_dashboard_browser import COUNT_RE, MAP_FRAME, MARKERS, count_line, wait_idle

pytestmark = pytest.mark.browser

ON_MAP_RE = re.compile(r"(\d+) events? shown of (\d+)\** · (\d+) on the map")
RVC, FRL, MOD = "Russian Volunteer Corps", "Freedom of Russia Legion", "Russian Ministry of Defence"


def _event(date, place, lat=None, lon=None, *, type_="", actors=(), source="Raid report A",
           status="", precision="point", date_end=None, date_precision="day") -> Event:
    return Event(
        article_id=f"views-{source}", date=date, date_end=date_end or date, date_precision=date_precision,
        date_basis="explicit", place=place if lat is not None else "", mention=place,
        sentence=f"Fighting was reported in {place}.", source=source, published="2023-05-27",
        geo_precision=precision, admin1="Belgorod Oblast", country="Russia", country_code="RU",
        lat=lat, lon=lon, resolved=lat is not None, review_status=status,
        reviewed_by="analyst" if status else "", event_type=type_, actors=json.dumps(list(actors)),
    )


EVENTS = [
    _event("2023-05-20", "Kozinka", 50.4397, 35.5306, type_="armed_clash", actors=[RVC]),
    _event("2023-05-21", "Gora-Podol", 50.4867, 35.6644, type_="shelling_strike", actors=[MOD],
           source="Raid report B", status="accepted"),
    _event("2023-05-22", "Grayvoron", 50.4797, 35.6766, type_="incursion_movement", actors=[RVC, FRL]),
    _event("2023-05-22", "Grayvoronsky District", 50.48, 35.68, type_="armed_clash", actors=[FRL],
           status="corrected", precision="district"),
    _event("2023-05-23", "Belgorod Oblast", 50.6, 36.6, type_="statement", actors=[MOD],
           source="Raid report B", precision="region"),
    _event("2023-05-23", "Glotovo-Nowhere"),
    _event("2023-05-24", "Shebekino", 50.4, 36.89, type_="shelling_strike", source="Raid report B",
           status="rejected"),
    _event("2023-05-25", "Novaya Tavolzhanka", 50.35, 36.83, type_="shelling_strike", actors=[MOD],
           source="Raid report B"),
    _event("2023-05-01", "Belgorod", 50.5977, 36.5858, type_="statement", actors=[RVC],
           date_end="2023-05-31", date_precision="month"),
    _event("2023-05-26", "Valuyki", 50.2111, 38.0996, type_="armed_clash", actors=[RVC], status="accepted"),
]
TOTAL = len(EVENTS)


@pytest.fixture(scope="module")
def views_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("views") / "events.gpkg"
    frame = events_to_frame(EVENTS)
    ingest_events(str(path), frame, sorted(set(frame["article_id"])))
    assert len(read_events(str(path))) == TOTAL
    return path


@pytest.fixture(scope="module")
def views_url(views_store, tmp_path_factory, chromium_path):
    with running_dashboard(views_store, tmp_path_factory.mktemp("views-log") / "streamlit.log") as url:
        yield url


@pytest.fixture()
def vpage(browser, views_url):
    with offline_page(browser, views_url) as pg:
        yield pg


def expected(f: EventFilter) -> tuple[int, int]:
    """(shown, located) for a filter, by the pure function the dashboard uses."""
    kept = apply_filters(events_to_frame(EVENTS), f)
    return len(kept), int((kept["resolved"] & kept["lat"].notna()).sum())


def open_view(page, query: str = "") -> None:
    page.goto(page.base_url + "/" + query)
    expect(page.get_by_text(COUNT_RE).first).to_be_visible(timeout=30_000)
    wait_idle(page)


def state(page) -> tuple[int, int, int]:
    """(shown, total, on the map) from the count line."""
    line = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=COUNT_RE).last
    n, m, located = ON_MAP_RE.search(line.inner_text()).groups()
    return int(n), int(m), int(located)


def markers(page):
    return page.frame_locator(MAP_FRAME).locator(MARKERS)


TABLE = '.st-key-events_table [data-testid="stDataFrame"] [aria-rowcount]'


def table_rows(page) -> int:
    """Rows of the events table, as its grid reports them (header row excluded)."""
    return int(page.locator(TABLE).first.get_attribute("aria-rowcount")) - 1


def expect_table_rows(page, n: int) -> None:
    expect(page.locator(TABLE).first).to_have_attribute("aria-rowcount", str(n + 1), timeout=10_000)


def expect_view(page, shown: int, located: int) -> None:
    expect(count_line(page, shown)).to_have_count(1, timeout=15_000)
    wait_idle(page)
    assert state(page) == (shown, TOTAL, located)
    expect(markers(page)).to_have_count(located, timeout=15_000)
    expect_table_rows(page, shown)


def day_value(page) -> str:
    return page.get_by_role("slider", name=re.compile("Day")).get_attribute("aria-valuetext")


def wait_for_day(page, day: str, timeout_s: float = 15) -> None:
    for _ in range(int(timeout_s * 20)):
        if day_value(page) == day:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the day never reached {day} (now {day_value(page)})")


def test_play_advances_the_day_and_the_markers_follow(vpage, screenshots):
    page = vpage
    # Range 20-26 May, one second per day, cumulative.
    open_view(page, "?start=2023-05-20&end=2023-05-26")
    expect_view(page, TOTAL, TOTAL - 1)
    assert day_value(page) == "2023-05-26"
    page.get_by_role("button", name="▶ Play").click()
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible(timeout=10_000)
    # 21 May: Kozinka, Gora-Podol and the "May 2023" event (an interval
    # overlapping every day of May, not a single day).
    wait_for_day(page, "2023-05-21")
    assert expected(EventFilter(start=date(2023, 5, 20), end=date(2023, 5, 21))) == (3, 3)
    expect(markers(page)).to_have_count(3, timeout=900)
    # The same Leaflet map from step to step (no reload, no flicker): a value
    # left in the map's frame is still there later, and so is the zoom.
    frame_body = page.frame_locator(MAP_FRAME).locator("body")
    frame_body.evaluate("() => { window.__sameMap = 42; }")
    zoom = frame_body.evaluate("() => Object.values(window).find(v => v instanceof L.Map).getZoom()")
    wait_for_day(page, "2023-05-23")
    assert expected(EventFilter(start=date(2023, 5, 20), end=date(2023, 5, 23))) == (7, 6)
    expect(markers(page)).to_have_count(6, timeout=900)
    page.mouse.move(0, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no tooltip on the shot
    page.set_viewport_size({"width": 1280, "height": 1900})
    page.screenshot(path=str(screenshots / "views-playing.png"), full_page=True)
    assert frame_body.evaluate("() => window.__sameMap") == 42
    assert frame_body.evaluate("() => Object.values(window).find(v => v instanceof L.Map).getZoom()") == zoom
    page.get_by_role("button", name="⏸ Pause").click()
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=10_000)
    wait_idle(page)
    paused_on = day_value(page)
    assert "2023-05-23" <= paused_on < "2023-05-26"
    want = expected(EventFilter(start=date(2023, 5, 20), end=date.fromisoformat(paused_on)))
    expect_view(page, *want)
    assert parse_qs(urlparse(page.url).query)["day"] == [paused_on]
    # Stepping: one day forward by the ▶ button, then moving window of 1 day.
    if paused_on < "2023-05-25":
        page.get_by_role("button", name="▶", exact=True).click()
        wait_for_day(page, date.fromordinal(date.fromisoformat(paused_on).toordinal() + 1).isoformat())


def test_each_filter_narrows_map_and_table_equally(vpage, screenshots):
    page = vpage
    open_view(page)
    expect_view(page, TOTAL, TOTAL - 1)
    sidebar = page.locator('[data-testid="stSidebar"]')

    def pick(label: str, option: str):
        box = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
        box.locator("input").click()
        box.locator("input").fill(option)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")

    def clear(label: str, option: str):
        box = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
        box.get_by_role("button", name=f"Remove {option}").click()

    cases = [
        ("Event type", "shelling strike", EventFilter(types=("shelling_strike",)), (3, 3)),
        ("Actor", RVC, EventFilter(actors=(RVC,)), (4, 4)),
        ("Source", "Raid report B", EventFilter(sources=("Raid report B",)), (4, 4)),
        ("Geo precision", "district", EventFilter(precisions=("district",)), (1, 1)),
        ("Review status", "accepted", EventFilter(statuses=("accepted",)), (2, 2)),
    ]
    for label, option, f, want in cases:
        assert expected(f) == want, (label, expected(f))
        pick(label, option)
        expect_view(page, *want)
        clear(label, option)
        expect_view(page, TOTAL, TOTAL - 1)

    search = sidebar.get_by_label("Search place, mention, sentence", exact=True).and_(sidebar.locator("input"))
    search.fill("grayvoron")
    search.press("Enter")
    assert expected(EventFilter(text="grayvoron")) == (2, 2)
    expect_view(page, 2, 2)
    search.fill("")
    search.press("Enter")
    expect_view(page, TOTAL, TOTAL - 1)

    # Date range: the slider's start one day on (21 May): Kozinka leaves.
    start = page.get_by_role("slider", name=re.compile("Timeline .* start"))
    start.focus()
    page.keyboard.press("End")  # the whole span is 1–31 May (the "May 2023" event)
    page.keyboard.press("Home")
    wait_idle(page)
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    # Start at 21 May: everything from 21 May on, plus the month event.
    assert expected(EventFilter(start=date(2023, 5, 21))) == (9, 8)
    expect_view(page, 9, 8)

    # Several filters at once, then a screenshot of the filtered view.
    pick("Event type", "shelling strike")
    pick("Source", "Raid report B")
    assert expected(EventFilter(start=date(2023, 5, 21), types=("shelling_strike",),
                                sources=("Raid report B",))) == (3, 3)
    expect_view(page, 3, 3)
    tall_screenshot(page, screenshots / "views-filtered.png")
    query = parse_qs(urlparse(page.url).query)
    assert query["type"] == ["shelling_strike"] and query["source"] == ["Raid report B"]
    assert query["start"] == ["2023-05-21"]


def test_the_url_reproduces_a_filtered_view_in_a_new_page(browser, views_url, screenshots):
    query = "?start=2023-05-21&end=2023-05-25&actor=" + MOD.replace(" ", "+") + "&status=unreviewed&q=oblast"
    with offline_page(browser, views_url) as first:
        open_view(first, query)
        want = expected(EventFilter(start=date(2023, 5, 21), end=date(2023, 5, 25), actors=(MOD,),
                                    statuses=("unreviewed",), text="oblast"))
        assert want == (1, 1)
        expect_view(first, *want)
        sidebar = first.locator('[data-testid="stSidebar"]')
        expect(sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Actor")).to_contain_text(MOD)
        link = first.url
    with offline_page(browser, views_url) as second:
        second.goto(link)
        expect(second.get_by_text(COUNT_RE).first).to_be_visible(timeout=30_000)
        wait_idle(second)
        expect_view(second, 1, 1)
        assert parse_qs(urlparse(second.url).query) == parse_qs(urlparse(link).query)
        with second.expect_download(timeout=15_000) as info:
            second.get_by_role("button", name="Download GeoJSON").click()
        collection = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
        assert [f["properties"]["place"] for f in collection["features"]] == ["Belgorod Oblast"]
        assert collection["metadata"]["filters"] == {
            "start": "2023-05-21", "end": "2023-05-25", "actors": [MOD], "statuses": ["unreviewed"],
            "text": "oblast"}
        assert collection["metadata"]["count"] == 1


def tall_screenshot(page, path: Path) -> None:
    """The whole page (Streamlit scrolls inside its own container, so the
    viewport is made tall) once the charts are drawn."""
    page.mouse.move(0, 0)
    page.set_viewport_size({"width": 1280, "height": 2300})
    expect(page.locator(".vega-embed svg").first).to_be_visible(timeout=10_000)
    wait_idle(page)
    page.wait_for_timeout(600)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_plain_view_screenshot_and_downloads(vpage, screenshots):
    page = vpage
    open_view(page)
    expect_view(page, TOTAL, TOTAL - 1)
    expect(page.get_by_text("Events per day")).to_be_visible()
    tall_screenshot(page, screenshots / "views-plain.png")
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("# ")]
    assert any(line.startswith("# count: 10") for line in header), header
    body = [line for line in text.splitlines() if not line.startswith("# ")]
    assert body[0].startswith("article_id,") and len(body) == 1 + TOTAL
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="Download GeoPackage").click()
    from pipelines.exporters import read_gpkg_metadata

    gpkg = Path(info.value.path())
    assert info.value.suggested_filename.endswith(".gpkg")
    assert read_gpkg_metadata(gpkg)["count"] == TOTAL
    import geopandas as gpd

    layer = gpd.read_file(gpkg, layer="events")
    assert len(layer) == TOTAL and layer.crs.to_epsg() == 4326


def test_clicking_a_day_bar_narrows_the_date_range(vpage):
    page = vpage
    open_view(page)
    expect_view(page, TOTAL, TOTAL - 1)
    chart = page.locator(".st-key-per_day_chart")
    bar = chart.locator('[aria-roledescription="bar"][aria-label*="day: 2023-05-24"]').first
    expect(bar).to_be_visible(timeout=10_000)
    bar.click()
    # 24 May: Shebekino, and the "May 2023" event, which overlaps it.
    assert expected(EventFilter(start=date(2023, 5, 24), end=date(2023, 5, 24))) == (2, 2)
    expect_view(page, 2, 2)
    slider = page.get_by_role("slider", name=re.compile("Timeline .* start"))
    assert slider.get_attribute("aria-valuetext") == "2023-05-24"
    query = parse_qs(urlparse(page.url).query)
    assert query["start"] == query["end"] == ["2023-05-24"]
