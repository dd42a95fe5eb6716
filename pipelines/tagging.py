"""Event types, actors and claims from an event's evidence sentences (pure, rule-based).

Taxonomy
========

A small set of event types modelled on ACLED's event types and sub-event
types. Each evidence sentence gets at most one type: the first of the types
below (in this order, the *precedence*) whose cue words it contains. An event
then takes the type most of its evidence sentences have; a tie goes to the
type earlier in the list. ``""`` means no rule applied.

==================  =========================  ===========================================  ===============================
id                  label                      ACLED equivalent                             cue words (case-insensitive)
==================  =========================  ===========================================  ===============================
armed_clash         Armed clash                Battles / Armed clash                        clash, fighting, fought, battle,
                                                                                            firefight, gunfight, skirmish,
                                                                                            combat, ambush, defeat, repel,
                                                                                            repulse, dislodge, exchange of
                                                                                            fire
shelling_strike     Shelling / strike          Explosions/Remote violence / Shelling/       shelling, shelled, artillery,
                                               artillery/missile attack; Air/drone strike   mortar, missile, rocket, air
                                                                                            strike, drone strike/attack,
                                                                                            bombard, bombing, explosion,
                                                                                            struck, strike(s) on
incursion_movement  Incursion / movement       Battles / Non-state actor overtakes          incursion, raid, crossed the
                                               territory; Strategic developments /          border, border breach,
                                               Non-violent transfer of territory            penetration, entered, invade,
                                                                                            invasion, advance, captured,
                                                                                            seized, took control, liberate,
                                                                                            offensive, launched an
                                                                                            operation, pushed back, withdrew,
                                                                                            retreat, deploy
displacement        Evacuation / displacement  Strategic developments / Other (ACLED has    evacuate, evacuation, fled, flee,
                                               no displacement type)                        flight, displaced, refugees, left
                                                                                            their homes, exodus
statement           Official statement         Strategic developments / Other               a claim verb (said, reported,
                                                                                            denied, "according to" …) with
                                                                                            none of the cues above; concern,
                                                                                            condemn, warn
==================  =========================  ===========================================  ===============================

Actors
======

``geodata/actors.csv`` (editable: ``canonical,aliases,kind,organisation``,
aliases separated by ``;``) maps every spelling to one canonical name:
"FRL", "Legion of Freedom of Russia" → *Freedom of Russia Legion*; "Russian
Defense Ministry" → *Russian Ministry of Defence*. Aliases of up to five
capital letters ("RVC") match case-sensitively, all others in any case.
A person row names their organisation; both are listed as actors. Two generic
patterns add actors the list lacks: "the governor of (Russia's) the X region"
→ *Governor of X Region* (looked up in the list, so "the governor of the
Belgorod region" is *Governor of Belgorod Oblast*), and a title followed by a
name ("spokesman for X, Jane Doe," / "official representative … Jane Doe")
→ *Jane Doe*, with X as her organisation.

Claims
======

Every claim verb in a sentence ("said", "reported", "claimed", "announced",
"stated", "denied", "according to X" …) is an attribution. Its claimant is the
actor nearest before the verb in the same clause (a coordinated pair, "the
RVC and the FRL announced", gives both), else the one right after it ("…,
said the ministry"), else the capitalised words before the verb ("Reuters
reported"). A pronoun ("which they denied") stands for the actors of the
sentence that are not already claimants, else for the claimants of the
previous sentence. A person with an organisation is written
``Organisation (Person)``. Deny verbs give ``denies``; all others ``asserts``.
A sentence without an attribution is the article's own claim: its claimant is
the article's source, stance ``asserts``.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

ACTORS_CSV = Path(__file__).resolve().parent.parent / "geodata" / "actors.csv"

ASSERTS = "asserts"
DENIES = "denies"


@dataclass(frozen=True)
class EventType:
    id: str
    label: str
    acled: str
    cues: str  # a regex over the lower-cased sentence


#: In precedence order: a sentence takes the first type whose cues it has.
TAXONOMY: tuple[EventType, ...] = (
    EventType("armed_clash", "Armed clash", "Battles / Armed clash",
              r"\bclash(?:es|ed)?\b|\bfight(?:ing|s)?\b|\bfought\b|\bbattles?\b|\bfire ?fights?\b|"
              r"\bgunfights?\b|\bskirmish\w*|\bcombat\b|\bambush\w*|\bdefeat(?:s|ed|ing)?\b|"
              r"\brepel(?:s|led|ling)?\b|\brepuls\w+|\bdislodg\w+|\bexchange[sd]? of fire\b"),
    EventType("shelling_strike", "Shelling / strike",
              "Explosions/Remote violence / Shelling/artillery/missile attack; Air/drone strike",
              r"\bshell(?:ed|ing|s)\b|\bartillery\b|\bmortars?\b|\bmissiles?\b|\brockets?\b|"
              r"\bair ?strikes?\b|\bdrone (?:strike|attack)s?\b|\bbombard\w*|\bbombing\w*|"
              r"\bexplosions?\b|\bstruck\b|\bstrikes? on\b"),
    EventType("incursion_movement", "Incursion / movement",
              "Battles / Non-state actor overtakes territory; Strategic developments / Non-violent transfer of territory",
              r"\bincursions?\b|\braid(?:s|ed|ing)?\b|\bcross(?:ed|es|ing)? (?:the border|into)\b|"
              r"\bborder breach\b|\bbreach(?:ed)? the border\b|\bpenetrat\w+|\bentered\b|\binva(?:de[sd]?|sion)\b|"
              r"\badvanc(?:e[sd]?|ing)\b|\bcaptur(?:e[sd]?|ing)\b|\bseiz(?:e[sd]?|ing)\b|\btook control\b|"
              r"\bliberat\w+|\boffensive\b|\blaunched an? (?:operation|attack|assault)\b|\bpushed back\b|"
              r"\bwithdr[ae]w\w*|\bretreat\w*|\bdeploy\w*"),
    EventType("displacement", "Evacuation / displacement",
              "Strategic developments / Other (ACLED has no displacement type)",
              r"\bevacuat\w+|\bfled\b|\bflee(?:s|ing)?\b|\bflight\b|\bdisplac\w+|\brefugees?\b|"
              r"\bleft their homes\b|\bexodus\b"),
    EventType("statement", "Official statement", "Strategic developments / Other",
              r"\bconcern(?:ed|s)?\b|\bcondemn\w*|\bwarn(?:s|ed|ing)?\b"),
)
TYPE_IDS: tuple[str, ...] = tuple(t.id for t in TAXONOMY)


def _first_letters(patterns: Iterable[str]) -> str:
    """The letters the cue alternatives start with: a look-ahead on them lets the
    regex skip most word starts without trying every alternative."""
    letters = set()
    for pattern in patterns:
        for alt in re.split(r"\|(?![^(]*\))", pattern):
            alt = alt[2:] if alt.startswith(r"\b") else alt
            letters.add(alt[0])
    return "".join(sorted(letters))


#: All cues in one pass over the lower-cased sentence; the named group says which type matched.
_ANY_CUE = re.compile(rf"\b(?=[{_first_letters(t.cues for t in TAXONOMY)}])(?:"
                      + "|".join(f"(?P<{t.id}>{t.cues})" for t in TAXONOMY) + ")")
_PRECEDENCE = {t.id: i for i, t in enumerate(TAXONOMY)}

_ASSERT_VERBS = (r"said|says|say|reported|reports|report|claimed|claims|claim|announced|announces|announce|"
                 r"stated|states|noted|notes|emphasi[sz]ed|emphasi[sz]es|emphasi[sz]e|confirmed|confirms|"
                 r"assured|assures|told|wrote|writes|added|adds|believes?|warned|warns|insisted|insists|"
                 r"declared|declares|acknowledged|admitted")
_DENY_VERBS = r"denied|denies|deny|rejected|rejects|refuted|refutes|dismissed|dismisses"
_VERB_RE = re.compile(rf"\b(?:(?P<deny>{_DENY_VERBS})|(?P<assert>{_ASSERT_VERBS})|(?P<acc>according to))\b")
#: What ends the subject of a claim verb when looking back from it.
_CLAUSE_BOUNDARY = re.compile(r"[“”\";:]|\b(?:that|which|who|while|but)\b")
_PRONOUN_BEFORE = re.compile(r"\b(?:they|it|he|she|we)\s+(?:(?:have|has|had|also|later|then|both|all)\s+)?$",
                             re.I)
_CAPITALISED_BEFORE = re.compile(r"((?:[A-Z][\w'’.&-]*\s+){0,4}[A-Z][\w'’.&-]*)\s*$")
_CAPITALISED_AFTER = re.compile(r"^\s*(?:the\s+)?((?:[A-Z][\w'’.&-]*\s+){0,4}[A-Z][\w'’.&-]*)")
_LEADING_STOP = re.compile(r"^(?:The|A|An|In|On|At|But|And|Also|However|Meanwhile)\s+")
_GOVERNOR = re.compile(
    r"\b(?i:governor) of (?:the )?(?:[A-Z]\w+'s )?(?P<name>[A-Z][\w-]+(?: [A-Z][\w-]+)?)"
    r"(?: (?P<kind>(?i:region|oblast|province|state|krai|county|prefecture))\b)?")
_TITLED_PERSON = re.compile(
    r"\b(?:spokes(?:man|woman|person)|official representative|representative|minister|commander|mayor|"
    r"head|chief|governor|president|ambassador|adviser|advisor)"
    r"(?P<of>\s+(?:of|for)\s+[^,.;“”\"]{2,80})?,?\s+"
    r"(?P<name>[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+){1,2})\b")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})
#: json.dumps(obj, ensure_ascii=False) builds this encoder on every call; it holds no state between calls.
_JSON = json.JSONEncoder(ensure_ascii=False)


@dataclass(frozen=True)
class Actor:
    canonical: str
    kind: str
    organisation: str = ""


@dataclass(frozen=True)
class ActorSpan:
    start: int
    end: int
    actor: Actor


@dataclass(frozen=True)
class Claim:
    claimant: str
    stance: str
    sentence: str
    start: int
    end: int

    def as_dict(self) -> dict:
        return {"claimant": self.claimant, "stance": self.stance, "sentence": self.sentence,
                "start": self.start, "end": self.end}


@dataclass(frozen=True)
class SentenceTags:
    event_type: str
    actors: tuple[str, ...]
    claims: tuple[Claim, ...]  # explicit attributions only


@dataclass(frozen=True)
class EventTags:
    event_type: str
    actors: str  # JSON list
    claimant: str
    claim_stance: str
    claims: str  # JSON list


def load_actors(path: Path = ACTORS_CSV) -> list[tuple[Actor, list[str]]]:
    """Rows of the actor list: (actor, its spellings including the canonical name)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            canonical = (row.get("canonical") or "").strip()
            if not canonical:
                continue
            aliases = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
            actor = Actor(canonical, (row.get("kind") or "").strip(), (row.get("organisation") or "").strip())
            rows.append((actor, [canonical, *aliases]))
    return rows


