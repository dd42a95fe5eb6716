"""Hostile article data and the "Add article" panel, in headless Chromium.

One dashboard for the module, on a store holding every hostile string of
tests/fixtures/hostile_strings.json in every text field: written by the real
pipeline (front-matter title and URL, article text) and, for place names the
gazetteer would never return, directly as schema-valid events. Popups, the
table, the detail view and messages must show each string as literal text;
nothing may run (window.__pwned), open a dialog, carry an on* attribute or
link to javascript:/data:. Then articles are pasted and uploaded through the
panel, and their events appear on the map.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pipelines.articles import parse_article
from pipelines.schema import Event, events_to_frame
from pipelines.store import read_events

from .conftest import (
    assert_no_injection, flat, hostile_strings, offline_page, open_every_popup, running_dashboard,
    table_cells,
)
from .test_dashboard_browser import MAP_FRAME, MARKERS, open_dashboard, wait_idle

pytestmark = pytest.mark.browser

HOSTILE = hostile_strings()
KOZINKA_REPORT = ("Border raid reported near Kozinka\n\n"
                  "Armed groups crossed the border into Belgorod Oblast on Monday, officials said. "
                  "Fighting was reported in the village of Kozinka in the morning.\n")


FOCUSED_KEY = "() => document.querySelector('[role=option][data-focused=true]')?.getAttribute('data-key')"
#: Places the gazetteer knows, one per sentence of the pasted hostile article.
TOWNS = ("Kozinka", "Shebekino", "Grayvoron", "Valuyki", "Novy Oskol", "Alekseyevka")


def direct_events() -> list[Event]:
    """Every hostile string as place, mention, sentence, source, URL, region
    and country of one resolved event (a grid of points near Belgorod)."""
    return [
        Event(article_id=f"hostile-{i}", date="2023-05-20", date_end="2023-05-20", date_precision="day",
              date_basis="explicit", place=value, mention=value, sentence=value, source=value,
              published="2023-05-21", url=value, admin1=value, country=value,
              lat=50.15 + 0.04 * (i % 8), lon=36.0 + 0.1 * (i // 8), resolved=True)
        for i, value in enumerate(HOSTILE)
    ]


def hostile_articles() -> list:
    """Articles about real places whose title, URL and text are hostile."""
    articles = []
    for i in range(0, len(HOSTILE), 8):
        chunk = HOSTILE[i:i + 8]
        title = flat(chunk[0]).replace("---", "- - -")
        body = "\n\n".join(f"Witnesses in Kozinka quoted this on 22 May 2023: {flat(v)} and left." for v in chunk)
        text = f"---\ntitle: {title}\nurl: {flat(chunk[1 % len(chunk)])}\n---\n{body}\n"
        articles.append(parse_article(text, name=f"hostile-{i}.md"))
    return articles


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, pipeline, figures) -> Path:
    store = tmp_path_factory.mktemp("hostile") / "events.gpkg"
    events_to_frame(direct_events()).to_file(store, driver="GPKG", layer="events")
    report = pipeline.ingest_articles(hostile_articles(), store=str(store))
    assert report.added >= 4
    figures.add("hostile strings tried", 2 * len(HOSTILE))  # direct fields, pipeline-written text
    return store


@pytest.fixture(scope="module")
def hostile_url(hostile_store, tmp_path_factory, chromium_path) -> str:
    with running_dashboard(hostile_store, tmp_path_factory.mktemp("hostile-log") / "streamlit.log") as url:
        yield url


@pytest.fixture()
def hpage(browser, hostile_url):
    with offline_page(browser, hostile_url) as pg:
        yield pg


def marker_count(page) -> int:
    return page.frame_locator(MAP_FRAME).locator(MARKERS).count()


def more_markers(page, before: int, timeout: float = 20.0) -> int:
    """The marker count once the map redrawn after an ingest has more than ``before``."""
    deadline = time.monotonic() + timeout
    while (count := marker_count(page)) <= before:
        assert time.monotonic() < deadline, f"still {count} markers (before: {before})"
        page.wait_for_timeout(200)
    page.wait_for_timeout(300)
    return marker_count(page)


def map_frame(page, timeout: float = 20.0):
    """The map's frame once its markers are drawn (a rerun replaces it)."""
    wait_idle(page)
    expect(page.frame_locator(MAP_FRAME).locator(MARKERS).first).to_be_attached(timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while not (frames := [f for f in page.frames if "streamlit_folium" in f.url and not f.is_detached()]):
        assert time.monotonic() < deadline, "no map frame"
        page.wait_for_timeout(200)
    return frames[-1]


def test_hostile_strings_are_literal_text_in_popups_and_table(hpage, hostile_store, screenshots):
    page = hpage
    open_dashboard(page)
    stored = read_events(str(hostile_store))
    expect(page.frame_locator(MAP_FRAME).locator(MARKERS)).to_have_count(
        int(stored["resolved"].sum()), timeout=20_000)

    # A real click on a marker, for the screenshot and Leaflet's own popup path.
    page.frame_locator(MAP_FRAME).locator(MARKERS).first.click(force=True)
    popup = page.frame_locator(MAP_FRAME).locator(".leaflet-popup-content")
    expect(popup).to_be_visible(timeout=10_000)
    assert popup.locator("script, img, svg, iframe, style, math").count() == 0
    page.wait_for_timeout(400)
    page.screenshot(path=str(screenshots / "hostile-popup.png"))

    texts = [flat(t) for t in open_every_popup(map_frame(page))]
    assert len(texts) == int(stored["resolved"].sum())
    popups = "\n".join(texts)
    missing = [v for v in HOSTILE if flat(v) not in popups]
    assert missing == [], (missing, texts[:3])
    # The pipeline-written events carry a hostile title as source and a javascript: URL: no link.
    assert any("Witnesses in Kozinka quoted this" in t for t in texts)
    assert_no_injection(page)


    cells = {flat(c) for c in table_cells(page, scrolls=20)}
    in_table = [v for v in HOSTILE if flat(v) in cells]
    assert len(in_table) >= len(HOSTILE) // 2, sorted(cells)[:20]
    assert_no_injection(page)
    assert [u for u in page.log.blocked if "evil.example" in u] == []  # no markdown image fetched


def test_hostile_strings_are_literal_text_in_the_detail_view(hpage, screenshots):
    """The picker's options and the detail card of the first events (the
    direct hostile ones, dated first) show the strings literally."""
    page = hpage
    open_dashboard(page)
    page.get_by_text("Event details").click()
    picker = page.locator('.st-key-ea_pick [data-testid="stSelectbox"] input[role="combobox"]')
    cards: list[str] = []
    labels: list[str] = []
    focused = page.locator('[role="option"][data-focused="true"]')
    for i in range(12):
        wait_idle(page)
        page.wait_for_timeout(200)
        open_picker(page)
        for _ in range(40):  # keyboard to option i, wherever the focus starts
            if page.evaluate(FOCUSED_KEY) == str(i):
                break
            page.keyboard.press("ArrowDown")
        labels.append(flat(focused.inner_text()))
        page.keyboard.press("Enter")
        wait_idle(page)
        card = page.locator(".ea-detail")
        expect(card).to_be_visible(timeout=10_000)
        assert card.locator("script, img, svg, iframe, style, math").count() == 0
        cards.append(flat(card.inner_text()))
        if i == 1:
            page.screenshot(path=str(screenshots / "hostile-detail.png"), full_page=True)
    shown = "\n".join(cards)
    literal = [v for v in HOSTILE if flat(v) in shown]
    assert len(literal) >= 8, (literal, cards[:2])
    assert sum(any(flat(v)[:30] in label for v in HOSTILE) for label in labels) >= 8, labels
    assert "not a web link" in shown  # the javascript:/data: URLs are shown as text only
    assert_no_injection(page)


def open_picker(page) -> None:
    """Open the event picker's list: a click, the keyboard or its button,
    whichever the combobox answers to in the state it is in."""
    listbox = page.get_by_role("listbox")
    box = page.locator('.st-key-ea_pick [data-testid="stSelectbox"]')
    for attempt in range(9):
        if listbox.count():
            break
        if attempt % 3 == 0:
            box.locator('input[role="combobox"]').click()
        elif attempt % 3 == 1:
            page.keyboard.press("ArrowDown")
        else:
            box.locator('button[aria-label="Open"]').click()
        page.wait_for_timeout(400)
    expect(listbox).to_be_visible(timeout=5_000)


def submit_article(page, text: str | None = None, published: str | None = None) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    if text is not None:
        sidebar.get_by_label("Paste the article's text").fill(text)
    if published:  # the date field has one spin button per part
        year, month, day = published.split("-")
        for part, value in (("year", year), ("month", month), ("day", day)):
            sidebar.get_by_role("spinbutton", name=f"{part}, Publication date").click()
            page.keyboard.type(value)
        page.keyboard.press("Escape")  # the calendar that opened while typing
    sidebar.get_by_role("button", name="Map this article").click()
    wait_idle(page)


def test_pasting_an_article_puts_its_events_on_the_map(hpage, screenshots):
    page = hpage
    open_dashboard(page)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(MARKERS).first).to_be_attached(timeout=20_000)
    before = marker_count(page)
    submit_article(page, KOZINKA_REPORT, "2023-05-22")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(re.compile(r"\d+ events? added"))).to_be_visible(timeout=60_000)
    after = more_markers(page, before)
    assert after >= before + 2  # Kozinka and Belgorod Oblast
    texts = "\n".join(open_every_popup(map_frame(page)))
    assert "Armed groups crossed the border into Belgorod Oblast on Monday" in texts
    assert "source: Border raid reported near Kozinka" in texts
    page.screenshot(path=str(screenshots / "add-article-panel.png"), full_page=True)
    assert_no_injection(page)


