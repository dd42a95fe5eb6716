"""Re-ingesting the same article adds nothing and leaves reviews alone."""

from __future__ import annotations

import hashlib

from conftest import PROJECT_ROOT, run_cli
from pipelines.store import read_events

RAID = PROJECT_ROOT / "geodata" / "examples" / "belgorod-raid-2023-05.md"


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_text_under_another_name_and_whitespace_adds_nothing(tmp_path, figures):
    store = tmp_path / "events.gpkg"
    first = run_cli("ingest", str(RAID), "--store", str(store))
    assert first.returncode == 0, first.stderr
    stored = read_events(str(store))
    kozinka = stored.loc[stored["place"] == "Kozinka", "event_id"].item()
    rejected = run_cli("review", kozinka, "--reject", "--by", "erin", "--note", "checked: wrong day",
                       "--store", str(store))
    assert rejected.returncode == 0, rejected.stderr
    before = _digest(store)

    text = RAID.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    copy = tmp_path / "Copy of raid (2).TXT"
    copy.write_text(head + "\n---\n\n\n" + body.replace(" ", "  ").replace("\n", "\r\n") + "\n\n", encoding="utf-8")
    again = run_cli("ingest", str(copy), "--store", str(store))

    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 events added"), again.stdout
    assert _digest(store) == before  # nothing rewritten at all
    after = read_events(str(store))
    assert len(after) == len(stored)
    row = after.loc[after["event_id"] == kozinka].iloc[0]
    assert (row["review_status"], row["reviewed_by"]) == ("rejected", "erin")
    figures.add("events lost", len(stored) - len(after))
