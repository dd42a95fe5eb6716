"""The speed-ups of the ingest hot path compute exactly what the plain code did.

Geoparsing rounds scores to 4 decimals and breaks ties by population, so a
faster formula that differs in the last bit could change which place wins.
Each fast path is checked here against the straightforward definition it
replaced (kept in this file as the reference).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict
from datetime import date

from pipelines.dates import (anchor_date, article_anchor_date, best_date, resolved_dates,
                             sentence_date)
from pipelines.events import _alternatives_json
from pipelines.gazetteer.build import haversine_km
from pipelines.gazetteer.geocoder import source_label
from pipelines.gazetteer.resolve import _nearest_km, _trig_points
from pipelines.geoparse import _GAP_OK, CONNECTORS, Mention, _strip_possessive, tokenize
from pipelines.schema import Candidate, candidates_json

TEXT = ("Fighters entered the Belgorod region of Russia. On May 22 they started with the villages of "
        "Kozinka and Gora Podol, Dr. Jim Moore said. Paris High School and the Georgia School Boards "
        "Association met in New York's Central Park on Monday; D-Columbus, said the Kremlin's man. "
        "Yesterday's raid was the largest since May 2022, officials in Stary Oskol said.")


def test_nearest_km_is_min_haversine_to_the_bit():
    rng = random.Random(5)
    points = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(300)]
    points += [(90.0, 0.0), (-90.0, 180.0), (0.0, 180.0), (0.0, -180.0), (50.47, 35.64), (50.47, 35.64)]
    trig = _trig_points(tuple(points))
    for lat, lon in points[:120] + [(0.0, 0.0), (-0.0, 179.999), (50.4739, 35.6464)]:
        assert _nearest_km(lat, lon, trig) == min(haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points)


def test_alternatives_json_is_candidates_json(geocoder):
    places = geocoder.index.lookup("Paris")[:7]
    assert len(places) > 2
    m = Mention(0, 5, "Paris", "Paris", "place", candidates=[(p, 0.5 - i / 10) for i, p in enumerate(places)])
    expected = candidates_json(
        Candidate(p.name, p.lat, p.lon, p.feature_code, p.admin1_name, p.country_code, p.geonameid, s, source_label(p))
        for p, s in m.candidates[1:6])
    assert _alternatives_json(m) == expected
    assert [c["name"] for c in json.loads(expected)] == [p.name for p in places[1:6]]
    assert list(json.loads(expected)[0]) == list(asdict(Candidate("", 0, 0, "", "", "", None, 0, "")))


def test_dates_resolved_once_decide_as_before():
    published = date(2023, 5, 23)
    sentences = [s.strip() for s in TEXT.split(".") if s.strip()] + ["No date here", "Last week, and on 3 June 2023"]
    resolved = [resolved_dates(s, published) for s in sentences]
    assert [best_date(r) for r in resolved] == [sentence_date(s, published) for s in sentences]
    assert anchor_date(resolved) == article_anchor_date(sentences, published)
    assert anchor_date([]) is None


_POSSESSIVE = re.compile(r"[’']s$")  # what geoparse used before str.endswith


def test_strip_possessive_is_the_regex():
    for word in ("Moscow's", "Kyiv’s", "Paris", "s", "'s", "’s", "Bus", "Jones'", "O'Brien's", "W.Va.", ""):
        assert _strip_possessive(word) == _POSSESSIVE.sub("", word)
        assert word.endswith(("'s", "’s")) == bool(_POSSESSIVE.search(word))


def _span_ok_reference(text, tokens, i, j) -> bool:
    """The per-length check that _span_reach replaced."""
    if not tokens[i].capitalised or not tokens[j].capitalised:
        return False
    for k in range(i, j):
        if not _GAP_OK.match(text[tokens[k].end: tokens[k + 1].start]):
            return False
        if k > i and not tokens[k].capitalised and tokens[k].lower not in CONNECTORS:
            return False
        if _POSSESSIVE.search(tokens[k].text):
            return False
    return True


def test_span_reach_allows_exactly_the_spans_the_per_length_check_allowed(geoparser):
    tokens = tokenize(TEXT)
    rng = random.Random(3)
    for person in (set(), {5, 6}, set(rng.sample(range(len(tokens)), 8))):
        for i in range(len(tokens)):
            reach = geoparser._span_reach(TEXT, tokens, i, person)
            for j in range(i, min(len(tokens), i + geoparser.max_ngram)):
                expected = not any(k in person for k in range(i, j + 1)) and _span_ok_reference(TEXT, tokens, i, j)
                assert (j <= reach and tokens[j].capitalised) == expected, (i, j, tokens[i], tokens[j])


def test_results_packed_for_the_client_come_back_equal(pipeline):
    """Dask workers send events as tuples of field values; the client rebuilds
    the same Event objects (and failed items keep their error)."""
    import pickle

    from pipelines.articles import Article
    from pipelines.distributed import pack_results, unpack_results
    from pipelines.schema import article_id_for
    from pipelines.sources.ingest import ItemResult

    article = Article(text=TEXT, source="test", title="", published=date(2023, 5, 23), url="https://example.org/a")
    found = pipeline.events_for(article)
    assert len(found.events) >= 3
    results = [ItemResult(4, list(found.events), found.unresolved, article_id_for(TEXT), note="date: x"),
               ItemResult(5, error="item 5: HTTP 404")]
    back = unpack_results(pickle.loads(pickle.dumps(pack_results(results))))
    assert back == results
    assert [vars(e) for e in back[0].events] == [vars(e) for e in found.events]


def test_the_date_prefilter_only_skips_texts_without_dates():
    """find_dates returns [] at once when _MAYBE_DATE finds nothing; the full
    scans must then find nothing either, whatever the case or script."""
    from pipelines.dates import _MAYBE_DATE, _explicit_mentions, _relative_mentions

    words = ["Shelling", "hit", "the", "town", "YESTERDAY", "Yesterday", "toNIGHT", "LAST WEEK", "last\\nmonth",
             "THIS MORNING", "two weeks AGO", "Monday", "monday", "May", "may", "Sept.", "22", "2023", "İ", "\u212a",
             "ß", "ﬁ", "on", "in", "since", "the day before", "—", ",", "."]
    rng = random.Random(11)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    texts += ["No date here.", "Residents of Kozinka fled.", "lAsT yEaR", "İSTANBUL LAST YEAR"]
    for text in texts:
        if not _MAYBE_DATE.search(text):
            assert not _explicit_mentions(text) and not _relative_mentions(text), text
