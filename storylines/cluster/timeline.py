"""Dates as the clusterer sees them: full ISO days, year-less "--MM-DD" days, or unknown.

A report often gives only a month and day ("MOSCOW, July 6 /TASS/.", "2月14日").  Such a day
still bounds the distance to another one: whatever the year, Feb 14 and Jul 6 are at least
142 days apart, so the two cannot be one event.  Unknown days give no bound at all.  A day
read from a date the text mentions is weaker evidence than a publication day: the text may be
recalling a day the story touched weeks before, so the clusterer bounds it by a wider window.  The
arithmetic lives in :class:`storylines.day.Day`, shared with every view of dates.
"""

from __future__ import annotations

from storylines.article import Article
from storylines.day import Day


def article_day(article: Article) -> str | None:
    """The day the report is about: its publication date, else the first date its text gives."""
    if article.published:
        return article.published[:10]
    for event_date in article.event_dates:
        if Day.parse(event_date.date) is not None:
            return event_date.date[:10]
    return None


def dated_by_publication(article: Article) -> bool:
    """Whether :func:`article_day` is the report's own day (metadata, dateline, header) rather than
    a day its text mentions, which may be any day the story touches."""
    return bool(article.published)


def days_apart(a: str | None, b: str | None) -> float | None:
    """Days between two days; the least possible gap when a year is missing; None if unknown."""
    first, second = Day.parse(a), Day.parse(b)
    if first is None or second is None:
        return None
    return first.days_to(second)
