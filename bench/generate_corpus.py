"""Write a deterministic corpus of synthetic ~2 kB news articles for the ingest bench.

Why synthetic: the bench needs thousands of articles of a known size whose
places are real gazetteer names and whose dates use the phrases the date
resolver must handle ("on 22 May 2023", "yesterday", "last Tuesday",
"between 3 and 5 June"), and it must be reproducible on any machine. The
same seed and gazetteer give the same bytes.

    python bench/generate_corpus.py -n 2000 -o corpus.jsonl [--seed 7] [--bytes 2000]

Each JSON line is ``{"id", "title", "published", "source", "text", "places"}``;
``places`` lists the gazetteer names planted in the text (``"name"``,
``"country_code"``, ``"lat"``, ``"lon"``), for a recall check.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipelines.config import Settings  # noqa: E402
from pipelines.gazetteer.build import ensure_index  # noqa: E402

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Sentences naming one place ({place}, its region {admin1}, its {country}) at a {date} phrase.
PLACE_TEMPLATES = (
    "Shelling hit the outskirts of {place} {date}, officials in {admin1} said.",
    "Hundreds of protesters gathered in central {place} {date}, according to local media.",
    "Police in {place} said {n} people were detained {date} after clashes near the railway station.",
    "Floods cut the main road into {place}, {country}, {date}, leaving several villages isolated.",
    "The mayor of {place} announced a night curfew {date} and asked residents to stay indoors.",
    "A fire broke out at a warehouse in {place} {date}; no casualties were reported.",
    "Aid convoys reached {place} {date} carrying food, water and medical supplies.",
    "Residents of {place} reported power cuts {date} after a substation was damaged.",
    "Talks between regional leaders opened in {place} {date} under heavy security.",
    "Rescue teams in {place} worked through the night {date} to free people trapped under rubble.",
)
#: Sentences naming two places.
PAIR_TEMPLATES = (
    "Traffic between {place} and {place2} was suspended {date} while engineers inspected a bridge.",
    "Troops moved from {place} towards {place2} {date}, a spokesperson for the {admin1} administration said.",
    "Families who fled {place} arrived in {place2} {date}, volunteers said.",
)
#: Sentences with no place and no date, as news has plenty of.
FILLER = (
    "The ministry did not respond to a request for comment.",
    "Independent verification of the reports was not possible.",
    "Aid groups said more supplies would be needed in the coming weeks.",
    "The authorities have promised an investigation into the incident.",
    "Analysts said the situation remained tense but stable.",
    "Schools and shops stayed closed as a precaution.",
    "Witnesses described a chaotic scene with sirens sounding for hours.",
    "A spokesperson said further details would be released once confirmed.",
)
TITLES = ("{event} reported in {place}", "Unrest spreads to {place}", "{place}: residents count the damage",
          "Authorities respond to {event} near {place}")
EVENTS = ("Shelling", "Flooding", "Protests", "Power cuts", "Fighting", "Evacuations")


@dataclass(frozen=True)
class PlaceName:
    name: str
    admin1: str
    country: str
    country_code: str
    lat: float
    lon: float


def load_places(index_path: Path, *, min_population: int = 15000) -> list[PlaceName]:
    """Populated places with plain Latin names from the project's gazetteer
    index, in a stable order (by id), each with its region and country name."""
    conn = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True)
    try:
        countries = dict(conn.execute("SELECT country_code, name FROM places WHERE feature_code = 'PCLI'"))
        rows = conn.execute(
            "SELECT name, admin1_name, country_code, lat, lon FROM places "
            "WHERE feature_class = 'P' AND population >= ? ORDER BY id", (min_population,)
        ).fetchall()
    finally:
        conn.close()
    return [PlaceName(name, admin1, countries[cc], cc, lat, lon) for name, admin1, cc, lat, lon in rows
            if cc in countries and admin1 and _plain(name) and _plain(admin1)]


def _plain(name: str) -> bool:
    """ASCII letters, spaces and hyphens, capitalised: what an English report writes."""
    return 3 <= len(name) <= 24 and name[0].isupper() and all(c.isascii() and (c.isalpha() or c in " -") for c in name)


def date_phrase(rng: random.Random, published: date) -> str:
    """A phrase dating a claim, relative to the publication date."""
    kind = rng.randrange(7)
    if kind == 0:
        return "yesterday"
    if kind == 1:
        return f"last {rng.choice(WEEKDAYS)}"
    if kind == 2:
        return f"on {rng.choice(WEEKDAYS)}"
    day = published - timedelta(days=rng.randrange(1, 25))
    if kind == 3:
        return f"on {day.day} {MONTHS[day.month - 1]} {day.year}"
    if kind == 4:
        return f"on {MONTHS[day.month - 1]} {day.day}"
    if kind == 5:
        last = day + timedelta(days=rng.randrange(1, 3))
        if last.month == day.month:
            return f"between {day.day} and {last.day} {MONTHS[day.month - 1]}"
        return f"on {day.day} {MONTHS[day.month - 1]}"
    return f"in {MONTHS[day.month - 1]} {day.year}"


def make_article(rng: random.Random, places: list[PlaceName], number: int, *, size: int = 2000) -> dict:
    """One article of about ``size`` UTF-8 bytes: place sentences with date
    phrases, interleaved with filler, in paragraphs of three sentences."""
    published = date(2023, 1, 1) + timedelta(days=rng.randrange(365))
    home = rng.choice(places)
    nearby = [p for p in rng.sample(places, 40) if p.country_code == home.country_code] or [home]
    planted: list[PlaceName] = []
    sentences: list[str] = []
    length = 0
    while length < size - 120:
        roll = rng.random()
        if roll < 0.45:
            place = home if not planted else rng.choice([home, *nearby, rng.choice(places)])
            sentence = rng.choice(PLACE_TEMPLATES).format(
                place=place.name, admin1=place.admin1, country=place.country, n=rng.randrange(2, 40),
                date=date_phrase(rng, published))
            planted.append(place)
        elif roll < 0.6:
            first, second = home, rng.choice(nearby)
            sentence = rng.choice(PAIR_TEMPLATES).format(place=first.name, place2=second.name,
                                                         admin1=first.admin1, date=date_phrase(rng, published))
            planted += [first, second]
        else:
            sentence = rng.choice([f for f in FILLER if not sentences or f != sentences[-1]])
        sentence = sentence[0].upper() + sentence[1:]
        sentences.append(sentence)
        length += len(sentence.encode("utf-8")) + 1
    paragraphs = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
    title = rng.choice(TITLES).format(event=rng.choice(EVENTS), place=home.name)
    unique = {(p.name, p.country_code): p for p in planted}
    return {
        "id": f"synthetic-{number:05d}",
        "title": title,
        "published": published.isoformat(),
        "source": "synthetic bench corpus",
        "text": f"{title}\n\n" + "\n\n".join(paragraphs) + "\n",
        "places": [{"name": p.name, "country_code": p.country_code, "lat": p.lat, "lon": p.lon}
                   for p in unique.values()],
    }


def generate(places: list[PlaceName], n: int, *, seed: int = 7, size: int = 2000) -> Iterator[dict]:
    """``n`` articles; the same seed and places give the same articles."""
    rng = random.Random(seed)
    for number in range(n):
        yield make_article(rng, places, number, size=size)


def write_jsonl(articles: Iterator[dict], out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for article in articles:
            fh.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
    return count


def corpus(n: int, *, seed: int = 7, size: int = 2000, settings: Settings | None = None) -> list[dict]:
    """The corpus in memory, from the project's gazetteer index (built if needed)."""
    settings = settings or Settings.from_env()
    index = ensure_index(settings.gazetteer_path, settings.overlay_path)
    return list(generate(load_places(index), n, seed=seed, size=size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="number of articles (default 2000)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSON lines file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bytes", type=int, default=2000, help="approximate size of each article")
    args = parser.parse_args(argv)
    articles = corpus(args.n, seed=args.seed, size=args.bytes)
    write_jsonl(iter(articles), args.output)
    sizes = [len(a["text"].encode("utf-8")) for a in articles]
    print(f"{len(articles)} articles, {sum(sizes) / max(len(sizes), 1):,.0f} bytes on average, written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
