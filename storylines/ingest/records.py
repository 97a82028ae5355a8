"""Record formats (JSON Lines, JSON, CSV/TSV): one article per object or row, streamed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import ijson

from storylines.article import Article, Skipped
from storylines.ingest.base import HEAD_BYTES, MAX_DEPTH, MAX_TEXT_BYTES, FieldNames, Item, Unreadable
from storylines.ingest.decode import Line, decoded_lines, detect_encoding, fix_text, utf8_stream
from storylines.skips import failure

_CSV_DELIMITERS = ",;\t|"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_as_text(item) for item in value)
    return fix_text(str(value)).strip()


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: the check must not recurse)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (Mapping, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def article_from_record(record: Any, source: str, fields: FieldNames) -> Item:
    """Map the configured fields onto an Article; every other field goes to ``meta``."""
    if not isinstance(record, Mapping):
        return Skipped(source, f"not an object but {type(record).__name__}")
    if _too_deep(record):
        return Skipped(source, f"record nested deeper than the {MAX_DEPTH}-level limit")
    try:
        return _mapped(record, source, fields)
    except Exception as error:  # a value no conversion expected spoils this record, not the file
        return Skipped(source, failure("reading", error))


def _mapped(record: Mapping, source: str, fields: FieldNames) -> Item:
    text = _as_text(record.get(fields.text))
    if not text:
        return Skipped(source, f"empty article: no text in field {fields.text!r}")
    mapped = {fields.title, fields.text, fields.url, fields.published, fields.lang}
    return Article(
        source=source,
        title=_as_text(record.get(fields.title)),
        raw_text=text,
        url=_as_text(record.get(fields.url)) or None,
        published_hint=_as_text(record.get(fields.published)) or None,
        lang_hint=_as_text(record.get(fields.lang)) or None,
        meta={key: value for key, value in record.items() if key not in mapped},
    )


def _encoding(stream: io.BufferedReader) -> str:
    return detect_encoding(stream.peek(HEAD_BYTES)[:HEAD_BYTES])


def read_jsonl(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    for line in decoded_lines(stream, _encoding(stream), MAX_TEXT_BYTES):
        source = f"{name}:{line.number}"
        if line.problem:
            yield Skipped(source, line.problem)
        elif line.text.strip():
            try:
                record = json.loads(line.text)
            except json.JSONDecodeError as error:
                yield Skipped(source, f"invalid JSON: {error.msg} (column {error.colno})")
                continue
            except RecursionError:
                yield Skipped(source, f"record nested deeper than the {MAX_DEPTH}-level limit")
                continue
            except ValueError as error:  # a number too long to convert, and the like
                yield Skipped(source, f"invalid JSON: {error}")
                continue
            yield article_from_record(record, source, fields)


_OPEN = {"start_map", "start_array"}
_CLOSE = {"end_map", "end_array"}


def _json_values(events: Iterator[tuple[str, Any]], is_array: bool) -> Iterator[Any]:
    """The items of a top-level array (or the top-level values), built one at a time.

    Built from ijson's prefix-free events with the nesting counted here: ``ijson.items`` keeps
    a dotted prefix per level, so a 400 kB ``[[[…]]]`` made it allocate gigabytes.  An item
    nested deeper than :data:`MAX_DEPTH` comes out as a :class:`Skipped` and is not built.
    """
    level = 1 if is_array else 0  # nesting at which one item starts
    depth = 0
    builder: ijson.ObjectBuilder | None = None
    too_deep = False
    for event, value in events:
        if is_array and (depth == 0 or (depth == level and event == "end_array")):  # its own brackets
            depth += 1 if event in _OPEN else -1 if event in _CLOSE else 0
            continue
        if depth == level and builder is None:
            builder, too_deep = ijson.ObjectBuilder(), False
        depth += 1 if event in _OPEN else -1 if event in _CLOSE else 0
        too_deep = too_deep or depth - level > MAX_DEPTH
        if not too_deep:
            builder.event(event, value)
        if depth == level:
            deep = Skipped("", f"record nested deeper than the {MAX_DEPTH}-level limit")
            yield deep if too_deep else builder.value
            builder = None


def read_json(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    """A top-level array streams item by item; one object (or several in a row) is read whole."""
    utf8 = utf8_stream(stream, _encoding(stream))
    is_array = utf8.peek(HEAD_BYTES).lstrip().startswith(b"[")
    events = ijson.basic_parse(utf8, use_float=True, multiple_values=True)
    count = 0
    try:
        for count, record in enumerate(_json_values(events, is_array), start=1):
            source = f"{name}[{count - 1}]" if is_array else name
            if isinstance(record, Skipped):
                yield Skipped(source, record.reason)
            else:
                yield article_from_record(record, source, fields)
    except ijson.JSONError as error:
        message = error.args[0] if error.args else error
        if isinstance(message, bytes):  # yajl reports in bytes
            message = message.decode(errors="replace")
        yield Skipped(name, f"invalid JSON after {count} item(s): {message}")


def _delimiter(first_line: str, name: str) -> str:
    if name.lower().endswith(".tsv"):
        return "\t"
    try:
        return csv.Sniffer().sniff(first_line, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def looks_like_csv(first_line: str, fields: FieldNames) -> bool:
    """Content sniffing: a header row that names the text column."""
    try:
        header = next(csv.reader([first_line], delimiter=_delimiter(first_line, "")), [])
    except csv.Error:
        return False
    return len(header) > 1 and fields.text in header


def _noting_problems(lines: Iterator[Line], problems: dict[int, str]) -> Iterator[str]:
    """Feed csv the text of each line and keep the bad ones aside: a row may span lines."""
    for line in lines:
        if line.problem:
            problems[line.number] = line.problem
        yield line.text


def read_csv(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    # csv's field limit is process-wide (128 kB by default): raise it so a long body is no error
    csv.field_size_limit(max(csv.field_size_limit(), MAX_TEXT_BYTES))
    encoding = _encoding(stream)
    first_line = stream.peek(HEAD_BYTES)[:HEAD_BYTES].split(b"\n", 1)[0].decode(encoding, errors="replace")
    problems: dict[int, str] = {}
    lines = _noting_problems(decoded_lines(stream, encoding, MAX_TEXT_BYTES), problems)
    reader = csv.reader(lines, delimiter=_delimiter(first_line, name), strict=True)
    header = next(reader, None)
    if problems:
        raise Unreadable(f"CSV header row: {next(iter(problems.values()))}")
    if not header:
        raise Unreadable("empty CSV: no header row")
    while True:
        source = f"{name}:{reader.line_num + 1}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.clear()
            yield Skipped(source, f"malformed CSV: {error}")
            continue
        row_problems = [problems.pop(number) for number in sorted(problems)]
        if row_problems:
            yield Skipped(source, row_problems[0])
        elif len(row) != len(header):
            if row:  # csv gives [] for a blank line
                yield Skipped(source, f"malformed CSV: {len(row)} fields where the header has {len(header)}")
        else:
            yield article_from_record(dict(zip(header, row, strict=True)), source, fields)
