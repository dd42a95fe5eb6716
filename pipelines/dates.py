"""Find and resolve dates in English news text (pure, stdlib only).

News reports the past, so year-less dates ("May 22") and relative words
("yesterday", "on Monday") are resolved against the article's publication
date and never against today's clock: without a publication date they
resolve to ``None`` and :func:`missing_year_mentions` lets the caller say
that the year is unknown instead of guessing it.

Decisions worth knowing:

* A written range ("22-23 May", "May 22-23") is one day-precision date whose
  ``end`` is the last day.
* "last week" is the previous calendar week (Monday to Sunday before the
  publication week), "this week" is its Monday up to the publication date;
  both are day precision with ``end > start``.
* "Monday"/"on Monday"/"this Monday" is the latest Monday on or before the
  publication date; "last Monday" is strictly before it (a week back when
  published on a Monday); "next Monday" is strictly after it.
* A year-less date gets the latest year that puts it no more than 7 days
  after the publication date.
* Month and weekday names count only when capitalised; a month without a day
  or year counts only after "in/since/during/until/by/early/late/mid-" and
  the like, so the modal verb "May" is not a date.
* Written years outside 1900..2100 and impossible days ("32 May",
  "February 30") are ignored, never raised.
"""

from __future__ import annotations

import bisect
import calendar
import re
import string
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from .errors import DateError

MIN_YEAR = 1900
MAX_YEAR = 2100
#: How far after publication a year-less date may fall (reports of the past,
#: plus announcements of the coming days).
FUTURE_SLACK_DAYS = 7

EXPLICIT = "explicit"
RELATIVE = "relative"
_IMPOSSIBLE = "impossible"  # internal: matched like a date but no such day (dropped by find_dates)
PRECISION_RANK = {"day": 0, "month": 1, "year": 2}

_MONTHS = {
    "January": 1, "February": 2, "March": 3, "April": 4, "May": 5, "June": 6, "July": 7,
    "August": 8, "September": 9, "October": 10, "November": 11, "December": 12,
}
_MONTH_ABBREVIATIONS = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8,
    "Sept": 9, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}
_MONTH_NUMBERS = {**_MONTHS, **_MONTH_ABBREVIATIONS}
_WEEKDAYS = {n: i for i, n in enumerate(  # Monday=0, as date.weekday(); English, not the locale's
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}


@dataclass(frozen=True)
class DateMention:
    """A date expression found in text, with its parts as written.

    ``start``/``end`` are offsets into the text given to :func:`find_dates`.
    Explicit mentions carry ``year``/``month``/``day`` (``year`` is None when
    not written; ``day_end`` is the last day of a written range). Relative
    mentions carry a code in ``relative``: ``days:-N``, ``weekday:N``,
    ``last_weekday:N``, ``next_weekday:N`` (N: Monday=0), ``last_week``,
    ``this_week``, ``last_month``, ``this_month``, ``last_year``, ``this_year``.
    """

    start: int
    end: int
    text: str
    kind: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    relative: str | None = None
    day_end: int | None = None


@dataclass(frozen=True)
class ResolvedDate:
    """The days a mention covers: ``start``..``end`` inclusive."""

    start: date
    end: date
    precision: str  # day | month | year
    basis: str  # explicit | relative | article | published


# ---------------------------------------------------------------- patterns
#
# Speed: the text is scanned only for anchors (numbers, capitalised month
# and weekday names, relative words) with patterns that start with a literal
# or a character class, so the regex engine skips ahead instead of trying
# every character; the full patterns are then tried at those anchors only.
# Word starts and the words before a match ("in May", "last Monday",
# "Monday, May 22") are checked on a short look-back.

def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))  # longest first: "Sept" before "Sep"


_MONTH = rf"(?:{_alternation(_MONTH_NUMBERS)})(?:\.|\b)"
_FULL_MONTH = rf"(?:{_alternation(_MONTHS)})\b"
_WEEKDAY = rf"(?:{_alternation(_WEEKDAYS)})\b"
_ORD = r"(?:st|nd|rd|th)?"
_DASH = r"\s*[-\u2010-\u2015]\s*"
_DAY = r"[0-9][0-9]?"
_YEAR = r"[0-9][0-9]{3}(?![0-9]|[.,][0-9])"
_LOOK_BACK = 40

_NUMBER_CHARS = frozenset("0123456789.,")

