"""The review panel's pure parts (candidate options, distances, labels, the
queue, clicked points, the detail card's history, highlights and claims),
then the panel itself run headless with streamlit.testing: each button
writes the store through pipelines.review and the page shows the result."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest
from conftest import run_app as run_page
from streamlit.testing.v1 import AppTest

from dashboard import detail, review
from pipelines.errors import EventAtlasError
from pipelines.review import ReviewAction, apply_review
from pipelines.schema import Candidate, Event, candidates_json, events_to_frame
from pipelines.store import ingest_events, read_events

from test_dashboard_safe import HOSTILE, Fragment, assert_inert


GORA_PODOL = Candidate("Gora-Podol", 50.4867, 35.6644, "PPL", "Belgorod Oblast", "RU", 579404, 0.61, "gazetteer")
KOZINKA_UA = Candidate("Kozynka", 48.9, 36.1, "PPL", "Kharkiv Oblast", "UA", None, 0.42, "gazetteer")
NO_POINT = {"name": "Nowhere", "lat": None, "lon": None}


def _event(date_, place, mention, lat=None, lon=None, candidates=(), **kw) -> Event:
    return Event(
        article_id="review-test", date=date_, date_end=date_, date_precision="day", date_basis="explicit",
        place=place, mention=mention, sentence=kw.pop("sentence", f"Shelling was reported in {mention}."),
        source="Raid report", published="2023-05-24", admin1="Belgorod Oblast", country="Russia",
        country_code="RU", lat=lat, lon=lon, resolved=lat is not None, score=0.8,
        candidates=candidates_json(candidates), **kw,
    )


KOZINKA = _event("2023-05-22", "Kozinka", "Kozinka", 50.4397, 35.5306, (GORA_PODOL, KOZINKA_UA),
                 url="https://example.org/raid")
GLOTOVO = _event("2023-05-23", "", "Glotovo-Nowhere", candidates=(GORA_PODOL,))
EVENTS = [KOZINKA, GLOTOVO, _event("2023-05-23", "Shebekino", "Shebekino", 50.4, 36.89)]


def frame():
    return events_to_frame(EVENTS)


def row_of(events, event: Event) -> pd.Series:
    return events.loc[events["event_id"] == event.event_id].iloc[0]


# -- pure --------------------------------------------------------------------

def test_haversine_known_distances():
    assert review.haversine_km(0, 0, 0, 1) == pytest.approx(111.195, abs=0.01)
    assert review.haversine_km(50.4397, 35.5306, 50.4397, 35.5306) == 0
    # Kozinka → Gora-Podol, about 10.7 km.
    assert review.haversine_km(50.4397, 35.5306, 50.4867, 35.6644) == pytest.approx(10.7, abs=0.2)
    assert review.haversine_km(0, 179.9, 0, -179.9) == pytest.approx(22.24, abs=0.01)  # across the antimeridian


def test_candidate_options_number_from_one_and_index_from_zero():
    options = review.candidate_options(row_of(frame(), KOZINKA))
    assert [(o.number, o.index, o.name) for o in options] == [(1, 0, "Gora-Podol"), (2, 1, "Kozynka")]
    first, second = options
    assert first.distance_km == pytest.approx(10.7, abs=0.2)
    assert (first.admin1, first.country, first.country_code, first.score) == ("Belgorod Oblast", "Russia", "RU", 0.61)
    assert second.country == "Ukraine" and second.admin1 == "Kharkiv Oblast"
    assert first.label == "#1 Gora-Podol · Belgorod Oblast · Russia · 10.8 km away · score 0.61"


def test_candidates_of_an_unresolved_event_have_no_distance():
    (option,) = review.candidate_options(row_of(frame(), GLOTOVO))
    assert option.distance_km is None and option.movable
    assert "away" not in option.label


@pytest.mark.parametrize("raw", ["", "not json", "{}", json.dumps([NO_POINT, 3, "x"]),
                                 json.dumps([{"name": "far", "lat": 95, "lon": 10}])])
def test_bad_candidates_are_never_an_error(raw):
    row = row_of(frame(), KOZINKA).copy()
    row["candidates"] = raw
    options = review.candidate_options(row)
    assert all(not o.movable for o in options)
    assert review.candidates_html(options)


def test_candidate_index_matches_what_pipelines_review_moves_to():
    events = frame()
    options = review.candidate_options(row_of(events, KOZINKA))
    moved = apply_review(events, KOZINKA.event_id, ReviewAction(candidate=options[1].index), by="ann")
    after = row_of(moved, KOZINKA)
    assert (after["place"], after["lat"], after["lon"]) == ("Kozynka", 48.9, 36.1)
    # The old place is now an alternative at the same number, so the move can be undone.
    assert review.candidate_options(after)[1].name == "Kozinka"


@pytest.mark.parametrize(("km", "text"), [(None, "—"), (0.25, "250 m"), (10.73, "10.7 km"), (1234.4, "1,234 km")])
def test_distance_text(km, text):
    assert review.distance_text(km) == text


def test_status_and_pick_labels():
    events = frame()
    row = row_of(events, KOZINKA)
    assert review.status_text(row) == "not reviewed"
    assert review.pick_label(row).startswith("2023-05-22 · Kozinka · Raid report")
    assert review.pick_label(row_of(events, GLOTOVO)).endswith("(unresolved)")
    done = row_of(apply_review(events, KOZINKA.event_id, ReviewAction(verdict="rejected"), by="Ann",
                               at=pd.Timestamp("2023-06-01T10:00:00Z").to_pydatetime()), KOZINKA)
    assert review.status_text(done) == "rejected by Ann at 2023-06-01T10:00:00+00:00"
    assert review.pick_label(done).startswith("✗ ")


def test_queue_holds_unresolved_mentions_no_one_decided_on():
    events = frame()
    assert list(review.queue_frame(events)["mention"]) == ["Glotovo-Nowhere"]
    assert list(review.queue_frame(events)["candidates"]) == ["Gora-Podol"]
    assert list(review.scope_rows(events, "queue")["event_id"]) == [GLOTOVO.event_id]
    assert len(review.scope_rows(events, "shown")) == 3
    rejected = apply_review(events, GLOTOVO.event_id, ReviewAction(verdict="rejected"), by="ann")
    assert review.queue_frame(rejected).empty
    assert len(review.scope_rows(rejected, "unreviewed")) == 2
    placed = apply_review(events, GLOTOVO.event_id, ReviewAction(candidate=0), by="ann")
    assert review.queue_frame(placed).empty


@pytest.mark.parametrize(("value", "point"), [
    ({"lat": 50.5, "lng": 35.6}, (50.5, 35.6)),
    ({"lat": 10, "lng": 190}, (10, -170)),
    ({"lat": 10, "lng": -181}, (10, 179)),
    ({"lat": 91, "lng": 0}, None),
    ({"lat": "x", "lng": 0}, None),
    ({"lat": float("nan"), "lng": 0}, None),
    (None, None),
    ("50,35", None),
])
def test_clicked_point(value, point):
    got = review.clicked_point(value)
    assert got == (pytest.approx(point) if point else None)


def test_map_center_prefers_the_event_then_a_candidate():
    events = frame()
    assert review.map_center(row_of(events, KOZINKA), events) == (50.4397, 35.5306)
    assert review.map_center(row_of(events, GLOTOVO), events) == (50.4867, 35.6644)


def test_date_action_defaults_the_end_and_refuses_a_reversed_range():
    action = review.date_action(date(2023, 5, 23), None)
    assert (action.date, action.date_end) == (date(2023, 5, 23), date(2023, 5, 23))
    with pytest.raises(EventAtlasError):
        review.date_action(date(2023, 5, 23), date(2023, 5, 22))


def test_point_map_uses_local_assets_and_escapes_names():
    events = frame()
    row = row_of(events, KOZINKA).copy()
    row["candidates"] = json.dumps([{"name": "<img src=x onerror=alert(1)>{{7*7}}", "lat": 50.5, "lon": 35.6}])
    html = review.point_map(row, events, "/app/static").get_root().render()
    assert "cdn.jsdelivr" not in html and "/app/static/" in html
    assert "<img src=x" not in html and "{{7*7}}" not in html and "=49" not in html
    assert html.count("L.circleMarker(") == 2


# -- detail card: highlight, history, claims -----------------------------------

def test_mention_is_highlighted_and_escaped():
    html = detail.highlight_html("Shelling hit <b>Kozinka</b> and kozinka again.", ["Kozinka"])
    assert html.count('class="ea-mention"') == 2
    assert "&lt;b&gt;" in html and "<b>Kozinka" not in html.replace('<b class="ea-mention"', "")
    assert detail.mention_spans("Gora-Podol and Gora", ["Gora-Podol", "Gora"]) == [(0, 10), (15, 19)]
    assert detail.mention_spans("a.b axb", ["a.b"]) == [(0, 3)]  # literal, not a regex


def test_history_lists_who_when_and_what_changed():
    events = frame()
    moved = apply_review(events, KOZINKA.event_id, ReviewAction(candidate=0, note="map check"), by="Ann",
                         at=pd.Timestamp("2023-06-01T10:00:00Z").to_pydatetime())
    (entry,) = detail.history_entries(row_of(moved, KOZINKA))
    assert (entry["by"], entry["action"], entry["note"]) == ("Ann", "move to candidate", "map check")
    assert "place: Kozinka → Gora-Podol" in entry["changes"] and "candidates changed" in entry["changes"]
    card = detail.detail_html(row_of(moved, KOZINKA))
    assert "review history" in card and "2023-06-01T10:00:00+00:00" in card
    assert "none: not reviewed yet" in detail.detail_html(row_of(events, GLOTOVO))


def test_claims_side_by_side_and_conflict_flagged_from_the_event_itself():
    events = frame()
    row = row_of(events, KOZINKA).copy()
    row["claims"] = json.dumps([
        {"claimant": "Russian Ministry of Defence", "stance": "asserts", "sentence": "The raiders were defeated."},
        {"claimant": "<i>Legion</i>", "stance": "denies", "sentence": "We hold the village."},
    ])
    claims = detail.own_claims(row)
    assert [c["stance"] for c in claims] == ["asserts", "denies"]
    flagged = detail.related_claims(None, row)
    assert all(c["conflict"] for c in flagged)
    html = detail.claims_html(flagged)
    assert "Sources disagree" in html and 'class="ea-claims-asserts"' in html and 'class="ea-claims-denies"' in html
    assert "&lt;i&gt;Legion&lt;/i&gt;" in html
    assert assert_inert(detail.detail_html(row, flagged), "claims")


def test_no_claims_no_claims_block():
    row = row_of(frame(), KOZINKA)
    assert detail.own_claims(row) == [] and detail.claims_html([]) == ""
    row = row.copy()
    row["claimant"], row["claim_stance"] = "Governor", "asserts"
    (claim,) = detail.own_claims(row)
    assert (claim["claimant"], claim["stance"], claim["conflict"]) == ("Governor", "asserts", False)


# -- the panel, headless ---------------------------------------------------------

@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "events.gpkg"
    ingest_events(str(path), events_to_frame(EVENTS), ["review-test"])
    return path


def run_app(monkeypatch, store, reviewer: str = "") -> AppTest:
    monkeypatch.setenv("EVENT_ATLAS_REVIEWER", reviewer)
    return run_page(monkeypatch, store)


def pick(at: AppTest, event: Event) -> None:
    (picker,) = [s for s in at.selectbox if s.key == "ea_event_pick"]
    picker.set_value(event.event_id).run()
    assert not at.exception, at.exception


def button(at: AppTest, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def stored(store, event: Event) -> pd.Series:
    return row_of(read_events(str(store)), event)


def test_moving_to_a_candidate_in_the_panel_writes_the_store(monkeypatch, store):
    at = run_app(monkeypatch, store, reviewer="Ann Analyst")
    pick(at, KOZINKA)
    assert at.text_input(key="ea_reviewer").value == "Ann Analyst"
    button(at, "Move to candidate 1").click().run()
    assert not at.exception, at.exception
    row = stored(store, KOZINKA)
    assert (row["place"], row["review_status"], row["reviewed_by"]) == ("Gora-Podol", "corrected", "Ann Analyst")
    assert math.isclose(row["lat"], GORA_PODOL.lat) and math.isclose(row["lon"], GORA_PODOL.lon)
    # The page reran on the new store version: the panel shows the correction.
    assert any("corrected by Ann Analyst" in m.value for m in at.markdown)
    # Re-ingesting the article keeps the analyst's version.
    ingest_events(str(store), events_to_frame(EVENTS), ["review-test"])
    again = stored(store, KOZINKA)
    assert (again["place"], again["review_status"], again["lat"]) == ("Gora-Podol", "corrected", GORA_PODOL.lat)


def test_a_decision_needs_a_reviewer_name(monkeypatch, store):
    at = run_app(monkeypatch, store)
    pick(at, KOZINKA)
    button(at, "Accept").click().run()
    assert any("reviewer's name" in w.value for w in at.warning)
    assert stored(store, KOZINKA)["review_status"] == ""
    at.text_input(key="ea_reviewer").input("Bo").run()
    button(at, "Accept").click().run()
    assert (stored(store, KOZINKA)["review_status"], stored(store, KOZINKA)["reviewed_by"]) == ("accepted", "Bo")
    button(at, "Reopen").click().run()
    assert stored(store, KOZINKA)["review_status"] == ""
    assert [h["action"] for h in json.loads(stored(store, KOZINKA)["review_history"])] == ["accept", "reopen"]


def test_fix_date_and_queue_in_the_panel(monkeypatch, store):
    at = run_app(monkeypatch, store, reviewer="Ann")
    (queue,) = [e for e in at.expander if "Unresolved" in e.label]
    assert "(1)" in queue.label
    at.radio(key="ea_pick_scope").set_value("queue").run()
    (picker,) = [s for s in at.selectbox if s.key == "ea_event_pick"]
    assert picker.options == [review.pick_label(row_of(frame(), GLOTOVO))]
    at.date_input(key=f"ea_start_{GLOTOVO.event_id}").set_value(date(2023, 5, 24))
    at.date_input(key=f"ea_end_{GLOTOVO.event_id}").set_value(date(2023, 5, 25))
    button(at, "Fix date").click().run()
    row = stored(store, GLOTOVO)
    assert (row["date"], row["date_end"], row["date_basis"], row["review_status"]) == (
        "2023-05-24", "2023-05-25", "review", "corrected")
    # Decided on: it has left the queue.
    (queue,) = [e for e in at.expander if "Unresolved" in e.label]
    assert "(0)" in queue.label


def test_a_reversed_date_range_is_refused_without_a_write(monkeypatch, store):
    at = run_app(monkeypatch, store, reviewer="Ann")
    pick(at, KOZINKA)
    at.date_input(key=f"ea_end_{KOZINKA.event_id}").set_value(date(2023, 5, 1))
    button(at, "Fix date").click().run()
    assert any("before" in e.value for e in at.error)
    assert stored(store, KOZINKA)["date_end"] == "2023-05-22"


def test_claims_of_two_disagreeing_articles_come_from_pipelines_claims():
    """Two articles about Kozinka on 23 May: one asserts, one denies. The detail
    card of either shows both side by side, with who, and the conflict."""
    mod = _event("2023-05-23", "Kozinka", "Kozinka", 50.4397, 35.5306, url="https://example.org/raid",
                 sentence="The Russian Ministry of Defence said the raiders in Kozinka were defeated.",
                 claims=json.dumps([{"claimant": "Russian Ministry of Defence", "stance": "asserts",
                                     "sentence": "The raiders in Kozinka were defeated.", "start": 0, "end": 10}]))
    legion = Event(**{**mod.__dict__, "article_id": "other-article", "event_id": "", "source": "Legion channel",
                      "url": "javascript:alert(1)", "sentence": "The Legion denied it.",
                      "claims": json.dumps([{"claimant": "Freedom of Russia Legion", "stance": "denies",
                                             "sentence": "The Legion denied it.", "start": 0, "end": 5}])})
    legion.__post_init__()
    events = events_to_frame([mod, legion])
    claims = detail.related_claims(events, row_of(events, mod))
    assert {(c["claimant"], c["stance"], c["this"]) for c in claims} == {
        ("Russian Ministry of Defence", "asserts", True), ("Freedom of Russia Legion", "denies", False)}
    assert all(c["conflict"] for c in claims)
    card = detail.detail_html(row_of(events, mod), claims)
    frag = assert_inert(card, "claims")
    assert "Sources disagree" in frag.joined
    assert "contradicted by Freedom of Russia Legion" in frag.joined
    assert "Legion channel" in frag.joined
    assert {a["href"] for t, a in frag.tags if t == "a"} == {"https://example.org/raid"}  # never the javascript: one


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_candidates_and_history_are_inert_text(value):
    row = row_of(frame(), KOZINKA).copy()
    row["candidates"] = json.dumps([{"name": value, "lat": 50.5, "lon": 35.6, "admin1": value,
                                     "feature_code": value, "country_code": value[:2]}])
    markup = review.candidates_html(review.candidate_options(row))
    frag = assert_inert(markup, value)
    assert " ".join(value.split()) in " ".join(frag.joined.split())
    row["review_history"] = json.dumps([{"at": value, "by": value, "action": value, "note": value,
                                         "changes": {"place": [value, value]}}])
    assert_inert(detail.history_html(row), value)
    assert "\n" not in review.pick_label(row)


def test_find_rows_narrows_by_id_place_or_mention():
    import pandas as pd

    from dashboard.review import find_rows

    rows = pd.DataFrame({"event_id": ["ab12cd34", "ff00ee11", "9e420bb7"],
                         "place": ["Kozinka", "Kyiv", ""], "mention": ["Kozynka", "Kyiv", "Glotovo"]})
    assert list(find_rows(rows, "koz")["event_id"]) == ["ab12cd34"]
    assert list(find_rows(rows, "9E42")["event_id"]) == ["9e420bb7"]
    assert list(find_rows(rows, "glotovo")["event_id"]) == ["9e420bb7"]
    assert len(find_rows(rows, "  ")) == 3
    assert find_rows(rows, "(.*").empty  # literal text, not a regex


def test_queue_pages_hold_every_waiting_mention_once_in_date_order():
    base = frame()
    glotovo = base.loc[base["event_id"] == GLOTOVO.event_id]
    many = pd.concat([glotovo.assign(event_id=[f"q{i:03d}"], mention=[f"Place{i:03d}"],
                                     date=[f"2023-05-{1 + i % 28:02d}"]) for i in range(250)]
                     + [base.loc[base["event_id"] != GLOTOVO.event_id]], ignore_index=True)
    pages = [review.queue_frame(many, page, size=100) for page in (1, 2, 3)]
    assert [len(p) for p in pages] == [100, 100, 50]
    mentions = [m for p in pages for m in p["mention"]]
    assert sorted(mentions) == sorted(f"Place{i:03d}" for i in range(250))
    dates = [d for p in pages for d in p["date"]]
    assert dates == sorted(dates)
    assert list(review.queue_frame(many, 9, size=100)["mention"]) == list(pages[2]["mention"])  # clamped
