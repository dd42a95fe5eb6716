"""Date finding and resolution: explicit and relative dates, year inference,
sentence and article dates, the --published parser, robustness and speed."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from pipelines.dates import (
    DateMention,
    ResolvedDate,
    article_anchor_date,
    find_dates,
    missing_year_mentions,
    parse_iso_date,
    resolve,
    sentence_date,
)
from pipelines.errors import DateError, InputError

PUB = date(2023, 5, 23)  # a Tuesday: the seed article's publication date
D = date.fromisoformat

SEED = [
    "On May 22, the fighters started with the villages of Kozinka and Gora Podol.",
    "“Of course, what happened yesterday (May 22 – ed.) is of deep concern.”",
    "The spokesman said that on May 22, the corps launched an operation.",
    "On May 23, the Russian Ministry of Defense reported the defeat of the corps.",
]


def only(text: str) -> DateMention:
    found = find_dates(text)
    assert len(found) == 1, found
    return found[0]


def days(text: str, published: date | None = PUB) -> tuple[str, str, str] | None:
    """(start, end, precision) of the only date in ``text``."""
    r = resolve(only(text), published)
    return None if r is None else (r.start.isoformat(), r.end.isoformat(), r.precision)


# ---------------------------------------------------------------- explicit dates

@pytest.mark.parametrize("text, written", [
    ("On May 22, the fighters crossed", "May 22"),
    ("on 22 May the fighters crossed", "22 May"),
    ("On May 22, 2023, the fighters crossed", "May 22, 2023"),
    ("on 22 May 2023 the fighters crossed", "22 May 2023"),
    ("on the 22nd May they crossed", "22nd May"),
    ("on May 22nd they crossed", "May 22nd"),
    ("on the 22nd of May they crossed", "22nd of May"),
    ("dated 2023-05-22 in the report", "2023-05-22"),
    ("dated 22.05.2023 in the report", "22.05.2023"),
    ("On Monday, May 22, they crossed", "Monday, May 22"),
    ("On Monday 22 May they crossed", "Monday 22 May"),
])
def test_explicit_day_forms(text, written):
    m = only(text)
    assert (m.text, m.kind, m.month, m.day) == (written, "explicit", 5, 22)
    assert text[m.start:m.end] == written
    assert resolve(m, PUB) == ResolvedDate(D("2023-05-22"), D("2023-05-22"), "day", "explicit")


def test_year_as_written_or_none():
    assert only("May 22, 2023").year == 2023
    assert only("May 22").year is None
    assert only("2023-05-22").year == 2023


@pytest.mark.parametrize("text, month, day", [
    ("Sept. 5", 9, 5), ("Sep 5", 9, 5), ("Jan 3", 1, 3), ("Dec. 30", 12, 30), ("Aug 24, 1991", 8, 24),
])
def test_month_abbreviations(text, month, day):
    m = only(text)
    assert (m.month, m.day) == (month, day)


@pytest.mark.parametrize("text, written", [("on 22-23 May", "22-23 May"), ("on May 22–23", "May 22–23")])
def test_day_range_is_day_precision_spanning_both_days(text, written):
    m = only(text)
    assert m.text == written and (m.day, m.day_end) == (22, 23)
    assert days(text) == ("2023-05-22", "2023-05-23", "day")


@pytest.mark.parametrize("text", ["in May 2023", "May of 2023"])
def test_month_and_year_is_month_precision(text):
    assert days(text, None) == ("2023-05-01", "2023-05-31", "month")


@pytest.mark.parametrize("text, written", [
    ("fighting in May", "in May"),
    ("quiet since May", "since May"),
    ("in early May", "in early May"),
    ("by late May", "by late May"),
    ("from mid-May on", "mid-May"),
    ("by the end of May", "the end of May"),
])
def test_month_alone_in_context_is_month_precision(text, written):
    m = only(text)
    assert (m.text, m.year, m.month, m.day) == (written, None, 5, None)
    assert days(text) == ("2023-05-01", "2023-05-31", "month")


def test_february_month_precision_ends_on_its_last_day():
    assert days("in February 2024", None) == ("2024-02-01", "2024-02-29", "month")


@pytest.mark.parametrize("text", ["in 2022", "since 2022", "in mid-2022", "during 2022"])
def test_year_alone_is_year_precision(text):
    assert days(text, None) == ("2022-01-01", "2022-12-31", "year")


@pytest.mark.parametrize("text", [
    "32 May", "May 32", "February 30", "30 February 2023", "February 29, 2023", "0 May", "2023-02-30",
    "2023-13-01", "31.04.2023",
])
def test_impossible_dates_are_ignored(text):
    assert find_dates(text) == []


def test_leap_day_is_kept_when_it_exists():
    assert days("February 29, 2024", None) == ("2024-02-29", "2024-02-29", "day")


@pytest.mark.parametrize("text", ["May 22, 1850", "in 1850", "in 2150", "22 May 2101", "1899-12-31"])
def test_years_outside_1900_2100_are_ignored(text):
    assert [m for m in find_dates(text) if m.kind == "explicit"] == []


@pytest.mark.parametrize("text", [
    "The Russian army has deployed about 3,200 soldiers and 20 pieces of equipment.",
    "about 1,000 people and 40 vehicles",
    "It may rain.",
    "May I ask a question?",
    "Officials said they may return in the coming days.",
    "May Day parade",
    "Theresa May said",
    "in 2000 cases out of 3,200",
    "a 2,022-strong unit",
    "the march on the capital",
    "Mondays are quiet",
    "todays",
])
def test_numbers_and_words_that_are_not_dates(text):
    assert [m.text for m in find_dates(text) if m.kind == "explicit" and m.month is not None] == []
    if "2000 cases" not in text:
        assert find_dates(text) == []


# ---------------------------------------------------------------- relative dates

@pytest.mark.parametrize("text, expected", [
    ("yesterday", "2023-05-22"),
    ("Yesterday", "2023-05-22"),
    ("last night", "2023-05-22"),
    ("today", "2023-05-23"),
    ("this morning", "2023-05-23"),
    ("tonight", "2023-05-23"),
    ("this evening", "2023-05-23"),
    ("the day before yesterday", "2023-05-21"),
    ("two days ago", "2023-05-21"),
    ("a week ago", "2023-05-16"),
])
def test_relative_days(text, expected):
    m = only(text)
    assert m.kind == "relative" and m.text == text
    assert resolve(m, PUB) == ResolvedDate(D(expected), D(expected), "day", "relative")


@pytest.mark.parametrize("published, text, expected", [
    ("2023-05-23", "on Monday", "2023-05-22"),  # Tuesday → the day before
    ("2023-05-23", "Monday", "2023-05-22"),
    ("2023-05-23", "on Sunday", "2023-05-21"),
    ("2023-05-23", "on Wednesday", "2023-05-17"),
    ("2023-05-22", "on Monday", "2023-05-22"),  # published on a Monday → that day
    ("2023-05-23", "last Monday", "2023-05-22"),
    ("2023-05-22", "last Monday", "2023-05-15"),  # "last" is strictly before
    ("2023-05-23", "next Monday", "2023-05-29"),
    ("2023-05-22", "this coming Monday", "2023-05-29"),
])
def test_weekdays(published, text, expected):
    m = only(text)
    assert m.kind == "relative" and m.text == text
    assert resolve(m, D(published)) == ResolvedDate(D(expected), D(expected), "day", "relative")


def test_last_week_is_the_previous_calendar_week():
    assert days("last week") == ("2023-05-15", "2023-05-21", "day")  # Mon–Sun before Tue 23 May
    assert days("last week", D("2023-05-22")) == ("2023-05-15", "2023-05-21", "day")
    assert days("this week") == ("2023-05-22", "2023-05-23", "day")


def test_last_and_this_month_and_year():
    assert days("last month") == ("2023-04-01", "2023-04-30", "month")
    assert days("last month", D("2023-01-10")) == ("2022-12-01", "2022-12-31", "month")
    assert days("this month") == ("2023-05-01", "2023-05-31", "month")
    assert days("last year") == ("2022-01-01", "2022-12-31", "year")
    assert days("this year") == ("2023-01-01", "2023-12-31", "year")


@pytest.mark.parametrize("text", ["yesterday", "on Monday", "last week", "last month", "this year"])
def test_relative_dates_need_a_publication_date(text):
    assert resolve(only(text), None) is None


def test_relative_dates_near_the_ends_of_the_calendar_do_not_crash():
    assert resolve(only("yesterday"), date.min) is None
    assert resolve(only("next Monday"), date.max) is None
    assert resolve(only("May 22"), date.max) == ResolvedDate(D("9999-05-22"), D("9999-05-22"), "day", "explicit")


# ---------------------------------------------------------------- year inference

@pytest.mark.parametrize("published, text, expected", [
    ("2023-05-23", "May 22", "2023-05-22"),
    ("2023-01-03", "December 30", "2022-12-30"),
    ("2023-05-23", "May 30", "2023-05-30"),  # 7 days ahead: still this year
    ("2023-05-23", "May 31", "2022-05-31"),  # 8 days ahead: last year's
    ("2023-12-28", "January 2", "2024-01-02"),  # an announcement a few days ahead
    ("2024-03-05", "February 29", "2024-02-29"),
])
def test_year_less_dates_take_the_year_that_fits_the_publication_date(published, text, expected):
    assert days(text, D(published)) == (expected, expected, "day")


def test_year_less_month_takes_the_year_that_fits():
    assert days("in December", D("2023-01-03")) == ("2022-12-01", "2022-12-31", "month")


def test_without_publication_date_a_year_less_date_is_unknown_not_guessed():
    assert resolve(only("May 22"), None) is None
    assert resolve(only("in May"), None) is None
    assert sentence_date("On May 22, the fighters crossed.", None) is None
    assert days("May 22, 2023", None) == ("2023-05-22", "2023-05-22", "day")


def test_missing_year_mentions():
    text = "On May 22 they crossed; in May 2023 and in June it went on; since 2022 too; yesterday again."
    assert [m.text for m in missing_year_mentions(text)] == ["May 22", "in June"]
    assert missing_year_mentions("On 22 May 2023 and on 2023-05-23.") == []


# ---------------------------------------------------------------- sentences and articles

def test_explicit_date_wins_over_relative_word_in_the_same_sentence():
    assert sentence_date(SEED[1], PUB) == ResolvedDate(D("2023-05-22"), D("2023-05-22"), "day", "explicit")
    assert sentence_date("Yesterday, officials said the attack of May 20 failed.", PUB) == \
        ResolvedDate(D("2023-05-20"), D("2023-05-20"), "day", "explicit")


def test_first_explicit_date_wins():
    r = sentence_date("On May 20 and again on May 21 the town was shelled.", PUB)
    assert (r.start, r.basis) == (D("2023-05-20"), "explicit")


def test_relative_date_when_no_explicit_one():
    assert sentence_date("The town was shelled yesterday.", PUB) == \
        ResolvedDate(D("2023-05-22"), D("2023-05-22"), "day", "relative")
    assert sentence_date("The town was shelled yesterday.", None) is None


def test_a_day_beats_a_coarser_date_in_the_same_sentence():
    r = sentence_date("Yesterday's raid was the largest since May 2022.", PUB)
    assert (r.start, r.precision, r.basis) == (D("2023-05-22"), "day", "relative")


def test_sentence_without_date():
    assert sentence_date("The governor said most residents had left.", PUB) is None


def test_seed_sentence_dates_and_article_anchor():
    assert [sentence_date(s, PUB).start for s in SEED] == [D("2023-05-22")] * 3 + [D("2023-05-23")]
    assert article_anchor_date(SEED, PUB) == ResolvedDate(D("2023-05-22"), D("2023-05-22"), "day", "article")


def test_anchor_counts_relative_dates_and_breaks_ties_by_first_seen():
    text = ["The town was shelled on May 21.", "A school was hit yesterday.", "On May 22 it was quiet."]
    assert article_anchor_date(text, PUB).start == D("2023-05-22")  # yesterday + May 22
    assert article_anchor_date(["On May 20 a raid.", "On May 21 a raid."], PUB).start == D("2023-05-20")


def test_anchor_falls_back_to_month_then_year_precision():
    assert article_anchor_date(["Fighting went on in May 2023.", "And since 2022."], None) == \
        ResolvedDate(D("2023-05-01"), D("2023-05-31"), "month", "article")
    assert article_anchor_date(["It began in 2022."], None) == \
        ResolvedDate(D("2022-01-01"), D("2022-12-31"), "year", "article")


def test_anchor_is_none_without_any_date():
    assert article_anchor_date(["No dates here.", "Nor here."], PUB) is None
    assert article_anchor_date([], PUB) is None
    assert article_anchor_date(SEED[:1], None) is None  # year-less and no publication date


# ---------------------------------------------------------------- --published

def test_parse_iso_date():
    assert parse_iso_date("2023-05-23") == D("2023-05-23")
    assert parse_iso_date(" 2023-05-23\n") == D("2023-05-23")


@pytest.mark.parametrize("value", [
    "2023-13-40", "2023-02-29", "2023-5-3", "23-05-2023", "2023/05/23", "", "2023-05-23x", "0000-01-01",
    "２０２３-05-23", "May 23, 2023",
])
def test_parse_iso_date_rejects_anything_else(value):
    with pytest.raises(DateError) as err:
        parse_iso_date(value)
    assert isinstance(err.value, InputError)
    assert "\n" not in str(err.value)


def test_parse_iso_date_message():
    with pytest.raises(DateError, match=r"^bad --published date '2023-13-40': expected YYYY-MM-DD$"):
        parse_iso_date("2023-13-40")
    with pytest.raises(DateError) as err:
        parse_iso_date("2023-05\n-23\x00" + "x" * 100)
    assert "\n" not in str(err.value) and "\x00" not in str(err.value) and len(str(err.value)) < 120


# ---------------------------------------------------------------- robustness and speed

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

FRAGMENTS = [
    "May", "may", " 22", "22", "nd", " of ", ",", " 2023", "-", "–", "2023-05-22", "Monday", ", ", "on ", "in ",
    "last ", "yesterday", "Sept.", "February 29", " 30", ".", "3,200", "the day before ", "mid-", "ago", " days ",
    "İ", "Май", "٢٢", "\x00", "\n", "\u202e", " ",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=40).map("".join),
)
publications = st.one_of(st.none(), st.dates(), st.sampled_from([date.min, date.max, PUB]))


def _check(r: ResolvedDate | None) -> None:
    if r is None:
        return
    assert r.start <= r.end
    assert date.fromisoformat(r.start.isoformat()) == r.start and date.fromisoformat(r.end.isoformat()) == r.end
    assert r.precision in ("day", "month", "year") and r.basis in ("explicit", "relative", "article")


@settings(max_examples=400, deadline=None)
@given(texts, publications)
def test_never_crashes_and_results_are_valid(text, published):
    found = find_dates(text)
    for m in found:
        assert 0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text
        _check(resolve(m, published))
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    _check(sentence_date(text, published))
    _check(article_anchor_date(text.split("."), published))


def test_huge_line_is_handled_quickly():
    line = ("Мир 3,200 soldiers on Monday, May 22 yesterday in May ٢٢ \x00" * 20000)
    started = time.perf_counter()
    found = find_dates(line)
    assert time.perf_counter() - started < 10
    assert len(found) == 3 * 20000


def test_a_5kb_article_takes_well_under_5_ms():
    text = " ".join(SEED + ["The governor said most residents had left after the crisis started; "
                            "about 3,200 soldiers and 20 pieces of equipment were deployed on Monday."] * 3)
    text = (text + " ") * (5000 // len(text) + 1)
    text = text[:5000]
    sentences = re.split(r"(?<=[.!?”])\s+", text)

    def process() -> None:
        missing_year_mentions(text)
        for s in sentences:
            sentence_date(s, PUB)
        article_anchor_date(sentences, PUB)

    best = min(_timed(process) for _ in range(7))
    assert best < 0.005, f"{best * 1000:.2f} ms"


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


@pytest.mark.parametrize("text, start, end", [
    ("Shelling continued between 3 and 5 June near Shebekino.", date(2023, 6, 3), date(2023, 6, 5)),
    ("Fighting went on from June 3 to 5, 2023 in Kozinka.", date(2023, 6, 3), date(2023, 6, 5)),
    ("Strikes from 3 to 5 June 2023 hit the district.", date(2023, 6, 3), date(2023, 6, 5)),
    ("Shelling on 3 and 5 June.", date(2023, 6, 5), date(2023, 6, 5)),  # two days, not a range
])
def test_ranges_in_words_after_between_or_from(text, start, end):
    resolved = sentence_date(text, date(2023, 6, 10))
    assert (resolved.start, resolved.end, resolved.precision) == (start, end, "day")