_ISO = re.compile(r"(?P<y>[0-9][0-9]{3})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})(?![0-9])")
_DOTTED = re.compile(rf"(?P<d>{_DAY})\.(?P<mo>{_DAY})\.(?P<y>[0-9][0-9]{{3}})(?![0-9]|\.[0-9])")
_DAY_MONTH = re.compile(
    rf"(?P<d>{_DAY}){_ORD}(?:{_DASH}(?P<d2>{_DAY}){_ORD})?\s+(?:of\s+)?(?P<mo>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?"
)
_MONTH_DAY = re.compile(
    rf"(?P<mo>{_MONTH})\s+(?:the\s+)?(?P<d>{_DAY}){_ORD}(?![0-9]|,[0-9]{{3}}(?![0-9]))"
    rf"(?:{_DASH}(?P<d2>{_DAY}){_ORD}(?![0-9]))?(?:(?:,\s*|\s+)(?P<y>{_YEAR}))?"
)
_MONTH_YEAR = re.compile(rf"(?P<mo>{_MONTH}),?\s+(?:of\s+)?(?P<y>{_YEAR})")
# "between 3 and 5 June", "from June 3 to 5": a range only after between/from
# ("on 3 and 5 June" names two days, not the days between them).
_RANGE_JOIN = r"\s+(?:and|to|until|till|through)\s+"
_DAY_RANGE_WORDS = re.compile(
    rf"(?P<d>{_DAY}){_ORD}{_RANGE_JOIN}(?P<d2>{_DAY}){_ORD}\s+(?:of\s+)?(?P<mo>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?"
)
_MONTH_DAY_RANGE_WORDS = re.compile(
    rf"(?P<mo>{_MONTH})\s+(?:the\s+)?(?P<d>{_DAY}){_ORD}{_RANGE_JOIN}(?:the\s+)?(?P<d2>{_DAY}){_ORD}(?![0-9])"
    rf"(?:(?:,\s*|\s+)(?P<y>{_YEAR}))?"
)
_RANGE_CONTEXT = re.compile(r"\b(?i:between|from)\s+\Z")
_MONTH_ALONE = re.compile(rf"(?P<mo>{_FULL_MONTH})(?!\.?,?\s*(?:of\s+|the\s+)?[0-9])")
_YEAR_ALONE = re.compile(r"(?P<y>[0-9][0-9]{3})(?![0-9]|[.,:][0-9]|\s*%|-[0-9])")

_MONTH_CONTEXT = re.compile(
    r"\b(?i:(?:in|since|during|until|till|through|throughout|by)\s+(?:(?:early|late|mid)(?:\s+|-))?"
    r"|(?:early|late|mid)(?:\s+|-)|(?:the\s+)?(?:end|beginning|start|middle)\s+of\s+)\Z"
)
_YEAR_CONTEXT = re.compile(
    r"\b(?i:(?:in|since|during|throughout|until)\s+(?:(?:early|late|mid)(?:\s+|-))?|(?:early|late|mid)(?:\s+|-))\Z"
)
_WEEKDAY_BEFORE = re.compile(rf"\b{_WEEKDAY},?\s+(?:the\s+)?\Z")

#: Tried where a number starts: (pattern, characters that may not precede it,
#: a weekday may prefix it, words required right before it).
_NUMBER_RULES: tuple[tuple[re.Pattern[str], frozenset[str], bool, re.Pattern[str] | None], ...] = (
    (_ISO, _NUMBER_CHARS | {"-"}, False, None),
    (_DAY_RANGE_WORDS, _NUMBER_CHARS, False, _RANGE_CONTEXT),
    (_DOTTED, _NUMBER_CHARS, False, None),
    (_DAY_MONTH, _NUMBER_CHARS, True, None),
    (_YEAR_ALONE, _NUMBER_CHARS, False, _YEAR_CONTEXT),
)
#: Tried where a capitalised month name starts.
_MONTH_RULES: tuple[tuple[re.Pattern[str], frozenset[str], bool, re.Pattern[str] | None], ...] = (
    (_MONTH_DAY_RANGE_WORDS, frozenset(), False, _RANGE_CONTEXT),
    (_MONTH_DAY, frozenset(), True, None),
    (_MONTH_YEAR, frozenset(), False, None),
    (_MONTH_ALONE, frozenset(), False, _MONTH_CONTEXT),
)
_NUMBER_START = re.compile(r"[0-9][0-9]*")
_MONTH_START = re.compile(_MONTH)