def sentence_type(text: str) -> str:
    """The first taxonomy type (in precedence order) whose cues the sentence has."""
    found = {m.lastgroup for m in _ANY_CUE.finditer(text.lower())}
    for type_id in TYPE_IDS:
        if type_id in found:
            return type_id
    return ""


def event_type_of(types: Iterable[str]) -> str:
    """The type most sentences have; ties go to the type with precedence."""
    counts = Counter(t for t in types if t)
    if not counts:
        return ""
    return min(counts, key=lambda t: (-counts[t], _PRECEDENCE.get(t, len(_PRECEDENCE))))


class Tagger:
    """Compiled actor list and rules; build once (:func:`default_tagger`) and reuse."""

    def __init__(self, rows: Sequence[tuple[Actor, list[str]]]):
        self.by_name: dict[str, Actor] = {}
        exact: dict[str, Actor] = {}
        folded: dict[str, Actor] = {}
        for actor, spellings in rows:
            self.by_name.setdefault(actor.canonical.casefold(), actor)
            for s in spellings:
                s = s.translate(_APOSTROPHES)
                self.by_name.setdefault(s.casefold(), actor)
                if len(s) <= 5 and s.isupper():
                    exact.setdefault(s, actor)
                else:
                    folded.setdefault(_fold(s), actor)
        self._exact = exact
        self._folded = folded
        self._exact_re = _alternation(exact, flags=0)
        self._folded_re = _alternation(folded, flags=0)  # matched on the lower-cased text
        self._folded_re_i = _alternation(folded, flags=re.I)  # when lower-casing changes the length

    # actors ---------------------------------------------------------------

    def lookup(self, name: str) -> Actor | None:
        return self.by_name.get(" ".join(name.translate(_APOSTROPHES).split()).casefold())

    def actor_spans(self, text: str) -> list[ActorSpan]:
        """Every actor named in ``text``, in order, longest spelling first at each place."""
        norm = _straight_quotes(text)
        spans: list[ActorSpan] = []
        if self._folded_re is not None:
            lower = norm.lower()
            folded_re = self._folded_re if len(lower) == len(norm) else self._folded_re_i
            target = lower if len(lower) == len(norm) else norm
            spans += [ActorSpan(m.start(), m.end(), self._folded[_fold(m.group())])
                      for m in folded_re.finditer(target)]
        if self._exact_re is not None:
            spans += [ActorSpan(m.start(), m.end(), self._exact[m.group()]) for m in self._exact_re.finditer(norm)]
        if "overnor" in norm:
            for m in _GOVERNOR.finditer(norm):
                kind = (m.group("kind") or "").title()
                name = f"Governor of {m.group('name')}{' ' + kind if kind else ''}"
                actor = self.lookup(name) or Actor(name, "government")
                spans.append(ActorSpan(m.start(), m.end(), actor))
        for m in _TITLED_PERSON.finditer(norm):
            name = m.group("name")
            if self.lookup(name) is not None or _LEADING_STOP.match(name + " "):
                continue
            org = ""
            if m.group("of"):
                inner = [s.actor for s in spans if m.start() <= s.start < m.end("of")]
                org = inner[0].canonical if inner else ""
            spans.append(ActorSpan(m.start("name"), m.end("name"), Actor(name, "person", org)))
        spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
        kept: list[ActorSpan] = []
        for s in spans:  # drop spans inside a longer one ("Belgorod governor" in a governor phrase)
            if kept and s.start < kept[-1].end:
                continue
            kept.append(s)
        return kept

    def actor_names(self, spans: Iterable[ActorSpan]) -> list[str]:
        names: dict[str, None] = {}
        for s in spans:
            names[s.actor.canonical] = None
            if s.actor.organisation:
                names[s.actor.organisation] = None
        return list(names)

    # claims ---------------------------------------------------------------

    def claimant_name(self, actor: Actor) -> str:
        if actor.kind == "person" and actor.organisation:
            return f"{actor.organisation} ({actor.canonical})"
        return actor.canonical

    def attributions(self, text: str, spans: list[ActorSpan],
                     previous: str = "") -> list[tuple[str, str]]:
        """(claimant, stance) for every claim verb in the sentence."""
        out: list[tuple[str, str]] = []
        claimant_spans: set[int] = set()
        for m in _VERB_RE.finditer(text):
            stance = DENIES if m.group("deny") else ASSERTS
            if m.group("acc"):
                names = self._after(text, m.end(), spans)
            else:
                names = self._before(text, m.start(), spans, claimant_spans)
                if names is None:
                    names = self._after(text, m.end(), spans)
            if names is None and not m.group("acc") and _pronoun_before(text, 0, m.start()):
                others = [s for s in spans if s.start < m.start() and s.start not in claimant_spans]
                if others:
                    names = [self.claimant_name(s.actor) for s in others]
                elif previous:
                    prior = self.attributions(previous, self.actor_spans(previous))
                    names = list(dict.fromkeys(c for c, _ in prior)) or None
            if not names:
                continue
            for name in names:
                if (name, stance) not in out:
                    out.append((name, stance))
            for s in spans:
                if self.claimant_name(s.actor) in names and s.start < m.start():
                    claimant_spans.add(s.start)
        return out

    def _before(self, text: str, verb_start: int, spans: list[ActorSpan],
                claimant_spans: set[int]) -> list[str] | None:
        window_start = 0
        for b in _CLAUSE_BOUNDARY.finditer(text, max(0, verb_start - 200), verb_start):
            window_start = b.end()
        if _pronoun_before(text, window_start, verb_start):
            return None
        inside = [s for s in spans if window_start <= s.start and s.end <= verb_start]
        if inside:
            last = inside[-1]
            group = [last]
            for s in reversed(inside[:-1]):  # "X and the Y announced", "X, Y and Z said"
                gap = text[s.end:group[0].start].strip().lower()
                if gap in ("and", "and the", ",", ", the", ", and", ", and the", "&"):
                    group.insert(0, s)
                else:
                    break
            # "the Russian Defense Ministry, Igor Konashenkov, said": the person speaks for it
            orgs = {s.actor.organisation for s in group if s.actor.organisation}
            group = [s for s in group if s.actor.canonical not in orgs] or group
            return [self.claimant_name(s.actor) for s in group]
        tail = text[max(window_start, verb_start - 80):verb_start]
        m = _CAPITALISED_BEFORE.search(tail)
        if m and m.end(1) >= len(tail.rstrip()) and not re.search(r"[.,]\s*$", tail):
            name = _LEADING_STOP.sub("", m.group(1)).strip()
            if name and name[0].isupper() and not name.lower().startswith(("on ", "in ")):
                actor = self.lookup(name)
                if actor or not _common_word(name):
                    return [self.claimant_name(actor) if actor else name]
        return None

    def _after(self, text: str, verb_end: int, spans: list[ActorSpan]) -> list[str] | None:
        following = [s for s in spans if verb_end <= s.start <= verb_end + 6]
        if following:
            return [self.claimant_name(following[0].actor)]
        m = _CAPITALISED_AFTER.match(text[verb_end:verb_end + 80])
        if m:
            name = m.group(1).strip().rstrip(".")
            actor = self.lookup(name)
            if actor or not _common_word(name):
                return [self.claimant_name(actor) if actor else name]
        return None

    # sentences and events ---------------------------------------------------

    def tag_sentence(self, text: str, start: int, previous: str = "") -> SentenceTags:
        spans = self.actor_spans(text)
        found = self.attributions(text, spans, previous)
        claims = tuple(Claim(c, s, text, start, start + len(text)) for c, s in found)
        kind = sentence_type(text)
        if not kind and claims:
            kind = "statement"
        return SentenceTags(kind, tuple(self.actor_names(spans)), claims)

    def tag_event(self, sentences: Sequence[SentenceTags | tuple[str, int, SentenceTags]],
                  source: str) -> EventTags:
        """Combine the tags of an event's evidence sentences (in evidence order).
        Items are ``(quote, start, tags)``; a sentence without attribution is the
        source's own claim."""
        types: list[str] = []
        actors: dict[str, None] = {}
        claims: list[Claim] = []
        for quote, start, tags in sentences:
            types.append(tags.event_type)
            actors.update(dict.fromkeys(tags.actors))
            if tags.claims:
                claims.extend(tags.claims)
            else:
                claims.append(Claim(source, ASSERTS, quote, start, start + len(quote)))
        attributed = [c for c in claims if c.claimant != source] or claims
        first = attributed[0] if attributed else None
        return EventTags(
            event_type=event_type_of(types),
            actors=_JSON.encode(list(actors)),
            claimant=first.claimant if first else source,
            claim_stance=first.stance if first else ASSERTS,
            claims=_JSON.encode([c.as_dict() for c in claims]),
        )


