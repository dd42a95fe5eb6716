"""Synthetic event stores for the dashboard bench and the scale tests.

Seeded, so the same every run: events from articles of about six events each
(one source and URL per article, a ~150-character sentence shared by one to
three events, as the pipeline makes them), places scattered around 300 town
centres across Europe, the Middle East and Africa, dates over two years
(2023–2024; a tenth are month-precision intervals), precisions mostly points,
2 % unresolved. Written with the schema's ``events_to_frame`` straight to a
GeoPackage store (what ``pipelines.store`` reads).
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from pipelines.schema import Event, events_to_frame  # noqa: E402

SOURCES = [f"Outlet {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(40)]
VERBS = ["Shelling was reported in", "Clashes broke out near", "Residents were evacuated from",
         "Officials announced a curfew in", "Drone strikes hit", "Troops moved through"]
FILLER = ("according to local officials, who said the situation remained tense and that further "
          "details would be released later in the day")
PRECISIONS = ["point"] * 14 + ["district"] * 3 + ["region"] * 2 + ["country"]
START = date(2023, 1, 1)
DAYS = 730


def synthetic_events(n: int, seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    centres = [(rng.uniform(-10, 55), rng.uniform(-15, 60)) for _ in range(300)]
    places = []
    for k in range(3000):
        clat, clon = centres[k % len(centres)]
        places.append((f"Place {k:04d}", clat + rng.gauss(0, 0.6), clon + rng.gauss(0, 0.6)))
    events: list[Event] = []
    article = 0
    while len(events) < n:
        article += 1
        source = rng.choice(SOURCES)
        url = f"https://news.example.org/{article}"
        day = START + timedelta(days=rng.randrange(DAYS))
        sentence = None
        for j, (name, lat, lon) in enumerate(rng.sample(places, min(6, n - len(events)))):
            if sentence is None or rng.random() < 0.5:
                sentence = f"{rng.choice(VERBS)} {name} on {day.isoformat()}, {FILLER} (report {article}.{j})."
            resolved = rng.random() >= 0.02
            month = rng.random() < 0.1
            d = day.replace(day=1) if month else day
            end = (d.replace(day=28) if month else d).isoformat()
            events.append(Event(
                article_id=f"synthetic-{article}", date=d.isoformat(), date_end=end,
                date_precision="month" if month else "day", date_basis="explicit",
                place=name if resolved else "", mention=name, sentence=sentence, source=source,
                published=day.isoformat(), geo_precision=rng.choice(PRECISIONS),
                admin1=f"Region {int(name[6:]) % 50:02d}", country="Synthland",
                lat=round(lat, 5) if resolved else None, lon=round(lon, 5) if resolved else None,
                resolved=resolved, url=url, geocoder="synthetic",
            ))
    return events


def write_store(path: Path, n: int, seed: int = 7) -> Path:
    """A GeoPackage store of ``n`` synthetic events at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    events_to_frame(synthetic_events(n, seed)).to_file(path, driver="GPKG", layer="events")
    return path
