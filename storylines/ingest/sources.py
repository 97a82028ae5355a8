"""Where inputs come from (paths, folders, globs, stdin, uploads) and which reader gets them."""

from __future__ import annotations

import glob
import io
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from storylines.article import Skipped
from storylines.ingest.base import HEAD_BYTES, FieldNames, Item, Reader, Unreadable, gunzip
from storylines.ingest.decode import bom_encoding, has_nul_bytes
from storylines.ingest.feed import read_feed
from storylines.ingest.html import read_html
from storylines.ingest.records import looks_like_csv, read_csv, read_json, read_jsonl
from storylines.ingest.text import read_txt
from storylines.ingest.warc import read_warc

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
    stream: io.BufferedReader, name: str, fields: FieldNames, format_name: str
) -> Iterator[Item]:
    """``format_name`` is the name that tells the format: ``a.jsonl`` for ``a.jsonl.gz``."""
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    fmt = _format(head, format_name, fields)
    if fmt == "gzip":
        inner_name = format_name[:-3] if format_name.lower().endswith(".gz") else ""
        yield from _read_stream(gunzip(stream), name, fields, inner_name)
        return
    if not head.strip():
        raise Unreadable("empty file")
    if fmt != "warc" and has_nul_bytes(head):
        raise Unreadable("binary file: contains NUL bytes")
    yield from READERS[fmt](stream, name, fields)


def _one_line(reason: str, max_chars: int = 300) -> str:
    """Parser messages (yajl's, lxml's) span lines; a Skipped reason is one line."""
    line = " ".join(reason.split())
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"


def _reason(error: Exception, name: str) -> str:
    if isinstance(error, Unreadable):
        return str(error)
    if isinstance(error, OSError):  # TruncatedInput included
        return f"read error: {error}"
    logger.debug("reader failed on %s", name, exc_info=error)
    return f"unreadable: {type(error).__name__}: {error}"


def _guarded(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    """Whatever goes wrong with one input becomes a Skipped; the run goes on."""
    try:
        for item in _read_stream(stream, name, fields, name):
            yield Skipped(item.source, _one_line(item.reason)) if isinstance(item, Skipped) else item
    except Exception as error:  # a parser bug on odd input must not end a run of many files either
        yield Skipped(name, _one_line(_reason(error, name)))


def read_bytes(data: bytes, name: str, fields: FieldNames | None = None) -> Iterator[Item]:
    """Read an upload; the format comes from ``name``'s extension, else from the content."""
    stream = io.BufferedReader(io.BytesIO(data), HEAD_BYTES)  # type: ignore[arg-type]
    yield from _guarded(stream, name, fields or FieldNames())


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


def read_file(path: Path, fields: FieldNames | None = None) -> Iterator[Item]:
    """One file's articles; what cannot be read comes back as Skipped records."""
    fields = fields or FieldNames()
    try:
        stream = path.open("rb", buffering=HEAD_BYTES)
    except OSError as error:
        yield Skipped(str(path), f"cannot open: {error.strerror or error}")
        return
    with stream:
        yield from _guarded(stream, str(path), fields)


def read_paths(paths: Iterable[str], fields: FieldNames | None = None) -> Iterator[Item]:
    """Stream articles from files, folders (recursive), globs, or "-" for stdin."""
    fields = fields or FieldNames()
    for path in paths:
        if path == "-":
            with open(sys.stdin.fileno(), "rb", buffering=HEAD_BYTES, closefd=False) as stdin:
                yield from _guarded(stdin, "<stdin>", fields)
            continue
        for found in expand_path(path):
            if isinstance(found, Skipped):
                yield found
            else:
                yield from read_file(found, fields)