def _pronoun_before(text: str, lo: int, hi: int) -> bool:
    """A pronoun subject right before ``hi`` ("which they denied"); only the
    last few words are looked at, so the check is not linear in the sentence."""
    return _PRONOUN_BEFORE.search(text, max(lo, hi - 30), hi) is not None


def _straight_quotes(text: str) -> str:
    """’ and ‘ as ' (same length, so offsets hold); str.replace is much faster than translate."""
    return text.replace("’", "'").replace("‘", "'")


def _fold(s: str) -> str:
    return " ".join(s.split()).casefold()


def _alternation(names: dict[str, Actor], flags: int) -> re.Pattern | None:
    """One regex for all spellings, factored as a trie of words (Python's re
    tries alternatives one by one; a trie keeps it fast with a long list).
    Longer spellings win: each branch tries its continuations first."""
    if not names:
        return None
    trie: dict = {}
    for name in names:
        node = trie
        for word in name.split():
            node = node.setdefault(word, {})
        node[""] = {}
    first = "".join(sorted({re.escape(n[0]) for n in names}))
    return re.compile(rf"\b(?=[{first}])(?<!-){_trie_regex(trie)}(?![\w-])", flags)


def _trie_regex(node: dict) -> str:
    branches = []
    for word in sorted((w for w in node if w), key=len, reverse=True):
        child = node[word]
        rest = [w for w in child if w]
        if not rest:
            branches.append(re.escape(word))
            continue
        tail = rf"\s+{_trie_regex(child)}"
        branches.append(rf"{re.escape(word)}(?:{tail})" + ("?" if "" in child else ""))
    return "(?:" + "|".join(branches) + ")"


@lru_cache(maxsize=4)
def default_tagger(path: str = str(ACTORS_CSV)) -> Tagger:
    return Tagger(load_actors(Path(path)))


def _common_word(name: str) -> bool:
    """"Rival claims over Bakhmut": one capitalised dictionary word is not a
    speaker (a headline's first word, a noun before "claims")."""
    from .geoparse import common_words

    return " " not in name.strip() and name.strip().lower() in common_words()
