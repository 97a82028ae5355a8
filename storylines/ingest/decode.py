"""Bytes → text for every reader: BOM, then declared charset, then UTF-8, then charset-normalizer."""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import AnyStr

import charset_normalizer
import ftfy

from storylines.ingest.base import HEAD_BYTES, MAX_DOCUMENT_BYTES, MB, Unreadable

_BOMS = (  # UTF-32 LE first: its BOM starts with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_CHARSET = re.compile(
    rb"""(?:<meta[^>]{0,200}?charset\s*=\s*["']?|<\?xml[^>]{0,200}?encoding\s*=\s*["'])([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f", "\v"}
_MAX_CONTROL_SHARE = 0.01  # decoded real text has next to no control characters; binary data has ~10 %


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 saved without a BOM: text in Latin, Cyrillic and most scripts puts a NUL in every
    other byte (the high byte of each code unit), on the even side for BE and the odd side for LE."""
    even, odd = head[0:4096:2], head[1:4096:2]
    if len(odd) < 8:
        return None
    if odd.count(0) >= 0.1 * len(odd) and even.count(0) <= 0.01 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.1 * len(even) and odd.count(0) <= 0.01 * len(odd):
        return "utf-16-be"
    return None


def bom_encoding(head: bytes) -> str | None:
    """The encoding the first bytes announce: a BOM, or UTF-16's pattern of NULs without one."""
    found = next((name for bom, name in _BOMS if head.startswith(bom)), None)
    return found or (_utf16_without_bom(head) if b"\x00" in head[:4096] else None)


def declared_charset(head: bytes) -> str | None:
    """The charset an HTML ``<meta>`` or XML declaration names, if Python knows it."""
    match = _DECLARED_CHARSET.search(head[:4096])
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def has_nul_bytes(head: bytes) -> bool:
    """NUL bytes mean binary data, unless a BOM announces UTF-16/32."""
    return b"\x00" in head and bom_encoding(head) in (None, "utf-8-sig")


def _decodes(sample: bytes, encoding: str) -> bool:
    # final=False: a multi-byte character cut at the end of a sample is not an error
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few broken bytes (a cut download) stays UTF-8.

    Legacy-encoded text almost never contains valid multi-byte UTF-8 sequences, so
    valid ones outnumbering the errors tenfold marks a damaged UTF-8 text.
    """
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    replacements = text.count("\ufffd")
    errors = replacements - sample.count("\ufffd".encode())
    if errors == 0:
        return True
    # continuation bytes of valid characters: UTF-8 length beyond one byte per character
    valid_continuation_bytes = len(text.encode()) - len(text) - 2 * replacements
    return valid_continuation_bytes >= 10 * errors


def detect_encoding(sample: bytes, declared: str | None = None) -> str:
    """Pick the encoding of a text from a sample of its bytes."""
    bom = bom_encoding(sample)
    if bom:
        return bom
    if declared and _decodes(sample, declared):
        return declared
    if _mostly_utf8(sample):
        return "utf-8"
    best = charset_normalizer.from_bytes(sample).best()
    # None: no single encoding fits, as in UTF-8 mixed with cp1251.  Read it as UTF-8 then: the
    # valid parts survive (line readers skip only the broken lines), and binary data is still
    # refused by its control characters.
    return best.encoding if best else "utf-8"


# Repair encoding damage only: keep the publisher's curly quotes and full-width CJK punctuation.
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False)


def fix_text(text: str) -> str:
    """Repair mojibake and odd line breaks (ftfy) in any text a reader hands on."""
    return ftfy.fix_text(text, _FTFY_CONFIG) if text else text


def _mostly_controls(text: str) -> bool:
    controls = sum(1 for char in text if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc")
    return controls > _MAX_CONTROL_SHARE * len(text)


def looks_binary(head: bytes) -> bool:
    """NUL bytes and other control characters in more than 1 % of the first bytes: not a text file
    (one stray NUL in a JSON Lines file spoils one line, not the file)."""
    return has_nul_bytes(head) and _mostly_controls(head.decode("utf-8", errors="replace"))


def _reject_binary(text: str) -> None:
    if _mostly_controls(text):
        raise Unreadable("binary file: not text")


def decode_document(
    data: bytes, declared: str | None = None, max_chars: int | None = None
) -> tuple[str, str]:
    """Decode one whole document; returns the fixed text and the encoding used.

    ``max_chars`` refuses a longer text before ftfy's repair, which takes seconds per megabyte."""
    if has_nul_bytes(data[: 2 * MB]):
        raise Unreadable("binary file: contains NUL bytes")
    encoding = detect_encoding(data[: 2 * MB], declared)
    text = data.decode(encoding, errors="replace")
    _reject_binary(text[:HEAD_BYTES])
    if max_chars is not None and len(text) > max_chars:
        raise Unreadable(f"article text over the {max_chars:,}-character limit")
    return fix_text(text), encoding


@dataclass
class Line:
    """One physical line of a streamed text file; ``problem`` says why it is unusable."""

    number: int
    text: str
    problem: str | None = None


def _bounded_lines(readline: Callable[[int], AnyStr], newline: AnyStr, limit: int) -> Iterator[AnyStr | None]:
    """Lines of at most ``limit`` units; ``None`` stands for a longer line, which is skipped unread."""
    while line := readline(limit + 1):
        if len(line) <= limit or line.endswith(newline):
            yield line
            continue
        while (rest := readline(limit)) and not rest.endswith(newline):
            pass
        yield None


def _ascii_compatible(encoding: str) -> bool:
    return encoding == "utf-8-sig" or "\na".encode(encoding) == b"\na"


def decoded_lines(
    stream: io.BufferedReader, encoding: str, limit: int = MAX_DOCUMENT_BYTES
) -> Iterator[Line]:
    """Stream the lines of a file, decoding each on its own so one bad line spoils only itself."""
    too_long = f"line longer than {limit // MB} MB"
    if not _ascii_compatible(encoding):  # UTF-16/32: bytes cannot be split at b"\n"
        text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        for number, text in enumerate(_bounded_lines(text_stream.readline, "\n", limit), start=1):
            yield Line(number, text, None) if text is not None else Line(number, "", too_long)
        return
    for number, raw in enumerate(_bounded_lines(stream.readline, b"\n", limit), start=1):
        if raw is None:
            yield Line(number, "", too_long)
            continue
        try:
            yield Line(number, raw.decode(encoding))
        except UnicodeDecodeError as error:
            yield Line(number, "", f"invalid {encoding} at byte {error.start + 1}")


class _Utf8Recoder(io.RawIOBase):
    """Re-encodes a stream to UTF-8 on the fly, for parsers that read UTF-8 only (ijson's yajl).

    Not ``codecs.EncodedFile``: it forwards ``readinto`` to the raw stream, so readers
    that use it get the original bytes.
    """

    def __init__(self, stream: io.BufferedReader, encoding: str):
        self._text = io.TextIOWrapper(stream, encoding=encoding, errors="replace")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._text.read(HEAD_BYTES)
            if not chunk:
                return 0
            self._pending = chunk.encode()
        size = min(len(buffer), len(self._pending))
        buffer[:size], self._pending = self._pending[:size], self._pending[size:]
        return size


def utf8_stream(stream: io.BufferedReader, encoding: str) -> io.BufferedReader:
    """The stream as UTF-8 without a BOM, whatever its encoding."""
    if encoding == "utf-8-sig" and stream.peek(3).startswith(codecs.BOM_UTF8):
        stream.read(len(codecs.BOM_UTF8))
    if encoding in ("utf-8", "utf-8-sig"):
        return stream
    return io.BufferedReader(_Utf8Recoder(stream, encoding), HEAD_BYTES)
