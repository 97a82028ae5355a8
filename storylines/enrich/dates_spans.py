"""Find date spans cheaply, in the article's language, with dateparser's vocabulary.

``dateparser.search`` over a whole article costs tens of milliseconds, and even
``DateDataParser.get_date_data`` on one short span costs 0.5-1 ms, more than the stage's whole
budget for an article with a few dates.  So regexes compiled once from dateparser's own locale data
(month, weekday and relative-day words, day/month order) find the spans, the month number comes
from the same locale tables and the day and year are the digits the regex captured.  dateparser
still parses free-form metadata dates (``storylines.enrich.dates``), and the tests check that it
reads the spans found here the same way.

Speed notes: the regexes run case-sensitively over a lower-cased copy of the text and start with a
word or a digit (no leading lookaround), which lets ``re`` skip ahead by first character; an
IGNORECASE pattern or a leading lookbehind makes it try every position (3-10x slower).  Word
boundaries are therefore checked in Python, which also lets CJK words (no spaces) through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from importlib import resources

from dateparser.languages.loader import default_loader

# Keys of dateparser's locale tables (``calendar.month_name`` would follow the process locale).
MONTH_KEYS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RELATIVE_DAY_KEYS = {"2 day ago": -2, "1 day ago": -1, "0 day ago": 0, "in 1 day": 1, "in 2 day": 2}
# Day words that more often mean something else: "por la mañana" / "am Morgen" (morning), "pazar"
# (Sunday, and market).
AMBIGUOUS_WORDS = frozenset({"mañana", "morgen", "pazar"})
# English month names that are also everyday words ("may", "march"): months only when capitalised.
CAPITALISED_MONTHS = frozenset({"may", "march"})
LEAP_YEAR = 2000  # validates a month-day whose year is unknown without rejecting 29 February

# Around a month word: the day before it ("6 July", "5. März", "6 de julio") or after it ("July 6"),
# then an optional year.  Searched only in a few characters next to each month word.
_DAY_BEFORE = re.compile(r"(?<![\w.])([0-3]?\d)(?:\.|st|nd|rd|th|er|º)?\s*(?:de\s+)?$")
_DAY_AFTER = re.compile(r"\.?\s+([0-3]?\d)(?:st|nd|rd|th)?(?!\w)")
_YEAR_AFTER_MONTH = re.compile(r"\.?,?\s*(?:del?\s+)?([12]\d{3})(?!\d)")
_YEAR_AFTER_DAY = re.compile(r",?\s+([12]\d{3})(?!\d)")
# Year first, as Hungarian "2019. március 5-én", Lithuanian "2019 m. kovo 5 d.", Armenian
# "2019 թվականի մարտի 5-ին": the year, an optional short word for "year", then month and day.
_YEAR_BEFORE = re.compile(r"(?<![\d.])([12]\d{3})(?:\.|\s+\w{1,9}\.?)?\s*$")
# Year first with the day before the month, as Latvian "2019. gada 5. martā", Kazakh "2019 жылғы
# 5 наурызда", Georgian "2019 წლის 5 მარტს": only with the language's word for "year" between, since
# "in 2019 on 5 March" would read the same way.  {year} is that word's first letters.
_YEAR_BEFORE_DAY = r"(?<![\d.])([12]\d{{3}})\.?\s+(?:{year})\w*\.?\s*$"
YEAR_WORD_PREFIX = 3  # "gads"/"gada", "жыл"/"жылғы", "წელი"/"წლის": case endings follow the stem
# Digits-only shapes need no language, so they are parsed here; the day/month order of D.M.Y vs
# M/D/Y comes from dateparser's locale data (``date_order``).
_ISO = re.compile(r"([12]\d{3})-([01]\d)-([0-3]\d)(?!\d)")
_NUMERIC = re.compile(r"(\d{1,2})([./])(\d{1,2})\2([12]\d{3})(?!\d)")
_CJK = re.compile(r"(?:([12]\d{3})\s*[年년]\s*)?(?<!\d)([01]?\d)\s*[月월]\s*([0-3]?\d)\s*[日号일]")
# Vietnamese numbers its months: "ngày 5 tháng 3 năm 2019" (day 5, month 3, year 2019).
_VIETNAMESE = re.compile(r"(?<!\d)([0-3]?\d)\s+tháng\s+([01]?\d)(?:\s*(?:,|năm)\s*([12]\d{3}))?(?!\d)")
# "on the 14th" and CJK "14日" / "本月11日": a day of the publication month.
_ON_THE_DAY = re.compile(r"on the ([0-3]?\d)(?:st|nd|rd|th)?\b")
_CJK_DAY = re.compile(r"(?:(?<=本月)|(?<=当月)|(?<![\d月월年]))([0-3]?\d)\s*日(?!电|讯)")


@dataclass(frozen=True)
class DateSpan:
    """A month-day written in the text, with the year when it is written too."""

    start: int
    end: int
    text: str
    month: int
    day: int
    year: int | None = None
    weekday: int | None = None  # 0 = Monday; a weekday named inside the span ("Thursday, July 14")

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}" if self.year else partial_iso(self)

    def on(self, year: int) -> date | None:
        return safe_date(year, self.month, self.day)


@dataclass(frozen=True)
class Mention:
    """A word that names a day relative to another one: a weekday, "yesterday", "on the 14th"."""

    start: int
    end: int
    text: str
    kind: str  # "weekday" | "offset" | "day-of-month"
    value: int  # weekday index, day offset or day of month


def partial_iso(month_day: DateSpan) -> str:
    return f"--{month_day.month:02d}-{month_day.day:02d}"


def safe_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when it does not exist (31 June, 29 February of a common year)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def lowered(text: str) -> str:
    """Lower-cased with the same offsets: "İ" is the one character whose lower case is two long."""
    return text.replace("\u0130", "I").lower()


def _is_cjk(char: str) -> bool:
    return char >= "\u3000"


def _whole_word(low: str, start: int, end: int) -> bool:
    """No letter glued on either side, except in CJK, which has no spaces between words."""
    if _is_cjk(low[start]):
        return True
    before_ok = start == 0 or not (low[start - 1].isalnum() or low[start - 1] == "_")
    return before_ok and (end == len(low) or not (low[end].isalnum() or low[end] == "_"))


@dataclass(frozen=True)
class Vocabulary:
    """One language's date words, compiled into regexes once."""

    date_order: str
    month: re.Pattern[str]
    month_of: dict[str, int]
    weekday: re.Pattern[str]
    weekday_prefix: re.Pattern[str]
    year_before_day: re.Pattern[str] | None
    relative: re.Pattern[str] | None
    weekday_of: dict[str, int]
    prefix_weekday_of: dict[str, int]
    offset_of: dict[str, int]


