"""Review and re-ingest: corrections are the analyst's record and survive."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from conftest import PROJECT_ROOT, haversine_km, run_cli
from pipelines.articles import parse_article
from pipelines.exporters import to_geojson
from pipelines.merge import merge_reingest
from pipelines.review import ReviewAction, ReviewError, apply_review, review_event
from pipelines.schema import Candidate, Event, candidates_json, events_to_frame
from pipelines.store import read_events

RAID = PROJECT_ROOT / "geodata" / "examples" / "belgorod-raid-2023-05.md"
KOZINKA = (50.4613, 35.6026)
AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _event(mention: str, *, article_id: str = "a1", resolved: bool = True, lat=50.4613, lon=35.6026,
           place: str = "Kozinka", geonameid: int | None = 1, candidates=(), **kw) -> Event:
    return Event(
        article_id=article_id, date="2023-05-22", date_end="2023-05-22", date_precision="day",
        date_basis="explicit", place=place if resolved else "", mention=mention,
        sentence=f"Fighting was reported in {mention}.", source="test", published="2023-05-23",
        lat=lat if resolved else None, lon=lon if resolved else None, resolved=resolved,
        geonameid=geonameid if resolved else None, feature_code="PPL" if resolved else "",
        country_code="RU" if resolved else "", country="Russia" if resolved else "",
        candidates=candidates_json(candidates), geocoder="gazetteer" if resolved else "", **kw,
    )


ALTERNATIVE = Candidate("Kozinka", 52.52, 39.33, "PPL", "Lipetsk Oblast", "RU", 2, 0.4, "geonames")


def test_move_to_candidate_keeps_id_records_history_and_offers_the_old_place_back():
    frame = events_to_frame([_event("Kozinka", candidates=[ALTERNATIVE])])
    original = frame.copy()
    event_id = frame.loc[0, "event_id"]

    out = apply_review(frame, event_id[:8], ReviewAction(candidate=0, note="wrong oblast"), by="alice", at=AT)

    row = out.iloc[0]
    assert row["event_id"] == event_id
    assert (row["lat"], row["lon"], row["admin1"]) == (52.52, 39.33, "Lipetsk Oblast")
    assert row.geometry.y == pytest.approx(52.52) and row.geometry.x == pytest.approx(39.33)
    assert row["review_status"] == "corrected" and row["reviewed_by"] == "alice"
    assert row["reviewed_at"] == "2024-01-02T03:04:05+00:00"
    history = json.loads(row["review_history"])
    assert history[0]["note"] == "wrong oblast"
    assert history[0]["changes"]["lat"] == [50.4613, 52.52]
    alternatives = json.loads(row["candidates"])
    assert alternatives[0]["lat"] == pytest.approx(KOZINKA[0]) and alternatives[0]["admin1"] == ""
    pd.testing.assert_frame_equal(frame, original)  # the input frame is not mutated

    back = apply_review(out, event_id, ReviewAction(candidate=0), by="bob", at=AT)
    assert (back.iloc[0]["lat"], back.iloc[0]["lon"]) == KOZINKA
    assert len(json.loads(back.iloc[0]["review_history"])) == 2


def test_move_unresolved_mention_to_a_clicked_point_and_fix_the_date():
    frame = events_to_frame([_event("Hlyboke", resolved=False)])
    out = apply_review(frame, frame.loc[0, "event_id"],
                       ReviewAction(point=(50.3861, 36.6519), place="Hlyboke", date=date(2023, 5, 24),
                                    date_end=date(2023, 5, 25)), by="carol", at=AT)
    row = out.iloc[0]
    assert bool(row["resolved"]) and row["place"] == "Hlyboke" and row["geo_precision"] == "point"
    assert haversine_km(row["lat"], row["lon"], 50.3861, 36.6519) < 0.01
    assert (row["date"], row["date_end"], row["date_precision"], row["date_basis"]) == (
        "2023-05-24", "2023-05-25", "day", "review")
    assert row["review_status"] == "corrected"


@pytest.mark.parametrize("action, message", [
    (lambda: ReviewAction(candidate=3), "has 0 candidate"),
    (lambda: ReviewAction(point=(95.0, 10.0)), "latitude must be"),
    (lambda: ReviewAction(date=date(2023, 5, 24), date_end=date(2023, 5, 20)), "before date"),
    (lambda: ReviewAction(verdict="maybe"), "verdict"),
])
def test_bad_reviews_are_refused_with_a_reason(action, message):
    frame = events_to_frame([_event("Kozinka")])
    with pytest.raises(ReviewError, match=message):
        apply_review(frame, frame.loc[0, "event_id"], action(), by="alice")


def test_unknown_or_ambiguous_id_is_refused():
    frame = events_to_frame([_event("Kozinka"), _event("Gora Podol", place="Gora-Podol", geonameid=7)])
    with pytest.raises(ReviewError, match="no event"):
        apply_review(frame, "ffffffffff", ReviewAction(verdict="accepted"), by="alice")
    with pytest.raises(ReviewError, match="at least 6"):
        apply_review(frame, "", ReviewAction(verdict="accepted"), by="alice")


def test_reingest_replaces_an_unresolved_reading_by_a_resolved_one():
    unresolved = events_to_frame([_event("Hlyboke", resolved=False), _event("Kozinka", article_id="other")])
    now = events_to_frame([_event("Hlyboke", place="Hlyboke", lat=50.3861, lon=36.6519, geonameid=9)])
    result = merge_reingest(unresolved, now, ["a1"])
    assert (result.added, result.superseded) == (1, 1)
    assert len(result.frame) == 2
    mine = result.frame.loc[result.frame["article_id"] == "a1"].iloc[0]
    assert bool(mine["resolved"]) and mine["lat"] == pytest.approx(50.3861)
    assert (result.frame["article_id"] == "other").sum() == 1  # other articles untouched


def test_reingest_never_replaces_a_resolved_event_by_an_unresolved_reading():
    stored = events_to_frame([_event("Hlyboke", place="Hlyboke", lat=50.3861, lon=36.6519, geonameid=9)])
    offline = events_to_frame([_event("Hlyboke", resolved=False)])
    result = merge_reingest(stored, offline, ["a1"])
    assert (result.added, result.superseded, len(result.frame)) == (0, 0, 1)
    assert bool(result.frame.iloc[0]["resolved"])


def test_corrections_survive_reingest_and_are_exported(pipeline, store):
    article = parse_article(RAID.read_text(encoding="utf-8"), name=RAID.name)
    first = pipeline.ingest_articles([article], store=store)
    events = read_events(store)
    kozinka = events.loc[events["place"] == "Kozinka"].iloc[0]
    other = events.loc[events["place"] != "Kozinka"].iloc[0]
    review_event(store, kozinka["event_id"], ReviewAction(point=(50.47, 35.61), date=date(2023, 5, 23)), by="alice")
    review_event(store, other["event_id"], ReviewAction(verdict="rejected", note="duplicate"), by="bob")

    # Same text with other whitespace and another file name: the same article.
    again = parse_article(RAID.read_text(encoding="utf-8").replace(". ", ".   \n") + "\n\n", name="copy.txt")
    report = pipeline.ingest_articles([again], store=store)

    assert report.added == 0 and report.superseded == 0 and report.reviewed_kept == 2
    after = read_events(store)
    assert len(after) == first.total_in_store
    moved = after.loc[after["event_id"] == kozinka["event_id"]].iloc[0]
    assert (moved["lat"], moved["lon"], moved["date"]) == (50.47, 35.61, "2023-05-23")
    assert after.loc[after["event_id"] == other["event_id"], "review_status"].item() == "rejected"

    exported = {f["properties"]["event_id"]: f for f in to_geojson(after)["features"]}
    feature = exported[kozinka["event_id"]]
    assert feature["geometry"]["coordinates"] == pytest.approx([35.61, 50.47])
    assert feature["properties"]["review_status"] == "corrected"
    assert feature["properties"]["reviewed_by"] == "alice"
    assert json.loads(feature["properties"]["review_history"])[0]["changes"]["date"] == ["2023-05-22", "2023-05-23"]


def test_review_cli_moves_an_event_and_refuses_bad_input(tmp_path):
    store = tmp_path / "events.gpkg"
    assert run_cli("ingest", str(RAID), "--store", str(store)).returncode == 0
    kozinka = read_events(str(store)).query("place == 'Kozinka'").iloc[0]
    before = store.read_bytes()

    bad = run_cli("review", kozinka["event_id"][:8], "--move", "50.4,abc", "--store", str(store))
    assert bad.returncode == 2 and "LAT,LON" in bad.stderr and "Traceback" not in bad.stderr
    assert store.read_bytes() == before

    ok = run_cli("review", kozinka["event_id"][:8], "--move", "50.47,35.61", "--by", "dana",
                 "--store", str(store))
    assert ok.returncode == 0, ok.stderr
    row = read_events(str(store)).query(f"event_id == '{kozinka['event_id']}'").iloc[0]
    assert (row["lat"], row["lon"], row["reviewed_by"], row["review_status"]) == (50.47, 35.61, "dana", "corrected")


def test_review_cli_numbers_candidates_from_one(tmp_path):
    from pipelines.store import ingest_events

    store = tmp_path / "events.gpkg"
    event = _event("Kozinka", candidates=[ALTERNATIVE])
    ingest_events(str(store), events_to_frame([event]), ["a1"])
    zero = run_cli("review", event.event_id, "--candidate", "0", "--store", str(store))
    assert zero.returncode == 2 and "numbered from 1" in zero.stderr
    one = run_cli("review", event.event_id, "--candidate", "1", "--by", "dana", "--store", str(store))
    assert one.returncode == 0, one.stderr
    row = read_events(str(store)).iloc[0]
    assert (row["lat"], row["lon"], row["admin1"]) == (52.52, 39.33, "Lipetsk Oblast")
