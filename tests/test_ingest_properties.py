"""Property tests: whatever bytes or text come in, every reader yields only Article or Skipped."""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from html import escape
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storylines.article import Article, Skipped
from storylines.ingest import read_bytes, read_paths

NAMES = [
    "a.txt",
    "a.html",
    "a.jsonl",
    "a.json",
    "a.csv",
    "a.tsv",
    "a.rss",
    "a.atom",
    "a.xml",
    "a.warc",
    "a.warc.gz",
    "a.txt.gz",
    "upload",
]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(max_size=300)


def assert_well_formed(items: list) -> None:
    for item in items:
        assert isinstance(item, Article | Skipped), item
        if isinstance(item, Article):
            assert item.raw_text.strip()
        else:
            assert item.reason and "\n" not in item.reason


@SETTINGS
@given(data=st.binary(max_size=2000), name=st.sampled_from(NAMES))
def test_arbitrary_bytes(data: bytes, name: str) -> None:
    assert_well_formed(list(read_bytes(data, name)))


@SETTINGS
@given(data=st.binary(max_size=2000), name=st.sampled_from(["a.warc.gz", "a.jsonl.gz", "upload"]))
def test_arbitrary_gzipped_bytes(data: bytes, name: str) -> None:
    assert_well_formed(list(read_bytes(gzip.compress(data), name)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(NAMES))
def test_arbitrary_bytes_from_a_file(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        assert_well_formed(list(read_paths([str(path)])))


@SETTINGS
@given(text=texts, encoding=st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_arbitrary_text_as_txt(text: str, encoding: str) -> None:
    assert_well_formed(list(read_bytes(text.encode(encoding), "a.txt")))


@SETTINGS
@given(title=texts, body=texts)
def test_arbitrary_text_in_html(title: str, body: str) -> None:
    page = f"<html><head><title>{escape(title)}</title></head><body><p>{escape(body)}</p></body></html>"
    assert_well_formed(list(read_bytes(page.encode(), "a.html")))


@SETTINGS
@given(records=st.lists(st.dictionaries(st.sampled_from(["title", "text", "url", "x"]), texts), max_size=5))
def test_arbitrary_text_in_json_formats(records: list[dict]) -> None:
    lines = "\n".join(json.dumps(record, ensure_ascii=False) for record in records).encode()
    assert_well_formed(list(read_bytes(lines, "a.jsonl")))
    assert_well_formed(list(read_bytes(json.dumps(records).encode(), "a.json")))


@SETTINGS
@given(rows=st.lists(st.tuples(texts, texts), max_size=5), delimiter=st.sampled_from([",", ";", "\t"]))
def test_arbitrary_text_in_csv(rows: list[tuple[str, str]], delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["title", "text"])
    writer.writerows(rows)
    assert_well_formed(list(read_bytes(buffer.getvalue().encode(), "a.csv")))


@SETTINGS
@given(entries=st.lists(st.tuples(texts, texts), max_size=4))
def test_arbitrary_text_in_a_feed(entries: list[tuple[str, str]]) -> None:
    items = "".join(
        f"<item><title>{escape(title)}</title><description>{escape(body)}</description></item>"
        for title, body in entries
    )
    feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{items}</channel></rss>'
    assert_well_formed(list(read_bytes(feed.encode(), "a.rss")))


@SETTINGS
@given(body=texts, compress=st.booleans())
def test_arbitrary_text_in_a_warc(body: str, compress: bool) -> None:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
    html = f"<html><body><p>{escape(body)}</p></body></html>".encode()
    record = writer.create_warc_record("https://x.org/", "response", io.BytesIO(html), http_headers=headers)
    writer.write_record(record)
    assert_well_formed(list(read_bytes(buffer.getvalue(), "a.warc")))
