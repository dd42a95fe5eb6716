"""Playing in place in the cluster and heat modes, in headless Chromium: the
same Leaflet map from step to step (a value left in its frame survives the
ticks, the zoom is kept), the drawn count follows the day, the clusters' labels
add up to the events on the map and the legend counts that day's events.

A synthetic store of 3,000 events (bench/synthetic_events.py) plus the six
sample events; playback over 1–12 June 2023 at two seconds a day."""

from __future__ import annotations

import re
import sys
from datetime import date

import pandas as pd
import pytest
from playwright.sync_api import expect

from pipelines.config import PROJECT_ROOT
from pipelines.filters import date_mask
from pipelines.schema import events_to_frame

from .conftest import SAMPLE_EVENTS, offline_page, running_dashboard
from .test_dashboard_browser import COUNT_RE, MAP_FRAME, wait_idle

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from synthetic_events import synthetic_events  # noqa: E402

pytestmark = pytest.mark.browser

N = 3_000
START, END = date(2023, 6, 1), date(2023, 6, 12)
ON_MAP_RE = re.compile(r"(\d+) events? shown of \d+\** · (\d+) on the map")
PRECISIONS = ("point", "district", "region", "country")


def store_frame() -> pd.DataFrame:
    return events_to_frame(synthetic_events(N) + SAMPLE_EVENTS)


@pytest.fixture(scope="module")
def play_url(tmp_path_factory, chromium_path):
    store = tmp_path_factory.mktemp("playing") / "events.gpkg"
    store_frame().to_file(store, driver="GPKG", layer="events")
    with running_dashboard(store, store.with_suffix(".log")) as url:
        yield url


def expected_on_map(day: date) -> dict[str, int]:
    """Located events of [START, day] (cumulative playback) by geo precision."""
    frame = store_frame()
    kept = frame[date_mask(frame, START, day) & frame["resolved"] & frame["lat"].notna()]
    return {p: int((kept["geo_precision"] == p).sum()) for p in PRECISIONS}


def snapshot(page) -> dict:
    """The day, Python's count line and what the map frame draws, read together."""
    day = page.get_by_role("slider", name=re.compile("Day")).get_attribute("aria-valuetext")
    line = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=COUNT_RE).last.inner_text()
    body = page.frame_locator(MAP_FRAME).locator("body")
    drawn = body.evaluate("""() => ({
        ready: document.body.getAttribute('data-ea-ready'),
        same: window.__sameMap === 42,
        zoom: Object.values(window).find(v => v instanceof L.Map).getZoom(),
        legend: Object.fromEntries([...document.querySelectorAll('.ea-legend [data-ea-precision]')]
            .map(e => [e.getAttribute('data-ea-precision'), Number(e.textContent)])),
    })""")
    return {"day": day, "on_map": int(ON_MAP_RE.search(line).group(2)), **drawn}


def wait_for_day_window(page, timeout_s: float = 30) -> None:
    for _ in range(int(timeout_s * 10)):
        frames = page.locator(MAP_FRAME)
        if frames.count() == 1:
            try:
                if page.frame_locator(MAP_FRAME).locator("body").evaluate(
                        "() => !!(window.eaDensity && window.eaDensity.window)"):
                    return
            except Exception:  # noqa: BLE001 - the frame being replaced
                pass
        page.wait_for_timeout(100)
    raise AssertionError("no day window reached the playing map")


@pytest.mark.parametrize("mode,label", [("clusters", "Clusters"), ("heat", "Heat map")])
def test_playing_keeps_the_map_and_follows_the_day(browser, play_url, screenshots, mode, label):
    with offline_page(browser, play_url) as page:
        page.goto(f"{page.base_url}/?start={START}&end={END}&speed=2")
        expect(page.get_by_text(COUNT_RE).first).to_be_visible(timeout=30_000)
        wait_idle(page)
        page.get_by_text(label, exact=True).click()
        frame = page.frame_locator(MAP_FRAME)
        expect(frame.locator(f'body[data-ea-ready^="{mode}:"]')).to_have_count(1, timeout=30_000)
        page.get_by_role("button", name="▶ Play").click()
        expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible(timeout=10_000)
        expect(page.get_by_text("while playing, only the day's events change")).to_be_visible(timeout=10_000)
        # The playing map (a new component) once a day window has reached it, not the map it replaces.
        wait_for_day_window(page)
        page.locator(MAP_FRAME).scroll_into_view_if_needed()
        frame.locator("body").evaluate("() => { window.__sameMap = 42; }")
        first = snapshot(page)
        seen: dict[str, dict] = {}
        for _ in range(400):  # up to 40 s: several steps, each checked once Python and the map agree
            now = snapshot(page)
            if now["day"] is not None and now["ready"] == f"{mode}:{now['on_map']}" and now == snapshot(page):
                seen.setdefault(now["day"], now)
            if len(seen) >= 3:
                break
            page.wait_for_timeout(100)
        assert len(seen) >= 3, seen
        for day, now in seen.items():
            want = expected_on_map(date.fromisoformat(day))
            assert now["on_map"] == sum(want.values()), (day, now, want)
            assert now["legend"] == {str(i): want[p] for i, p in enumerate(PRECISIONS)}, (day, now, want)
            assert now["same"], f"the map was re-created by {day}"
            assert now["zoom"] == first["zoom"]
        assert len({now["on_map"] for now in seen.values()}) >= 2, "the count never changed"
        if mode == "clusters":
            expect(frame.locator(".marker-cluster").first).to_be_visible()
            drawn, total = frame.locator("body").evaluate("""() => [document.body.getAttribute('data-ea-ready'),
                [...document.querySelectorAll('.marker-cluster span')].reduce((a, e) => a + Number(e.textContent), 0)
                + document.querySelectorAll('path.ea-event').length]""")  # read together: a tick may come
            assert drawn == f"clusters:{total}"
            page.mouse.move(0, 0)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.screenshot(path=str(screenshots / "playing-clusters.png"))
        assert page.log.errors() == [], page.log.errors()
        page.get_by_role("button", name="⏸ Pause").click()
        expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=10_000)
