"""The one date value: parsing, order, gaps, spans and readable text."""

from __future__ import annotations

import pytest

from storylines.cluster.timeline import days_apart
from storylines.day import Day, first_and_last, readable_span, sort_key, span


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-04-15", Day(4, 15, 2022)),
        ("2022-04-15T08:00:00+00:00", Day(4, 15, 2022)),
        ("--02-29", Day(2, 29)),
        ("--13-01", None),
        ("--02-30", None),
        ("2022-02-30", None),
        ("", None),
        (None, None),
        ("April", None),
    ],
)
def test_parse(text: str | None, expected: Day | None) -> None:
    assert Day.parse(text) == expected


def test_iso_round_trip() -> None:
    for text in ("2022-04-15", "--04-15", "1999-12-31"):
        parsed = Day.parse(text)
        assert parsed is not None and parsed.iso == text


def test_full_days_first_then_year_less_then_unknown() -> None:
    days = ["--02-14", None, "2022-05-01", "--01-30", "2021-12-31", "garbage"]
    assert sorted(days, key=sort_key)[:4] == ["2021-12-31", "2022-05-01", "--01-30", "--02-14"]


def test_gaps_with_and_without_years() -> None:
    assert Day(2, 14, 2020).days_to(Day(2, 16, 2020)) == 2
    assert Day(12, 30).days_to(Day(1, 2)) == 3 == Day(1, 2).days_to(Day(12, 30))  # across New Year
    assert Day(2, 29).days_to(Day(3, 1)) == 1
    assert Day(12, 31).days_to(Day(1, 1, 2022)) == 1
    assert days_apart("--02-14", "2022-07-06") == 142
    assert days_apart(None, "2022-07-06") is None


def test_a_year_less_29_february_is_placed_in_the_nearest_leap_year() -> None:
    # 2022's neighbours 2021 and 2023 have no 29 February: the gap comes from 2020 or 2024
    assert Day(3, 1, 2022).days_to(Day(2, 29)) == 730 == Day(2, 29).days_to(Day(3, 1, 2022))  # 2024-02-29
    assert Day(2, 28, 2024).days_to(Day(2, 29)) == 1


def test_span_keeps_first_last_and_year_less() -> None:
    assert span(["2022-03-02", "--12-31", "2022-01-05", "2022-02-01", "--04-15"]) == [
        "2022-01-05",
        "2022-03-02",
        "--04-15",
        "--12-31",
    ]
    assert first_and_last(["--12-31", "2022-01-05", "--04-15"]) == ("2022-01-05", "2022-01-05")
    assert first_and_last(["--12-31", "--04-15"]) == ("--04-15", "--12-31")
    assert first_and_last([]) == (None, None)


def test_readable() -> None:
    assert Day(4, 15, 2022).readable() == "15 April 2022"
    assert Day(2, 14).readable() == "14 February (year unknown)"
    assert readable_span("2022-04-15", "2022-05-02") == "15 April 2022 – 2 May 2022"
    assert readable_span(None, None) == "date unknown"