# Relative words are matched on a lowercased copy (when it keeps the offsets),
# so "Yesterday" and "YESTERDAY" count too; weekday names must be capitalised.
# One pattern per leading word: a literal prefix lets the engine skip fast.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_RELATIVE_WORDS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r"yesterday\b",
    r"to(?:day|night)\b",
    r"last\s+(?:night|week|month|year)\b",
    r"this\s+(?:morning|afternoon|evening|week|month|year)\b",
))
_DAY_BEFORE = re.compile(r"\b(?i:the\s+day\s+before)\s+\Z")
_AGO = re.compile(
    r"\b(?:[0-9][0-9]?|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:days?|weeks?)\s+ago\b"
)
_WEEKDAY_NAME = re.compile(_WEEKDAY)
#: Every date expression holds one of these: a digit, a capitalised month or
#: weekday name, or the literal start of a relative pattern (case-insensitive
#: here: a superset of matching the lowercased text). Most sentences hold none,
#: and one search rules them out before the dozen scans above.
_MAYBE_DATE = re.compile(
    rf"[0-9]|{_alternation(_MONTH_NUMBERS)}|{_alternation(_WEEKDAYS)}|(?i:yesterday|today|tonight|last|this|ago)"
)
_WEEKDAY_QUALIFIER = re.compile(r"\b(?i:last|this\s+past|past|next|this\s+coming|this|on)\s+\Z")
_FIXED_RELATIVE = {
    "yesterday": "days:-1", "last night": "days:-1",
    "today": "days:0", "tonight": "days:0", "this morning": "days:0", "this afternoon": "days:0",
    "this evening": "days:0", "last week": "last_week", "this week": "this_week",
    "last month": "last_month", "this month": "this_month", "last year": "last_year", "this year": "this_year",
}


# ---------------------------------------------------------------- finding

def find_dates(text: str) -> list[DateMention]:
    """Every date expression in ``text``, in order, without overlaps.

    Explicit dates are taken first (where two overlap, the earlier, then the
    longer wins); relative words overlapping them are dropped, so
    "on Monday, May 22" is one explicit date, not a weekday plus a date.
    """
    if not _MAYBE_DATE.search(text):
        return []
    explicit = _non_overlapping(_explicit_mentions(text))
    ends = [m.end for m in explicit]  # sorted: the kept explicit mentions do not overlap
    relative = [m for m in _non_overlapping(_relative_mentions(text))
                if not _overlaps_any(m, explicit, ends)]
    return sorted([m for m in explicit if m.kind == EXPLICIT] + relative, key=lambda x: x.start)


def missing_year_mentions(text: str) -> list[DateMention]:
    """Explicit dates written without a year ("May 22", "in May"): these need
    a publication date, and the CLI must say so rather than guess."""
    return [m for m in find_dates(text) if m.kind == EXPLICIT and m.year is None]


def _non_overlapping(mentions: list[DateMention]) -> list[DateMention]:
    """Earliest first, the longer of two starting together; drop what overlaps."""
    kept: list[DateMention] = []
    for mention in sorted(mentions, key=lambda x: (x.start, x.start - x.end)):
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _overlaps_any(mention: DateMention, taken: list[DateMention], ends: list[int]) -> bool:
    """Does ``mention`` overlap one of ``taken`` (sorted, disjoint)? Bisect, so
    huge texts with thousands of dates stay linear-logarithmic."""
    i = bisect.bisect_right(ends, mention.start)
    return i < len(taken) and taken[i].start < mention.end


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")


def _context_start(pattern: re.Pattern[str], text: str, i: int) -> int | None:
    """Where the words ``pattern`` requires right before offset ``i`` begin."""
    m = pattern.search(text, max(0, i - _LOOK_BACK), i)
    return m.start() if m else None


def _explicit_mentions(text: str) -> list[DateMention]:
    found: list[DateMention] = []
    for starts, rules in ((_NUMBER_START, _NUMBER_RULES), (_MONTH_START, _MONTH_RULES)):
        for anchor in starts.finditer(text):
            at = anchor.start()
            if not _word_start(text, at):
                continue
            for pattern, not_after, weekday_prefix, context in rules:
                if at and text[at - 1] in not_after:
                    continue
                m = pattern.match(text, at)
                if m is None:
                    continue
                start: int | None = at
                if context is not None:
                    start = _context_start(context, text, at)
                elif weekday_prefix:
                    start = _context_start(_WEEKDAY_BEFORE, text, at)
                    start = at if start is None else start
                if start is not None:
                    found.append(_explicit(m, start, text))
    return found


