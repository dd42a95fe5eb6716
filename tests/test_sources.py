"""Ingest sources: saved HTML pages, URLs and RSS/Atom feeds served from 127.0.0.1.

The pages are realistic news pages (navigation, ads, related links, comments
naming other places); the events must be the article's places on the article's
dates, never the boilerplate's.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pytest

from conftest import haversine_km, run_cli
from geoservers import refused_port

# -- realistic pages ---------------------------------------------------------

_BOILER_TOP = """<header class="site-header">
  <nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/city/london">London</a></li>
  <li><a href="/city/paris">Paris</a></li><li><a href="/sport">Sport</a></li></ul></nav>
  <div class="ad" id="top-banner">Advertisement: Cheap flights to Lisbon and Madrid, book today!</div>
</header>"""
_BOILER_BOTTOM = """<aside class="related"><h3>Read more</h3><ul><li><a href="/x">Floods in Venice: what we know</a></li>
<li><a href="/y">Protests in Berlin</a></li></ul></aside>
<section id="comments" class="comments"><h3>Comments (2)</h3>
  <div class="comment"><span class="author">reader42</span> <time datetime="2024-02-11">11 Feb 2024</time>
  <p>I was in Toronto when I read this, unbelievable.</p></div>
  <div class="comment"><span class="author">mike_b</span><p>Same thing happened near Vienna last year.</p></div>
</section>"""
_FOOTER = """<footer><p>&copy; 2023 The Border Herald &middot; Offices in Chicago and Sydney &middot;
<a href="/privacy">Privacy</a></p></footer>"""
BOILERPLATE_PLACES = {"London", "Paris", "Lisbon", "Madrid", "Venice", "Berlin", "Toronto", "Vienna", "Chicago", "Sydney"}


def news_page(title: str, paragraphs: list[str], *, head_date: str = "", byline_date: str = "",
              json_ld_date: str = "") -> str:
    head = f'<meta property="article:published_time" content="{head_date}">' if head_date else ""
    if json_ld_date:
        head += ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
                 f'"headline": "{title}", "datePublished": "{json_ld_date}"}}</script>')
    byline = f'<time datetime="{byline_date}">{byline_date[:10]}</time>' if byline_date else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs[:2])
    body += '\n<div class="ad inline-ad">Sponsored: Visit sunny Barcelona this summer with our partner airline.</div>\n'
    body += "\n".join(f"<p>{p}</p>" for p in paragraphs[2:])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Border Herald</title>
<meta property="og:title" content="{title}">{head}
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
<style>.ad{{display:block}}</style></head>
<body>{_BOILER_TOP}
<main><article><h1>{title}</h1><p class="byline">By Anna Petrova &middot; {byline}</p>
{body}
</article>{_BOILER_BOTTOM}</main>{_FOOTER}</body></html>"""


RAID_PAGE = news_page(
    "Armed groups cross from Ukraine into Belgorod Oblast",
    ["Fighters of two Russian anti-Kremlin formations, the Russian Volunteer Corps and the Freedom of Russia Legion, "
     "entered Russia's Belgorod region from Ukraine on 22 May 2023, according to statements both groups posted on "
     "social media.",
     "The groups said they had taken the border village of Kozinka and were moving towards Gora-Podol, a "
     "neighbouring settlement a few kilometres to the east.",
     "Residents of the Grayvoronsky district were told to leave, and buses took several hundred people to "
     "temporary shelters in Belgorod.",
     "On May 23 the Russian Defence Ministry said its troops had routed the incursion; both groups said their units "
     "were still operating inside Belgorod Oblast."],
    head_date="2023-05-23T09:15:00+00:00", byline_date="2023-05-23T09:15:00Z")

SHEBEKINO_PAGE = news_page(  # only a <time datetime> gives the date; 2 June 2023 was a Friday
    "Shelling and evacuations in Shebekino",
    ["The border town of Shebekino in Belgorod Oblast came under heavy artillery fire on Thursday, and the regional "
     "authorities began moving children out of the Shebekinsky district.",
     "Governor Vyacheslav Gladkov said several apartment buildings and an industrial site in Shebekino had been hit "
     "on June 1.",
     "Fighting was reported near Novaya Tavolzhanka, a village close to the border crossing."],
    byline_date="2023-06-02T08:00:00Z")