def test_a_pasted_hostile_article_shows_its_text_literally(hpage, figures):
    page = hpage
    open_dashboard(page)
    chosen = HOSTILE[:len(TOWNS)]
    text = "Hostile quotes\n\n" + "\n\n".join(
        f"On 21 May 2023 a banner in {town} read {flat(v)} until noon." for town, v in zip(TOWNS, chosen))
    submit_article(page, text)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text(re.compile(r"\d+ events? added"))).to_be_visible(timeout=60_000)
    texts = flat("\n".join(open_every_popup(map_frame(page))))
    for town, value in zip(TOWNS, chosen):
        assert f"a banner in {town} read {flat(value)} until noon" in texts, value
    figures.add("hostile strings tried", len(chosen))
    assert_no_injection(page)


def test_uploads_are_judged_by_content_and_their_names_are_labels(hpage, hostile_store, screenshots):
    page = hpage
    open_dashboard(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    chooser = sidebar.locator('input[type="file"]')
    chooser.set_input_files(files=[{"name": "../../etc/passwd.txt", "mimeType": "text/plain",
                                    "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}])
    submit_article(page)
    error = sidebar.get_by_text("is a PNG image, not text")
    expect(error).to_be_visible(timeout=30_000)
    assert flat(error.inner_text()).startswith("passwd.txt:")
    page.screenshot(path=str(screenshots / "add-article-refused.png"), full_page=True)

    page_html = (b"<!doctype html><title>Raid on Gora-Podol</title><script>window.__pwned=1</script>"
                 b"<p>On 22 May 2023 fighting reached the village of Gora-Podol in Belgorod Oblast.</p>")
    chooser.set_input_files(files=[{"name": "<img src=x onerror=alert(1)>.html", "mimeType": "text/html",
                                    "buffer": page_html}])
    submit_article(page)
    expect(sidebar.get_by_text(re.compile(r"\d+ events? added"))).to_be_visible(timeout=60_000)
    stored = read_events(str(hostile_store))
    assert "Raid on Gora-Podol" in set(stored["source"])
    assert not stored["sentence"].str.contains("__pwned=1</script><p>", regex=False).any()
    assert sorted(p.name for p in hostile_store.parent.iterdir() if not p.name.startswith("events.gpkg")) == []
    assert_no_injection(page)
