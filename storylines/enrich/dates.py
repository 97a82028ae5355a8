"""Publication and event dates: the pipeline stage ``dates``.

Evidence for the publication date, strongest first: metadata (``published_hint``) > a dateline at
the start of the title, text or a language segment > a page-header line > a full date near the top
of the text.  A month-day without a year gets one only when the text makes it unambiguous (a named
weekday that must match it, after the latest full date the article mentions), else from the user's
reference date, else it stays partial (``meta["published_partial"] = "--MM-DD"``).
"""

from __future__ import annotations

import dataclasses
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

from storylines.article import Article, EventDate
from storylines.enrich.dates_spans import (
    LEAP_YEAR,
    DateSpan,
    Mention,
    find_mentions,
    find_spans,
    lowered,
    partial_iso,
    safe_date,
    vocabulary,
)

TOP_CHARS = 300  # how far after the start of the title, text or a language segment a dateline may be
LEAD_SKIP = 25  # a sentence end this close after the dateline belongs to it ("July 6 /TASS/.")
LEAD_CHARS = 400  # the lead sentence is searched this far for a weekday
# A month-day falls on the same weekday every 5, 6 or 11 years: within this many years after the
# latest full date, a second fit makes the year ambiguous.
YEAR_WINDOW = 6
TITLE_HEADER_SLACK = 12  # a title that is a date plus at most this many other characters is a header

_WIRE_PLACE = re.compile(r"\s*[^\W\d_][^\n.!?;:]{0,40},\s*")  # "MOSCOW, " / "МОСКВА, " before the date
_AGENCY_IN_PLACE = re.compile(r"\b(?:in|from) [A-Z][\w'-]+(?: [A-Z][\w'-]+){0,2},? (?:(?:in|on) )?$")
_DISPATCH = ("电", "讯")  # "中新社莫斯科2月14日电": a Chinese wire dispatch
_RANGE_JOINERS = frozenset("至到-–~～")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[^\sa-zà-ÿа-яё]|\s*$)|[。！？\n]")
# Words that put a weekday or day of the month after the publication date.  Hand-written because
# dateparser has no tense data; languages without an entry read as past, the usual news tense.
_FUTURE = {
    "en": r"\b(?:will|shall|expected|scheduled|planned|plans?|next|upcoming|due to)\b",
    "de": r"\b(?:wird|werden|soll|sollen|geplant|nächste[nmrs]?)\b",
    "fr": r"\b(?:sera|seront|aura|auront|doit|doivent|prévue?s?|prochaine?)\b",
    "es": r"\b(?:será|serán|tendrá|tendrán|prevista?s?|previsto|próxim[oa])\b",
    "it": r"\b(?:sarà|saranno|avrà|previst[oaie]|prossim[oa])\b",
    "pl": r"\b(?:będzie|będą|planowan[aey]|przyszł[ya])\b",
    "ru": r"(?<!\w)(?:будет|будут|состоится|планируется|следующ\w*)(?!\w)",
    "bg": r"(?<!\w)(?:ще|предстои|следващ\w*)(?!\w)",
    "tr": r"\w+(?:acak|ecek)\w*",
    "zh": r"将|计划|预计|下周",
}


@dataclass(frozen=True)
class _Evidence:
    """A month-day that may give the publication date, and a weekday that must match it."""

    span: DateSpan
    source: str
    weekday: int | None = None


@dataclass(frozen=True)
class _Published:
    day: date | None
    source: str | None
    partial: _Evidence | None = None


