"""The typed record that flows through every pipeline stage.

Readers create an :class:`Article` with the raw fields filled in; each stage
(clean, language, dates, entities) fills in its own fields, the way spaCy's
``Doc`` flows through components.  Nothing here knows about any stage.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EntityType = Literal["person", "org", "place"]


@dataclass
class LanguageSpan:
    """A run of clean text in one language: ``text[start:end]``."""

    lang: str
    start: int
    end: int


@dataclass
class Entity:
    """An entity with one id across languages and scripts (``Q:putin``-style)."""

    id: str
    name: str
    type: EntityType
    mentions: list[str] = field(default_factory=list)


@dataclass
class EventDate:
    """A date the article reports something happening on, with the words it came from."""

    date: str  # ISO date; "--MM-DD" when the year is unknown
    text: str
    source: str = "text"


@dataclass
class Article:
    """One news report, raw as read and enriched as it passes the pipeline."""

    source: str
    title: str = ""
    raw_text: str = ""
    url: str | None = None
    published_hint: str | None = None  # date string from metadata (feed, HTML, JSON field)
    lang_hint: str | None = None  # language given by the input, if any
    raw_html: str | None = None
    # Filled in by the stages:
    text: str = ""
    removed: list[str] = field(default_factory=list)
    lang: str | None = None
    languages: list[LanguageSpan] = field(default_factory=list)
    published: str | None = None
    published_source: str | None = None
    event_dates: list[EventDate] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    not_article: str | None = None  # why this page is no news report (block page, cookie wall)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Stable content hash: the same title and body always give the same id."""
        digest = hashlib.sha256(f"{self.title.strip()}\n{self.raw_text.strip()}".encode())
        return digest.hexdigest()[:16]

    @property
    def body(self) -> str:
        """Clean text once cleaned, else the raw text."""
        return self.text or self.raw_text

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``storylines inspect --json`` (raw HTML left out)."""
        data = asdict(self)
        data.pop("raw_html")
        return {"id": self.id, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        data = {k: v for k, v in data.items() if k != "id"}
        data["languages"] = [LanguageSpan(**s) for s in data.get("languages", [])]
        data["entities"] = [Entity(**e) for e in data.get("entities", [])]
        data["event_dates"] = [EventDate(**d) for d in data.get("event_dates", [])]
        return cls(**data)


@dataclass
class Skipped:
    """An input that could not become an article, with a one-line reason."""

    source: str
    reason: str
