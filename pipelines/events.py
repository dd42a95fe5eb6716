"""Turn an article and its resolved mentions into events (pure).

One event per (article, place, date): a place named in three sentences that
all speak of 22 May is one event whose evidence is the first sentence.
Countries and demonyms only set the context; mentions that could not be
geocoded become unresolved events, so nothing is silently dropped.

Untrusted text can be one huge "sentence" naming a place thousands of times;
the evidence must stay proportional to the text, not to its square. So a
sentence longer than :data:`MAX_QUOTE_CHARS` is quoted as a verbatim window
around the mention, and an event keeps at most :data:`MAX_EVIDENCE` proofs
(every spelling still joins ``mention``).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import date
from typing import Callable

from .articles import Article, Sentence, split_sentences
from .dates import ResolvedDate, anchor_date, best_date, missing_year_mentions, resolved_dates
from .errors import DateError
from .geoparse import KIND_PLACE, KIND_QUALIFIER, Geoparser, Mention
from .gazetteer.geocoder import source_label
from .schema import Candidate, Event, article_id_for, candidates_json
from .tagging import SentenceTags, Tagger, default_tagger

#: ``fallback(name, context_text) -> Candidate | None``: an online geocoder
#: asked only for mentions the gazetteer could not resolve.
Fallback = Callable[[str, str], "Candidate | None"]

AREA_PRECISION = {"region": "region", "district": "district"}
#: Longest quote kept as ``sentence``/evidence; longer sentences are cut to a
#: window around the mention (still a verbatim substring of the article).
MAX_QUOTE_CHARS = 1000
#: Most proofs kept in one event's ``evidence``.
MAX_EVIDENCE = 50
#: json.dumps(obj, ensure_ascii=False) builds this encoder on every call (over half the
#: cost of encoding one event's evidence); it holds no state between calls.
_JSON = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class ArticleEvents:
    events: list[Event]
    unresolved: int
    context_mentions: int


def _sentence_for(sentences: list[Sentence], starts: list[int], offset: int) -> Sentence:
    """The sentence holding ``offset``, else the one starting nearest to it.
    Bisect: a long article has thousands of sentences and mentions."""
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and offset < sentences[i].end:
        return sentences[i]
    return min(sentences[max(i, 0):i + 2], key=lambda s: abs(s.start - offset))


def check_dates_knowable(article: Article) -> None:
    """Refuse to guess a year: without a publication date, year-less dates
    ("May 22") cannot be placed in time."""
    if article.published is not None:
        return
    missing = missing_year_mentions(article.text)
    if missing:
        raise DateError(
            f"{article.path or article.source}: the year of '{missing[0].text}' is unknown; "
            "pass --published YYYY-MM-DD"
        )


def build_events(article: Article, geoparser: Geoparser, *, ingested_at: str,
                 fallback: Fallback | None = None, tagger: Tagger | None = None) -> ArticleEvents:
    check_dates_knowable(article)
    sentences = split_sentences(article.text)
    starts = [s.start for s in sentences]
    mentions = geoparser.parse(article.text)
    published = article.published
    # each sentence's dates are found once: for the article's anchor date and for its own events
    sentence_dates = {s.start: resolved_dates(s.text, published) for s in sentences}
    anchor = anchor_date(sentence_dates.values())
    article_id = article_id_for(article.text)
    context_text = _context_text(mentions)
    country_name = geoparser.geocoder.country_name

    events: dict[str, Event] = {}
    proofs: dict[str, list[dict]] = {}  # serialised once at the end: re-encoding per mention is cubic
    spellings: dict[str, dict[str, None]] = {}
    quoted: dict[str, dict[int, tuple[Sentence, str]]] = {}  # event → its evidence sentences, in order
    unresolved = 0
    context_mentions = 0
    date_cache: dict[int, ResolvedDate | None] = {}  # sentence start → its date
    for m in mentions:
        if m.kind != KIND_PLACE:
            context_mentions += 1
            continue
        sentence = _sentence_for(sentences, starts, m.start)
        if sentence.start not in date_cache:
            date_cache[sentence.start] = best_date(sentence_dates[sentence.start])
        when = date_cache[sentence.start] or anchor or _published_date(published)
        if when is None:
            raise DateError(
                f"{article.path or article.source}: no date in the text and no publication date; "
                "pass --published YYYY-MM-DD"
            )
        quote = quote_for(article.text, sentence, m.start, m.end)
        event = _event_for(m, when, quote, article, article_id, ingested_at, country_name,
                           fallback, context_text)
        proof = {"mention": m.text, "sentence": quote, "start": m.start, "end": m.end}
        if event.event_id in events:
            spellings[event.event_id][m.text] = None
            if len(proofs[event.event_id]) < MAX_EVIDENCE:
                proofs[event.event_id].append(proof)
                quoted[event.event_id].setdefault(sentence.start, (sentence, quote))
            continue
        if m.place is not None:  # only a new event keeps its alternatives: build them once, here
            event.candidates = _alternatives_json(m)
        events[event.event_id] = event
        proofs[event.event_id] = [proof]
        quoted[event.event_id] = {sentence.start: (sentence, quote)}
        spellings[event.event_id] = {m.text: None}
        if not event.resolved:
            unresolved += 1
    for event_id, event in events.items():
        event.evidence = _JSON.encode(proofs[event_id])
        event.mention = " | ".join(spellings[event_id])
    _tag_events(events, quoted, article, sentences, starts, tagger or default_tagger())
    return ArticleEvents(list(events.values()), unresolved, context_mentions)


def _tag_events(events: dict[str, Event], quoted: dict[str, dict[int, tuple[Sentence, str]]],
                article: Article, sentences: list[Sentence], starts: list[int], tagger: Tagger) -> None:
    """Type, actors and claims of each event from its evidence sentences
    (see pipelines/tagging.py); each sentence is analysed once per article."""
    cache: dict[int, tuple[str, int, SentenceTags]] = {}
    for event_id, event in events.items():
        items = []
        for sentence, quote in quoted[event_id].values():
            key = sentence.start
            if key not in cache:
                start = sentence.start if quote == sentence.text else article.text.find(quote, sentence.start)
                i = bisect.bisect_right(starts, sentence.start) - 1
                previous = sentences[i - 1].text if i > 0 and len(sentences[i - 1].text) <= MAX_QUOTE_CHARS else ""
                cache[key] = (quote, start, tagger.tag_sentence(quote, start, previous))
            items.append(cache[key])
        tags = tagger.tag_event(items, article.source)
        event.event_type = tags.event_type
        event.actors = tags.actors
        event.claimant = tags.claimant
        event.claim_stance = tags.claim_stance
        event.claims = tags.claims


def quote_for(text: str, sentence: Sentence, start: int, end: int) -> str:
    """The sentence holding text[start:end], or for a sentence longer than
    MAX_QUOTE_CHARS a verbatim window around it, cut at spaces where possible."""
    if sentence.end - sentence.start <= MAX_QUOTE_CHARS:
        return sentence.text
    lo = max(sentence.start, start - MAX_QUOTE_CHARS // 2)
    hi = min(sentence.end, max(end, lo + MAX_QUOTE_CHARS))
    if lo > sentence.start:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < sentence.end:
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return text[lo:hi].strip()


def _published_date(published: date | None) -> ResolvedDate | None:
    if published is None:
        return None
    return ResolvedDate(published, published, "day", "published")


def _context_text(mentions: list[Mention]) -> str:
    """"Belgorod Oblast, Russia": what an online geocoder is told about the area."""
    parts: list[str] = []
    for m in mentions:
        if m.place is None:
            continue
        if m.area == "region" and m.place.name not in parts:
            parts.append(m.place.name)
    for m in mentions:
        # Countries named as context; not ones inside a name ("Freedom of Russia Legion").
        if m.kind not in (KIND_PLACE, KIND_QUALIFIER) and m.place is not None and m.place.is_country \
                and m.place.feature_code != "DEMONYM":
            if m.place.name not in parts:
                parts.append(m.place.name)
    return ", ".join(parts[:2])


def _alternatives_json(m: Mention) -> str:
    """The next best readings of a resolved mention as the ``candidates`` JSON."""
    return candidates_json(Candidate(p.name, p.lat, p.lon, p.feature_code, p.admin1_name, p.country_code,
                                     p.geonameid, s, source_label(p)) for p, s in m.candidates[1:6])


def _event_for(m: Mention, when: ResolvedDate, quote: str, article: Article, article_id: str,
               ingested_at: str, country_name, fallback: Fallback | None, context_text: str) -> Event:
    common = dict(
        article_id=article_id,
        date=when.start.isoformat(),
        date_end=when.end.isoformat(),
        date_precision=when.precision,
        date_basis=when.basis,
        mention=m.text,
        sentence=quote,
        source=article.source,
        url=article.url,
        published=article.published.isoformat() if article.published else "",
        ingested_at=ingested_at,
    )
    place = m.place
    if place is not None:
        return Event(
            **common,
            place=place.name,
            geo_precision=place.geo_precision,
            admin1=place.admin1_name,
            admin2=place.admin2_name,
            country=country_name(place.country_code) if place.country_code else "",
            country_code=place.country_code,
            feature_code=place.feature_code,
            geonameid=place.geonameid,
            lat=place.lat,
            lon=place.lon,
            resolved=True,
            score=m.score,
            geocoder=source_label(place),
        )
    precision = AREA_PRECISION.get(m.area or "", "point")
    answer = fallback(m.text, context_text) if fallback is not None else None
    if answer is not None:
        return Event(
            **common, place=answer.name, geo_precision=precision, admin1=answer.admin1,
            country_code=answer.country_code, feature_code=answer.feature_code,
            geonameid=answer.geonameid, lat=answer.lat, lon=answer.lon, resolved=True,
            score=answer.score, geocoder=answer.source,
        )
    return Event(**common, place="", geo_precision=precision, resolved=False, geocoder="")
