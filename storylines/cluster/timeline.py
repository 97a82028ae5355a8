"""Dates as the clusterer sees them: full ISO days, year-less "--MM-DD" days, or unknown.

A report often gives only a month and day ("MOSCOW, July 6 /TASS/.", "2月14日").  Such a day
still bounds the distance to another one: whatever the year, Feb 14 and Jul 6 are at least
142 days apart, so the two cannot be one event.  Unknown days give no bound at all.
"""

from __future__ import annotations

from datetime import date

from storylines.article import Article

_DAYS_IN_YEAR = 365  # the shorter year gives the smaller, still possible, gap
_LEAP_YEAR = 2000  # any leap year: places Feb 29 on the circle of days


def article_day(article: Article) -> str | None:
    """The day the report is about: its publication date, else the first date its text gives."""
    if article.published:
        return article.published[:10]
    for event_date in article.event_dates:
        if _parse(event_date.date) is not None:
            return event_date.date[:10]
    return None


def _parse(day: str | None) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of an ISO or "--MM-DD" string; None if it is neither."""
    if not day:
        return None
    try:
        if day.startswith("--"):
            parsed = date(_LEAP_YEAR, int(day[2:4]), int(day[5:7]))
            return None, parsed.month, parsed.day
        parsed = date.fromisoformat(day[:10])
    except ValueError:
        return None
    return parsed.year, parsed.month, parsed.day


def days_apart(a: str | None, b: str | None) -> float | None:
    """Days between two days; the least possible gap when a year is missing; None if unknown."""
    first, second = _parse(a), _parse(b)
    if first is None or second is None:
        return None
    if first[0] is not None and second[0] is not None:
        return float(abs((date(*first) - date(*second)).days))  # type: ignore[arg-type]
    gap = abs(date(_LEAP_YEAR, *first[1:]).toordinal() - date(_LEAP_YEAR, *second[1:]).toordinal())
    return float(min(gap, _DAYS_IN_YEAR - gap))
