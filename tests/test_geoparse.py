"""Place recognition and resolution on the hard cases of news text."""

from __future__ import annotations

import pytest

from conftest import haversine_km
from pipelines.geoparse import KIND_COUNTRY, KIND_DEMONYM, KIND_PLACE, KIND_QUALIFIER


def places(geoparser, text):
    return [m for m in geoparser.parse(text) if m.kind == KIND_PLACE]


def test_village_pair_and_region_in_context(geoparser):
    text = ("Fighters entered the Belgorod region of Russia. On May 22 they started with the villages of "
            "Kozinka and Gora Podol.")
    found = {m.text: m for m in places(geoparser, text)}
    assert set(found) == {"Belgorod region", "Kozinka", "Gora Podol"}
    assert found["Kozinka"].place.geonameid == 543229
    assert haversine_km(found["Gora Podol"].place.lat, found["Gora Podol"].place.lon, 50.4739, 35.6464) < 5
    assert found["Belgorod region"].place.geo_precision == "region"
    assert found["Belgorod region"].start == text.index("Belgorod region")


def test_countries_and_demonyms_are_context_not_places(geoparser):
    text = "Ukrainian officials said Russia had shelled the Kharkiv region, and Ukraine denied involvement."
    mentions = geoparser.parse(text)
    kinds = {m.text: m.kind for m in mentions}
    assert kinds["Ukrainian"] == KIND_DEMONYM
    assert kinds["Russia"] == KIND_COUNTRY and kinds["Ukraine"] == KIND_COUNTRY
    assert [m.text for m in mentions if m.kind == KIND_PLACE] == ["Kharkiv region"]


def test_figures_of_speech_people_and_organisations_are_not_places(geoparser):
    text = ("The war will continue until Putin's body adorns the walls of the Kremlin, the Russian volunteers said. "
            "Vladimir Putin was informed. The Freedom of Russia Legion and the RVC were joined by FRL units of the "
            "Alpha and Vympel special forces.")
    assert places(geoparser, text) == []


def test_possessive_and_checkpoint_pattern(geoparser):
    text = ("The governor of Russia's Belgorod region said the Kozynka international checkpoint was shelled "
            "in the Graivoronsky district.")
    found = {m.text: m for m in places(geoparser, text)}
    assert set(found) == {"Belgorod region", "Kozynka international checkpoint", "Graivoronsky district"}
    assert found["Kozynka international checkpoint"].place.geonameid == 543229
    assert found["Graivoronsky district"].place.geo_precision == "district"


def test_unknown_place_in_a_pattern_is_kept_unresolved(geoparser):
    text = "Shelling was reported in the village of Zzyxovka and in the Qwertovsky district of Belgorod Oblast."
    found = {m.text: m for m in places(geoparser, text)}
    assert "Zzyxovka" in found and found["Zzyxovka"].place is None
    assert "Qwertovsky district" in found and found["Qwertovsky district"].place is None
    assert found["Belgorod Oblast"].place is not None


def test_context_picks_the_right_homonym(geoparser):
    text = "Flooding closed roads in Alexandria, and officials in Rapides Parish, Louisiana, opened shelters."
    found = {m.text: m for m in places(geoparser, text)}
    alexandria = found["Alexandria"].place
    assert alexandria.country_code == "US"
    assert haversine_km(alexandria.lat, alexandria.lon, 31.311, -92.445) < 15


def test_candidates_and_score_are_explainable(geoparser):
    text = "Reports came from Alexandria, the Egyptian port city."
    m = next(m for m in places(geoparser, text) if m.text == "Alexandria")
    assert m.place.country_code == "EG"
    assert len(m.candidates) > 3 and 0 < m.score <= 1
    assert m.candidates[0][1] >= m.candidates[1][1]


@pytest.mark.parametrize("word", ["May", "Top", "Scroll", "Read", "Of"])
def test_common_words_are_not_places(geoparser, word):
    text = f"{word} the fighters said nothing. Scroll to Top. Read all articles."
    assert places(geoparser, text) == []


def test_sentence_initial_word_is_not_a_given_name(geoparser):
    # "In" is also a given name: "In Columbus" is not a person, and "New" does not become a surname
    text = ("Talks went on for weeks. In Columbus, city firefighters agreed to a new contract. "
            "In New Zealand, 26 students fell ill; New Zealand closed the school.")
    found = {m.text: m for m in geoparser.parse(text)}
    columbus = found["Columbus"].place
    assert haversine_km(columbus.lat, columbus.lon, 39.96, -83.00) < 30  # Columbus, Ohio
    nz = found["New Zealand"]
    assert nz.kind == KIND_COUNTRY and nz.place.country_code == "NZ"