class DateExtractor:
    """Pipeline stage: fills ``published``, ``published_source`` and ``event_dates``."""

    name = "dates"

    def __init__(self, reference_date: date | None = None):
        self.reference_date = reference_date

    def __call__(self, article: Article) -> Article:
        langs = _languages(article)
        doc = f"{article.title}\n{article.text}".translate(ASCII_DIGITS)
        low = lowered(doc)
        spans = _common_era(find_spans(doc, langs, low), article.lang)
        mentions = [m for m in find_mentions(doc, langs, low) if not _inside_any(m, spans)]
        evidence, others = _evidence(article, doc, spans, mentions, langs)
        text_start = len(article.title) + 1
        top = next((s for s in others if s.year and text_start <= s.start < text_start + TOP_CHARS), None)
        published = self._publication(article, langs, evidence, _latest_full_date(others), top)
        _store_publication(article, published)
        anchor = published.day or (published.partial.span if published.partial else None)
        written = _written_events(others, published.day)
        relative = _relative_events(doc, mentions, anchor, langs, written)
        article.event_dates = _unique([*(event for _, event in written), *relative])
        return article

    def _publication(
        self,
        article: Article,
        langs: list[str],
        evidence: list[_Evidence],
        lower_bound: date | None,
        top: DateSpan | None,
    ) -> _Published:
        if article.published_hint and (hinted := _parse_hint(article.published_hint, tuple(langs))):
            return _Published(hinted, "metadata")
        for found in evidence:
            year = found.span.year or infer_year(found.span, found.weekday, lower_bound)
            if year:
                return _Published(found.span.on(year), found.source)
        if not evidence:
            return _Published(top.on(top.year), "text") if top and top.year else _Published(None, None)
        partial = evidence[0]
        year = reference_year(partial.span, self.reference_date) if self.reference_date else None
        if year:
            return _Published(partial.span.on(year), "reference-date")
        return _Published(None, None, partial)


def _evidence(
    article: Article, doc: str, spans: list[DateSpan], mentions: list[Mention], langs: list[str]
) -> tuple[list[_Evidence], list[DateSpan]]:
    """The dateline and page-header dates, strongest first, and the spans left over as events."""
    text_start = len(article.title) + 1
    heads = [0, text_start, *(text_start + s.start for s in article.languages if s.start > 0)]
    datelines = [s for s in spans if _is_dateline(doc, s, heads)]
    title_headers = [s for s in spans if s.end <= len(article.title) and _is_whole(article.title, s)]
    headers = [*_header_spans(article, langs), *title_headers]
    evidence = [
        *(_Evidence(s, "dateline", _dateline_weekday(doc, s, mentions, langs)) for s in datelines[:1]),
        *(_Evidence(s, "header", s.weekday) for s in headers[:1]),
    ]
    used = {id(s) for s in (*datelines, *title_headers)}
    return evidence, [s for s in spans if id(s) not in used]


def infer_year(month_day: DateSpan, weekday: int | None, lower_bound: date | None) -> int | None:
    """The one year after ``lower_bound`` (within YEAR_WINDOW) whose month-day falls on ``weekday``."""
    if weekday is None or lower_bound is None:
        return None
    fits = [
        year
        for year in range(lower_bound.year, lower_bound.year + YEAR_WINDOW + 1)
        if (day := month_day.on(year)) and day >= lower_bound and day.weekday() == weekday
    ]
    return fits[0] if len(fits) == 1 else None


def reference_year(month_day: DateSpan, reference: date) -> int | None:
    """The year that puts the month-day closest before or at the reference date."""
    years = range(reference.year, reference.year - 8, -1)  # eight reach a leap year, for 29 February
    return next((y for y in years if (day := month_day.on(y)) and day <= reference), None)


def _languages(article: Article) -> list[str]:
    """The article's languages that dateparser knows, main language first; English if none."""
    wanted = dict.fromkeys(lang for lang in [article.lang, *(s.lang for s in article.languages)] if lang)
    return [lang for lang in wanted if vocabulary(lang)] or ["en"]


@lru_cache(maxsize=16)
def _hint_parser(langs: tuple[str, ...]) -> DateDataParser:
    # No relative-time parser: "2 hours ago" in metadata would be read against today's clock.
    return DateDataParser(
        languages=list(dict.fromkeys([*langs, "en"])),
        settings={"PARSERS": ["timestamp", "custom-formats", "absolute-time"]},
    )