def _alternation(words: Iterable[str]) -> str:
    """Longest first; with no words, a pattern that never matches (an empty one would match
    everywhere: Korean month names all hold digits, "1월", so none is left)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) or "(?!)"


def _words(info: dict, key: str, min_len: int) -> list[str]:
    return [lowered(w) for w in info.get(key, []) if len(w) >= min_len and not any(c.isdigit() for c in w)]


def _weekday_names(info: dict, full_only: bool) -> dict[str, int]:
    """Weekday word -> index.  Alone, only full names count: "we", "Mi", "sun" are ordinary words,
    while before a date ("Thu, July 14") an abbreviation is safe.  CJK forms ("周一") are all full."""
    names: dict[str, int] = {}
    for index, key in enumerate(WEEKDAY_KEYS):
        forms = [w for w in _words(info, key, 2) if w not in AMBIGUOUS_WORDS]
        longest = max(map(len, forms), default=0)
        shortest = 5 if full_only else 3
        names.update({w: index for w in forms if len(w) >= shortest or len(w) == longest or _is_cjk(w[0])})
    return names


def _relative_words(info: dict) -> dict[str, int]:
    """Single-word "today"/"yesterday"/"tomorrow" forms; multi-word ones ("till date") mislead."""
    relative = info.get("relative-type", {})
    return {
        lowered(w): offset
        for key, offset in RELATIVE_DAY_KEYS.items()
        for w in relative.get(key, [])
        if len(w) >= 2
        and lowered(w) not in AMBIGUOUS_WORDS
        and not any(c.isspace() or c.isdigit() for c in w)
    }


@cache
def _month_forms() -> dict[str, dict[str, int]]:
    """Language → inflected month word → month number, from ``data/month_forms.tsv``."""
    table = resources.files("storylines.enrich").joinpath("data/month_forms.tsv").read_text(encoding="utf-8")
    forms: dict[str, dict[str, int]] = {}
    for line in table.splitlines():
        if line.strip() and not line.startswith("#"):
            lang, month, words = line.split("\t")
            forms.setdefault(lang, {}).update(dict.fromkeys(words.split("|"), int(month)))
    return forms


def _year_before_day(info: dict) -> re.Pattern[str] | None:
    """The pattern for a year written before the day, with the language's word for "year"."""
    words = {lowered(w)[:YEAR_WORD_PREFIX] for w in info.get("year", []) if len(w) >= YEAR_WORD_PREFIX}
    abbreviations = {f"{re.escape(lowered(w))}\\." for w in info.get("year", []) if len(w) < YEAR_WORD_PREFIX}
    alternatives = [*map(re.escape, sorted(words)), *sorted(abbreviations)]
    return re.compile(_YEAR_BEFORE_DAY.format(year="|".join(alternatives))) if alternatives else None


