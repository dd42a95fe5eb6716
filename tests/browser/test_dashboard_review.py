"""Review and correction in the browser: a correction made in the UI is in the
next GeoJSON download.

One dashboard for the module on a synthetic store written with
pipelines.store.ingest_events: events with the geocoder's alternatives
(pipelines.schema.Candidate), one unresolved mention. Each test reviews a
different event, so their order does not matter.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pipelines.schema import Candidate, Event, candidates_json, events_to_frame
from pipelines.store import ingest_events, read_events

from .conftest import assert_no_injection, offline_page, running_dashboard, table_cells
from .test_dashboard_browser import open_dashboard, wait_idle

pytestmark = pytest.mark.browser

GORA_PODOL = Candidate("Gora-Podol", 50.4867, 35.6644, "PPL", "Belgorod Oblast", "RU", 579404, 0.61, "gazetteer")
KOZYNKA_UA = Candidate("Kozynka", 48.912345, 36.123456, "PPL", "Kharkiv Oblast", "UA", None, 0.42, "gazetteer")
REVIEWER = "Ann Analyst"


def _event(date_, place, mention, lat=None, lon=None, candidates=(), **kw) -> Event:
    return Event(
        article_id="review-browser", date=date_, date_end=date_, date_precision="day", date_basis="explicit",
        place=place, mention=mention, sentence=kw.pop("sentence", f"Shelling was reported in {mention} on {date_}."),
        source="Raid report", published="2023-05-24", admin1="Belgorod Oblast", country="Russia",
        country_code="RU", lat=lat, lon=lon, resolved=lat is not None, score=0.8,
        candidates=candidates_json(candidates), url="https://example.org/raid", **kw,
    )


KOZINKA = _event("2023-05-22", "Kozinka", "Kozinka", 50.4397, 35.5306, (GORA_PODOL, KOZYNKA_UA))
GRAYVORON = _event("2023-05-22", "Grayvoron", "Grayvoron", 50.4814, 35.6761, (GORA_PODOL,))
SHEBEKINO = _event("2023-05-23", "Shebekino", "Shebekino", 50.4, 36.89)
NOVAYA = _event("2023-05-23", "Novaya Tavolzhanka", "Novaya Tavolzhanka", 50.3615, 36.8378, (GORA_PODOL, KOZYNKA_UA))
GLOTOVO = _event("2023-05-23", "", "Glotovo-Nowhere", candidates=(GORA_PODOL,))
EVENTS = [KOZINKA, GRAYVORON, SHEBEKINO, NOVAYA, GLOTOVO]

REVIEW = ".st-key-ea_review"
POINT_MAP = f'{REVIEW} iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def review_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("review") / "events.gpkg"
    ingest_events(str(store), events_to_frame(EVENTS), ["review-browser"])
    return store


@pytest.fixture(scope="module")
def review_url(review_store, tmp_path_factory, chromium_path) -> str:
    with running_dashboard(review_store, tmp_path_factory.mktemp("review-log") / "streamlit.log") as url:
        yield url


@pytest.fixture()
def rpage(browser, review_url):
    with offline_page(browser, review_url) as pg:
        yield pg


def stored(store: Path, event: Event):
    events = read_events(str(store))
    return events.loc[events["event_id"] == event.event_id].iloc[0]


def download(page) -> dict:
    """The page's GeoJSON download (a generous timeout: the test machine is shared)."""
    wait_idle(page)
    button = page.get_by_role("button", name="Download GeoJSON")
    expect(button).to_be_enabled(timeout=20_000)
    with page.expect_download(timeout=45_000) as info:
        button.click()
    return json.loads(Path(info.value.path()).read_text(encoding="utf-8"))


def feature(collection: dict, event: Event) -> dict:
    (found,) = [f for f in collection["features"] if f["properties"]["event_id"] == event.event_id]
    return found