GRAYVORON_PAGE = news_page(  # the date only in JSON-LD
    "Drones strike Grayvoron",
    ["Drones struck the town of Grayvoron in Belgorod Oblast on 10 June 2023, the regional governor said.",
     "Power was cut in several streets and residents spent the night in shelters.",
     "Repair crews worked through the morning to restore electricity to the hospital and the water pumping "
     "station, and the school term was ended early for the town's pupils.",
     "Officials said the damage would be assessed over the coming days and that families whose homes were hit "
     "would be offered temporary housing."],
    json_ld_date="2023-06-11T07:30:00+03:00")

# (place, lat, lon, ISO date) that each page must give, from OpenStreetMap/GeoNames
EXPECTED = {
    "raid": [("Kozinka", 50.4613, 35.6026, "2023-05-22"), ("Belgorod Oblast", 50.7107, 37.7533, None)],
    "shebekino": [("Shebekino", 50.4100, 36.8965, "2023-06-01")],
    "grayvoron": [("Grayvoron", 50.4787, 35.6759, "2023-06-10")],
}

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def rss(items: list[str], title: str = "The Border Herald") -> bytes:
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{title}</title><link>https://border-herald.example/</link><description>News</description>\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n").encode("utf-8")


def rss_item(link: str, title: str, guid: str = "", pub: str = "") -> str:
    return (f"<item><title>{title}</title><link>{link}</link>"
            + (f"<guid isPermaLink=\"false\">{guid}</guid>" if guid else "")
            + (f"<pubDate>{pub}</pubDate>" if pub else "") + "<dc:creator>Desk</dc:creator></item>")


# -- a real HTTP server on 127.0.0.1 --------------------------------------------

class PageServer:
    """Serves ``routes[path] = (status, content_type, body)``; counts hits per path.

    ``"hang"`` as the status reads the request and never answers (a timeout);
    a content type of ``None`` sends no Content-Length (a streamed body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple] = {}
        self.hits: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                server.user_agents.append(self.headers.get("User-Agent", ""))
                status, content_type, body = server.routes.get(self.path, (404, "text/html", b"<h1>Not found</h1>"))
                if status == "hang":
                    server._release.wait(10)
                    return
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                if not content_type:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> "PageServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


HTML = "text/html; charset=utf-8"


def serve_news(server: PageServer) -> None:
    server.routes.update({
        "/world/2023/05/23/belgorod-raid": (200, HTML, RAID_PAGE.encode()),
        "/world/2023/06/02/shebekino": (200, HTML, SHEBEKINO_PAGE.encode()),
        "/world/grayvoron-drones": (200, HTML, GRAYVORON_PAGE.encode()),
        "/files/report.pdf": (200, "application/pdf", PDF),
        "/img/map.png": (200, "image/png", PNG),
        "/pdf-as-html": (200, "text/html", PDF),
    })


@pytest.fixture()
def server() -> Iterator[PageServer]:
    with PageServer() as s:
        serve_news(s)
        yield s


@pytest.fixture()
def cache_env(tmp_path, settings) -> dict[str, str]:
    """A private cache folder (its own seen-items registry) that shares the built gazetteer."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("gazetteer.sqlite", "user-places.sqlite"):
        if (settings.cache_dir / name).exists():
            (cache / name).symlink_to(settings.cache_dir / name)
    return {"EVENT_ATLAS_CACHE_DIR": str(cache), "EVENT_ATLAS_PROGRESS_INTERVAL": "0"}


def assert_events(events, expected: list[tuple]) -> None:
    for place, lat, lon, day in expected:
        rows = events.loc[events["place"] == place]
        assert len(rows), f"{place} missing from {sorted(set(events['place']))}"
        assert all(haversine_km(lat, lon, r.lat, r.lon) < 25 for r in rows.itertuples()), (place, rows[["lat", "lon"]])
        if day:
            assert day in set(rows["date"]), (place, sorted(set(rows["date"])))
    assert not (set(events["place"]) & BOILERPLATE_PLACES), set(events["place"]) & BOILERPLATE_PLACES