# Every decimal digit (Bengali ২০১৯, Persian ۲۰۱۹, Devanagari, Thai…) → ASCII, one character for
# one, so the digit patterns read dates in any script and offsets stay the same.
ASCII_DIGITS = {
    code: str(unicodedata.decimal(chr(code)))
    for code in range(0x80, sys.maxunicode + 1)
    if unicodedata.category(chr(code)) == "Nd"
}
BUDDHIST_ERA_OFFSET = 543  # Thai years: 2562 BE = 2019 CE
BUDDHIST_ERA_YEARS = range(2400, 2700)


def _common_era(spans: list[DateSpan], lang: str | None) -> list[DateSpan]:
    """Thai texts count years in the Buddhist era; the rest of the code counts in the common era."""
    if lang != "th":
        return spans
    return [
        dataclasses.replace(span, year=span.year - BUDDHIST_ERA_OFFSET)
        if span.year in BUDDHIST_ERA_YEARS
        else span
        for span in spans
    ]


# Metadata years below this are placeholders (Go's zero time 0001-01-01), not dates; they would
# also overflow ``date`` arithmetic.  Above the upper one nothing can be counted back from.
PLAUSIBLE_YEARS = range(1000, 9000)


@lru_cache(maxsize=4096)
def _parse_hint(hint: str, langs: tuple[str, ...]) -> date | None:
    try:
        found = _hint_parser(langs).get_date_data(hint.strip()[:100])
    except (ValueError, OverflowError):
        return None
    if found.date_obj is None or not {"year", "month", "day"} <= set(found.parts):
        return None
    return found.date_obj.date() if found.date_obj.year in PLAUSIBLE_YEARS else None


def _inside_any(mention: Mention, spans: list[DateSpan]) -> bool:
    return any(s.start <= mention.start < s.end for s in spans)


def _is_whole(line: str, span: DateSpan) -> bool:
    rest = line[: span.start] + line[span.end :]
    return sum(c.isalnum() for c in rest) <= TITLE_HEADER_SLACK


def _header_spans(article: Article, langs: list[str]) -> list[DateSpan]:
    lines = article.meta.get("header_lines") or []
    return [found[0] for line in lines if isinstance(line, str) and (found := find_spans(line, langs))]


def _is_dateline(doc: str, span: DateSpan, heads: list[int]) -> bool:
    if doc.startswith(_DISPATCH, span.end) and span.text[-1:] in "日号":
        return True
    head = max((h for h in heads if h <= span.start), default=0)
    if span.start - head > TOP_CHARS:
        return False
    before = doc[head : span.start]
    place = _WIRE_PLACE.fullmatch(before)
    return bool(place and before.strip()[:1].isupper()) or bool(_AGENCY_IN_PLACE.search(before[-60:]))


def _sentence_end(doc: str, start: int) -> int:
    found = _SENTENCE_END.search(doc, start, start + LEAD_CHARS)
    return found.start() if found else min(len(doc), start + LEAD_CHARS)


def _sentence_start(doc: str, end: int) -> int:
    start = max(0, end - LEAD_CHARS)
    ends = [found.end() for found in _SENTENCE_END.finditer(doc, start, end)]
    return ends[-1] if ends else start


@lru_cache(maxsize=64)
def _future_pattern(langs: tuple[str, ...]) -> re.Pattern[str] | None:
    found = [_FUTURE[lang] for lang in langs if lang in _FUTURE]
    return re.compile("|".join(found), re.IGNORECASE) if found else None


def _is_future(doc: str, mention: Mention, langs: list[str]) -> bool:
    pattern = _future_pattern(tuple(langs))
    start, end = _sentence_start(doc, mention.start), _sentence_end(doc, mention.end)
    return bool(pattern and pattern.search(doc, start, end))


def _dateline_weekday(doc: str, span: DateSpan, mentions: list[Mention], langs: list[str]) -> int | None:
    """The weekday of the dateline: named in it, or the one past weekday its lead sentence names."""
    if span.weekday is not None:
        return span.weekday
    end = _sentence_end(doc, span.end + LEAD_SKIP)
    lead = [m for m in mentions if m.kind == "weekday" and span.end <= m.start < end]
    named = {m.value for m in lead}
    if len(named) != 1 or _is_future(doc, lead[0], langs):
        return None
    return named.pop()


