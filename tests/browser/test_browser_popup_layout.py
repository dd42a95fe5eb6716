"""An open popup keeps clear of the map's zoom control, in headless Chromium:
a marker brought next to the control (top left) is clicked, Leaflet pans the
popup into view with the padding the dashboard sets, and the popup's box does
not overlap the control's. Both popup kinds: folium's (few markers) and the
ones built on click from popup chunks (clusters)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_dashboard_browser import MAP_FRAME, open_dashboard

pytestmark = pytest.mark.browser

KOZINKA = (50.4397, 35.5306)  # a point event of the sample store


def bring_next_to_the_zoom_control(frame, lat: float, lon: float) -> None:
    """Zoom to (lat, lon), then pan so that its marker sits at (70, 40) px in
    the map, just right of the zoom control (still clickable), where a popup
    opening above it would cover the control; mark the marker ``#ea-near``."""
    frame.locator("body").evaluate("""(body, [lat, lon]) => new Promise((done, fail) => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        map.setView([lat, lon], 14, {animate: false});
        const at = map.latLngToContainerPoint([lat, lon]);
        map.panBy([at.x - 70, at.y - 40], {animate: false});
        const started = Date.now();
        const poll = setInterval(() => {
            let found = null;
            map.eachLayer(l => {
                if (l instanceof L.CircleMarker && l.getElement && l.getElement()) {
                    const p = l.getLatLng();
                    if (Math.abs(p.lat - lat) < 1e-6 && Math.abs(p.lng - lon) < 1e-6) { found = l; }
                }
            });
            if (found) { found.getElement().id = 'ea-near'; clearInterval(poll); done(); }
            else if (Date.now() - started > 15000) { clearInterval(poll); fail(new Error('marker not drawn')); }
        }, 100);
    })""", list(KOZINKA))


def boxes(frame) -> dict:
    return frame.locator("body").evaluate("""() => {
        const box = sel => { const r = document.querySelector(sel).getBoundingClientRect();
                             return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
        return {popup: box('.leaflet-popup-content-wrapper'), zoom: box('.leaflet-control-zoom'),
                map: box('.leaflet-container')};
    }""")


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("mode", ["Markers", "Clusters"])
def test_a_popup_opened_under_the_zoom_control_pans_clear_of_it(page, screenshots, mode):
    open_dashboard(page)
    page.get_by_text(mode, exact=True).click()
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(f'body[data-ea-ready^="{mode.lower()}:"]')).to_have_count(1, timeout=30_000)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    bring_next_to_the_zoom_control(frame, *KOZINKA)
    frame.locator("#ea-near").click(force=True)
    expect(frame.locator(".leaflet-popup-content")).to_contain_text("Kozinka", timeout=10_000)
    page.wait_for_timeout(800)  # the pan animation
    found = boxes(frame)
    assert not overlap(found["popup"], found["zoom"]), found
    assert found["popup"]["left"] >= found["map"]["left"] and found["popup"]["top"] >= found["map"]["top"], found
    page.screenshot(path=str(screenshots / f"popup-clear-of-zoom-{mode.lower()}.png"))