@lru_cache(maxsize=64)
def vocabulary(lang: str) -> Vocabulary | None:
    """Regexes for ``lang`` built from dateparser's locale data; None when dateparser lacks it."""
    try:
        info = default_loader.get_locale(lang).info
    except ValueError:
        return None
    weekday_of = _weekday_names(info, full_only=True)
    prefix_weekday_of = _weekday_names(info, full_only=False)
    offset_of = _relative_words(info)
    month_of = {w: number for number, key in enumerate(MONTH_KEYS, 1) for w in _words(info, key, 3)}
    month_of.update(_month_forms().get(lang.split("-")[0], {}))
    return Vocabulary(
        date_order=info.get("date_order", "DMY"),
        month=re.compile(_alternation(month_of)),
        month_of=month_of,
        weekday=re.compile(_alternation(weekday_of)),
        weekday_prefix=re.compile(rf"({_alternation(prefix_weekday_of)})\.?,?\s+$"),
        year_before_day=_year_before_day(info),
        relative=re.compile(_alternation(offset_of)) if offset_of else None,
        weekday_of=weekday_of,
        prefix_weekday_of=prefix_weekday_of,
        offset_of=offset_of,
    )


def _around_month(
    low: str, month: re.Match[str], vocab: Vocabulary
) -> tuple[int, int, int, int | None] | None:
    """(start, end, day, year or None) of the date a month word belongs to."""
    day = _DAY_BEFORE.search(low, max(0, month.start() - 12), month.start())
    if day:
        year = _YEAR_AFTER_MONTH.match(low, month.end())
        end = year.end() if year else month.end()
        start = day.start()
        if (
            not year
            and vocab.year_before_day
            and (year := vocab.year_before_day.search(low, max(0, start - 24), start))
        ):
            start = year.start()
    else:
        day = _DAY_AFTER.match(low, month.end())
        if not day:
            return None
        year = _YEAR_AFTER_DAY.match(low, day.end())
        start, end = month.start(), year.end() if year else day.end()
        if not year and (year := _YEAR_BEFORE.search(low, max(0, start - 16), start)):  # year-month-day
            start = year.start()
    return start, end, int(day[1]), int(year[1]) if year else None


def _is_month(text: str, low: str, month: re.Match[str]) -> bool:
    if month[0] in CAPITALISED_MONTHS and not text[month.start()].isupper():
        return False
    return _whole_word(low, month.start(), month.end())


