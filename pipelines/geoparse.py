"""Find place mentions in English news text and resolve them in context.

Recognition is gazetteer-driven: runs of capitalised words are looked up
(longest first), and the patterns "X region/Oblast/district/checkpoint" and
"village of X" mark place mentions even when the gazetteer does not know X
(those are kept as unresolved, never dropped). Person names, organisation
names, metonyms ("the Kremlin") and capitalised common words are filtered
out. Countries and demonyms are context: they narrow the resolution of the
other places but are not event locations themselves.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from .gazetteer.geocoder import DISTRICT_WORDS, REGION_WORDS, GazetteerGeocoder, context_of
from .gazetteer.index import Place
from .gazetteer.names import name_key
from .gazetteer.resolve import Context, confidence, rank

KIND_PLACE = "place"
KIND_COUNTRY = "country"
KIND_DEMONYM = "demonym"
#: A place named as part of an organisation's or facility's name ("Dublin City
#: Council", "Oakland police", "Moscow's Domodedovo Airport", "D-Columbus"): a
#: toponym and context, never an event location.
KIND_QUALIFIER = "qualifier"

POINT_WORDS = frozenset({"checkpoint", "crossing"})
#: "near Klishchiivka": an unknown capitalised word right after these is a place.
LOCATIVE_WORDS = frozenset({"near", "outside", "towards", "toward"})
SETTLEMENT_WORDS = frozenset({"village", "villages", "town", "towns", "city", "settlement", "settlements", "hamlet"})
METONYMS = frozenset(
    name_key(n)
    for n in (
        "Kremlin", "White House", "Pentagon", "Downing Street", "Whitehall", "Elysee", "Elysee Palace",
        "Capitol Hill", "Wall Street", "Foggy Bottom", "Bankova", "Zhongnanhai", "Westminster",
        "Quai d'Orsay", "Blue House", "Holy See", "Scroll", "Top",
    )
)
ORG_WORDS = frozenset(
    w.lower()
    for w in (
        "Corps Legion Army Forces Force Ministry Party University College Times Post News Herald Journal "
        "Tribune Gazette Company Corporation Inc Ltd Bank Club FC United Council Committee Institute Agency "
        "Airlines Airways Group Media Press Television TV Radio Foundation Guard Brigade Battalion Regiment "
        "Division Command Service Services Police Federation's Telegraph Independent Review Daily Weekly "
        "Insider Network Channel Pravda Izvestia Kommersant"
    ).split()
)
#: Last words of facility and institution names: "Paris Public Library", "Georgia School Boards Association".
FACILITY_WORDS = frozenset(
    w.lower()
    for w in (
        "School Schools Library Association Bureau Commission Department Dept Chamber Board Center Centre "
        "Hospital Church Cathedral Airport Society Academy Authority Office Museum Zoo Club Clinic "
        "Coalition Alliance League Union Partnership Fund Trust Lottery Council Police Sheriff Fire Utilities "
        "Symphony Orchestra Theater Theatre Library Libraries Team Panthers"
    ).split()
) | ORG_WORDS
#: Closed-class words that the given-name list also holds ("In", "An", "The").
FUNCTION_WORDS = frozenset(
    "a an the in on at by for to from with as but and or if so of off up out into onto over under after "
    "before since until while when where who what which why how this that these those it he she we they "
    "you i my our your his her its their no not nor yet all any some each every both either neither".split()
)
#: "D-Columbus", "R-Charleston": a lawmaker's party and home town.
PARTY_LETTERS = frozenset({"D", "R", "I"})
TITLES = frozenset(
    w.lower()
    for w in (
        "president spokesman spokeswoman spokesperson governor minister mayor general gen colonel col lt "
        "lieutenant sgt sergeant mr mrs ms dr prof senator sen rep representative judge pope king queen "
        "prince princess chancellor secretary commander chief director leader premier ambassador "
        "patriarch archbishop bishop captain capt major maj admiral adm marshal sheikh emir "
        "gov atty supt det cpl pvt insp cmdr pct"
    ).split()
)
MONTHS_AND_DAYS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday".split()
)
#: Capitalised words that share a gazetteer name but in news text are almost
#: never the place: holidays, faiths, movements, organisations, events.
NOT_PLACES = frozenset(
    name_key(n)
    for n in (
        "Christmas", "Easter", "Thanksgiving", "Halloween", "Ramadan", "Eid", "Hanukkah", "Passover",
        "Christian", "Christians", "Muslim", "Muslims", "Jewish", "Catholic", "Protestant", "Islamic",
        "Ismaili", "Sunni", "Shia", "Shiite", "Hindu", "Buddhist", "Arab", "Arabs", "English",
        "Hamas", "Hezbollah", "Taliban", "Fatah", "NATO", "Olympic", "Olympics", "Paralympic",
        "Republican", "Republicans", "Democrat", "Democrats", "Democratic", "Congress", "Senate",
        "West", "East", "North", "South", "Central", "Midwest", "Northeast", "Southeast", "Northwest",
        "Southwest", "God", "Lord", "Bible", "Internet", "Web", "Google", "Facebook", "Twitter",
    )
)
DETERMINERS = frozenset("the a an this that these those our its their his her each every any another".split())
#: Words after a name that say it is a person ("Moore said").
SPEECH_VERBS = frozenset({"said", "says", "told", "added", "explained", "wrote", "asked", "replied", "noted"})
CONNECTORS = frozenset({"of", "de", "del", "la", "le", "du", "upon", "on", "the", "al", "el", "am", "an", "der"})

_TOKEN = re.compile(
    # "W.Va.", "Ga." before a comma or a lower-case word (AP state abbreviations), "U.S.", words
    r"(?:[A-Z]\.\s?)?[A-Z][a-z]{1,3}\.(?=\s*[,;)\u2014\u2013-]|\s+[a-z0-9]|\s*$)"
    r"|(?<![\w.-])[DRI](?=-[A-Z])"  # "D-N.J.", "R-Charleston": a lawmaker's party letter
    r"|(?:[A-Z]\.){2,}|[^\W\d_](?:[\w’'\-]*[^\W_])?"
)
#: "Moscow's", "Kyiv’s": a token ending so is possessive (str.endswith: a regex per token cost more).
_POSSESSIVE_ENDINGS = ("'s", "’s")
_GAP_OK = re.compile(r"^[ \t\-]*$")


class Token:
    """A word with its offsets. ``capitalised`` and ``lower`` are computed once
    here: recognition reads them millions of times per thousand articles."""

    __slots__ = ("start", "end", "text", "capitalised", "lower")

    def __init__(self, start: int, end: int, text: str):
        self.start = start
        self.end = end
        self.text = text
        self.capitalised = text[:1].isupper()
        self.lower = text.lower()

    def __repr__(self) -> str:
        return f"Token({self.start}, {self.end}, {self.text!r})"


@dataclass
class Mention:
    """A place mention: where it is in the text and what it resolved to."""

    start: int
    end: int
    text: str  # verbatim, e.g. "Graivoronsky district"
    name: str  # the name part, e.g. "Graivoronsky"
    kind: str  # place | country | demonym
    area: str | None = None  # region | district | point | None (from a pattern)
    place: Place | None = None
    score: float = 0.0
    candidates: list[tuple[Place, float]] = field(default_factory=list)
    options: list[Place] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.place is not None


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lower-case English dictionary words (Webster's 2nd): "Freedom", "Top",
    "Alpha" are words before they are places."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], lower=False, alpha=True)
    return frozenset(w for w in words if w.islower())


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Given names (gender-guesser's dictionary) to recognise "Vladimir Putin"."""
    import gender_guesser

    path = os.path.join(os.path.dirname(gender_guesser.__file__), "data", "nam_dict.txt")
    names: set[str] = set()
    with open(path, encoding="iso-8859-1") as fh:
        for line in fh:
            if line.startswith("#") or len(line) < 30:
                continue
            name = line[3:29].strip()
            if name and "+" not in name and " " not in name:
                names.add(name.lower())
    return frozenset(names)