def test_place_named_in_an_organisation_is_a_qualifier_not_a_place(geoparser):
    text = ("Four Oakland Police Department officers were shot in Oakland, California. State Sen. Ray Miller, "
            "D-Columbus, said the Ohio Department of Health and the Georgia School Boards Association agreed. "
            "The Freedom of Russia Legion crossed the border.")
    mentions = geoparser.parse(text)
    kinds = {(m.text, m.start): m for m in mentions}
    oakland_org = kinds[("Oakland", text.index("Oakland"))]
    assert oakland_org.kind == KIND_QUALIFIER
    assert haversine_km(oakland_org.place.lat, oakland_org.place.lon, 37.80, -122.27) < 30
    assert kinds[("Oakland", text.index("Oakland,"))].kind == KIND_PLACE
    columbus = kinds[("Columbus", text.index("Columbus"))]
    assert columbus.kind == KIND_QUALIFIER
    assert haversine_km(columbus.place.lat, columbus.place.lon, 39.96, -83.00) < 30
    assert kinds[("Ohio", text.index("Ohio"))].kind == KIND_QUALIFIER
    assert kinds[("Georgia", text.index("Georgia"))].kind == KIND_QUALIFIER
    # a qualifier is never an event location: only kind "place" is
    assert {m.text for m in mentions if m.kind == KIND_PLACE} == {"Oakland", "California"}


@pytest.mark.parametrize("text, name, lat, lon", [
    ("About 41.5 percent of Atlanta-area calls came from Georgia.", "Atlanta", 33.75, -84.39),
    ("The airline resumed the Washington-Moscow route this spring.", "Moscow", 55.75, 37.62),
    ("The Albany-based National Weather Service said New York would see snow.", "Albany", 42.65, -73.75),
])
def test_place_inside_a_hyphenated_word(geoparser, text, name, lat, lon):
    m = next(m for m in geoparser.parse(text) if m.text == name)
    assert haversine_km(m.place.lat, m.place.lon, lat, lon) < 30


@pytest.mark.parametrize("text, name, lat, lon", [
    # the second name is the first's container, even against the article's other context
    ("Shreveport police in Louisiana said a man from Monroe, Georgia, was held.", "Monroe", 33.79, -83.71),
    ("Shreveport police in Louisiana said a man from Monroe, Georgia, was held.", "Georgia", 32.75, -83.5),
    ("Storms hit Missouri and Iowa; in Manhattan, Kan., roofs were torn off.", "Manhattan", 39.18, -96.57),
    ("Paris and Lyon were calm; Paris, Texas, was flooded.", "Texas", 31.0, -99.0),
])
def test_apposition_binds_a_place_to_its_container(geoparser, text, name, lat, lon):
    found = [m for m in geoparser.parse(text) if m.text == name]
    m = found[-1]
    assert haversine_km(m.place.lat, m.place.lon, lat, lon) < (300 if m.place.feature_code == "ADM1" else 30)


def test_names_that_lie_together_pick_each_other(geoparser):
    # alone, Paris is France's capital; beside Henry County it is Paris, Tennessee
    text = "Paris and Henry County are rich in history, and the Paris rescue squad serves all of Henry County."
    paris = next(m for m in places(geoparser, text) if m.text == "Paris")
    assert haversine_km(paris.place.lat, paris.place.lon, 36.30, -88.33) < 30


@pytest.mark.parametrize("text, name, lat, lon, km", [
    ("Officials in Mexico City and Mexico are asking citizens to stay home.", "Mexico", 23.0, -102.0, 161),
    ("Flu cases rose in Albany, Buffalo and across New York on Monday.", "New York", 43.0, -75.0, 161),
])
def test_a_country_or_state_name_is_not_a_town_alias(geoparser, text, name, lat, lon, km):
    m = [m for m in geoparser.parse(text) if m.text == name][-1]
    assert haversine_km(m.place.lat, m.place.lon, lat, lon) < km


def test_a_hyphenated_name_after_village_of_stays_whole(geoparser):
    """Splitting "Atlanta-area" must not cut an unknown village's name in two
    (and resolve its second half to a place 1,500 km away)."""
    text = "Shelling hit the village of Zhuravlyovka-Nizhnyaya in Belgorod Oblast on 22 May 2023."
    mentions = [m for m in geoparser.parse(text) if m.kind == "place"]
    assert [m.text for m in mentions][:1] == ["Zhuravlyovka-Nizhnyaya"]
    assert mentions[0].place is None  # kept, unresolved: not "Nizhnyaya" somewhere in the Urals
