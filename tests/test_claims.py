"""Conflicting claims kept side by side (pipelines/claims.py)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from conftest import SEED_TEXT
from pipelines.articles import parse_article
from pipelines.claims import COLUMNS, has_conflict, related_claims
from pipelines.schema import LATER_COLUMNS, conform, events_to_frame
from pipelines.store import ingest_events, read_events


def _frame(pipeline, *articles):
    events = []
    for a in articles:
        events.extend(pipeline.events_for(a).events)
    return events_to_frame(events)


def _event_id(frame, place, day, source=None):
    hits = frame[(frame["place"] == place) & (frame["date"] == day)]
    if source is not None:
        hits = hits[hits["source"] == source]
    assert len(hits) == 1, hits[["place", "date", "source"]]
    return hits.iloc[0]["event_id"]


@pytest.fixture(scope="module")
def seed_frame(pipeline):
    if not SEED_TEXT.exists():
        pytest.skip("../shared/corpus/seed is not present")
    article = parse_article(SEED_TEXT.read_text(encoding="utf-8"), name=SEED_TEXT.name,
                            published=date(2023, 5, 23))
    return _frame(pipeline, article)


def test_seed_23_may_report_and_denial_side_by_side(seed_frame):
    event_id = _event_id(seed_frame, "Belgorod Oblast", "2023-05-23")
    rows = related_claims(seed_frame, event_id)
    assert list(rows.columns) == COLUMNS
    own = rows[rows["event_id"] == event_id]
    assert [(r.claimant, r.stance) for r in own.itertuples()] == [
        ("Russian Ministry of Defence", "asserts"), ("Russian Volunteer Corps", "denies"),
        ("Freedom of Russia Legion", "denies")]
    assert (own["relation"] == "same event").all()
    assert own["conflict"].all()
    assert json.loads(own.iloc[0]["conflicts_with"]) == ["Russian Volunteer Corps", "Freedom of Russia Legion"]
    assert json.loads(own.iloc[1]["conflicts_with"]) == ["Russian Ministry of Defence"]
    for r in own.itertuples():
        assert "reported the defeat" in r.sentence and r.source == seed_frame.iloc[0]["source"]
    assert has_conflict(seed_frame.set_index("event_id").loc[event_id, "claims"])
    # only 23 May is related: the 22 May events do not overlap it
    assert set(rows["date"]) == {"2023-05-23"}


def test_seed_kozinka_relates_to_its_region_and_neighbour_without_conflict(seed_frame):
    rows = related_claims(seed_frame, _event_id(seed_frame, "Kozinka", "2023-05-22"))
    relations = dict(zip(rows["place"], rows["relation"]))
    assert relations["Kozinka"] == "same event"
    assert relations["Belgorod Oblast"] == "enclosing area"
    assert not rows["conflict"].any()
    # Gora-Podol's only sentence also names Kozinka: it is listed once, under the closest relation
    assert "Gora-Podol" not in relations
    assert not rows.duplicated(["claimant", "stance", "sentence"]).any()
    region = related_claims(seed_frame, _event_id(seed_frame, "Belgorod Oblast", "2023-05-22"))
    # the places inside Belgorod Oblast add the sentences the region's own event does not quote
    inside = region[region["relation"] == "inside area"]
    assert list(inside["place"]) == ["Kozinka"] and "villages of Kozinka and Gora Podol" in inside.iloc[0]["sentence"]


TASS = """---
title: Ministry reports shelling of Kozinka checkpoint
published: 2023-05-24
url: https://example.org/a
---
On 23 May 2023, Ukrainian troops shelled the checkpoint near the village of Kozinka, the Russian Defense Ministry said.
"""

LEGION = """---
title: Legion statement on Kozinka
published: 2023-05-24
url: https://example.org/b
---
The Freedom of Russia Legion denied that the village of Kozinka was shelled on 23 May 2023.
"""


def _article(text, name):
    return parse_article(text, name=name)


def test_two_sources_disagree_about_the_same_place_and_day(pipeline, tmp_path):
    frame = _frame(pipeline, _article(TASS, "a.md"), _article(LEGION, "b.md"))
    # through the store and back: the columns survive
    store = str(tmp_path / "events.gpkg")
    ingest_events(store, frame, set(frame["article_id"]))
    stored = read_events(store)
    a = _event_id(stored, "Kozinka", "2023-05-23", "Ministry reports shelling of Kozinka checkpoint")
    b = _event_id(stored, "Kozinka", "2023-05-23", "Legion statement on Kozinka")
    assert a != b
    rows = related_claims(stored, a)
    side = {(r.event_id, r.relation, r.claimant, r.stance, r.url) for r in rows.itertuples()}
    assert side == {
        (a, "same event", "Russian Ministry of Defence", "asserts", "https://example.org/a"),
        (b, "same place", "Freedom of Russia Legion", "denies", "https://example.org/b"),
    }
    assert rows["conflict"].all()
    back = related_claims(stored, b[:8])  # a prefix of the id works too
    assert set(back["event_id"]) == {a, b} and back.iloc[0]["event_id"] == b
    tagged = stored.set_index("event_id")
    assert tagged.loc[a, "event_type"] == "shelling_strike"
    assert tagged.loc[b, "claim_stance"] == "denies"
    assert json.loads(tagged.loc[a, "actors"]) == ["Armed Forces of Ukraine", "Russian Ministry of Defence"]


def test_other_days_and_far_places_are_not_related(pipeline):
    other_day = TASS.replace("On 23 May 2023", "On 20 May 2023")
    far = LEGION.replace("Kozinka", "Voronezh")
    frame = _frame(pipeline, _article(other_day, "a.md"), _article(far, "b.md"), _article(TASS, "c.md"))
    rows = related_claims(frame, _event_id(frame, "Kozinka", "2023-05-23"))
    assert set(rows["relation"]) == {"same event"} and not rows["conflict"].any()


def test_a_village_within_5_km_is_nearby(pipeline):
    gora = LEGION.replace("the village of Kozinka", "the village of Gora Podol")
    frame = _frame(pipeline, _article(TASS, "a.md"), _article(gora, "b.md"))
    rows = related_claims(frame, _event_id(frame, "Kozinka", "2023-05-23"))
    assert dict(zip(rows["place"], rows["relation"])) == {"Kozinka": "same event", "Gora-Podol": "nearby"}
    assert rows["conflict"].all()
    assert related_claims(frame, _event_id(frame, "Kozinka", "2023-05-23"), radius_km=1).shape[0] == 1


def test_events_stored_before_claims_existed_fall_back_to_their_source(pipeline):
    frame = _frame(pipeline, _article(TASS, "a.md"))
    old = pd.DataFrame(frame.drop(columns=[*LATER_COLUMNS, "geometry"]))
    loaded = conform(old)
    assert (loaded["claims"] == "[]").all() and (loaded["claimant"] == "").all()
    rows = related_claims(loaded, loaded.iloc[0]["event_id"])
    assert rows.iloc[0]["claimant"] == "Ministry reports shelling of Kozinka checkpoint"
    assert rows.iloc[0]["stance"] == "asserts"


def test_unknown_event_id_is_a_key_error(seed_frame):
    with pytest.raises(KeyError):
        related_claims(seed_frame, "no-such-id")