# -- pure parts ------------------------------------------------------------------

def test_sniff_by_content_not_name():
    from pipelines.sources.sniff import sniff

    assert sniff(rss([])) == "feed"
    assert sniff(b'\xef\xbb\xbf  <!-- hi --><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>') == "feed"
    assert sniff(RAID_PAGE.encode()) == "html"
    assert sniff(PDF, "text/html") == "binary"  # a PDF served as text/html is still a PDF
    assert sniff(PNG) == "binary"
    assert sniff(b"<div><p>fragment</p></div>", "text/html") == "html"
    assert sniff(b"Plain words about Kozinka.", "text/plain") == "text"
    assert sniff(b"\x00\x01garbage") == "binary"


def test_extract_page_drops_boilerplate_and_reads_the_date():
    from pipelines.sources.html import extract_page

    page = extract_page(RAID_PAGE, name="raid.html")
    assert page.title == "Armed groups cross from Ukraine into Belgorod Oblast"
    assert page.date == date(2023, 5, 23)  # article:published_time, not the 2024 comment
    assert "border village of Kozinka" in page.text
    for noise in ("Lisbon", "Barcelona", "Toronto", "Chicago", "Venice", "Home"):
        assert noise not in page.text
    assert extract_page(SHEBEKINO_PAGE, name="s").date == date(2023, 6, 2)  # <time datetime>
    assert extract_page(GRAYVORON_PAGE, name="g").date == date(2023, 6, 11)  # JSON-LD


def test_page_article_says_which_date_won():
    from pipelines.sources.html import Page, page_article

    page = Page("Text about Kozinka.", "T", date(2023, 5, 23), "https://x.example/a")
    article, note = page_article(page, name="a.html")
    assert article.published == date(2023, 5, 23) and "from the page" in note
    article, note = page_article(page, name="a.html", published=date(2023, 5, 24))
    assert article.published == date(2023, 5, 24)
    assert "from --published (the page says 2023-05-23)" in note
    undated = Page("Text.", "", None, "")
    article, note = page_article(undated, name="b.html", feed_date=date(2023, 6, 1))
    assert article.published == date(2023, 6, 1) and "from the feed item" in note


def test_parse_feed_reports_a_malformed_item_and_keeps_the_others():
    from pipelines.sources.feeds import parse_feed

    data = rss([
        rss_item("https://e.example/1", "One", "g1", "Tue, 23 May 2023 09:15:00 GMT"),
        "<item><title>Broken & <b>bad</title><link>https://e.example/2</link><guid>g2</guid></item>",
        rss_item("https://e.example/3", "Three"),
        "<item><title>No link</title><guid>g4</guid></item>",
        rss_item("mailto:desk@e.example", "Mail"),
    ])
    feed = parse_feed(data, name="feed.xml")
    assert [(i.index, i.link, i.guid) for i in feed.items] == [(1, "https://e.example/1", "g1"),
                                                                (3, "https://e.example/3", "")]
    assert feed.items[1].keys == ("https://e.example/3",)
    assert feed.items[0].published == date(2023, 5, 23)
    assert [(b.index, b.label) for b in feed.broken] == [(2, "https://e.example/2"), (4, "No link"),
                                                         (5, "mailto:desk@e.example")]
    assert "not well-formed XML at line" in feed.broken[0].reason


def test_parse_atom_feed():
    from pipelines.sources.feeds import parse_feed

    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom desk</title><id>urn:x</id><updated>2023-06-02T00:00:00Z</updated>
