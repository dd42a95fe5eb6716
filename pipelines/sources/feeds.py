"""RSS/Atom feed → items (pure).

``feedparser`` reads almost anything, and its forgiving parser would happily
turn a malformed ``<item>`` into a mangled entry. So each ``<item>``/``<entry>``
is first checked on its own for well-formed XML: a broken one is reported and
left out, and the rest of the feed is read as usual.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin

from .errors import FeedError
from .fetch import is_url

_ITEM = re.compile(rb"<(item|entry)\b[^>]*>.*?</\1\s*>", re.S)
_ROOT_TAG = re.compile(rb"<(?:rss|feed|rdf:RDF)\b[^>]*>", re.S | re.I)
_NAMESPACE = re.compile(rb"""\sxmlns(?::[\w.-]+)?\s*=\s*(?:"[^"]*"|'[^']*')""")
_LABEL = (re.compile(rb"<link\b[^>]*\bhref\s*=\s*[\"']([^\"']+)"), re.compile(rb"<link\b[^>]*>\s*([^<\s]+)\s*</link"),
          re.compile(rb"<guid\b[^>]*>\s*([^<]+?)\s*</guid"), re.compile(rb"<title\b[^>]*>\s*([^<]{1,80})"))


@dataclass(frozen=True)
class FeedItem:
    index: int  # 1-based position in the feed, as a reader would count
    link: str
    guid: str
    title: str
    published: date | None

    @property
    def keys(self) -> tuple[str, ...]:
        """What the seen-items registry remembers: the guid and the link."""
        return tuple(dict.fromkeys(k for k in (self.guid, self.link) if k))


@dataclass(frozen=True)
class BrokenItem:
    index: int
    label: str  # its link or title when they can be read, else ""
    reason: str


@dataclass(frozen=True)
class Feed:
    title: str
    items: list[FeedItem] = field(default_factory=list)
    broken: list[BrokenItem] = field(default_factory=list)


def parse_feed(data: bytes, *, name: str, base_url: str = "") -> Feed:
    """Every item of the feed with a usable link; the others in ``broken``."""
    import feedparser

    chunks = list(_ITEM.finditer(data))
    broken: dict[int, BrokenItem] = {}
    if chunks:
        namespaces = _namespaces(data)
        for position, match in enumerate(chunks, 1):
            problem = _xml_problem(match.group(0), namespaces)
            if problem:
                line = data.count(b"\n", 0, match.start()) + problem[0]
                broken[position] = BrokenItem(position, _label(match.group(0)),
                                              f"not well-formed XML at line {line}: {problem[1]}")
    cleaned = data
    for position in sorted(broken, reverse=True):
        match = chunks[position - 1]
        cleaned = cleaned[:match.start()] + cleaned[match.end():]
    parsed = feedparser.parse(io.BytesIO(cleaned), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and not broken and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no channel or entries"
        raise FeedError(f"{name}: not a readable RSS/Atom feed ({reason})")
    good_positions = [p for p in range(1, len(chunks) + 1) if p not in broken]
    if len(good_positions) != len(parsed.entries):  # items the regex could not see: count as feedparser does
        good_positions = list(range(1, len(parsed.entries) + 1))
    items: list[FeedItem] = []
    for position, entry in zip(good_positions, parsed.entries):
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip()
        if entry.get("guidislink") and link == guid and not is_url(link):
            link = ""  # feedparser took a non-URL guid for the link: there is none
        if link and base_url:
            link = urljoin(base_url, link)
        title = " ".join((entry.get("title") or "").split())
        if not link:
            broken[position] = BrokenItem(position, title or guid, "the item has no link")
        elif not is_url(link):
            broken[position] = BrokenItem(position, link, "the item's link is not an http(s) URL")
        else:
            items.append(FeedItem(position, link, guid, title, _entry_date(entry)))
    feed_title = " ".join((parsed.feed.get("title") or "").split())
    return Feed(feed_title, items, [broken[p] for p in sorted(broken)])


def _namespaces(data: bytes) -> bytes:
    root = _ROOT_TAG.search(data)
    return b"".join(m.group(0) for m in _NAMESPACE.finditer(root.group(0))) if root else b""


def _xml_problem(chunk: bytes, namespaces: bytes) -> tuple[int, str] | None:
    """(line within the chunk, message) when the item is not well-formed XML."""
    from lxml import etree

    parser = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        etree.fromstring(b"<wrap" + namespaces + b">" + chunk + b"</wrap>", parser)
    except etree.XMLSyntaxError as exc:
        message = re.sub(r",? line \d+, column \d+$", "", exc.msg or str(exc))
        return exc.lineno or 1, message
    return None


def _label(chunk: bytes) -> str:
    for pattern in _LABEL:
        m = pattern.search(chunk)
        if m:
            return m.group(1).decode("utf-8", "replace").strip()
    return ""


def _entry_date(entry) -> date | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday) if parsed else None
