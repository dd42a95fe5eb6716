"""Fixtures for the browser tests: a small store, a live dashboard and Chromium.

Without Debian's chromium (or the playwright package) the browser tests are
skipped, except with CI=true, where they fail: CI must run them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.config import PROJECT_ROOT
from pipelines.schema import Event, events_to_frame

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "data:", "blob:", "about:")


def _unavailable(reason: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}, and CI=true: the browser tests must run in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        _unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_api, chromium_path):
    browser = playwright_api.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# Six events in Belgorod Oblast on three dates: five resolved (three points, a
# district, a region), one unresolved, one with hostile text and URL.
HOSTILE_SENTENCE = "<script>alert(1)</script><img src=x onerror=alert(2)> ${alert(3)} `tick` \\u done"
HOSTILE_SOURCE = '<b>Hostile</b> "source"'


def _event(date, place, mention, lat=None, lon=None, geo_precision="point", **kw) -> Event:
    resolved = lat is not None
    return Event(
        article_id="browser-test", date=date, date_end=date, date_precision="day",
        date_basis="explicit", place=place, mention=mention,
        sentence=kw.pop("sentence", f"Fighting was reported in {mention} on {date}."),
        source=kw.pop("source", "Belgorod raid report"), published="2023-06-02",
        geo_precision=geo_precision, admin1="Belgorod Oblast", country="Russia",
        country_code="RU", lat=lat, lon=lon, resolved=resolved, **kw,
    )


SAMPLE_EVENTS = [
    _event("2023-05-22", "Kozinka", "Kozinka", 50.4397, 35.5306, url="https://example.org/raid"),
    _event("2023-05-22", "Gora-Podol", "Gora-Podol", 50.4867, 35.6644),
    _event("2023-05-23", "Grayvoronsky District", "Grayvoronsky district", 50.48, 35.68, "district"),
    _event("2023-05-23", "Belgorod Oblast", "Belgorod region", 50.6, 36.6, "region"),
    _event("2023-05-23", "", "Glotovo-Nowhere"),
    _event("2023-06-01", "Shebekino", "Shebekino", 50.4, 36.89,
           sentence=HOSTILE_SENTENCE, source=HOSTILE_SOURCE, url="javascript:alert(4)"),
]


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dashboard") / "events.gpkg"
    events_to_frame(SAMPLE_EVENTS).to_file(path, driver="GPKG", layer="events")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_dashboard(store: Path, log: Path):
    """A real ``streamlit run dashboard/app.py`` on a free loopback port,
    reading ``store``; yields its base URL once it answers its health check."""
    port = _free_port()
    env = {**os.environ, "EVENT_ATLAS_STORE": str(store)}
    env.pop("EVENT_ATLAS_ONLINE_GEOCODER", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
             "--server.port", str(port), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after 60 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def dashboard_url(dashboard_store, tmp_path_factory, chromium_path) -> str:
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with running_dashboard(dashboard_store, log) as url:
        yield url


@pytest.fixture(scope="session")
def seed_dashboard_url(tmp_path_factory, chromium_path) -> str:
    """The dashboard on a store the real pipeline filled from the seed article."""
    from conftest import SEED_GOLD, SEED_TEXT

    if not SEED_GOLD.exists():
        pytest.skip(f"{SEED_GOLD} is not here")
    published = json.loads(SEED_GOLD.read_text(encoding="utf-8"))["published"]
    store = tmp_path_factory.mktemp("seed-dashboard") / "events.gpkg"
    subprocess.run(
        [sys.executable, "-m", "pipelines", "ingest", str(SEED_TEXT), "--published", published,
         "--store", str(store)],
        cwd=PROJECT_ROOT, check=True, capture_output=True, text=True,
    )
    with running_dashboard(store, store.with_suffix(".log")) as url:
        yield url


class PageLog:
    """What a page did that a test may want to assert on."""

    def __init__(self) -> None:
        self.console: list[tuple[str, str]] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []

    def errors(self) -> list[str]:
        """Page errors and console errors, except resources that failed to load
        (the map tiles, blocked here as they would be offline)."""
        console = [text for kind, text in self.console
                   if kind == "error" and not text.startswith("Failed to load resource")]
        return self.page_errors + console


@contextlib.contextmanager
def offline_page(browser, base_url: str):
    """A fresh page with every non-loopback request refused (an offline
    machine), and its console, errors and dialogs recorded on ``page.log``."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    log = PageLog()

    def route(r):
        if r.request.url.startswith(LOOPBACK):
            return r.continue_()
        log.blocked.append(r.request.url)
        return r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("console", lambda m: log.console.append((m.type, m.text)))
    pg.on("pageerror", lambda e: log.page_errors.append(str(e)))

    def on_dialog(dialog):
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.log = log
    pg.base_url = base_url
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture()
def page(browser, dashboard_url):
    """The six-event dashboard in an offline page."""
    with offline_page(browser, dashboard_url) as pg:
        yield pg


