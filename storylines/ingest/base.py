"""Shared limits and types of the readers."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from storylines.article import Article, Skipped

MB = 2**20
MAX_DOCUMENT_BYTES = 50 * MB  # one html/feed document; streamed formats have no total limit
MAX_TEXT_BYTES = 8 * MB  # one .txt article, or one JSON Lines line / CSV row
# One article's text: the longest news reports are ~100k characters; megabytes of text are a book or
# a dump, and would make the language and date regexes allocate gigabytes.
MAX_ARTICLE_CHARS = 1_000_000
MAX_DEPTH = 64  # nesting of one JSON record: articles are flat; deeper is an attack on the parsers
MAX_RAW_HTML_BYTES = 2 * MB  # larger pages keep only their extracted text
HEAD_BYTES = 64 * 2**10  # what format and encoding sniffing look at

Item = Article | Skipped


@dataclass(frozen=True)
class FieldNames:
    """Which keys/columns of JSON and CSV records hold each article field."""

    title: str = "title"
    text: str = "text"
    url: str = "url"
    published: str = "published"
    lang: str = "lang"
    id: str = "id"


Reader = Callable[[io.BufferedReader, str, FieldNames], Iterator[Item]]


class Unreadable(Exception):
    """An input that cannot become an article; ``str(exc)`` is the one-line reason."""


class TruncatedInput(OSError):
    """A compressed stream that ends early.

    An ``OSError`` rather than gzip's ``EOFError`` because warcio reads ``EOFError``
    as a normal end of archive and would hide the truncation.
    """


def strip_leading_title(body: str, title: str) -> str:
    """Pages repeat the headline (<title> and <h1>) above the story; the title field has it already."""
    first, _, rest = body.partition("\n")
    return rest.strip() if title and first.strip() == title.strip() else body


def read_document(stream: io.BufferedReader, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Read a whole single-document input, refusing ones that cannot be held in memory."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"larger than the {limit // MB} MB limit for one document")
    if not data.strip():
        raise Unreadable("empty file")
    return data


class StrictGzip(io.RawIOBase):
    """A gunzipping stream that reports a cut or corrupt file instead of ending quietly.

    It hands out every byte before the cut: unbuffered, and one chunk per read (``read1``),
    because a read that gathers chunks across the cut drops them when the error comes.
    """

    def __init__(self, stream: io.BufferedReader, limit: int | None = None):
        self._gzip = gzip.GzipFile(fileobj=stream, mode="rb")
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._gzip.read1(len(buffer))
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise TruncatedInput(f"truncated or corrupt gzip: {error}") from error
        if self._left is not None and self._limit is not None:
            self._left -= len(data)
            if self._left < 0:
                raise Unreadable(f"unpacks to more than the {self._limit // MB} MB limit for one upload")
        buffer[: len(data)] = data
        return len(data)


def gunzip(stream: io.BufferedReader, limit: int | None = None) -> io.BufferedReader:
    """Buffered for peeking; readers that must keep every byte before a cut read line by line.

    ``limit`` caps the unpacked bytes (uploads: a 10 MB gzip bomb unpacks to 10 GB)."""
    return io.BufferedReader(StrictGzip(stream, limit), HEAD_BYTES)
