"""One date value for the whole code base: a full day, or a month and day with the year unknown.

Reports often give only a month and day ("MOSCOW, July 6 /TASS/.", "2月14日").  Such days are
stored as ISO 8601's year-less form ``--MM-DD``; every place that orders, compares, spans or
shows days goes through :class:`Day`, so that the CLI, the API and the clusterer agree: full days
in calendar order, year-less days after them (by month and day), unknown days last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

_LEAP_YEAR = 2000  # any leap year: lets Feb 29 exist when the year is unknown
_ANY_YEARS = (2000, 2001, 2002, 2003)  # one leap cycle: every gap a year-less day can have


@dataclass(frozen=True)
class Day:
    """A calendar day whose year may be unknown."""

    month: int
    day: int
    year: int | None = None

    @classmethod
    def parse(cls, value: str | None) -> Day | None:
        """From ``YYYY-MM-DD`` (any longer ISO timestamp too) or ``--MM-DD``; None if neither."""
        if not value:
            return None
        try:
            if value.startswith("--"):
                parsed = date(_LEAP_YEAR, int(value[2:4]), int(value[5:7]))
                return cls(parsed.month, parsed.day) if len(value) == 7 else None
            parsed = date.fromisoformat(value[:10])
        except ValueError:
            return None
        return cls(parsed.month, parsed.day, parsed.year)

    @property
    def full(self) -> bool:
        return self.year is not None

    @property
    def iso(self) -> str:
        """``2022-04-15`` or, without a year, ``--04-15``."""
        month_day = f"{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{month_day}" if self.year is not None else f"--{month_day}"

    def __str__(self) -> str:
        return self.iso

    def sort_key(self) -> tuple[int, int, int, int]:
        """Full days in calendar order first, then year-less ones by month and day."""
        return (0, self.year, self.month, self.day) if self.year is not None else (1, 0, self.month, self.day)

    def days_to(self, other: Day) -> float:
        """Days between two days; without a year, the least gap any years could give."""
        if self.year is None and other.year is not None:
            return other.days_to(self)  # a year-less day is placed around the known year
        gaps = (
            abs((first - second).days)
            for year in ([self.year] if self.year is not None else _ANY_YEARS)
            if (first := _date(year, self.month, self.day))
            # ±4 years: a year-less 29 February needs a leap year near a known one
            for other_year in ([other.year] if other.year is not None else range(year - 4, year + 5))
            if (second := _date(other_year, other.month, other.day))
        )
        return float(min(gaps))

    def readable(self) -> str:
        """As people write it: ``15 April 2022``, or ``15 April (year unknown)``."""
        month = date(_LEAP_YEAR, self.month, 1).strftime("%B")
        return f"{self.day} {month} {self.year}" if self.full else f"{self.day} {month} (year unknown)"


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # Feb 29 outside a leap year
        return None


def sort_key(value: str | None) -> tuple[int, int, int, int]:
    """Order of stored day strings: full, then year-less, then unknown or unparseable."""
    parsed = Day.parse(value)
    return parsed.sort_key() if parsed else (2, 0, 0, 0)


def span(values: Iterable[str | None]) -> list[str]:
    """First and last full day, plus the distinct year-less days (few; kept for display)."""
    days = {parsed for value in values if (parsed := Day.parse(value))}
    full = sorted((d for d in days if d.full), key=Day.sort_key)
    partial = sorted((d for d in days if not d.full), key=Day.sort_key)
    return [d.iso for d in dict.fromkeys(full[:1] + full[-1:])] + [d.iso for d in partial]


def first_and_last(values: Iterable[str | None]) -> tuple[str | None, str | None]:
    """The span's ends: full days when there are any, else year-less ones; None when undated."""
    days = sorted({parsed for value in values if (parsed := Day.parse(value))}, key=Day.sort_key)
    full = [d for d in days if d.full] or days
    return (full[0].iso, full[-1].iso) if full else (None, None)


def readable_span(first: str | None, last: str | None) -> str:
    """``15 April – 2 May 2022``-style text of a span, for people (CLI)."""
    start, end = Day.parse(first), Day.parse(last)
    if start is None:
        return "date unknown"
    if end is None or end == start:
        return start.readable()
    return f"{start.readable()} – {end.readable()}"
