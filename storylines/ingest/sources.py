"""Where inputs come from (paths, folders, globs, stdin, uploads) and which reader gets them."""

from __future__ import annotations

import glob
import io
import json
import logging
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from storylines.article import Article, Skipped
from storylines.ingest.base import HEAD_BYTES, MAX_ARTICLE_CHARS, FieldNames, Item, Reader, Unreadable, gunzip
from storylines.ingest.decode import bom_encoding, has_nul_bytes, looks_binary
from storylines.ingest.feed import read_feed
from storylines.ingest.html import read_html
from storylines.ingest.records import looks_like_csv, read_csv, read_json, read_jsonl
from storylines.ingest.text import read_txt
from storylines.ingest.warc import read_warc
from storylines.skips import one_line, printable, printable_text

logger = logging.getLogger(__name__)

READERS: dict[str, Reader] = {
    "txt": read_txt,
    "html": read_html,
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "feed": read_feed,
    "warc": read_warc,
}
EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".warc": "warc",
}
_GZIP_MAGIC = b"\x1f\x8b"
_LINE_FORMATS = ("jsonl", "csv")  # read line by line: a stray NUL byte spoils one record, not the file
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf")
_HTML_MARKERS = (b"<html", b"<!doctype html", b"<head", b"<body")


def _is_warc_gz(head: bytes) -> bool:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head).startswith(b"WARC/")
    except zlib.error:
        return False


def _looks_like_jsonl(first_line: str) -> bool:
    try:
        return isinstance(json.loads(first_line), dict)
    except ValueError:
        return False


