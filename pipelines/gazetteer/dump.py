"""Import a GeoNames country dump (``RU.txt``: 19 tab-separated columns).

The packaged data only has places of 500+ inhabitants; a dump adds every
village, district and checkpoint of a country. Imports go to their own
SQLite file (see :mod:`.index`), so rebuilding the packaged index keeps them,
and they are visible to the next process that opens the gazetteer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import GazetteerError
from .build import PlaceRow, name_rows
from .index import create_user_db

COLUMNS = 19


@dataclass(frozen=True)
class ImportResult:
    places: int
    skipped: int


def _parse_line(fields: list[str]) -> PlaceRow:
    geonameid = int(fields[0])
    lat, lon = float(fields[4]), float(fields[5])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("coordinates out of range")
    if not fields[1].strip() or not fields[6] or not fields[8]:
        raise ValueError("name, feature class and country code are required")
    return PlaceRow(
        id=geonameid, geonameid=geonameid, name=fields[1].strip(), lat=lat, lon=lon,
        feature_class=fields[6], feature_code=fields[7] or fields[6], country_code=fields[8],
        admin1_code=fields[10], admin1_name="", admin2_name=fields[11],  # code for now, name below
        population=int(fields[14] or 0), source=f"geonames-import:{fields[18] or 'dump'}",
        alternate_names=tuple(a for a in [fields[2], *fields[3].split(",")] if a),
    )


def _packaged_admin1_names(main_index: Path | None, countries: set[str]) -> dict[tuple[str, str], str]:
    """Region names from the packaged index, for dumps without ADM1 rows."""
    if main_index is None or not main_index.exists():
        return {}
    conn = sqlite3.connect(f"file:{main_index}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT country_code, admin1_code, name FROM places WHERE feature_code='ADM1' AND country_code IN (%s)"
            % ",".join("?" * len(countries)),
            tuple(countries),
        ).fetchall()
    finally:
        conn.close()
    return {(cc, a1): name for cc, a1, name in found}


def import_geonames_dump(path: Path, user_db: Path, main_index: Path | None = None) -> ImportResult:
    """Add every row of ``path`` to ``user_db`` in one transaction: all or nothing."""
    if not path.exists():
        raise GazetteerError(f"{path}: no such file")
    rows: list[PlaceRow] = []
    skipped = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip() or line.startswith("#"):
                    continue
                fields = line.rstrip("\n").split("\t")
                if len(fields) != COLUMNS:
                    skipped += 1
                    continue
                try:
                    rows.append(_parse_line(fields))
                except ValueError:
                    skipped += 1
    except UnicodeDecodeError:
        raise GazetteerError(f"{path}: not UTF-8 text; GeoNames dumps are UTF-8") from None
    if not rows:
        raise GazetteerError(f"{path}: no GeoNames rows found (expected {COLUMNS} tab-separated columns per line)")

    admin1 = _packaged_admin1_names(main_index, {r.country_code for r in rows})
    admin1.update({(r.country_code, r.admin1_code): r.name for r in rows if r.feature_code == "ADM1"})
    admin2 = {(r.country_code, r.admin1_code, r.admin2_name): r.name for r in rows if r.feature_code == "ADM2"}
    for r in rows:
        code2 = r.admin2_name
        r.admin2_name = admin2.get((r.country_code, r.admin1_code, code2), "") if code2 else ""
        r.admin1_name = admin1.get((r.country_code, r.admin1_code), "")

    conn = create_user_db(user_db)
    try:
        with conn:
            conn.executemany("INSERT OR REPLACE INTO places VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", [r.as_tuple() for r in rows])
            conn.executemany(
                "INSERT INTO names VALUES (?,?,?) ON CONFLICT(key, place_id) DO UPDATE SET match = min(match, excluded.match)",
                [n for r in rows for n in name_rows(r)],
            )
    except sqlite3.DatabaseError as exc:
        raise GazetteerError(f"{user_db}: cannot write imported places ({exc})") from exc
    finally:
        conn.close()
    return ImportResult(len(rows), skipped)
