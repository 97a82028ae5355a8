"""Plain-text articles: the first non-empty line is the title, the rest the body."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import dateparser

from storylines.article import Article, Skipped
from storylines.ingest.base import (
    MAX_ARTICLE_CHARS,
    MAX_TEXT_BYTES,
    FieldNames,
    Item,
    read_document,
    strip_leading_title,
)
from storylines.ingest.decode import decode_document

_MAX_HEADER_CHARS = 40
_MAX_HEADER_WORDS = 6
_MAX_HEADER_NAME_WORDS = 3  # weekday, month and a particle such as Bulgarian "г."
_DIGIT = re.compile(r"\d")


def _could_be_date(line: str) -> bool:
    words = line.split()
    name_words = [word for word in words if not _DIGIT.search(word)]
    return (
        len(line) <= _MAX_HEADER_CHARS
        and len(words) <= _MAX_HEADER_WORDS
        and len(name_words) < len(words)
        and len(name_words) <= _MAX_HEADER_NAME_WORDS
    )


def is_date_line(line: str) -> bool:
    """A page header that is only a date, like "Thursday, July 14, 2016" above a blog post.

    The cheap shape test runs first because dateparser tries every language it knows
    on a line that is not a date, which takes seconds the first time.
    """
    line = line.strip()
    return _could_be_date(line) and dateparser.parse(line) is not None


def article_from_text(text: str, source: str, meta: dict | None = None) -> Item:
    """Split a text into header lines, title and body."""
    lines = text.splitlines()
    content = [index for index, line in enumerate(lines) if line.strip()]
    header_lines: list[str] = []
    while len(content) > 1 and is_date_line(lines[content[0]]):
        header_lines.append(lines[content.pop(0)].strip())
    if not content:
        return Skipped(source, "empty article: no text")
    title = lines[content[0]].strip()
    body = strip_leading_title("\n".join(lines[content[0] + 1 :]).strip(), title)
    if not body:
        return Skipped(source, "empty article: a title but no text")
    article = Article(source=source, title=title, raw_text=body, meta=dict(meta or {}))
    if header_lines:
        article.meta["header_lines"] = header_lines
    return article


def read_txt(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    text, encoding = decode_document(read_document(stream, MAX_TEXT_BYTES), max_chars=MAX_ARTICLE_CHARS)
    yield article_from_text(text, name, {"encoding": encoding})
