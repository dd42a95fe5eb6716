"""Wiring: settings → gazetteer → geoparser → events → store.

A :class:`Pipeline` loads the gazetteer, the word lists and the actor list once
and is reused for every article (the dashboard keeps one in ``st.cache_resource``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from .articles import Article, list_article_files, read_article
from .config import Settings
from .events import ArticleEvents, Fallback, build_events
from .gazetteer import open_gazetteer
from .gazetteer.geocoder import GazetteerGeocoder
from .geoparse import Geoparser
from .schema import article_id_for, events_to_frame
from .tagging import default_tagger
from .merge import WriteCounts
from .store import ingest_events

@dataclass
class IngestReport(WriteCounts):
    files: int = 0
    per_file: list[tuple[str, int]] = field(default_factory=list)


class Pipeline:
    def __init__(self, settings: Settings, geocoder: GazetteerGeocoder | None = None,
                 fallback: Fallback | None = None):
        self.settings = settings
        self.geocoder = geocoder or open_gazetteer(settings)
        self.geoparser = Geoparser(self.geocoder)
        self.tagger = default_tagger()
        self.fallback = fallback if fallback is not None else _online_fallback(settings)

    def events_for(self, article: Article) -> ArticleEvents:
        now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        return build_events(article, self.geoparser, ingested_at=now, fallback=self.fallback, tagger=self.tagger)

    def ingest_paths(self, paths: list[str], *, published: date | None = None,
                     source: str | None = None, store: str | None = None) -> IngestReport:
        """Read and geoparse every file first; write only when all succeeded, so a
        bad file in a batch changes nothing."""
        files = list_article_files(paths)
        articles = [read_article(f, max_bytes=self.settings.max_article_bytes, published=published,
                                 source=source) for f in files]
        return self.ingest_articles(articles, store=store)

    def ingest_articles(self, articles: list[Article], *, store: str | None = None) -> IngestReport:
        report = IngestReport(files=len(articles))
        all_events = []
        for article in articles:
            result = self.events_for(article)
            all_events.extend(result.events)
            report.unresolved += result.unresolved
            report.per_file.append((article.path or article.source, len(result.events)))
        written = ingest_events(store or self.settings.store, events_to_frame(all_events),
                                {article_id_for(a.text) for a in articles})
        report.count_write(written)
        return report


def _online_fallback(settings: Settings) -> Fallback | None:
    """Ask the configured online geocoder (off by default) for what the
    gazetteer could not resolve; a failing service leaves the mention
    unresolved for a later run, it never stops the ingest."""
    from .geocoding import CachedGeocoder, OnlineGeocoderError

    online = CachedGeocoder.from_settings(settings)
    if online is None:
        return None

    def fallback(name: str, context: str):
        try:
            place = online.geocode_place(name, context or None)
        except OnlineGeocoderError as exc:
            print(f"warning: {name!r} left unresolved: {exc}", file=sys.stderr)
            return None
        return place.as_candidate(score=0.5) if place is not None else None

    return fallback

