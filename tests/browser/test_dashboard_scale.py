"""Density at scale in headless Chromium, offline: a 10,000-event store draws
as clusters (supercluster) whose labels add up to the events on the map and
whose popups open (hostile text shown as text), and the heat map toggle draws
Leaflet.heat; plugins come from the dashboard's static route."""

from __future__ import annotations

import re
import sys

import pytest
from playwright.sync_api import expect

from pipelines.config import PROJECT_ROOT
from pipelines.filters import date_mask, located
from pipelines.schema import events_to_frame
from pipelines.store.base import frame_date_span

from .conftest import HOSTILE_SENTENCE, HOSTILE_SOURCE, SAMPLE_EVENTS, offline_page, running_dashboard

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
from synthetic_events import synthetic_events  # noqa: E402

pytestmark = pytest.mark.browser

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
N_SYNTHETIC = 10_000
SHEBEKINO = (50.4, 36.89)  # the hostile event of SAMPLE_EVENTS


@pytest.fixture(scope="module")
def scale_url(tmp_path_factory, chromium_path):
    store = tmp_path_factory.mktemp("scale") / "events.gpkg"
    events_to_frame(synthetic_events(N_SYNTHETIC) + SAMPLE_EVENTS).to_file(store, driver="GPKG", layer="events")
    with running_dashboard(store, store.with_suffix(".log")) as url:
        yield url


@pytest.fixture()
def scale_page(browser, scale_url):
    with offline_page(browser, scale_url) as pg:
        yield pg


def located_count() -> int:
    frame = events_to_frame(synthetic_events(N_SYNTHETIC) + SAMPLE_EVENTS)
    return int(frame["resolved"].sum())


def ready(page, prefix: str, timeout: float = 45_000):
    """The map frame once its layer says it is drawn (after the script run)."""
    expect(page.get_by_text("shown of")).to_be_visible(timeout=timeout)
    expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(1, timeout=timeout)
    frame = page.frame_locator(MAP_FRAME)
    body = frame.locator(f'body[data-ea-ready^="{prefix}"]')
    expect(body).to_have_count(1, timeout=timeout)
    return frame, body.get_attribute("data-ea-ready")


def cluster_labels_total(frame) -> int:
    """The numbers on the cluster icons plus the single markers drawn."""
    return frame.locator("body").evaluate("""() => {
        const labels = [...document.querySelectorAll('.marker-cluster span')].map(e => Number(e.textContent));
        return labels.reduce((a, b) => a + b, 0) + document.querySelectorAll('path.ea-event').length;
    }""")


def drawn_alone(frame, lat: float, lon: float) -> bool:
    """True when the event at (lat, lon) is drawn as its own marker (not in a cluster)."""
    return frame.locator("body").evaluate("""(body, [lat, lon]) => window.eaDensity.group.getLayers().some(l => {
        const p = l.getLatLng();
        return l.eaIndex !== undefined && Math.abs(p.lat - lat) < 1e-6 && Math.abs(p.lng - lon) < 1e-6; })""",
        [lat, lon])


def show_single_marker(frame, lat: float, lon: float) -> None:
    """Zoom the map that holds the event layer to (lat, lon), past the clusters'
    last zoom, and mark that event's marker ``#ea-target``; fails (not hangs)
    after 20 s, saying what the map showed.

    Each poll looks the map up again through the layer (``group._map``) and
    sets the view again if it is not there: under load a slow first draw can
    still be settling when the test zooms, and the first ``L.Map`` among the
    window's globals need not be the one the layer is on."""
    frame.locator("body").evaluate("""(body, [lat, lon]) => new Promise((done, fail) => {
        const started = Date.now();
        const target = () => window.eaDensity.group.getLayers().find(l => {
            const p = l.getLatLng(); return l.eaIndex !== undefined
                && Math.abs(p.lat - lat) < 1e-6 && Math.abs(p.lng - lon) < 1e-6; });
        const poll = setInterval(() => {
            const map = window.eaDensity && window.eaDensity.group._map;
            if (!map) { return; }
            const c = map.getCenter();
            if (map.getZoom() !== 17 || Math.abs(c.lat - lat) > 1e-4 || Math.abs(c.lng - lon) > 1e-4) {
                map.invalidateSize(false);
                map.setView([lat, lon], 17, {animate: false});
            }
            const layer = target(), el = layer && layer.getElement();
            if (el) { el.id = 'ea-target'; clearInterval(poll); done(); }
            else if (Date.now() - started > 20000) {
                clearInterval(poll);
                const size = map.getSize();
                fail(new Error(`marker never shown: zoom ${map.getZoom()}, size ${size.x}x${size.y}, `
                    + `${window.eaDensity.group.getLayers().length} layers, index ${!!window.eaDensity.index}`));
            }
        }, 100);
    })""", [lat, lon])