def _word_spans(text: str, low: str, vocab: Vocabulary) -> Iterator[DateSpan]:
    for month in vocab.month.finditer(low):
        found = _around_month(low, month, vocab) if _is_month(text, low, month) else None
        number = vocab.month_of[month[0]]
        if found is None or safe_date(found[3] or LEAP_YEAR, number, found[2]) is None:
            continue
        start, end, day, year = found
        weekday = None
        named = vocab.weekday_prefix.search(low, max(0, start - 16), start)
        if named and _whole_word(low, named.start(), named.end(1)):
            start, weekday = named.start(), vocab.prefix_weekday_of[named[1]]
        yield DateSpan(start, end, text[start:end], number, day, year, weekday)


def _digit_dates(text: str, date_order: str) -> Iterator[tuple[re.Match[str], int | None, int, int]]:
    if "-" in text:
        for match in _ISO.finditer(text):
            if match.start() == 0 or text[match.start() - 1] not in "-0123456789":
                yield match, int(match[1]), int(match[2]), int(match[3])
    if "月" in text or "월" in text:
        for match in _CJK.finditer(text):
            yield match, int(match[1]) if match[1] else None, int(match[2]), int(match[3])
    if "tháng" in text:
        for match in _VIETNAMESE.finditer(text):
            yield match, int(match[3]) if match[3] else None, int(match[2]), int(match[1])
    month_first = date_order.index("M") < date_order.index("D")
    for match in _NUMERIC.finditer(text):
        if match.start() == 0 or text[match.start() - 1] not in "./0123456789":
            first, second = int(match[1]), int(match[3])
            yield match, int(match[4]), *((first, second) if month_first else (second, first))


def _digit_spans(text: str, date_order: str) -> Iterator[DateSpan]:
    for match, year, month, day in _digit_dates(text, date_order):
        if safe_date(year or LEAP_YEAR, month, day):
            yield DateSpan(match.start(), match.end(), match.group(0), month, day, year)


def find_spans(text: str, langs: list[str], low: str | None = None) -> list[DateSpan]:
    """Non-overlapping date spans in text order; the longest wins where candidates overlap.

    ``low`` is ``lowered(text)`` when the caller already has it."""
    low = lowered(text) if low is None else low
    vocabularies = [v for v in map(vocabulary, langs) if v]
    order = vocabularies[0].date_order if vocabularies else "DMY"
    found = list(_digit_spans(text, order))
    for vocab in vocabularies:
        found.extend(_word_spans(text, low, vocab))
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[DateSpan] = []
    for span in found:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def find_mentions(text: str, langs: list[str], low: str | None = None) -> list[Mention]:
    """Weekdays, today/yesterday/tomorrow words and days of the month, in text order."""
    low = lowered(text) if low is None else low
    mentions = [
        Mention(m.start(), m.end(), text[m.start() : m.end()], "day-of-month", int(m[1])) for m in _days(low)
    ]
    for vocab in filter(None, map(vocabulary, langs)):
        mentions.extend(_word_mentions(text, low, vocab.weekday, vocab.weekday_of, "weekday"))
        if vocab.relative:
            mentions.extend(_word_mentions(text, low, vocab.relative, vocab.offset_of, "offset"))
    return sorted(mentions, key=lambda m: m.start)


def _days(low: str) -> Iterator[re.Match[str]]:
    yield from (m for m in _ON_THE_DAY.finditer(low) if _whole_word(low, m.start(), m.end()))
    if "日" in low:
        yield from _CJK_DAY.finditer(low)


def _word_mentions(
    text: str, low: str, pattern: re.Pattern[str], value_of: dict[str, int], kind: str
) -> Iterator[Mention]:
    for match in pattern.finditer(low):
        if _whole_word(low, match.start(), match.end()):
            yield Mention(
                match.start(), match.end(), text[match.start() : match.end()], kind, value_of[match[0]]
            )
