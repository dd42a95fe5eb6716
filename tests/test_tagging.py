"""Event types, actors and claims (pipelines/tagging.py), on rules and on the seed article."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from conftest import SEED_TEXT
from pipelines.articles import parse_article
from pipelines.config import PROJECT_ROOT
from pipelines.schema import EVENT_COLUMNS, LATER_COLUMNS, events_to_frame, make_event_id
from pipelines.tagging import (ACTORS_CSV, TAXONOMY, TYPE_IDS, Tagger, default_tagger, event_type_of,
                               load_actors, sentence_type)

NEW_COLUMNS = ("event_type", "actors", "claimant", "claim_stance", "claims")


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return default_tagger()


def _actors(tagger, text):
    return [s.actor.canonical for s in tagger.actor_spans(text)]


def _claims(tagger, text, previous=""):
    return [(c.claimant, c.stance) for c in tagger.tag_sentence(text, 0, previous).claims]


# --- schema ----------------------------------------------------------------

def test_schema_has_the_new_columns_before_event_id_with_defaults():
    assert EVENT_COLUMNS[-1] == "event_id"
    assert EVENT_COLUMNS[-6:-1] == NEW_COLUMNS
    assert {c: LATER_COLUMNS[c] for c in NEW_COLUMNS} == {
        "event_type": "", "actors": "[]", "claimant": "", "claim_stance": "", "claims": "[]"}


# --- actors ----------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("the Legion of Freedom of Russia", "Freedom of Russia Legion"),
    ("FRL noted that", "Freedom of Russia Legion"),
    ("the Freedom of Russia Legion said", "Freedom of Russia Legion"),
    ("The RVC emphasized", "Russian Volunteer Corps"),
    ("the Russian Volunteer Corps", "Russian Volunteer Corps"),
    ("the Russian Defense Ministry", "Russian Ministry of Defence"),
    ("the Russian Ministry of Defense reported", "Russian Ministry of Defence"),
    ("Russia’s Defence Ministry", "Russian Ministry of Defence"),
    ("The Russian military claims", "Russian Armed Forces"),
    ("Ukrainian Military Intelligence", "Ukrainian Military Intelligence"),
])
def test_actor_variants_get_one_canonical_name(tagger, text, canonical):
    assert _actors(tagger, text) == [canonical]


def test_acronyms_match_only_in_capitals_and_as_whole_words(tagger):
    assert _actors(tagger, "the frl and rvc, RVCX or FRL-like units") == []


def test_governor_pattern_uses_the_actor_list_and_falls_back_to_a_generic_name(tagger):
    assert _actors(tagger, "The governor of the Belgorod region of Russia, Vyacheslav Gladkov, said") == [
        "Governor of Belgorod Oblast", "Vyacheslav Gladkov"]
    assert _actors(tagger, "The governor of Russia’s Belgorod region said") == ["Governor of Belgorod Oblast"]
    assert _actors(tagger, "the governor of the Kursk region, Roman Starovoit, said")[0] == "Governor of Kursk Region"


def test_unknown_titled_person_gets_their_organisation(tagger):
    text = "The spokesman for the Russian Defense Ministry, Ivan Petrov, said the village was shelled."
    spans = tagger.actor_spans(text)
    person = spans[-1].actor
    assert (person.canonical, person.organisation) == ("Ivan Petrov", "Russian Ministry of Defence")
    assert _claims(tagger, text) == [("Russian Ministry of Defence (Ivan Petrov)", "asserts")]


def test_actor_list_is_well_formed():
    rows = load_actors(ACTORS_CSV)
    canonicals = {a.canonical for a, _ in rows}
    assert len(canonicals) == len(rows)
    seen: dict[str, str] = {}
    for actor, spellings in rows:
        assert actor.kind
        assert not actor.organisation or actor.organisation in canonicals, actor
        for s in spellings:
            assert seen.setdefault(s.casefold(), actor.canonical) == actor.canonical, f"{s!r} is two actors"
    with open(ACTORS_CSV, newline="", encoding="utf-8") as f:
        assert csv.DictReader(f).fieldnames == ["canonical", "aliases", "kind", "organisation"]


def test_an_edited_actor_list_is_used(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text("canonical,aliases,kind,organisation\nAcme Brigade,AB;the Acme fighters,armed group,\n",
                    encoding="utf-8")
    tagger = Tagger(load_actors(path))
    assert [c for c, _ in _claims(tagger, "The Acme fighters said they took the bridge.")] == ["Acme Brigade"]


# --- types -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Fighting broke out near the bridge.", "armed_clash"),
    ("The ministry reported the defeat of both groups.", "armed_clash"),
    ("The checkpoint came under intense shelling.", "shelling_strike"),
    ("A drone strike hit the depot.", "shelling_strike"),
    ("They had crossed the border overnight.", "incursion_movement"),
    ("Troops were deployed to the region.", "incursion_movement"),
    ("Partly organized evacuation is taking place.", "displacement"),
    ("Most residents had left their homes.", "displacement"),
    ("The Kremlin is deeply concerned.", "statement"),
    ("The weather in the town was mild.", ""),
])
def test_sentence_types(text, expected):
    assert sentence_type(text) == expected


def test_precedence_inside_a_sentence_and_majority_across_sentences():
    # one sentence: a raid preceded by shelling and then a battle → the clash wins
    assert sentence_type("The raid was preceded by shelling and a battle.") == "armed_clash"
    assert sentence_type("The raid was preceded by intense shelling.") == "shelling_strike"
    assert event_type_of(["incursion_movement", "shelling_strike", "incursion_movement"]) == "incursion_movement"
    assert event_type_of(["displacement", "shelling_strike"]) == "shelling_strike"  # tie → precedence
    assert event_type_of(["", ""]) == ""


def test_a_claim_without_action_cues_is_a_statement(tagger):
    assert tagger.tag_sentence("Peskov said the region was calm.", 0).event_type == "statement"


def test_taxonomy_is_documented_in_the_module_and_the_readme():
    import pipelines.tagging as module

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for t in TAXONOMY:
        assert t.id in module.__doc__ and t.label in module.__doc__
        assert f"`{t.id}`" in readme and t.label in readme
    assert len(TYPE_IDS) == len(set(TYPE_IDS)) == 5


# --- claims ----------------------------------------------------------------

def test_denial_by_pronoun_goes_to_the_other_actors_of_the_sentence(tagger):
    text = ("On May 23, the Russian Ministry of Defense reported the defeat of the Russian Volunteer Corps "
            "and the Freedom of Russia Legion in the Belgorod region, which they denied.")
    assert _claims(tagger, text) == [("Russian Ministry of Defence", "asserts"),
                                     ("Russian Volunteer Corps", "denies"),
                                     ("Freedom of Russia Legion", "denies")]


def test_claim_forms(tagger):
    assert _claims(tagger, "“There is panic in the region,” FRL stated.") == [("Freedom of Russia Legion", "asserts")]
    assert _claims(tagger, "The village was shelled, according to Reuters.") == [("Reuters", "asserts")]
    assert _claims(tagger, "The village was shelled, said the Russian Defense Ministry.") == [
        ("Russian Ministry of Defence", "asserts")]
    assert _claims(tagger, "Ukraine denies any involvement.") == [("Ukraine", "denies")]
    assert _claims(tagger, "Russian presidential spokesman Dmitry Peskov said that it is a concern.") == [
        ("Kremlin (Dmitry Peskov)", "asserts")]
    assert _claims(tagger, "They emphasize that the army was unable to oppose them.",
                   previous="In response, the Freedom of Russia Legion said it continues.") == [
        ("Freedom of Russia Legion", "asserts")]
    assert _claims(tagger, "The village was shelled on Monday.") == []


# --- the seed article --------------------------------------------------------

@pytest.fixture(scope="module")
def seed_events(pipeline):
    if not SEED_TEXT.exists():
        pytest.skip("../shared/corpus/seed is not present")
    article = parse_article(SEED_TEXT.read_text(encoding="utf-8"), name=SEED_TEXT.name,
                            published=date(2023, 5, 23))
    return article, pipeline.events_for(article).events


def _one(events, place, day):
    hits = [e for e in events if e.place == place and e.date == day]
    assert len(hits) == 1, [(e.place, e.date) for e in events]
    return hits[0]


def test_seed_event_types(seed_events):
    _, events = seed_events
    assert _one(events, "Belgorod Oblast", "2023-05-22").event_type == "incursion_movement"
    assert _one(events, "Belgorod Oblast", "2023-05-23").event_type == "armed_clash"
    assert _one(events, "Gora-Podol", "2023-05-22").event_type == "incursion_movement"
    assert _one(events, "Kozinka", "2023-05-22").event_type == "shelling_strike"
    assert all(e.event_type in TYPE_IDS for e in events)


def test_seed_actors_are_canonical(seed_events):
    _, events = seed_events
    may22 = json.loads(_one(events, "Belgorod Oblast", "2023-05-22").actors)
    for name in ("Russian Volunteer Corps", "Freedom of Russia Legion", "Russian Ministry of Defence",
                 "Ukrainian Military Intelligence", "Governor of Belgorod Oblast", "Dmitry Peskov"):
        assert name in may22
    assert not {"FRL", "RVC", "Legion of Freedom of Russia", "Russian Defense Ministry"} & set(may22)
    assert json.loads(_one(events, "Belgorod Oblast", "2023-05-23").actors) == [
        "Russian Ministry of Defence", "Russian Volunteer Corps", "Freedom of Russia Legion"]


def test_seed_claims_on_23_may_keep_the_report_and_the_denial(seed_events):
    article, events = seed_events
    event = _one(events, "Belgorod Oblast", "2023-05-23")
    assert (event.claimant, event.claim_stance) == ("Russian Ministry of Defence", "asserts")
    claims = json.loads(event.claims)
    assert [(c["claimant"], c["stance"]) for c in claims] == [
        ("Russian Ministry of Defence", "asserts"), ("Russian Volunteer Corps", "denies"),
        ("Freedom of Russia Legion", "denies")]
    for c in claims:
        assert set(c) == {"claimant", "stance", "sentence", "start", "end"}
        assert article.text[c["start"]:c["end"]] == c["sentence"]
        assert "reported the defeat" in c["sentence"]


def test_seed_claims_of_every_speaker_and_the_source_by_default(seed_events):
    article, events = seed_events
    claims = json.loads(_one(events, "Belgorod Oblast", "2023-05-22").claims)
    claimants = [c["claimant"] for c in claims]
    assert claimants[0] == article.source  # the headline: the article's own claim
    for name in ("Russian Volunteer Corps", "Kremlin (Dmitry Peskov)",
                 "Governor of Belgorod Oblast (Vyacheslav Gladkov)",
                 "Ukrainian Military Intelligence (Andriy Yusov)",
                 "Russian Ministry of Defence (Igor Konashenkov)", "Freedom of Russia Legion"):
        assert name in claimants
    gora = _one(events, "Gora-Podol", "2023-05-22")
    assert (gora.claimant, gora.claim_stance) == (article.source, "asserts")


def test_tagging_leaves_event_ids_unchanged(seed_events):
    _, events = seed_events
    for e in events:
        assert e.event_id == make_event_id(e.article_id, e.place_key, e.date)
    frame = events_to_frame(events)
    assert list(frame.columns) == [*EVENT_COLUMNS, "geometry"]
    assert set(frame["claim_stance"]) <= {"asserts", "denies", ""}


def test_a_dictionary_word_before_claims_is_not_a_claimant():
    from pipelines.tagging import default_tagger

    tagger = default_tagger()
    assert tagger.tag_sentence("Rival claims over Bakhmut", 0).claims == ()
    assert [c.claimant for c in tagger.tag_sentence("Wagner claims full control of Bakhmut", 0).claims] == ["Wagner Group"]
