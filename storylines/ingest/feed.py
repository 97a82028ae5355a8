"""RSS and Atom feeds: one article per entry."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import feedparser

from storylines.article import Article, Skipped
from storylines.ingest.base import FieldNames, Item, Unreadable, read_document
from storylines.ingest.decode import bom_encoding, declared_charset, decode_document, fix_text
from storylines.ingest.html import html_to_text

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _feed_bytes(data: bytes) -> bytes:
    """Bytes feedparser decodes right: as they are when a BOM or declaration names the
    charset (feedparser honours both), else transcoded to UTF-8 by our detector."""
    if bom_encoding(data) or declared_charset(data):
        return data
    return decode_document(data)[0].encode()


def _entry_text(entry: Any) -> str:
    parts = entry.get("content") or [entry.get("summary_detail") or {}]
    best = max(parts, key=lambda part: len(part.get("value") or ""))
    value = best.get("value") or ""
    return html_to_text(value) if best.get("type") in _HTML_TYPES else value.strip()


def _entry_date(entry: Any) -> str | None:
    for key in ("published", "updated"):
        parsed: time.struct_time | None = entry.get(f"{key}_parsed")
        if parsed:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed)
        if entry.get(key):
            return str(entry[key])
    return None


def _entry_article(entry: Any, source: str, feed_lang: str | None) -> Item:
    text = fix_text(_entry_text(entry))
    if not text:
        return Skipped(source, "feed entry has no text")
    meta = {key: entry[key] for key in ("id", "author") if entry.get(key)}
    return Article(
        source=source,
        title=fix_text(entry.get("title") or ""),
        raw_text=text,
        url=entry.get("link"),
        published_hint=_entry_date(entry),
        lang_hint=(entry.get("summary_detail") or {}).get("language") or feed_lang,
        meta=meta,
    )


def read_feed(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    """Feeds are parsed whole (feedparser does not stream), within the one-document size limit."""
    # A BytesIO, never bytes or str: feedparser treats those as a URL or a path to fetch.
    parsed = feedparser.parse(io.BytesIO(_feed_bytes(read_document(stream))))
    if not parsed.entries:
        raise Unreadable(f"malformed feed: {parsed.bozo_exception}" if parsed.bozo else "feed has no entries")
    feed_lang = parsed.feed.get("language")
    for index, entry in enumerate(parsed.entries):
        yield _entry_article(entry, f"{name}[{index}]", feed_lang)