def _latest_full_date(spans: list[DateSpan]) -> date | None:
    return max((s.on(s.year) for s in spans if s.year), default=None)


def _store_publication(article: Article, published: _Published) -> None:
    article.published = published.day.isoformat() if published.day else None
    article.published_source = published.source
    article.meta.pop("published_partial", None)
    article.meta.pop("published_partial_source", None)
    if published.partial:
        article.meta["published_partial"] = partial_iso(published.partial.span)
        article.meta["published_partial_source"] = published.partial.source


def _nearest(month_day: DateSpan, published: date) -> date | None:
    """The month-day in the year around ``published`` that lies closest to it."""
    years = (published.year - 1, published.year, published.year + 1)
    candidates = [day for year in years if (day := month_day.on(year))]
    return min(candidates, key=lambda d: abs(d - published), default=None)


def _written_events(spans: list[DateSpan], published: date | None) -> list[tuple[DateSpan, EventDate]]:
    events = []
    for span in spans:
        if span.year:
            event = EventDate(span.iso, span.text, "text")
        elif published and (day := _nearest(span, published)):
            event = EventDate(day.isoformat(), span.text, "month-day")
        else:
            event = EventDate(span.iso, span.text, "month-day")
        events.append((span, event))
    return events


def _relative_events(
    doc: str,
    mentions: list[Mention],
    anchor: date | DateSpan | None,
    langs: list[str],
    written: list[tuple[DateSpan, EventDate]],
) -> list[EventDate]:
    """Weekdays, today/yesterday/tomorrow and "on the 14th" read against the publication date."""
    events = []
    for mention in mentions:
        start = _range_start(doc, mention, written) if mention.kind == "day-of-month" else None
        if start:
            resolved = _with_day(start.date, mention.value)
        else:
            future = mention.kind != "offset" and _is_future(doc, mention, langs)
            resolved = _resolve(mention, anchor, future)
        if resolved:
            events.append(EventDate(resolved, mention.text, "relative"))
    return events


def _range_start(doc: str, mention: Mention, written: list[tuple[DateSpan, EventDate]]) -> EventDate | None:
    """The written date that a range like "4月23日至25日" starts from: the end day shares its month."""
    return next(
        (
            event
            for span, event in written
            if span.end <= mention.start and doc[span.end : mention.start].strip() in _RANGE_JOINERS
        ),
        None,
    )


def _with_day(iso: str, day: int) -> str | None:
    year = LEAP_YEAR if iso.startswith("--") else int(iso[:4])
    return f"{iso[:-2]}{day:02d}" if safe_date(year, int(iso[-5:-3]), day) else None


def _resolve(mention: Mention, anchor: date | DateSpan | None, future: bool) -> str | None:
    if mention.kind == "day-of-month":
        return _day_of_month(mention.value, anchor, future)
    if not isinstance(anchor, date):  # weekdays and offsets need the full publication date
        return None
    if mention.kind == "offset":
        return (anchor + timedelta(days=mention.value)).isoformat()
    back = (anchor.weekday() - mention.value) % 7
    return (anchor + timedelta(days=(7 - back) % 7 if future else -back)).isoformat()


def _day_of_month(day: int, anchor: date | DateSpan | None, future: bool) -> str | None:
    """The day in the publication month, or in the month before when it has not come yet."""
    if anchor is None:
        return None
    year = anchor.year if isinstance(anchor, date) else None
    month = anchor.month
    if day > anchor.day and not future:
        year, month = (year, month - 1) if month > 1 else (year - 1 if year else None, 12)
    if safe_date(year or LEAP_YEAR, month, day) is None:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _unique(events: list[EventDate]) -> list[EventDate]:
    """One event per date, the first words that named it."""
    first: dict[str, EventDate] = {}
    for event in events:
        first.setdefault(event.date, event)
    return list(first.values())