@pytest.fixture()
def seed_page(browser, seed_dashboard_url):
    """The seed article's dashboard in an offline page."""
    with offline_page(browser, seed_dashboard_url) as pg:
        yield pg


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# -- hostile data ------------------------------------------------------------

HOSTILE_FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "hostile_strings.json"


def hostile_strings() -> list[str]:
    """The hostile strings of tests/fixtures/hostile_strings.json."""
    return [s["value"] for s in json.loads(HOSTILE_FIXTURE.read_text(encoding="utf-8"))["strings"]]


def flat(text: str) -> str:
    """Whitespace folded, as innerText shows it."""
    return " ".join(text.split())


#: Run in every frame: what an injection would leave behind.
_INJECTION_PROBE = """() => {
    const bad = /^\\s*(javascript|data|vbscript):/i;
    const all = [...document.querySelectorAll('*')];
    return {
        pwned: typeof window.__pwned !== 'undefined',
        handlers: all.flatMap(e => [...e.attributes].filter(a => /^on/i.test(a.name))
                                   .map(a => e.tagName + ' ' + a.name + '=' + a.value)),
        links: [...document.querySelectorAll('a[href]')]
            .filter(a => bad.test(a.getAttribute('href').replace(/[\\u0000-\\u0020]/g, '')) || bad.test(a.href))
            .map(a => a.getAttribute('href')),
        frames: [...document.querySelectorAll('iframe[srcdoc]')].length,
        scripts: [...document.querySelectorAll('script:not([src])')]
            .filter(s => s.textContent.includes('__pwned') && !s.textContent.includes('bindPopup')).length,
    };
}"""


def assert_no_injection(page) -> None:
    """In the page and every frame: window.__pwned unset, no on* attribute, no
    javascript:/data:/vbscript: link, no srcdoc iframe, no script of ours from data;
    no dialog fired."""
    for frame in page.frames:
        found = frame.evaluate(_INJECTION_PROBE)
        assert found == {"pwned": False, "handlers": [], "links": [], "frames": 0, "scripts": 0}, (frame.url, found)
    assert page.log.dialogs == [], f"a dialog fired: {page.log.dialogs}"


def open_every_popup(frame) -> list[str]:
    """Open each marker's popup in the map frame (as a click does: Leaflet puts
    its content into the DOM) and return the popups' innerText."""
    return frame.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        const texts = [];
        map.eachLayer(layer => {
            if (layer.getPopup && layer.getPopup()) {
                layer.openPopup();
                const el = layer.getPopup().getElement().querySelector('.leaflet-popup-content');
                texts.push(el ? el.innerText : '');
                layer.closePopup();
            }
        });
        return texts;
    }""")


def table_cells(page, scrolls: int = 12) -> set[str]:
    """Text of the event table's cells (the grid's accessible table), scrolling
    through it, since the grid renders only the rows in view."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    cells: set[str] = set()
    for _ in range(scrolls):
        cells |= set(grid.locator("td").all_inner_texts())
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(150)
    return cells
