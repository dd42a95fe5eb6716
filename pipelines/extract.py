"""Mentions as records: the ``extract --jsonl`` output and what ``evaluate`` scores.

One record per input document::

    {"id": ..., "mentions": [{"start", "end", "mention", "name", "lat", "lon",
      "kind", "feature_code", "admin1", "country", "score", "candidates": [...]}]}

``start``/``end`` are character offsets into the document's ``text``;
``lat``/``lon`` are null for an unresolved mention; ``kind`` is ``place``,
``country`` (a country named as context), ``demonym`` ("Turkish") or
``qualifier`` (a place named inside an organisation's or facility's name:
"Dublin City Council", "Oakland police", "D-Columbus"; never an event location).
Pure functions of a :class:`~pipelines.geoparse.Geoparser`; reading and
writing JSON lines is the CLI's job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .gazetteer.index import Place
from .geoparse import Geoparser, Mention

#: How many alternatives each mention carries (the review UI offers them).
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Document:
    """One input line of ``extract --jsonl``."""

    id: Any
    text: str
    published: str | None = None


def _place_fields(place: Place, country_name) -> dict:
    return {
        "name": place.name,
        "lat": round(place.lat, 5),
        "lon": round(place.lon, 5),
        "feature_code": place.feature_code,
        "admin1": place.admin1_name,
        "country": country_name(place.country_code) if place.country_code else "",
        "geonameid": place.geonameid,
    }


def mention_record(mention: Mention, country_name) -> dict:
    """The JSON-ready record of one mention (see the module docstring)."""
    record = {
        "start": mention.start,
        "end": mention.end,
        "mention": mention.text,
        "kind": mention.kind,
        "name": mention.name,
        "lat": None,
        "lon": None,
        "feature_code": None,
        "admin1": None,
        "country": None,
        "geonameid": None,
        "score": round(mention.score, 3) if mention.place is not None else 0.0,
    }
    if mention.place is not None:
        record.update(_place_fields(mention.place, country_name))
    record["candidates"] = [
        {**_place_fields(place, country_name), "score": round(score, 4)}
        for place, score in mention.candidates[:MAX_CANDIDATES]
    ]
    return record


def extract_document(geoparser: Geoparser, doc: Document) -> dict:
    """The record of one document: every mention the geoparser keeps, in text order."""
    mentions = sorted(geoparser.parse(doc.text), key=lambda m: (m.start, m.end))
    country_name = geoparser.geocoder.country_name
    return {"id": doc.id, "mentions": [mention_record(m, country_name) for m in mentions]}


def parse_documents(lines: Iterable[str], source: str = "input") -> Iterator[Document]:
    """Documents from JSON lines; a bad line raises :class:`InputError`
    naming the line, before anything of it is used."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{source}:{number}: expected a JSON object with 'id' and 'text'")
        if "id" not in obj:
            raise InputError(f"{source}:{number}: missing 'id'")
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError(f"{source}:{number}: 'text' must be a string")
        published = obj.get("published")
        if published is not None and not isinstance(published, str):
            raise InputError(f"{source}:{number}: 'published' must be a YYYY-MM-DD string or null")
        yield Document(obj["id"], text, published)
