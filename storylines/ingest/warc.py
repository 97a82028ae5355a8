"""WARC and WARC.gz crawls: every HTML response record goes through the HTML reader."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from email.message import Message

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from storylines.article import Article, Skipped
from storylines.ingest.base import (
    MAX_DOCUMENT_BYTES,
    MB,
    FieldNames,
    Item,
    StrictGzip,
    TruncatedInput,
    Unreadable,
)
from storylines.ingest.html import article_from_html

_GZIP_MAGIC = b"\x1f\x8b"


def _charset(content_type: str) -> str | None:
    message = Message()
    message["content-type"] = content_type
    charset = message.get_content_charset()
    try:
        return codecs.lookup(charset).name if charset else None
    except LookupError:
        return None


def _html_response_item(record: ArcWarcRecord, source: str) -> Item | None:
    """An article or a Skipped for a successful HTML response; None for every other record."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    content_type = record.http_headers.get_header("Content-Type") or ""
    if "html" not in content_type.lower() or not record.http_headers.get_statuscode().startswith("2"):
        return None
    body = record.content_stream().read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        return Skipped(source, f"larger than the {MAX_DOCUMENT_BYTES // MB} MB limit for one document")
    url = record.rec_headers.get_header("WARC-Target-URI")
    try:
        item = article_from_html(body, source, url=url, charset=_charset(content_type))
    except Unreadable as error:
        return Skipped(source, str(error))
    if isinstance(item, Article) and record.rec_headers.get_header("WARC-Date"):
        # the crawl time, not the publication date: only a last-resort hint
        item.meta["warc_date"] = record.rec_headers.get_header("WARC-Date")
    return item


def _ensure_complete(record: ArcWarcRecord) -> None:
    """warcio hands over a record cut short by the end of the file without a word."""
    if record.rec_headers.get_header("Content-Length") is None:  # required in every WARC record
        raise TruncatedInput("a record without Content-Length (cut inside its headers)")
    while record.raw_stream.read(MB):
        pass
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise TruncatedInput(f"a record ends {record.raw_stream.limit} bytes early")


def _ensure_no_partial_record(iterator: ArchiveIterator) -> None:
    """warcio also ends quietly when the file stops inside the HTTP headers of a record."""
    if iterator.fh.tell() > iterator.offset:
        raise TruncatedInput("the last record is cut inside its headers")


def read_warc(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    # gunzip here rather than in warcio, which ends quietly at a truncated gzip member
    iterator = ArchiveIterator(StrictGzip(stream) if stream.peek(2).startswith(_GZIP_MAGIC) else stream)
    count = 0
    try:
        for record in iterator:
            item = _html_response_item(record, f"{name}@{iterator.offset}")
            _ensure_complete(record)
            count += 1
            if item is not None:
                yield item
        _ensure_no_partial_record(iterator)
    except Exception as error:  # warcio raises assorted types (ValueError, AttributeError…) on bad input
        yield Skipped(name, f"truncated or corrupt WARC after {count} record(s): {error}")