def _explicit(m: re.Match[str], start: int, text: str) -> DateMention:
    """The mention for a match; kind _IMPOSSIBLE when no such day exists, so
    that it still blocks shorter readings ("February 2023" in "30 February 2023")."""
    groups = m.groupdict()
    year = int(groups["y"]) if groups.get("y") else None
    month_text = groups.get("mo")
    month = None
    if month_text:
        month = int(month_text) if month_text.isdigit() else _MONTH_NUMBERS[month_text.rstrip(".")]
    day = int(groups["d"]) if groups.get("d") else None
    day_end = int(groups["d2"]) if groups.get("d2") else None
    kind = EXPLICIT
    if (year is not None and not MIN_YEAR <= year <= MAX_YEAR) or (month is not None and not 1 <= month <= 12):
        kind = _IMPOSSIBLE
    elif day is not None and month is not None:
        last = calendar.monthrange(year if year is not None else 2000, month)[1]  # 2000: leap, Feb 29 may be valid
        if not 1 <= day <= last:
            kind = _IMPOSSIBLE
        elif day_end is not None and not day < day_end <= last:
            day_end = None
    return DateMention(start, m.end(), text[start:m.end()], kind, year, month, day, None, day_end)


def _relative_mentions(text: str) -> list[DateMention]:
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lowercase to two ("İ"): keep offsets
        lower = text.translate(_ASCII_LOWER)
    found = []
    for pattern in _RELATIVE_WORDS:
        for m in pattern.finditer(lower):
            start = m.start()
            if not _word_start(text, start):
                continue
            code = _FIXED_RELATIVE[" ".join(m.group().split())]
            if code == "days:-1" and m.group() == "yesterday":
                before = _context_start(_DAY_BEFORE, text, start)
                if before is not None:
                    start, code = before, "days:-2"
            found.append(DateMention(start, m.end(), text[start:m.end()], RELATIVE, relative=code))
    if "ago" in lower:
        for m in _AGO.finditer(lower):
            number, unit, _ = m.group().split()
            n = int(number) if number.isdigit() else _NUMBER_WORDS[number]
            code = f"days:-{n * (7 if unit.startswith('week') else 1)}"
            found.append(DateMention(m.start(), m.end(), text[m.start():m.end()], RELATIVE, relative=code))
    for m in _WEEKDAY_NAME.finditer(text):
        if not _word_start(text, m.start()):
            continue
        q = _WEEKDAY_QUALIFIER.search(text, max(0, m.start() - _LOOK_BACK), m.start())
        qualifier = " ".join(q.group().lower().split()) if q else ""
        kind = ("last_weekday" if qualifier in ("last", "this past", "past")
                else "next_weekday" if qualifier in ("next", "this coming") else "weekday")
        start = q.start() if q else m.start()
        found.append(DateMention(start, m.end(), text[start:m.end()], RELATIVE,
                                 relative=f"{kind}:{_WEEKDAYS[m.group()]}"))
    return found


# ---------------------------------------------------------------- resolving

def resolve(mention: DateMention, published: date | None) -> ResolvedDate | None:
    """The days ``mention`` covers, or None when they cannot be known (a
    relative or year-less date without ``published``) or do not exist."""
    try:
        if mention.kind == RELATIVE:
            return _resolve_relative(mention.relative or "", published)
        return _resolve_explicit(mention, published)
    except (ValueError, OverflowError):  # arithmetic beyond date.min/date.max
        return None


def _resolve_explicit(m: DateMention, published: date | None) -> ResolvedDate | None:
    if m.month is None:
        if m.year is None:
            return None
        return ResolvedDate(date(m.year, 1, 1), date(m.year, 12, 31), "year", EXPLICIT)
    year = m.year if m.year is not None else _infer_year(m.month, m.day or 1, published)
    if year is None:
        return None
    if m.day is None:
        return ResolvedDate(date(year, m.month, 1), _month_end(year, m.month), "month", EXPLICIT)
    start = date(year, m.month, m.day)
    return ResolvedDate(start, date(year, m.month, m.day_end or m.day), "day", EXPLICIT)


def _infer_year(month: int, day: int, published: date | None) -> int | None:
    """The latest year putting month/day at most FUTURE_SLACK_DAYS after publication."""
    if published is None:
        return None
    slack = timedelta(days=FUTURE_SLACK_DAYS)
    latest = published + slack if published <= date.max - slack else date.max
    for year in (published.year + 1, published.year, published.year - 1):
        try:
            if date(year, month, day) <= latest:
                return year
        except ValueError:  # Feb 29 in a common year, or year out of range
            continue
    return None


