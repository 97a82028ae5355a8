"""Skipped records, kept bounded: a run over millions of bad lines must not hold them all.

Shared by the CLI ingest, ``inspect`` and the API, so every caller reports skips the same way:
a total, a count per kind of reason, and the first few reasons in full.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from storylines.article import Skipped

KEPT_REASONS = 100  # skips kept in full; the rest are only counted
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(name: str) -> str:
    """A file name or reason safe to print and store: no terminal escapes, no lone surrogates.

    Names that are not valid UTF-8 arrive from the OS with surrogate escapes, which
    SQLite and JSON encoders refuse; ANSI escapes in a name would drive the terminal.
    """
    name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", name)


def printable_text(text: str) -> str:
    """Text with lone surrogates (from JSON escapes) replaced, which UTF-8 encoders refuse."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def one_line(reason: str, max_chars: int = 300) -> str:
    """Parser messages (yajl's, lxml's) span lines; a Skipped reason is one short line."""
    line = " ".join(printable(reason).split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"


def failure(stage: str, error: BaseException) -> str:
    """The one-line reason for a record a stage raised on."""
    return one_line(f"{stage} failed: {type(error).__name__}: {error}")


@dataclass
class SkipTally:
    """Counts every skip; keeps only the first :data:`KEPT_REASONS` of them."""

    total: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    first: list[Skipped] = field(default_factory=list)

    def add(self, item: Skipped) -> None:
        self.total += 1
        self.kinds[item.reason.split(":")[0]] += 1
        if len(self.first) < KEPT_REASONS:
            self.first.append(item)

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0