def sniff_format(head: bytes, fields: FieldNames) -> str:
    """Guess the format from the first bytes when the name does not tell."""
    text = head.decode(bom_encoding(head) or "utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    lowered = text[:4096].lower().encode(errors="replace")
    first_line = text.split("\n", 1)[0]
    if text.startswith("WARC/"):
        return "warc"
    if text.startswith("<"):
        if any(root in lowered for root in _FEED_ROOTS):
            return "feed"
        is_xml = lowered.startswith(b"<?xml") and not any(marker in lowered for marker in _HTML_MARKERS)
        return "feed" if is_xml else "html"
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "jsonl" if _looks_like_jsonl(first_line) else "json"
    return "csv" if looks_like_csv(first_line, fields) else "txt"


def _format(head: bytes, name: str, fields: FieldNames) -> str:
    """A reader's name, or "gzip" for a compressed file that is not a WARC (warcio unzips those)."""
    lowered = name.lower()
    if lowered.endswith(".warc.gz") or (head.startswith(_GZIP_MAGIC) and _is_warc_gz(head)):
        return "warc"
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    return EXTENSIONS.get(os.path.splitext(lowered)[1]) or sniff_format(head, fields)


def _read_stream(
    stream: io.BufferedReader,
    name: str,
    fields: FieldNames,
    format_name: str,
    max_unpacked: int | None = None,
) -> Iterator[Item]:
    """``format_name`` is the name that tells the format: ``a.jsonl`` for ``a.jsonl.gz``."""
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    fmt = _format(head, format_name, fields)
    if fmt == "gzip":
        inner_name = format_name[:-3] if format_name.lower().endswith(".gz") else ""
        yield from _read_stream(gunzip(stream, max_unpacked), name, fields, inner_name)
        return
    if not head.strip():
        raise Unreadable("empty file")
    if fmt != "warc" and (looks_binary(head) if fmt in _LINE_FORMATS else has_nul_bytes(head)):
        raise Unreadable("binary file: contains NUL bytes")
    yield from READERS[fmt](stream, name, fields)


def _reason(error: Exception, name: str) -> str:
    if isinstance(error, Unreadable):
        return str(error)
    if isinstance(error, OSError):  # TruncatedInput included
        return f"read error: {error}"
    logger.debug("reader failed on %s", name, exc_info=error)
    return f"unreadable: {type(error).__name__}: {error}"


def _checked(article: Article) -> Item:
    """Refuse an article too long for the enrichment regexes; make its text storable.

    Lone surrogates (a JSON ``"\\ud800"``) cannot be encoded as UTF-8, so SQLite and every
    JSON response would fail on them: they become U+FFFD.
    """
    if len(article.raw_text) > MAX_ARTICLE_CHARS:
        return Skipped(article.source, f"article text over the {MAX_ARTICLE_CHARS:,}-character limit")
    if not any(char.isalnum() for char in article.raw_text):  # only zero-width or other invisible characters
        return Skipped(article.source, "empty article: no letters or digits in the text")
    article.title, article.raw_text = printable_text(article.title), printable_text(article.raw_text)
    return article


def _guarded(
    stream: io.BufferedReader, name: str, fields: FieldNames, max_unpacked: int | None = None
) -> Iterator[Item]:
    """Whatever goes wrong with one input becomes a Skipped; the run goes on."""
    try:
        for item in _read_stream(stream, name, fields, name, max_unpacked):
            yield Skipped(item.source, one_line(item.reason)) if isinstance(item, Skipped) else _checked(item)
    except Exception as error:  # a parser bug on odd input must not end a run of many files either
        yield Skipped(name, one_line(_reason(error, name)))


def read_bytes(
    data: bytes, name: str, fields: FieldNames | None = None, max_unpacked: int | None = None
) -> Iterator[Item]:
    """Read an upload; the format comes from ``name``'s extension, else from the content.

    ``max_unpacked`` caps what a gzip upload may unpack to, in bytes."""
    stream = io.BufferedReader(io.BytesIO(data), HEAD_BYTES)  # type: ignore[arg-type]
    yield from _guarded(stream, name, fields or FieldNames(), max_unpacked)


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _files_in(folder: Path) -> Iterator[Path]:
    """Files under a folder, in a stable order, without hidden ones (.git, .DS_Store…)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not _is_hidden(path, folder):
            yield path


def expand_path(path: str) -> Iterator[Path | Skipped]:
    """The files a path names: itself, a folder's files (recursive, stable order) or a glob's matches."""
    candidate = Path(path)
    if candidate.is_dir():
        yield from _files_in(candidate)
    elif candidate.exists() or candidate.is_symlink():
        yield candidate
    elif glob.has_magic(path):
        matches = sorted(glob.glob(path, recursive=True))
        if not matches:
            yield Skipped(path, "no file matches this pattern")
        for match in matches:
            yield from expand_path(match)
    else:
        yield Skipped(path, "no such file or directory")


@dataclass
class ReadProgress:
    """How far reading has got, in bytes of the input files (compressed bytes for .gz): what a
    progress bar and an ETA need.  ``total`` is None when reading standard input."""

    total: int | None = 0
    done: int = 0


def _open_regular(path: Path) -> io.BufferedReader:
    """Open a regular file only: a FIFO or device would block the run or never end.

    O_NONBLOCK keeps the open itself from waiting for a FIFO's writer; the check after it
    (on the opened file, not the name, so no race) refuses anything but a plain file.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise Unreadable("not a regular file (a FIFO, socket or device)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return open(descriptor, "rb", buffering=HEAD_BYTES)
    except BaseException:
        os.close(descriptor)
        raise


def read_file(
    path: Path, fields: FieldNames | None = None, progress: ReadProgress | None = None
) -> Iterator[Item]:
    """One file's articles; what cannot be read comes back as Skipped records."""
    fields = fields or FieldNames()
    progress = progress or ReadProgress()
    name = printable(str(path))
    try:
        stream = _open_regular(path)
    except Unreadable as error:
        yield Skipped(name, str(error))
        return
    except OSError as error:
        reason = "vanished before it was read" if isinstance(error, FileNotFoundError) else "cannot open"
        yield Skipped(name, f"{reason}: {error.strerror or error}")
        return
    finished = progress.done
    with stream:
        size = os.fstat(stream.fileno()).st_size
        for item in _guarded(stream, name, fields):
            if not stream.closed:  # a reader's text wrapper may close it early
                progress.done = finished + stream.raw.tell()
            yield item
    progress.done = finished + size


def _size(found: Path | Skipped) -> int:
    try:
        return found.stat().st_size if isinstance(found, Path) else 0
    except OSError:
        return 0


def read_paths(
    paths: Iterable[str], fields: FieldNames | None = None, progress: ReadProgress | None = None
) -> Iterator[Item]:
    """Stream articles from files, folders (recursive), globs, or "-" for stdin.

    With ``progress`` every path is expanded first, so its ``total`` is known from the start.
    """
    fields = fields or FieldNames()
    progress = progress or ReadProgress()
    expanded = [(path, [] if path == "-" else list(expand_path(path))) for path in paths]
    has_stdin = any(path == "-" for path, _ in expanded)
    progress.total = None if has_stdin else sum(_size(found) for _, found in expanded for found in found)
    for path, found_paths in expanded:
        if path == "-":
            with open(sys.stdin.fileno(), "rb", buffering=HEAD_BYTES, closefd=False) as stdin:
                yield from _guarded(stdin, "<stdin>", fields)
        for found in found_paths:
            if isinstance(found, Skipped):
                yield Skipped(printable(found.source), found.reason)
            else:
                yield from read_file(found, fields, progress)