def pick(page, event: Event, scope: str = "events shown") -> None:
    """Choose where from, then the event, by typing its place into the picker."""
    picker = page.locator(".st-key-ea_pick")
    picker.get_by_role("radiogroup", name="Pick from").get_by_text(re.compile("^" + re.escape(scope))).click()
    wait_idle(page)
    combo = picker.get_by_role("combobox", name="Event", exact=True)
    listbox = page.get_by_role("listbox")
    for attempt in range(6):  # open its list: a click, else the keyboard
        if listbox.count():
            break
        if attempt % 2 == 0:
            combo.click()
        else:
            combo.press("ArrowDown")
        page.wait_for_timeout(300)
    expect(listbox).to_be_visible(timeout=5_000)
    combo.press_sequentially(event.place or event.mention, delay=20)
    option = page.get_by_role("option").filter(has_text=event.place or event.mention)
    expect(option).to_have_count(1, timeout=10_000)
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.locator(".ea-detail").first).to_contain_text(event.mention, timeout=10_000)


def sign(page, name: str = REVIEWER) -> None:
    box = page.locator(REVIEW).get_by_role("textbox", name="Reviewer (required)")
    box.fill(name)
    box.press("Enter")
    wait_idle(page)


def press(page, label: str) -> None:
    page.locator(REVIEW).get_by_role("button", name=label, exact=True).click()
    wait_idle(page)


def review_screenshot(page, path: Path) -> None:
    """The review view: from the section's heading down, on a tall viewport
    (Streamlit scrolls inside its own container, so full_page adds nothing)."""
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.wait_for_timeout(300)
    page.get_by_role("heading", name="Event details and review").scroll_into_view_if_needed()
    page.evaluate("""() => {
        const h = [...document.querySelectorAll('h3')].find(e => e.innerText.includes('Event details and review'));
        h.scrollIntoView({block: 'start'});
    }""")
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_a_correction_made_in_the_ui_is_in_the_next_geojson_download(rpage, review_store, screenshots):
    page = rpage
    open_dashboard(page)
    pick(page, KOZINKA)
    sign(page)
    panel = page.locator(REVIEW)
    expect(panel.locator(".ea-candidates")).to_contain_text("Gora-Podol")
    expect(panel.locator(".ea-candidates")).to_contain_text("Kharkiv Oblast")
    press(page, "Move to candidate 1")
    expect(panel).to_contain_text(f"corrected by {REVIEWER}", timeout=15_000)

    props = feature(download(page), KOZINKA)
    lon, lat = props["geometry"]["coordinates"]
    assert abs(lat - GORA_PODOL.lat) < 1e-6 and abs(lon - GORA_PODOL.lon) < 1e-6
    assert props["properties"]["review_status"] == "corrected"
    assert props["properties"]["reviewed_by"] == REVIEWER
    assert props["properties"]["place"] == "Gora-Podol"
    history = json.loads(props["properties"]["review_history"])
    assert [(h["by"], h["action"]) for h in history] == [(REVIEWER, "move to candidate")]
    # The detail card follows the store: new place, history with who.
    card = page.locator(".ea-detail").first
    expect(card).to_contain_text("review history")
    expect(card).to_contain_text("place: Kozinka → Gora-Podol")
    review_screenshot(page, screenshots / "review-panel.png")
    assert stored(review_store, KOZINKA)["review_status"] == "corrected"
    assert_no_injection(page)


def test_the_second_candidate_is_the_second_one_offered(rpage, review_store):
    page = rpage
    open_dashboard(page)
    pick(page, NOVAYA)
    sign(page)
    press(page, "Move to candidate 2")  # the second alternative offered: Kozynka (UA), index 1
    expect(page.locator(REVIEW)).to_contain_text(f"corrected by {REVIEWER}", timeout=15_000)
    assert stored(review_store, NOVAYA)["place"] == "Kozynka"
    props = feature(download(page), NOVAYA)
    assert props["geometry"]["coordinates"] == pytest.approx([KOZYNKA_UA.lon, KOZYNKA_UA.lat], abs=1e-6)
    assert props["properties"]["country"] == "Ukraine"


