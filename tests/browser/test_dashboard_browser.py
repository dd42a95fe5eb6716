"""The dashboard as a person uses it, in headless Chromium, with no internet.

One Streamlit server per session serves a six-event store (see conftest.py):
five resolved events on three dates in Belgorod Oblast, one unresolved, one
with a hostile sentence, source and URL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
MARKERS = "path.ea-event"
COUNT_RE = re.compile(r"(\d+) events? shown of (\d+)")


def open_dashboard(page) -> None:
    page.goto(page.base_url + "/")
    expect(page.get_by_text(COUNT_RE).first).to_be_visible(timeout=30_000)
    wait_idle(page)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(1, timeout=20_000)


def count_line(page, n_shown: int):
    """The count line saying ``n_shown`` events: while Streamlit reruns, the
    previous run's line can still be on the page beside the new one."""
    return page.get_by_text(re.compile(rf"^{n_shown} events? shown of \d+"))


def shown(page) -> tuple[int, int]:
    text = page.get_by_text(COUNT_RE).last.inner_text()
    n, m = COUNT_RE.search(text).groups()
    return int(n), int(m)


def markers(page):
    return page.frame_locator(MAP_FRAME).locator(MARKERS)


def expect_state(page, n_shown: int, n_markers: int) -> None:
    expect(count_line(page, n_shown)).to_have_count(1, timeout=15_000)
    wait_idle(page)
    assert shown(page) == (n_shown, 6)
    expect(markers(page)).to_have_count(n_markers, timeout=15_000)


def download(page) -> dict:
    with page.expect_download(timeout=15_000) as info:
        page.get_by_role("button", name="Download GeoJSON").click()
    return json.loads(Path(info.value.path()).read_text(encoding="utf-8"))


def assert_clean(page) -> None:
    log = page.log
    assert not [e for e in log.errors() if "$ is not defined" in e or "L is not defined" in e], log.errors()
    assert log.errors() == [], log.errors()
    assert log.dialogs == [], f"a dialog fired: {log.dialogs}"
    # Offline: the only thing fetched from outside would be the map tiles.
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in log.blocked), log.blocked


def test_map_draws_a_marker_per_resolved_event_from_local_assets(page, screenshots):
    open_dashboard(page)
    assert shown(page) == (6, 6)
    expect(markers(page)).to_have_count(5, timeout=15_000)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".ea-legend")).to_contain_text("geo precision")
    # Leaflet and jQuery came from the dashboard's own static route.
    sources = frame.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    styles = frame.locator('link[rel="stylesheet"]').evaluate_all("els => els.map(e => e.href)")
    ours = [u for u in sources + styles if "/app/static/" in u]
    assert len(ours) == 3, sources + styles
    assert all(u.startswith(page.base_url + "/") for u in sources + styles), sources + styles
    info = frame.locator("body").evaluate("() => [L.version, typeof jQuery]")
    assert info == ["1.9.3", "function"]
    page.screenshot(path=str(screenshots / "dashboard-all-events.png"), full_page=True)
    assert_clean(page)


def test_timeline_slider_filters_count_markers_and_download(page, screenshots):
    open_dashboard(page)
    expect_state(page, 6, 5)
    start = page.get_by_role("slider", name=re.compile("Timeline .* start"))
    end = page.get_by_role("slider", name=re.compile("Timeline .* end"))
    assert start.get_attribute("aria-valuetext") == "2023-05-22"
    assert end.get_attribute("aria-valuetext") == "2023-06-01"

    start.focus()
    page.keyboard.press("ArrowRight")  # 23 May – 1 June: 3 on the 23rd (1 unresolved) + Shebekino
    expect_state(page, 4, 3)
    assert start.get_attribute("aria-valuetext") == "2023-05-23"
    collection = download(page)
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 4
    assert sum(f["geometry"] is None for f in collection["features"]) == 1
    assert collection["metadata"]["filters"] == {"start": "2023-05-23", "end": "2023-06-01"}

    end.focus()
    page.keyboard.press("ArrowLeft")  # 23 – 31 May: the three events of the 23rd
    expect_state(page, 3, 2)
    page.screenshot(path=str(screenshots / "dashboard-23-31-may.png"), full_page=True)
    collection = download(page)
    assert len(collection["features"]) == 3
    assert {f["properties"]["date"] for f in collection["features"]} == {"2023-05-23"}

    start.focus()
    page.keyboard.press("Home")  # 22 – 31 May
    expect_state(page, 5, 4)
    end.focus()
    page.keyboard.press("End")  # everything again
    expect_state(page, 6, 5)
    assert len(download(page)["features"]) == 6
    assert_clean(page)


def test_hostile_text_in_a_popup_is_shown_as_text(page, screenshots):
    open_dashboard(page)
    frame = page.frame_locator(MAP_FRAME)
    expect(markers(page)).to_have_count(5, timeout=15_000)
    # Shebekino (36.89° E) is the easternmost marker.
    boxes = [m.bounding_box() for m in markers(page).all()]
    east = max(range(len(boxes)), key=lambda i: boxes[i]["x"])
    markers(page).nth(east).click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_be_visible(timeout=10_000)
    text = popup.inner_text()
    assert "Shebekino" in text
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in text
    assert "${alert(3)} `tick` \\u done" in text
    assert '<b>Hostile</b> "source"' in text
    assert popup.locator("script, img, b:text('Hostile')").count() == 0
    assert popup.locator("a").count() == 0, "a javascript: URL became a link"
    page.wait_for_timeout(400)  # the popup's fade-in; and any injected onerror would have fired
    page.screenshot(path=str(screenshots / "dashboard-hostile-popup.png"))
    assert_clean(page)


@pytest.mark.seed
def test_seed_article_store_on_the_map_with_slider_and_download(seed_page, screenshots):
    """The store the pipeline made from the real seed article: every event a
    marker, the slider narrows to 23 May, the download follows it."""
    page = seed_page
    open_dashboard(page)
    total = shown(page)[1]
    assert total == shown(page)[0] >= 4
    everything = download(page)
    located_ = [f for f in everything["features"] if f["geometry"] is not None]
    expect(markers(page)).to_have_count(len(located_), timeout=15_000)
    by_date = {}
    for f in everything["features"]:
        by_date.setdefault(f["properties"]["date"], []).append(f)
    assert set(by_date) == {"2023-05-22", "2023-05-23"}
    places = {f["properties"]["place"] for f in by_date["2023-05-22"]}
    assert {"Kozinka", "Gora-Podol", "Grayvoronsky District"} <= places
    page.screenshot(path=str(screenshots / "dashboard-seed-article.png"), full_page=True)

    start = page.get_by_role("slider", name=re.compile("Timeline .* start"))
    start.focus()
    page.keyboard.press("ArrowRight")
    later = len(by_date["2023-05-23"])
    expect(count_line(page, later)).to_have_count(1, timeout=15_000)
    wait_idle(page)
    assert shown(page) == (later, total)
    expect(markers(page)).to_have_count(
        sum(f["geometry"] is not None for f in by_date["2023-05-23"]), timeout=15_000)
    narrowed = download(page)
    assert {f["properties"]["date"] for f in narrowed["features"]} == {"2023-05-23"}
    assert len(narrowed["features"]) == later
    assert narrowed["metadata"]["filters"] == {"start": "2023-05-23", "end": "2023-05-23"}
    assert_clean(page)