def assert_clean(page) -> None:
    assert page.log.errors() == [], page.log.errors()
    assert page.log.dialogs == []
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in page.log.blocked), page.log.blocked


def test_10k_events_draw_as_clusters_from_local_plugins(scale_page, screenshots):
    page = scale_page
    page.goto(page.base_url + "/")
    frame, value = ready(page, "clusters:")
    assert value == f"clusters:{located_count()}"
    expect(frame.locator(".marker-cluster").first).to_be_visible(timeout=10_000)
    sources = frame.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert any(s.endswith("/app/static/supercluster-8.0.1/supercluster.min.js") for s in sources)
    assert all(s.startswith(page.base_url + "/") for s in sources), sources
    assert frame.locator("body").evaluate("() => window.eaDensity.count") == located_count()
    # The map is fitted to every event: the clusters' labels and the single
    # markers in view add up to the events on the map.
    assert cluster_labels_total(frame) == located_count()
    page.screenshot(path=str(screenshots / "scale-10k-clusters.png"), full_page=True)
    assert_clean(page)


def test_a_popup_inside_a_cluster_opens_and_shows_hostile_text_as_text(scale_page, screenshots):
    page = scale_page
    page.goto(page.base_url + "/")
    frame, _ = ready(page, "clusters:")
    # Zoom in on Shebekino, where the clusters have split, and click its marker as a person would.
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    assert not drawn_alone(frame, *SHEBEKINO), "Shebekino should start inside a cluster"
    show_single_marker(frame, *SHEBEKINO)
    frame.locator("#ea-target").click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Shebekino", timeout=10_000)
    text = popup.inner_text()
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>" in text
    assert "${alert(3)} `tick` \\u done" in text
    assert HOSTILE_SOURCE in text
    assert popup.locator("script, img").count() == 0
    assert popup.locator("a").count() == 0, "a javascript: URL became a link"
    page.wait_for_timeout(400)  # any injected onerror would have fired
    page.screenshot(path=str(screenshots / "scale-cluster-popup.png"))
    assert_clean(page)


def test_heat_map_toggle_draws_leaflet_heat(scale_page, screenshots):
    page = scale_page
    page.goto(page.base_url + "/")
    ready(page, "clusters:")
    page.get_by_text("Heat map", exact=True).click()
    frame, value = ready(page, "heat:")
    assert value == f"heat:{located_count()}"
    expect(frame.locator("canvas.leaflet-heatmap-layer")).to_have_count(1)
    assert frame.locator(".marker-cluster").count() == 0
    sources = frame.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert any(s.endswith("/app/static/leaflet-heat-folium-0.20.0/leaflet-heat.js") for s in sources)
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "scale-10k-heat.png"), full_page=True)
    assert_clean(page)


def test_a_timeline_change_keeps_the_map_and_its_zoom_and_picks_the_days_events(scale_page, screenshots):
    """A filter change at scale re-picks events in the same Leaflet map: no new
    iframe, no new data, the analyst's zoom kept."""
    page = scale_page
    page.goto(page.base_url + "/")
    frame, value = ready(page, "clusters:")
    body = frame.locator("body")
    zoom = body.evaluate("""() => { const map = window.eaDensity.group._map;
        map.setZoom(map.getZoom() + 1, {animate: false}); window.eaSameDocument = 42; return map.getZoom(); }""")
    events = events_to_frame(synthetic_events(N_SYNTHETIC) + SAMPLE_EVENTS)
    last = frame_date_span(events)[1]
    on_last_day = events[located(events) & date_mask(events, last, last)]
    assert 0 < len(on_last_day) < located_count()
    page.get_by_role("slider", name=re.compile("Timeline")).first.focus()
    page.keyboard.press("End")  # the range's start to its last day
    expect(body).to_have_attribute("data-ea-ready", f"clusters:{len(on_last_day)}", timeout=45_000)
    assert body.evaluate("() => window.eaSameDocument") == 42, "the map frame was rebuilt"
    assert body.evaluate("() => window.eaDensity.group._map.getZoom()") == zoom
    legend = body.evaluate("""() => [...document.querySelectorAll('.ea-legend [data-ea-precision]')]
        .reduce((a, e) => a + Number(e.textContent), 0)""")
    assert legend == len(on_last_day)
    page.screenshot(path=str(screenshots / "scale-10k-filtered-in-place.png"), full_page=True)
    assert_clean(page)


def test_hostile_sentence_constant_is_the_one_in_the_store():
    assert any(e.sentence == HOSTILE_SENTENCE for e in SAMPLE_EVENTS)