def test_accept_and_reject_change_the_status(rpage, review_store):
    page = rpage
    open_dashboard(page)
    pick(page, GRAYVORON)
    sign(page, "Bo Reviewer")
    press(page, "Accept")
    panel = page.locator(REVIEW)
    expect(panel).to_contain_text("status: accepted by Bo Reviewer", timeout=15_000)
    assert feature(download(page), GRAYVORON)["properties"]["review_status"] == "accepted"
    press(page, "Reject")
    expect(panel).to_contain_text("status: rejected by Bo Reviewer", timeout=15_000)
    props = feature(download(page), GRAYVORON)["properties"]
    assert (props["review_status"], props["reviewed_by"]) == ("rejected", "Bo Reviewer")
    press(page, "Reopen")
    expect(panel).to_contain_text("status: not reviewed", timeout=15_000)
    assert [h["action"] for h in json.loads(stored(review_store, GRAYVORON)["review_history"])] == [
        "accept", "reject", "reopen"]


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_a_point_clicked_on_the_map_is_stored(rpage, review_store, screenshots):
    page = rpage
    open_dashboard(page)
    pick(page, SHEBEKINO)
    sign(page)
    page.locator(REVIEW).get_by_text("Move to a point: pick it on a map").click()
    wait_idle(page)
    frame_el = page.locator(POINT_MAP)
    expect(frame_el).to_have_count(1, timeout=15_000)
    frame = page.frame_locator(POINT_MAP)
    expect(frame.locator("path.ea-review-current")).to_have_count(1, timeout=15_000)
    container = frame.locator(".leaflet-container")
    box = container.bounding_box()
    x, y = box["width"] / 2 + 90, box["height"] / 2 - 60  # north-east of the event
    page.wait_for_timeout(500)  # the frame settles to its height
    container.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        map.once('click', e => { window.__eaClicked = [e.latlng.lat, e.latlng.lng, map.getZoom()]; });
    }""")
    container.click(position={"x": x, "y": y})
    expected = container.evaluate("() => window.__eaClicked")  # where Leaflet put the click
    assert expected and expected[2] == 12, expected
    wait_idle(page)
    move = page.locator(REVIEW).get_by_role("button", name=re.compile(r"^Move to the clicked point"))
    expect(move).to_be_visible(timeout=15_000)
    review_screenshot(page, screenshots / "review-point-map.png")
    move.click()
    wait_idle(page)
    expect(page.locator(REVIEW)).to_contain_text(f"corrected by {REVIEWER}", timeout=15_000)

    lon, lat = feature(download(page), SHEBEKINO)["geometry"]["coordinates"]
    # At zoom 12 a pixel is ~25 m here: a few hundred metres covers any rounding of the click.
    assert _km(lat, lon, expected[0], expected[1]) < 0.3, (lat, lon, expected)
    assert _km(lat, lon, SHEBEKINO.lat, SHEBEKINO.lon) > 1.0  # it did move
    row = stored(review_store, SHEBEKINO)
    assert (row["geocoder"], row["review_status"], row["place"]) == ("review", "corrected", "Shebekino")


def test_the_unresolved_queue_lists_unresolved_mentions(rpage):
    page = rpage
    open_dashboard(page)
    queue = page.get_by_text(re.compile(r"Unresolved mentions in this range \(\d+\)"))
    expect(queue).to_contain_text("(1)")
    queue.click()
    grid = page.locator('[data-testid="stExpander"]').filter(has=queue).locator('[data-testid="stDataFrame"]')
    expect(grid).to_have_count(1, timeout=10_000)
    expect(grid.locator("td").filter(has_text="Glotovo-Nowhere")).not_to_have_count(0, timeout=10_000)
    # The same mention is what the picker offers from the review queue.
    pick(page, GLOTOVO, scope="review queue")
    panel = page.locator(REVIEW)
    expect(panel.locator(".ea-candidates")).to_contain_text("Gora-Podol")
    expect(panel).to_contain_text("status: not reviewed")