<entry><title>Shebekino</title><id>urn:1</id><link href="/world/shebekino"/><updated>2023-06-02T08:00:00Z</updated></entry>
</feed>"""
    feed = parse_feed(atom, name="atom.xml", base_url="https://e.example/feed")
    assert feed.title == "Atom desk"
    assert [(i.link, i.guid, i.published) for i in feed.items] == [
        ("https://e.example/world/shebekino", "urn:1", date(2023, 6, 2))]


def test_seen_registry_per_store(tmp_path):
    from pipelines.sources.seen import SeenRegistry

    registry = SeenRegistry(tmp_path / "seen.sqlite", str(tmp_path / "a.gpkg"))
    assert not registry.seen(["g1", "https://e.example/1"])
    registry.mark([(("g1", "https://e.example/1"), "hash1", "feed.xml")])
    assert registry.seen(["https://e.example/1"]) and registry.seen(["g1"])
    assert registry.known_content("hash1")
    other = SeenRegistry(tmp_path / "seen.sqlite", str(tmp_path / "b.gpkg"))
    assert not other.seen(["g1"])  # another store has not seen it


def test_progress_lines_show_done_total_rate_and_eta():
    from pipelines.sources.progress import Progress, progress_line

    assert progress_line(10, 40, 1, 5.0) == "ingest: 10/40 items (25%), 1 failed, 2.0 items/s, ETA 15 s"
    assert progress_line(40, 40, 0, 20.0) == "ingest: 40/40 items (100%), 2.0 items/s, done in 20 s"
    now = [0.0]
    out = io.StringIO()
    progress = Progress(3, stream=out, interval=1.0, clock=lambda: now[0])
    for step in (0.2, 0.4, 1.5):  # only the last line and one after a second are written
        now[0] = step
        progress.advance()
    assert out.getvalue().splitlines() == ["ingest: 3/3 items (100%), 2.0 items/s, done in 2 s"]


# -- fetching ------------------------------------------------------------------------

def test_fetcher_limits_timeout_and_user_agent(server):
    from pipelines.sources.errors import FetchError
    from pipelines.sources.fetch import Fetcher

    server.routes["/big"] = (200, HTML, b"<html>" + b"x" * 5000 + b"</html>")
    server.routes["/big-streamed"] = (200, None, b"<html>" + b"x" * 5000 + b"</html>")
    server.routes["/hang"] = ("hang", HTML, b"")
    fetcher = Fetcher(user_agent="event-atlas-test/1.0 (+mailto:t@example.org)", timeout=0.5, max_bytes=1000)
    assert fetcher.get(server.url("/img/map.png")).content_type == "image/png"
    assert server.user_agents[-1] == "event-atlas-test/1.0 (+mailto:t@example.org)"
    with pytest.raises(FetchError, match="5,013 bytes is over the 1,000-byte limit"):
        fetcher.get(server.url("/big"))
    with pytest.raises(FetchError, match="over the 1,000-byte limit"):
        fetcher.get(server.url("/big-streamed"))
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.get(server.url("/missing"))
    started = time.monotonic()
    with pytest.raises(FetchError, match="no answer within 0.5 s"):
        fetcher.get(server.url("/hang"))
    assert time.monotonic() - started < 3
    assert server.hits["/hang"] == 1 and server.hits["/missing"] == 1  # never retried
    with refused_port() as where, pytest.raises(FetchError, match="cannot connect"):
        fetcher.get(f"http://{where}/x")


# -- the CLI ---------------------------------------------------------------------

def test_saved_html_page_gives_the_right_places_on_the_right_dates(tmp_path, cache_env):
    page = tmp_path / "belgorod-raid.html"
    page.write_text(RAID_PAGE, encoding="utf-8")
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", str(page), "--store", str(store), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert f"date: {page}: published 2023-05-23 from the page" in result.stdout
    events = gpd.read_file(store, layer="events")
    assert_events(events, EXPECTED["raid"])
    assert set(events["published"]) == {"2023-05-23"}
    assert set(events["source"]) == {"Armed groups cross from Ukraine into Belgorod Oblast"}
    assert "Traceback" not in result.stderr


def test_published_flag_overrides_the_page_and_says_so(tmp_path, cache_env):
    page = tmp_path / "shebekino.htm"
    page.write_text(SHEBEKINO_PAGE, encoding="utf-8")
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", str(page), "--published", "2023-06-09", "--store", str(store), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert "published 2023-06-09 from --published (the page says 2023-06-02)" in result.stdout
    events = gpd.read_file(store, layer="events")
    assert set(events["published"]) == {"2023-06-09"}
    # "on Thursday" now resolves against 9 June (a Friday): 8 June
    assert "2023-06-08" in set(events.loc[events["place"] == "Shebekino", "date"])


def test_url_of_a_page_and_folder_with_html(tmp_path, server, cache_env):
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", server.url("/world/2023/06/02/shebekino"), "--store", str(store), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert "published 2023-06-02 from the page" in result.stdout
    events = gpd.read_file(store, layer="events")
    assert_events(events, EXPECTED["shebekino"])
    assert set(events["url"]) == {server.url("/world/2023/06/02/shebekino")}
    assert server.user_agents == ["event-atlas/0.1 (+https://github.com/event-atlas)"]
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "grayvoron.html").write_text(GRAYVORON_PAGE, encoding="utf-8")
    (folder / "note.md").write_text("Kozinka\n\nShelling hit Kozinka on 3 June 2023.\n", encoding="utf-8")
    result = run_cli("ingest", str(folder), "--store", str(store), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert "from 2 articles" in result.stdout
    assert_events(gpd.read_file(store, layer="events"), EXPECTED["grayvoron"])


def _feed_routes(server: PageServer, extra: list[str] = ()) -> None:
    items = [
        rss_item(server.url("/world/2023/05/23/belgorod-raid"), "Raid", "tag:bh,2023:raid",
                 "Tue, 23 May 2023 09:15:00 GMT"),
        "<item><title>Broken & <b>bad</title><link>" + server.url("/world/broken") + "</link></item>",
        rss_item(server.url("/world/2023/06/02/shebekino"), "Shebekino", "tag:bh,2023:shebekino"),
        rss_item(server.url("/world/gone"), "Gone"),
        rss_item(server.url("/files/report.pdf"), "The report (PDF)"),
        rss_item(server.url("/img/map.png"), "Map"),
        rss_item(server.url("/world/2023/05/23/belgorod-raid"), "Raid again, same link"),
        *extra,
    ]
    # served as text/plain and without an extension: recognised by content
    server.routes["/rss"] = (200, "text/plain", rss(items))


def test_feed_ingests_every_good_item_reports_broken_ones_and_remembers(tmp_path, server, cache_env):
    _feed_routes(server)
    store = tmp_path / "events.gpkg"
    first = run_cli("ingest", server.url("/rss"), "--store", str(store), env=cache_env)
    assert first.returncode == 1, first.stderr  # some items failed, the others are stored
    assert "Traceback" not in first.stderr
    failed = [line for line in first.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 4, first.stderr
    assert any("item 2" in line and "not well-formed XML" in line for line in failed)
    assert any("/world/gone" in line and "HTTP 404" in line for line in failed)
    assert any("report.pdf" in line and "not an HTML page (application/pdf" in line for line in failed)
    assert any("map.png" in line and "not an HTML page (image/png" in line for line in failed)
    assert "4 items failed and were not stored" in first.stderr
    assert "ingest: 5/5 items (100%), 3 failed" in first.stderr and "ETA" in first.stderr
    assert f"feed {server.url('/rss')}: 7 items; 5 new, 0 seen before (skipped), 1 linking a page fetched in this run, 1 unreadable" in first.stdout
    assert "from 2 articles" in first.stdout
    events = gpd.read_file(store, layer="events")
    assert_events(events, EXPECTED["raid"] + EXPECTED["shebekino"])
    assert server.hits["/world/2023/05/23/belgorod-raid"] == 1  # two items link it: fetched once
    assert server.hits["/world/2023/06/02/shebekino"] == 1

    # a new item appears; the old ones are not fetched again, the failed ones are retried
    _feed_routes(server, [rss_item(server.url("/world/grayvoron-drones"), "Drones", "tag:bh,2023:drones")])
    second = run_cli("ingest", server.url("/rss"), "--store", str(store), env=cache_env)
    assert second.returncode == 1
    assert "from 1 article;" in second.stdout
    assert "8 items; 4 new, 3 seen before (skipped), 1 unreadable" in second.stdout
    assert server.hits["/world/2023/05/23/belgorod-raid"] == 1
    assert server.hits["/world/2023/06/02/shebekino"] == 1
    assert server.hits["/world/grayvoron-drones"] == 1
    assert server.hits["/world/gone"] == 2
    after = gpd.read_file(store, layer="events")
    assert_events(after, EXPECTED["grayvoron"])
    assert set(events["event_id"]) < set(after["event_id"])


def test_feed_file_all_good_exits_0_and_second_run_adds_nothing(tmp_path, server, cache_env):
    items = [rss_item(server.url("/world/2023/05/23/belgorod-raid"), "Raid", "g-raid"),
             rss_item(server.url("/world/grayvoron-drones"), "Drones", "g-drones")]
    feed = tmp_path / "herald.txt"  # a feed saved under a misleading name
    feed.write_bytes(rss(items))
    store = tmp_path / "events.gpkg"
    first = run_cli("ingest", str(feed), "--store", str(store), env=cache_env)
    assert first.returncode == 0, first.stderr
    assert "2 new, 0 seen before" in first.stdout
    before = store.stat().st_mtime_ns
    second = run_cli("ingest", str(feed), "--store", str(store), env=cache_env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("0 events added")
    assert "0 new, 2 seen before (skipped)" in second.stdout
    assert server.hits["/world/grayvoron-drones"] == 1
    assert store.stat().st_mtime_ns == before


@pytest.mark.parametrize("case", ["missing", "binary", "dead-url", "pdf-url", "refused", "not-a-feed", "workers-0",
                                  "workers-and-scheduler", "bad-batch-setting", "bad-date"])
def test_user_mistakes_are_one_line_exit_2_and_write_nothing(tmp_path, server, cache_env, case):
    store = tmp_path / "events.gpkg"
    env = dict(cache_env)
    good = tmp_path / "good.html"
    good.write_text(RAID_PAGE, encoding="utf-8")
    args = {
        "missing": [str(good), str(tmp_path / "nope.html")],
        "binary": [str(good), str(_write(tmp_path / "scan.html", PDF))],
        "dead-url": [str(good), server.url("/world/gone")],
        "pdf-url": [server.url("/pdf-as-html")],
        "refused": ["http://{refused}/feed"],
        "not-a-feed": [str(_write(tmp_path / "feed.xml", b'<?xml version="1.0"?><rss><channel>'))],
        "workers-0": [str(good), "--workers", "0"],
        "workers-and-scheduler": [str(good), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
        "bad-batch-setting": [str(good)],
        "bad-date": [str(good), "--published", "2023-13-01"],
    }[case]
    if case == "bad-batch-setting":
        env["EVENT_ATLAS_INGEST_BATCH_SIZE"] = "0"
    with refused_port() as refused:
        result = run_cli("ingest", *[a.format(refused=refused) for a in args], "--store", str(store), env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not store.exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_year_less_page_without_any_date_fails_that_item_only(tmp_path, server, cache_env):
    server.routes["/undated"] = (200, HTML, news_page(
        "Night attack", ["Drones hit Shebekino on 3 June, officials said."]).encode())
    server.routes["/feed"] = (200, "application/rss+xml", rss([
        rss_item(server.url("/undated"), "Undated"), rss_item(server.url("/world/grayvoron-drones"), "Drones")]))
    store = tmp_path / "events.gpkg"
    result = run_cli("ingest", server.url("/feed"), "--store", str(store), env=cache_env)
    assert result.returncode == 1, result.stderr
    assert "/undated" in result.stderr and "year" in result.stderr
    assert_events(gpd.read_file(store, layer="events"), EXPECTED["grayvoron"])


def test_feed_items_are_written_in_batches(tmp_path, server, cache_env):
    server.routes["/feed"] = (200, "application/rss+xml", rss([
        rss_item(server.url("/world/2023/05/23/belgorod-raid"), "Raid"),
        rss_item(server.url("/world/2023/06/02/shebekino"), "Shebekino"),
        rss_item(server.url("/world/grayvoron-drones"), "Drones")]))
    store = tmp_path / "events.gpkg"
    env = {**cache_env, "EVENT_ATLAS_INGEST_BATCH_SIZE": "2"}
    result = run_cli("ingest", server.url("/feed"), "--store", str(store), env=env)
    assert result.returncode == 0, result.stderr
    assert "2 store writes" in result.stdout
    assert_events(gpd.read_file(store, layer="events"),
                  EXPECTED["raid"] + EXPECTED["shebekino"] + EXPECTED["grayvoron"])
