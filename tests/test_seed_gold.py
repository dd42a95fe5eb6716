"""The real seed article, ingested and exported, matches its gold annotation."""

from __future__ import annotations

import json

import pytest

from conftest import SEED_TEXT, haversine_km, run_cli

pytestmark = pytest.mark.seed


@pytest.fixture(scope="module")
def seed_features(tmp_path_factory, seed_gold):
    tmp = tmp_path_factory.mktemp("seed")
    store = tmp / "events.gpkg"
    out = tmp / "seed.geojson"
    ingest = run_cli("ingest", str(SEED_TEXT), "--published", seed_gold["published"], "--store", str(store))
    assert ingest.returncode == 0, ingest.stderr
    export = run_cli("export", "--store", str(store), "--format", "geojson", "-o", str(out))
    assert export.returncode == 0, export.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    return collection["features"], ingest.stdout


def _matches(feature: dict, place: dict) -> bool:
    """The gold file's match_note, to the letter."""
    props = feature["properties"]
    if feature["geometry"] is None:
        return False
    lon, lat = feature["geometry"]["coordinates"]
    if haversine_km(lat, lon, place["lat"], place["lon"]) > place["tolerance_km"]:
        return False
    if props["date"] not in place["event_dates"]:
        return False
    text = " ".join(str(props[k]) for k in ("place", "mention", "geo_precision")).lower()
    return all(any(word in text for word in group) for group in place["match_all"])


def test_every_gold_place_is_found_on_each_gold_date(seed_features, seed_gold):
    features, _ = seed_features
    for place in seed_gold["places"]:
        for day in place["event_dates"]:
            hits = [f for f in features if _matches(f, {**place, "event_dates": [day]})]
            assert hits, f"no event for {place['name']} on {day}"


def test_gold_places_carry_only_gold_dates(seed_features, seed_gold):
    """Kozinka is dated 22 May wherever it is mentioned, not the publication date."""
    features, _ = seed_features
    for place in seed_gold["places"]:
        near = [f for f in features if f["geometry"] and _matches(f, {**place, "event_dates": [f["properties"]["date"]]})]
        dates = {f["properties"]["date"] for f in near}
        assert dates == set(place["event_dates"]), (place["name"], dates)


def test_kozynka_resolves_to_the_same_kozinka(seed_features):
    features, _ = seed_features
    kozynka = [f for f in features if "kozynka" in f["properties"]["mention"].lower()]
    kozinka = [f for f in features if "Kozinka" in f["properties"]["mention"].split(" | ")]
    assert kozynka and kozinka
    assert {f["properties"]["geonameid"] for f in kozynka} == {f["properties"]["geonameid"] for f in kozinka} == {543229}


def test_no_event_far_from_grayvoron_and_no_other_year(seed_features, seed_gold):
    features, _ = seed_features
    bound = seed_gold["all_events_within"]
    for f in features:
        assert f["properties"]["date"].startswith("2023-"), f["properties"]
        if f["geometry"]:
            lon, lat = f["geometry"]["coordinates"]
            assert haversine_km(lat, lon, bound["lat"], bound["lon"]) <= bound["km"], f["properties"]["mention"]


def test_countries_and_figures_of_speech_are_not_events(seed_features):
    features, _ = seed_features
    mentions = {f["properties"]["mention"].lower() for f in features}
    for word in ("russia", "ukraine", "russian federation", "kremlin", "ukrainian", "russian"):
        assert word not in mentions


def test_every_event_quotes_its_sentence_verbatim(seed_features):
    features, _ = seed_features
    text = SEED_TEXT.read_text(encoding="utf-8")
    for f in features:
        props = f["properties"]
        assert props["sentence"] in text
        evidence = json.loads(props["evidence"])
        assert evidence[0]["sentence"] == props["sentence"]
        for proof in evidence:
            assert text[proof["start"]:proof["end"]] == proof["mention"]
            assert proof["mention"] in props["mention"].split(" | ")
        assert props["published"] == "2023-05-23"


def test_every_event_is_a_gold_place(seed_features, seed_gold):
    """Nothing else is mapped: no unresolved leftovers ("Russian territory")
    and no located event that is not one of the gold places."""
    features, stdout = seed_features
    assert "0 place mentions unresolved" in stdout
    for feature in features:
        assert feature["geometry"] is not None, feature["properties"]["mention"]
        assert any(_matches(feature, {**place, "event_dates": [feature["properties"]["date"]]})
                   for place in seed_gold["places"]), feature["properties"]["mention"]
