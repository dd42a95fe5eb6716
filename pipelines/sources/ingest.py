"""Ingest from paths, URLs and feeds: plan in the client, process anywhere.

Three steps, so the middle one can run on Dask workers unchanged:

1. :func:`plan_inputs` (client, I/O): expands folders, reads local files,
   fetches URLs given on the command line, expands feeds into their items and
   skips items the seen-items registry already knows. A mistake in an input
   given directly (missing path, bad file, dead URL) raises :class:`InputError`
   here, before anything is written.
2. :func:`process_item` (anywhere): fetch a feed item's page, extract it,
   geoparse it. Failures come back as :class:`ItemResult` with ``error`` set.
3. :class:`SourceIngest` (client): collects results in any order and writes
   them through :func:`pipelines.store.ingest_events` in batches. Nothing is
   written until every directly given item has succeeded; a failed feed item
   is reported and the others are written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

from ..articles import (HTML_SUFFIXES, TEXT_SUFFIXES, Article, decode_text, list_article_files, parse_article,
                        read_article)
from ..errors import EventAtlasError, InputError
from ..merge import WriteCounts
from ..schema import article_id_for, events_to_frame
from .errors import SourceError
from .feeds import parse_feed
from .fetch import Fetcher, is_url
from .html import extract_page, page_article
from .progress import Progress
from .seen import SeenRegistry
from .sniff import media_type, sniff

if TYPE_CHECKING:
    from ..config import Settings
    from ..pipeline import Pipeline


@dataclass(frozen=True)
class LoadOptions:
    """What the user said about every article of the run."""

    published: date | None = None
    source: str | None = None


@dataclass(frozen=True)
class WorkItem:
    """One article to be: ready text, a page's bytes, or a feed item's link."""

    label: str
    kind: str  # "article" | "page" | "link"
    strict: bool  # given directly: its failure is a user mistake
    article: Article | None = None
    body: bytes = b""
    url: str = ""
    path: str = ""
    feed: str = ""
    keys: tuple[str, ...] = ()
    feed_date: date | None = None
    feed_title: str = ""


@dataclass
class ItemResult:
    index: int
    events: list = field(default_factory=list)
    unresolved: int = 0
    article_id: str = ""
    error: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class FeedSummary:
    name: str
    title: str
    items: int = 0
    queued: int = 0
    already_seen: int = 0
    repeated_links: int = 0  # items linking a page another item of this run already links
    broken: list[str] = field(default_factory=list)


@dataclass
class Plan:
    items: list[WorkItem] = field(default_factory=list)
    feeds: list[FeedSummary] = field(default_factory=list)


# -- 1. planning (client) -----------------------------------------------------

def plan_inputs(paths: list[str], *, fetcher: Fetcher, options: LoadOptions, max_bytes: int,
                registry: SeenRegistry | None) -> Plan:
    """Every article the run will process; direct inputs are checked now."""
    plan = Plan()
    for raw in paths:
        if is_url(raw):
            try:
                fetched = fetcher.get(raw)
            except SourceError as exc:
                raise InputError(str(exc)) from None
            _plan_document(plan, fetched.body, name=raw, url=fetched.url, content_type=fetched.content_type,
                           options=options, registry=registry)
            continue
        path = Path(raw)
        for file in (list_article_files([raw], TEXT_SUFFIXES + HTML_SUFFIXES) if path.is_dir() else [path]):
            if not file.is_file():
                raise InputError(f"{file}: no such file or directory")
            size = file.stat().st_size
            if size > max_bytes:
                raise InputError(f"{file}: {size:,} bytes is over the {max_bytes:,}-byte limit "
                                 "(EVENT_ATLAS_MAX_ARTICLE_BYTES)")
            data = file.read_bytes()
            kind = sniff(data)
            if kind == "binary":
                raise InputError(f"{file}: looks like a binary file (PDF, image, archive…), not text, HTML or a feed")
            if kind in ("feed", "html"):
                _plan_document(plan, data, name=str(file), url="", content_type="", options=options,
                               registry=registry, path=str(file), kind=kind)
            else:
                article = read_article(file, max_bytes=max_bytes, published=options.published,
                                       source=options.source)
                plan.items.append(WorkItem(str(file), "article", True, article=article, path=str(file)))
    return plan


def _plan_document(plan: Plan, data: bytes, *, name: str, url: str, content_type: str, options: LoadOptions,
                   registry: SeenRegistry | None, path: str = "", kind: str | None = None) -> None:
    kind = kind or sniff(data, content_type)
    if kind == "html":
        plan.items.append(WorkItem(name, "page", True, body=data, url=url, path=path))
    elif kind == "feed":
        _plan_feed(plan, data, name=name, base_url=url, registry=registry)
    elif kind == "text" and (path or media_type(content_type) == "text/plain"):
        article = parse_article(decode_text(data, name), name=name, published=options.published,
                                source=options.source, path=path)
        plan.items.append(WorkItem(name, "article", True, article=replace(article, url=article.url or url)))
    else:
        raise InputError(f"{name}: not an HTML page, a feed or text ({media_type(content_type) or kind})")


def _plan_feed(plan: Plan, data: bytes, *, name: str, base_url: str, registry: SeenRegistry | None) -> None:
    feed = parse_feed(data, name=name, base_url=base_url)  # FeedError: a user mistake for a direct input
    summary = FeedSummary(name, feed.title, items=len(feed.items) + len(feed.broken))
    summary.broken = [f"{name} item {b.index}{f' ({b.label})' if b.label else ''}: {b.reason}" for b in feed.broken]
    queued_links = {item.url for item in plan.items if item.kind == "link"}
    for item in feed.items:
        if item.link in queued_links:
            summary.repeated_links += 1
            continue
        if registry is not None and registry.seen(item.keys):
            summary.already_seen += 1
            continue
        queued_links.add(item.link)
        plan.items.append(WorkItem(f"{name} item {item.index} ({item.link})", "link", False, url=item.link,
                                   feed=name, keys=item.keys, feed_date=item.published, feed_title=item.title))
        summary.queued += 1
    plan.feeds.append(summary)


# -- 2. processing (anywhere) ---------------------------------------------------

def load_article(item: WorkItem, fetcher: Fetcher, options: LoadOptions) -> tuple[Article, str]:
    """The article of ``item`` and a note on its publication date."""
    if item.kind == "article":
        return item.article, ""
    body, url, content_type = item.body, item.url, ""
    if item.kind == "link":
        fetched = fetcher.get(item.url)
        body, url, content_type = fetched.body, fetched.url, fetched.content_type
    kind = sniff(body, content_type)
    if kind == "text" and media_type(content_type) == "text/plain":
        article = parse_article(decode_text(body, item.label), name=item.label, published=options.published,
                                source=options.source)
        return replace(article, url=article.url or url), ""
    if kind != "html":
        shown = media_type(content_type) or kind
        raise SourceError(f"{item.label}: not an HTML page ({shown}{', by its content' if kind == 'binary' else ''})")
    page = extract_page(body, name=item.label, url=url)
    return page_article(page, name=item.label, published=options.published, feed_date=item.feed_date,
                        source=options.source, fallback_title=item.feed_title, path=item.path)


def process_item(index: int, item: WorkItem, pipeline: "Pipeline", fetcher: Fetcher,
                 options: LoadOptions) -> ItemResult:
    """Load and geoparse one item; a problem with it is returned, not raised."""
    try:
        article, note = load_article(item, fetcher, options)
        result = pipeline.events_for(article)
    except EventAtlasError as exc:
        message = str(exc)
        return ItemResult(index, error=message if message.startswith(item.label) else f"{item.label}: {message}")
    return ItemResult(index, list(result.events), result.unresolved, article_id_for(article.text), note=note)


class Executor(Protocol):
    def map_unordered(self, items: list[WorkItem]) -> Iterator[ItemResult]: ...


class LocalExecutor:
    """This process, one item after another: the default."""

    def __init__(self, pipeline: "Pipeline", fetcher: Fetcher, options: LoadOptions):
        self.pipeline, self.fetcher, self.options = pipeline, fetcher, options

    def map_unordered(self, items: list[WorkItem]) -> Iterator[ItemResult]:
        for index, item in enumerate(items):
            yield process_item(index, item, self.pipeline, self.fetcher, self.options)


# -- 3. writing (client) -------------------------------------------------------

@dataclass
class SourceReport(WriteCounts):
    items: int = 0
    articles: int = 0
    writes: int = 0
    seconds: float = 0.0
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feeds: list[FeedSummary] = field(default_factory=list)
    repeated_text: int = 0

    @property
    def already_seen(self) -> int:
        return sum(f.already_seen for f in self.feeds)


class SourceIngest:
    """Collects item results and writes them in batches, all-or-nothing per batch."""

    def __init__(self, store: str, *, batch_size: int, registry: SeenRegistry | None = None):
        self.store = store
        self.batch_size = max(1, batch_size)
        self.registry = registry

    def run(self, plan: Plan, executor: Executor, progress: Progress | None = None) -> SourceReport:
        from ..store import ingest_events

        report = SourceReport(items=len(plan.items), feeds=plan.feeds)
        report.failed = [line for feed in plan.feeds for line in feed.broken]
        started = time.monotonic()
        if progress is not None:
            progress.start()
        strict_left = sum(item.strict for item in plan.items)
        pending: list[ItemResult] = []

        def flush() -> None:
            events = [e for r in pending for e in r.events]
            written = ingest_events(self.store, events_to_frame(events), {r.article_id for r in pending})
            report.count_write(written)
            report.writes += 1
            if self.registry is not None:
                self.registry.mark((plan.items[r.index].keys, r.article_id, plan.items[r.index].feed)
                                   for r in pending if plan.items[r.index].keys)
            pending.clear()

        for result in executor.map_unordered(plan.items):
            item = plan.items[result.index]
            if progress is not None:
                progress.advance(failed=not result.ok)
            if not result.ok:
                if item.strict:  # a user mistake: nothing has been written yet
                    raise InputError(result.error)
                report.failed.append(result.error)
                continue
            strict_left -= item.strict
            if item.keys and self.registry is not None and self.registry.known_content(result.article_id):
                report.repeated_text += 1
            report.articles += 1
            report.unresolved += result.unresolved
            if result.note:
                report.notes.append(result.note)
            pending.append(result)
            if strict_left == 0 and len(pending) >= self.batch_size:
                flush()
        if pending or report.writes == 0:
            flush()
        report.seconds = time.monotonic() - started
        return report