def _resolve_relative(code: str, published: date | None) -> ResolvedDate | None:
    if published is None:
        return None
    p = published
    kind, _, arg = code.partition(":")
    if kind == "days":
        day = p + timedelta(days=int(arg))
        return ResolvedDate(day, day, "day", RELATIVE)
    if kind.endswith("weekday"):
        back = (p.weekday() - int(arg)) % 7
        if kind == "last_weekday":
            day = p - timedelta(days=back or 7)
        elif kind == "next_weekday":
            day = p + timedelta(days=(7 - back) % 7 or 7)
        else:
            day = p - timedelta(days=back)
        return ResolvedDate(day, day, "day", RELATIVE)
    monday = p - timedelta(days=p.weekday())
    if kind == "last_week":
        return ResolvedDate(monday - timedelta(days=7), monday - timedelta(days=1), "day", RELATIVE)
    if kind == "this_week":
        return ResolvedDate(monday, p, "day", RELATIVE)
    if kind in ("last_month", "this_month"):
        year, month = (p.year, p.month) if kind == "this_month" else _previous_month(p.year, p.month)
        return ResolvedDate(date(year, month, 1), _month_end(year, month), "month", RELATIVE)
    if kind in ("last_year", "this_year"):
        year = p.year - (kind == "last_year")
        return ResolvedDate(date(year, 1, 1), date(year, 12, 31), "year", RELATIVE)
    return None


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# ---------------------------------------------------------------- sentences and articles

#: The resolvable dates of one sentence, in order: what :func:`sentence_date`
#: and :func:`article_anchor_date` decide from.
SentenceDates = list[tuple[DateMention, ResolvedDate]]


def resolved_dates(text: str, published: date | None) -> SentenceDates:
    """Every date of ``text`` that can be resolved, with its resolution. An
    article's sentences are resolved once and the result given to both
    :func:`best_date` and :func:`anchor_date`."""
    out = []
    for m in find_dates(text):
        r = resolve(m, published)
        if r is not None:
            out.append((m, r))
    return out


def sentence_date(sentence: str, published: date | None) -> ResolvedDate | None:
    """The date a sentence speaks of: the finest precision wins, an explicit
    date before a relative one at the same precision, then the first written.

    So "what happened yesterday (May 22 – ed.)" is the explicit 22 May, while
    in "yesterday's raid, the worst since May 2022" the day beats the month.
    """
    return best_date(resolved_dates(sentence, published))


def best_date(resolved: SentenceDates) -> ResolvedDate | None:
    """:func:`sentence_date` of a sentence already resolved."""
    if not resolved:
        return None
    best = min(
        range(len(resolved)),
        key=lambda i: (PRECISION_RANK[resolved[i][1].precision], resolved[i][0].kind != EXPLICIT, i),
    )
    return resolved[best][1]


def article_anchor_date(sentences: list[str], published: date | None) -> ResolvedDate | None:
    """The article's main event date, for sentences without one of their own.

    Each sentence votes once for every distinct date it contains; the most
    voted day-precision date wins (ties: first seen), then month, then year
    precision. None when the text has no resolvable date at all.
    """
    return anchor_date([resolved_dates(sentence, published) for sentence in sentences])


def anchor_date(sentences: Iterable[SentenceDates]) -> ResolvedDate | None:
    """:func:`article_anchor_date` of sentences already resolved."""
    votes: dict[str, Counter[tuple[date, date]]] = {p: Counter() for p in PRECISION_RANK}
    for resolved in sentences:
        for key in dict.fromkeys((r.precision, r.start, r.end) for _, r in resolved):
            votes[key[0]][key[1:]] += 1  # Counter keeps first-seen order for ties
    for precision in PRECISION_RANK:
        if votes[precision]:
            (start, end), _ = votes[precision].most_common(1)[0]
            return ResolvedDate(start, end, precision, "article")
    return None


# ---------------------------------------------------------------- CLI input

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(value: str) -> date:
    """A strict YYYY-MM-DD date (the CLI's --published), or a one-line DateError."""
    text = value.strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass
    shown = value if value.isprintable() and len(value) <= 40 else ascii(value[:40])[1:-1]
    raise DateError(f"bad --published date '{shown}': expected YYYY-MM-DD")