def tokenize(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _strip_possessive(token_text: str) -> str:
    return token_text[:-2] if token_text.endswith(_POSSESSIVE_ENDINGS) else token_text


def _sentence_initial(text: str, tok: Token) -> bool:
    before = text[max(0, tok.start - 3) : tok.start].strip(" \t“\"'‘(")
    return tok.start == 0 or before == "" or before[-1:] in ".!?\n:;"


class Geoparser:
    """Turns text into :class:`Mention` objects using a :class:`GazetteerGeocoder`."""

    def __init__(self, geocoder: GazetteerGeocoder, max_ngram: int = 5):
        self.geocoder = geocoder
        self.index = geocoder.index
        self.max_ngram = max_ngram
        # the word lists are read here, with the gazetteer, not by the first text parsed (~0.3 s)
        self.words = common_words()
        self.given = first_names()

    # --- recognition -----------------------------------------------------
    def _span_reach(self, text: str, tokens: list[Token], i: int, person: set[int]) -> int:
        """The last token a name starting at token i may reach. Tokens i..j form
        one name when they are contiguous, capitalised at both ends, capitalised
        or connectors inside, without a possessive before j and not part of a
        person's name: so exactly when j is at most this and token j is
        capitalised. Computed once per start instead of once per length,
        because every condition but the last token's case breaks all longer
        spans too."""
        if not tokens[i].capitalised or i in person:
            return i - 1
        last = min(len(tokens), i + self.max_ngram) - 1
        k = i
        while k < last:
            tok, nxt = tokens[k], tokens[k + 1]
            if k + 1 in person or not _GAP_OK.match(text[tok.end : nxt.start]) \
                    or (k > i and not tok.capitalised and tok.lower not in CONNECTORS) \
                    or tok.text.endswith(_POSSESSIVE_ENDINGS):
                break
            k += 1
        return k

    def _major_place(self, word: str) -> bool:
        """A country or first-level area: never taken for a surname."""
        return any(p.match == 0 and (p.is_country or p.feature_code == "ADM1")
                   for p in self.index.lookup(word, fuzzy=False))

    def _person_spans(self, text: str, tokens: list[Token]) -> tuple[set[int], set[str]]:
        """Token positions that belong to person names, and the surnames seen."""
        given = self.given
        words = self.words
        person: set[int] = set()
        surnames: set[str] = set()
        for i, tok in enumerate(tokens):
            if not tok.capitalised:
                continue
            # "Dr. Moore", "Gov. Perry": a lone name after a title; "Jim Moore said"
            after_title = i > 0 and tokens[i - 1].lower.rstrip(".") in TITLES and tokens[i - 1].capitalised
            speaking = i > 0 and i + 1 < len(tokens) and tokens[i + 1].lower in SPEECH_VERBS \
                and tokens[i - 1].capitalised and _GAP_OK.match(text[tokens[i - 1].end : tok.start]) \
                and tokens[i - 1].text not in PARTY_LETTERS  # "D-Columbus, said" is a place
            if (after_title or speaking) and not self._major_place(_strip_possessive(tok.text)):
                person.add(i)
                surnames.add(_strip_possessive(tok.text).lower())
            if i + 1 >= len(tokens):
                continue
            nxt = tokens[i + 1]
            if not nxt.capitalised or not _GAP_OK.match(text[tok.end : nxt.start]) or text[tok.end:nxt.start] == "":
                continue
            titled = i > 0 and tokens[i - 1].lower.rstrip(".") in TITLES
            # "In Columbus", "But Paris": a sentence-initial word is a word before it is a given name
            as_word = tok.lower in FUNCTION_WORDS or (tok.lower in words and _sentence_initial(text, tok))
            if tok.lower in given and not titled and not as_word and self.index.has_key(name_key(tok.text)) \
                    and (nxt.lower in words or nxt.lower in FACILITY_WORDS):
                continue  # "Paris High School", "Jordan Elementary": a place before a word, not a person
            if (tok.lower in given and not as_word) or titled:
                pair_key = name_key(f"{tok.text} {_strip_possessive(nxt.text)}")
                if self.index.has_key(pair_key):
                    continue  # "Nova Kakhovka" is a town, not a woman called Nova
                if nxt.lower in REGION_WORDS or nxt.lower in DISTRICT_WORDS or self._major_place(_strip_possessive(nxt.text)):
                    continue
                person.update((i, i + 1))
                last = i + 1
                # "George W. Bush": past a middle initial to the surname
                if len(nxt.text.rstrip(".")) == 1 and i + 2 < len(tokens) and tokens[i + 2].capitalised:
                    last = i + 2
                    person.add(last)
                surnames.add(_strip_possessive(tokens[last].text).lower())
        for i, tok in enumerate(tokens):
            if _strip_possessive(tok.text).lower() in surnames:
                person.add(i)
        return person, surnames

    def _split_hyphens(self, text: str, tokens: list[Token]) -> list[Token]:
        """"Atlanta-area", "Albany-based", "Washington-Moscow", "D-Columbus": a
        hyphenated word the gazetteer does not know whole is split when it starts
        with a place name or a party letter ("Gora-Podol" stays whole, and so does
        any name after "village of": "the village of Zhuravlyovka-Nizhnyaya")."""
        out: list[Token] = []
        for index, tok in enumerate(tokens):
            if "-" not in tok.text or not tok.capitalised or self.index.has_key(name_key(_strip_possessive(tok.text))) \
                    or self._after_settlement_word(text, tokens, index):
                out.append(tok)
                continue
            parts, pos = [], tok.start
            for piece in tok.text.split("-"):
                if piece:
                    parts.append(Token(pos, pos + len(piece), piece))
                pos += len(piece) + 1
            head = _strip_possessive(parts[0].text) if parts else ""
            if len(parts) > 1 and (parts[0].text in PARTY_LETTERS and parts[1].capitalised
                                   or self.index.has_key(name_key(head)) and not head.lower() in FUNCTION_WORDS):
                out.extend(parts)
            else:
                out.append(tok)
        return out

    def recognise(self, text: str) -> list[Mention]:
        tokens = self._split_hyphens(text, tokenize(text))
        person, _ = self._person_spans(text, tokens)
        words = self.words
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if i in person or not tok.capitalised:
                i += 1
                continue
            found = self._match_at(text, tokens, i, person, words)
            if found is None:
                i += 1
                continue
            mention, next_i = found
            if mention is not None:
                mentions.append(mention)
            i = next_i
        return mentions

    def _match_at(self, text, tokens, i, person, words):
        """Longest gazetteer or pattern match starting at token i."""
        n = len(tokens)
        for j in range(self._span_reach(text, tokens, i, person), i - 1, -1):
            if not tokens[j].capitalised:
                continue
            raw_name = text[tokens[i].start : tokens[j].end]
            name = _strip_possessive(raw_name)
            end = tokens[i].start + len(name)
            suffix = tokens[j + 1] if j + 1 < n and _GAP_OK.match(text[tokens[j].end : tokens[j + 1].start]) else None
            area = None
            if suffix is not None and not tokens[j].text.endswith(_POSSESSIVE_ENDINGS):
                area = self._area_word(suffix.lower, text, tokens, j + 1)
            if area == "region" and suffix.text == "State" and not any(
                    p.feature_code == "ADM1" for p in self.index.lookup(name, fuzzy=False)):
                area = None  # "Lansing State Journal", "Houston State": not a state
            if area is not None and any(p.is_country and p.match == 0 for p in self.index.lookup(name, fuzzy=False)):
                area = None  # "Russian territory", "Ukraine region": a country's, not an area's name
            if area is not None and i == j and (tokens[i].lower in DETERMINERS or (
                    tokens[i].lower in words and not self.index.has_key(name_key(name)))):
                area = None  # "The state", "A district": a word, not a name
            if area is not None and (i == j or self.index.has_key(name_key(name))):
                last = self._area_end(text, tokens, j + 1)
                span_text = text[tokens[i].start : tokens[last].end]
                return self._area_mention(tokens[i].start, tokens[last].end, span_text, name, area), last + 1
            key = name_key(name)
            if key in METONYMS or key in NOT_PLACES:
                return None, j + 1
            if i == j and (tokens[i].lower.rstrip(".") in TITLES or tokens[i].lower in ORG_WORDS):
                return None, j + 1  # "Dr", "Gov", "University" alone are not places
            if i == j and ("'" in name or "’" in name):
                return None, j + 1  # contractions: "I've", "I'll"
            if not self.index.has_key(key) and not self.index.lookup(name):
                if i == j and self._after_settlement_word(text, tokens, i) and tokens[i].lower not in words \
                        and not self._inside_name(text, tokens, i):
                    return Mention(tokens[i].start, end, name, name, KIND_PLACE, "point"), j + 1
                continue
            if self._names_an_organisation(text, tokens, i, j):
                # "Freedom of Russia Legion", "Dublin City Council", "Oakland police": a qualifier,
                # unless the name is a word ("The Board", "State University", "Superior Court")
                if i == j and (tokens[i].lower in words or tokens[i].lower in FUNCTION_WORDS) \
                        and not tokens[i].text.isupper():
                    return None, j + 1
                return Mention(tokens[i].start, end, name, name, KIND_QUALIFIER, "qualifier"), j + 1
            if i == j and key in MONTHS_AND_DAYS:
                return None, j + 1
            as_word = i == j and tokens[i].lower in words and not tokens[i].text.isupper()  # "US" is not "us"
            if as_word and self._inside_name(text, tokens, i):
                return None, j + 1  # "Main Street", "City Hall", "Ohio State University"
            if i == j and tokens[i].text.endswith(".") and not any(
                    p.is_admin for p in self.index.lookup(name, fuzzy=False)):
                return None, j + 1  # "St.", "No.", "Inc." are abbreviations, not places
            mention = Mention(tokens[i].start, end, name, name, KIND_PLACE)
            if as_word and not self._after_settlement_word(text, tokens, i):
                mention.area = "common-word"  # decided after resolution
            if as_word and _sentence_initial(text, tokens[i]):
                mention.area = "common-word"
            return mention, j + 1
        return None

    def _names_an_organisation(self, text: str, tokens: list[Token], i: int, j: int) -> bool:
        """Tokens i..j are the place part of an organisation's or facility's name:
        an organisation word follows, directly or after a few capitalised words
        ("Georgia School Boards Association"), or a party letter precedes
        ("D-Columbus"), or a possessive names a facility ("Moscow's Domodedovo Airport")."""
        if i > 0 and tokens[i - 1].text in PARTY_LETTERS and text[tokens[i - 1].end : tokens[i].start] == "-":
            return True
        k = j + 1
        possessive = tokens[j].text.endswith(_POSSESSIVE_ENDINGS)
        while k < len(tokens) and k <= j + 4 and _GAP_OK.match(text[tokens[k - 1].end : tokens[k].start]):
            word = tokens[k].lower
            if word in FACILITY_WORDS and (k == j + 1 or tokens[k].capitalised):
                return True  # "Oakland police", "Paris Public Library"
            if not tokens[k].capitalised or possessive and k > j + 2:
                return False
            if word in REGION_WORDS or word in DISTRICT_WORDS:
                return False
            k += 1
        return False

    @staticmethod
    def _inside_name(text: str, tokens: list[Token], i: int) -> bool:
        """Token i touches another capitalised word (a longer name the gazetteer does not know)."""
        before = i > 0 and tokens[i - 1].capitalised and _GAP_OK.match(text[tokens[i - 1].end : tokens[i].start]) \
            and not _sentence_initial(text, tokens[i]) and tokens[i - 1].lower not in FUNCTION_WORDS
        after = i + 1 < len(tokens) and tokens[i + 1].capitalised and _GAP_OK.match(text[tokens[i].end : tokens[i + 1].start])
        return bool(before or after)

    def _area_word(self, word: str, text: str, tokens: list[Token], k: int) -> str | None:
        if word in REGION_WORDS:
            return "region"
        if word in DISTRICT_WORDS:
            return "district"
        if word in POINT_WORDS:
            return "point"
        if word == "international" and k + 1 < len(tokens) and tokens[k + 1].lower in POINT_WORDS:
            return "point"
        return None

    def _area_end(self, text: str, tokens: list[Token], k: int) -> int:
        if tokens[k].lower == "international" and k + 1 < len(tokens):
            return k + 1
        return k

    def _after_settlement_word(self, text: str, tokens: list[Token], i: int) -> bool:
        """"the villages of Kozinka and Gora Podol": a settlement word before."""
        for back in range(i - 1, max(-1, i - 6), -1):
            word = tokens[back].lower
            if tokens[back].capitalised and word in SETTLEMENT_WORDS:
                return False  # "City Hall", "Town Council": part of a name
            if word in SETTLEMENT_WORDS or (back == i - 1 and word in LOCATIVE_WORDS):
                return True
            if word not in CONNECTORS and word != "and" and not tokens[back].capitalised:
                return False
        return False

    def _area_mention(self, start, end, span_text, name, area) -> Mention:
        return Mention(start, end, span_text, name, KIND_PLACE, area)

    # --- resolution ------------------------------------------------------
    def _options(self, mention: Mention) -> list[Place]:
        if mention.area in ("region", "district"):
            word = "region" if mention.area == "region" else "district"
            exact = [p for p in self.index.lookup(mention.text) if p.is_admin]
            if exact:
                return exact
            return [p for p, _ in self.geocoder.candidates(f"{mention.name} {word}")]
        if mention.area == "point":
            return [p for p in self.index.lookup(mention.name) if p.feature_class == "P"]
        options = self.index.lookup(mention.name)
        if any(p.match == 0 and (p.is_country or p.feature_code == "ADM1") for p in options):
            # "Mexico", "New York": a name that is a country's or state's own name is not a
            # town known by it only as an alternate name (Mexico City, New York City)
            options = [p for p in options if p.match == 0 or p.feature_class != "P"]
        return options

    def parse(self, text: str, near: Context | None = None) -> list[Mention]:
        """Recognise and resolve; returns place, country and demonym mentions.

        Whether a mention is a country (context) or a place is decided by the
        place it resolves to, after ranking in context: "Georgia" in an
        article about Atlanta is the US state, not the country."""
        mentions = self.recognise(text)
        for m in mentions:
            m.options = self._options(m)
        self._bind_appositions(text, mentions)
        for m in mentions:
            if m.area in (None, "common-word") and self._country_like(m.options):
                m.kind = KIND_DEMONYM if m.options and self._best_prior(m.options).feature_code == "DEMONYM" else KIND_COUNTRY
        document = self._document_context(mentions, near or Context())
        bonus = _co_location_bonus(mentions)
        context = document
        # The other places' points, kept up to date as mentions resolve; distinct
        # (name, point) pairs, so a name repeated thousands of times costs one point.
        placed = Counter(k for k in map(_placed_key, mentions) if k is not None)
        rankings: dict[tuple, tuple[list[tuple[Place, float]], float]] = {}
        for round_ in range(2):
            if round_:  # the countries the confidently resolved places lie in count as context too
                found = {m.place.country_code for m in mentions
                         if m.kind == KIND_PLACE and m.place is not None and m.score >= 0.6 and m.place.country_code}
                context = document.merged(Context(countries=frozenset(found)))
            for m in mentions:
                before = _placed_key(m)
                others = tuple(dict.fromkeys((lat, lon) for name, lat, lon in placed if name != m.name))
                ctx = Context(context.countries, context.admin1, context.points + others)  # context.merged, cheaper
                ranked, m.score = _ranking(rankings, m.options, ctx, bonus)
                m.candidates = list(ranked)
                m.place = ranked[0][0] if ranked else None
                if m.place is not None and m.area in (None, "common-word"):
                    if m.place.feature_code == "DEMONYM":
                        m.kind = KIND_DEMONYM
                    elif m.place.is_country:
                        m.kind = KIND_COUNTRY
                    else:
                        m.kind = KIND_PLACE
                after = _placed_key(m)
                if after != before:
                    _move(placed, before, after)
        return [m for m in mentions if self._accept(m, document)]

    @staticmethod
    def _bind_appositions(text: str, mentions: list[Mention]) -> None:
        """"Monroe, Georgia", "Wichita, Kan.", "Paris, France": the second name is the
        first's container. When some reading of the first lies in some first-level
        area or country the second can be, both keep only those readings."""
        for first, second in zip(mentions, mentions[1:]):
            if first.area not in (None, "common-word", "qualifier") or not first.options or not second.options:
                continue
            if not re.fullmatch(r",\s?", text[first.end : second.start]):
                continue
            containers = [p for p in second.options if p.match <= 1 and (p.is_country or p.feature_code == "ADM1")]
            if not containers:
                continue
            inside = [p for p in first.options if not p.is_country and p.feature_code != "DEMONYM" and any(
                c.country_code == p.country_code and (c.is_country or (
                    c.admin1_code == p.admin1_code and p.feature_code != "ADM1"))  # a state is in no state
                for c in containers)]
            if not inside:
                continue
            held = [c for c in containers if any(
                c.country_code == p.country_code and (c.is_country or (
                    c.admin1_code == p.admin1_code and p.feature_code != "ADM1")) for p in inside)]
            first.options = inside
            second.options = held

    @staticmethod
    def _best_prior(options: list[Place]) -> Place:
        return rank(options, Context())[0][0]

    @staticmethod
    def _country_like(options: list[Place]) -> bool:
        """Most likely a country (or its demonym) before any context is known:
        the name's best reading is a country and no first-level area has it."""
        if not options:
            return False
        exact = [p for p in options if p.match == 0]
        return any(p.is_country for p in exact) and not any(p.feature_code == "ADM1" for p in exact)

    def _document_context(self, mentions: list[Mention], near: Context) -> Context:
        countries: set[str] = set(near.countries)
        admin1: set[tuple[str, str]] = set(near.admin1)
        rankings: dict[tuple, tuple[list[tuple[Place, float]], float]] = {}
        for m in mentions:
            if m.kind in (KIND_COUNTRY, KIND_DEMONYM) and m.options:
                code = next(p for p in m.options if p.is_country).country_code
                if code:
                    countries.add(code)
            elif m.area in ("region", None, "qualifier") and m.options:
                ranked, _ = _ranking(rankings, m.options, Context(countries=frozenset(countries)))
                best = ranked[0][0]
                if best.feature_code == "ADM1" and (m.area == "region" or best.match == 0):
                    admin1.add((best.country_code, best.admin1_code))
                    countries.add(best.country_code)
        # places with a single reading anchor the context too
        for m in mentions:
            if m.kind == KIND_PLACE and m.area != "common-word" and len(m.options) == 1 and m.options[0].population >= 1000:
                ctx = context_of(m.options[0])
                countries |= ctx.countries
        return Context(countries=frozenset(countries), admin1=frozenset(admin1), points=near.points)

    def _accept(self, m: Mention, context: Context) -> bool:
        """Keep a mention unless it is most likely not a place at all."""
        if m.area in ("region", "district", "point"):
            return True  # a pattern says it is a place; unresolved if unknown
        if m.kind == KIND_QUALIFIER:  # "American Airlines": a demonym in a name is no toponym
            return m.place is not None and m.place.feature_code != "DEMONYM" and (
                m.place.match == 0 or m.place.country_code in context.countries)
        if m.kind in (KIND_COUNTRY, KIND_DEMONYM):
            return True
        place = m.place
        if place is None:
            return False
        if m.text.isupper() and len(m.text) <= 4 and "." not in m.text and not place.is_admin:
            return False  # acronyms (FRL, RVC) are organisations, not towns; "BEIRUT —" is a dateline
        in_context = place.country_code in context.countries
        if m.area == "common-word":
            m.area = None
            return (place.is_admin and place.match == 0 and in_context) or (in_context and place.population >= 10000 and place.match == 0)
        if place.match == 2:
            return in_context
        if not in_context and context.countries and place.population < 20000:
            return False
        if place.match == 1 and place.population < 1000 and not in_context:
            return False
        return True


#: How many readings of each name take part in the co-location bonus, and its weight and scale.
CO_LOCATION_READINGS = 12
CO_LOCATION_WEIGHT = 0.4
CO_LOCATION_KM = 40.0


def _co_location_bonus(mentions: list[Mention]) -> dict[int, float]:
    """Readings that lie near some reading of *another* name of the text score
    higher: "Paris" and "Henry County" together are Paris, Tennessee and Henry
    County, Tennessee, whatever each would be alone. Only local readings
    (places and districts, not countries or first-level areas) count, and only
    the most populous few of each name, so the cost stays small."""
    readings: dict[str, list[Place]] = {}
    for m in mentions:
        if m.name in readings or m.kind not in (KIND_PLACE, KIND_QUALIFIER) or len(m.options) < 1:
            continue
        local = [p for p in m.options if not p.is_country and p.feature_code not in ("ADM1", "DEMONYM", "CONT")]
        local.sort(key=lambda p: -p.population)
        readings[m.name] = local[:CO_LOCATION_READINGS]
    if len(readings) < 2:
        return {}
    names = list(readings)
    cos = {}
    bonus: dict[int, float] = {}
    for a in names:
        if len(readings[a]) < 2:
            continue  # a name with one reading needs no help
        for p in readings[a]:
            best = math.inf
            cos_p = cos.setdefault(round(p.lat), math.cos(math.radians(p.lat)))
            for b in names:
                if b == a:
                    continue
                for q in readings[b]:
                    d_lat = p.lat - q.lat
                    if abs(d_lat) > 3:
                        continue
                    d_lon = (p.lon - q.lon) * cos_p
                    d = 111.2 * math.hypot(d_lat, d_lon)
                    if d < best:
                        best = d
            if best < 300:
                bonus[p.id] = CO_LOCATION_WEIGHT * math.exp(-best / CO_LOCATION_KM)
    return bonus


def _ranking(memo: dict[tuple, tuple[list[tuple[Place, float]], float]], options: list[Place], context: Context,
             bonus: dict[int, float] | None = None) -> tuple[list[tuple[Place, float]], float]:
    """``rank(options, context, bonus)`` and its confidence, computed once per
    distinct question within one parse: a name repeated in a text asks the same
    one again (about half of all rankings). ``memo`` lives for one parse and one
    ``bonus``; options are keyed by identity, which is sound because every
    option stays referenced by its mention until the parse ends."""
    key = (tuple(map(id, options)), context.countries, context.admin1, context.points)
    found = memo.get(key)
    if found is None:
        ranked = rank(options, context, bonus)
        found = memo[key] = (ranked, confidence(ranked))
    return found


def _placed_key(m: Mention) -> tuple[str, float, float] | None:
    """What a mention lends the others as context: its name and point, if a place."""
    if m.place is None or m.kind not in (KIND_PLACE, KIND_QUALIFIER):
        return None
    return (m.name, m.place.lat, m.place.lon)


def _move(placed: Counter, before: tuple[str, float, float] | None,
          after: tuple[str, float, float] | None) -> None:
    if before is not None:
        placed[before] -= 1
        if placed[before] <= 0:
            del placed[before]
    if after is not None:
        placed[after] += 1
