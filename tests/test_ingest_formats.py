"""Readers of many-article formats: JSON Lines, JSON, CSV/TSV, RSS/Atom and WARC."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from random import Random

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storylines.article import Article, Skipped
from storylines.ingest import FieldNames, read_bytes, read_paths

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
CUSTOM_FIELDS = FieldNames(title="headline", text="body", url="link", published="day", lang="language")


def kinds(items) -> list[str]:
    return [type(item).__name__ for item in items]


# --- JSON Lines -----------------------------------------------------------------------------------


def test_jsonl_maps_fields_and_skips_bad_lines() -> None:
    items = list(read_paths([str(FIXTURES / "articles.jsonl")]))
    assert kinds(items) == ["Article", "Skipped", "Skipped", "Article"]
    first, empty, broken, last = items
    assert first.source.endswith("articles.jsonl:1")
    assert (first.title, first.url, first.published_hint, first.lang_hint) == (
        "Putin and Hollande agree joint action",
        "https://example.com/a1",
        "2015-11-26",
        "en",
    )
    assert first.meta == {"id": "a1", "section": "world"}
    assert empty.source.endswith(":2") and "no text" in empty.reason
    assert broken.source.endswith(":3") and broken.reason.startswith("invalid JSON")
    assert last.title == "Третья новость"


def test_jsonl_invalid_utf8_line_is_skipped_alone() -> None:
    good = json.dumps({"title": "Путин", "text": "Текст о переговорах"}, ensure_ascii=False).encode()
    data = good + b"\n" + b'{"title": "bad \xff\xfe", "text": "x"}\n' + good + b"\n"
    items = list(read_bytes(data, "a.jsonl"))
    assert kinds(items) == ["Article", "Skipped", "Article"]
    assert items[1].source == "a.jsonl:2" and "invalid utf-8" in items[1].reason


def test_jsonl_custom_field_names_and_non_objects() -> None:
    lines = [{"headline": "H", "body": ["Para one.", "Para two."], "day": 20160714}, [1, 2], "text"]
    items = list(read_bytes("\n".join(json.dumps(line) for line in lines).encode(), "a.jsonl", CUSTOM_FIELDS))
    assert kinds(items) == ["Article", "Skipped", "Skipped"]
    assert (items[0].title, items[0].raw_text, items[0].published_hint) == (
        "H",
        "Para one.\nPara two.",
        "20160714",
    )
    assert "not an object" in items[1].reason


# --- JSON -----------------------------------------------------------------------------------------


def test_json_array_streams_items() -> None:
    data = json.dumps([{"title": "A", "text": "Body A", "score": 0.5}, 7, {"title": "C", "text": "Body C"}])
    items = list(read_bytes(data.encode(), "a.json"))
    assert kinds(items) == ["Article", "Skipped", "Article"]
    assert [item.source for item in items] == ["a.json[0]", "a.json[1]", "a.json[2]"]
    assert items[0].meta == {"score": 0.5}


def test_json_single_object_and_utf16() -> None:
    data = json.dumps({"title": "Заголовок", "text": "Текст"}, ensure_ascii=False)
    for encoded in (data.encode(), data.encode("utf-16"), data.encode("utf-8-sig")):
        items = list(read_bytes(encoded, "one.json"))
        assert kinds(items) == ["Article"] and items[0].source == "one.json"
        assert items[0].title == "Заголовок"


def test_json_array_in_utf16() -> None:
    data = json.dumps([{"title": "Заголовок", "text": "Текст"}] * 2, ensure_ascii=False).encode("utf-16")
    assert [item.title for item in read_bytes(data, "a.json")] == ["Заголовок", "Заголовок"]


def test_json_truncated_array_keeps_the_items_before() -> None:
    data = json.dumps([{"title": "A", "text": "Body A"}, {"title": "B", "text": "Body B"}])[:-20]
    items = list(read_bytes(data.encode(), "cut.json"))
    assert kinds(items) == ["Article", "Skipped"]
    assert items[1].reason.startswith("invalid JSON after 1 item(s): parse error")
    assert "\n" not in items[1].reason


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_custom_fields_with_quoted_newlines() -> None:
    items = list(read_paths([str(FIXTURES / "custom_fields.csv")], CUSTOM_FIELDS))
    assert kinds(items) == ["Article", "Article"]
    first, second = items
    assert first.source.endswith("custom_fields.csv:2") and second.source.endswith("custom_fields.csv:3")
    assert (first.title, first.url, first.published_hint, first.lang_hint, first.meta) == (
        "Kremlin ready to work with US",
        "https://example.com/1",
        "2016-07-14",
        "en",
        {"section": "world"},
    )
    assert second.raw_text == 'Text of the second story, with a "quote" and\na line break.'


def test_csv_bad_rows_are_skipped_and_the_rest_goes_on() -> None:
    data = (
        b"title,text\n"
        b"One,First body\n"
        b"Two,Second body,extra\n"
        b'Three,"bad "quote" here"\n'
        b"Four,bad \xff bytes\n" + "Пет,Текст на български\n\nSix,Sixth body\n".encode()
    )
    items = list(read_bytes(data, "rows.csv"))
    assert kinds(items) == ["Article", "Skipped", "Skipped", "Skipped", "Article", "Article"]
    assert [item.source for item in items] == [
        "rows.csv:2",
        "rows.csv:3",
        "rows.csv:4",
        "rows.csv:5",
        "rows.csv:6",
        "rows.csv:8",
    ]
    assert "3 fields" in items[1].reason and "malformed CSV" in items[2].reason
    assert "invalid utf-8" in items[3].reason


def test_tsv_and_long_fields() -> None:
    body = "word " * 40_000  # over csv's default 128 kB field limit
    data = f"title\ttext\nLong\t{body}\n".encode()
    article = next(read_bytes(data, "long.tsv"))
    assert isinstance(article, Article) and article.raw_text == body.strip()


def test_csv_with_only_a_header_gives_nothing_and_empty_is_skipped() -> None:
    assert list(read_bytes(b"title,text\n", "h.csv")) == []
    assert kinds(read_bytes(b"  \n", "e.csv")) == ["Skipped"]


# --- feeds ----------------------------------------------------------------------------------------


def test_rss_entries() -> None:
    items = list(read_paths([str(FIXTURES / "feed.rss")]))
    assert kinds(items) == ["Article", "Skipped"]
    article, empty = items
    assert article.title == "Putin and Obama discuss Syria by phone"
    assert article.url == "https://news.example.com/putin-obama-call"
    assert article.published_hint == "2016-07-06T18:05:00Z"
    assert article.lang_hint == "en"
    assert article.raw_text == (
        "Russian President Vladimir Putin and US President Barack Obama discussed Syria.\n"
        "The call took place at the Russian side's request."
    )
    assert empty.reason == "feed entry has no text"


def test_atom_entries() -> None:
    (article,) = read_paths([str(FIXTURES / "feed.atom")])
    assert article.title == "Путин и Оланд договориха съвместни действия"
    assert article.url == "https://bg.example.com/putin-oland"
    assert article.published_hint == "2015-11-27T10:00:00Z"
    assert article.lang_hint == "bg"
    assert article.raw_text.startswith("Руският президент")


def test_feed_in_legacy_encoding_without_declaration() -> None:
    feed = (FIXTURES / "feed.atom").read_text().replace('<?xml version="1.0" encoding="utf-8"?>', "")
    (article,) = read_bytes(feed.encode("cp1251"), "feed.atom")
    assert article.title == "Путин и Оланд договориха съвместни действия"


def test_malformed_feed_gives_feedparsers_reason() -> None:
    (skipped,) = read_bytes(b"<rss><channel><title>broken", "bad.rss")
    assert isinstance(skipped, Skipped) and skipped.reason.startswith("malformed feed:")
    assert "no element found" in skipped.reason


def test_feed_is_never_fetched_from_a_url_in_its_content() -> None:
    (skipped,) = read_bytes(b"http://localhost:9/feed.rss", "remote.rss")
    assert isinstance(skipped, Skipped) and skipped.reason.startswith("malformed feed")


# --- WARC -----------------------------------------------------------------------------------------

PAGE = (
    "<html lang='{lang}'><head><title>Story {index}</title></head><body><article><h1>Story {index}</h1>"
    "<p>Story {index}: Russian President Vladimir Putin and US President Barack Obama discussed the "
    "coordination of military actions in Syria in a telephone conversation on Wednesday.</p>"
    "<p>The conversation took place at the Russian side's request, the Kremlin press service said.</p>"
    "</article></body></html>"
)


def make_warc(compress: bool, pages: int = 3) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    for index in range(pages):
        request = StatusAndHeaders(f"GET /{index} HTTP/1.1", [("Host", "example.com")], is_http_request=True)
        writer.write_record(
            writer.create_warc_record(
                f"https://example.com/{index}", "request", payload=io.BytesIO(b""), http_headers=request
            )
        )
        html = PAGE.format(index=index, lang="en").encode("cp1252")
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=windows-1252")], "HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                f"https://example.com/{index}", "response", payload=io.BytesIO(html), http_headers=headers
            )
        )
    image = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], "HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            "https://example.com/x.png", "response", payload=io.BytesIO(b"\x89PNG"), http_headers=image
        )
    )
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("compress", "name"), [(True, "crawl.warc.gz"), (False, "crawl.warc"), (True, "upload")]
)
def test_warc_html_responses(compress: bool, name: str) -> None:
    items = list(read_bytes(make_warc(compress), name))
    assert kinds(items) == ["Article"] * 3
    assert [item.url for item in items] == [f"https://example.com/{index}" for index in range(3)]
    first = items[0]
    assert first.title == "Story 0" and first.raw_text.startswith("Story 0: Russian President")
    assert first.published_hint is None and first.meta["warc_date"]  # crawl date is no publication date
    assert first.lang_hint == "en" and first.source.startswith(f"{name}@")


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_warc_keeps_records_read_so_far(compress: bool) -> None:
    data = make_warc(compress)
    items = list(read_bytes(data[: len(data) * 2 // 3], "cut.warc.gz" if compress else "cut.warc"))
    assert kinds(items)[-1] == "Skipped" and set(kinds(items)[:-1]) == {"Article"} and len(items) >= 2
    assert "truncated" in items[-1].reason


def test_truncated_gzip_of_other_formats(tmp_path: Path) -> None:
    random = Random(8)
    words = ["Putin", "Obama", "Syria", "talks", "Kremlin", "said", "on", "Wednesday"]
    texts = [" ".join(random.choices(words, k=50)) for _ in range(2000)]
    lines = [json.dumps({"title": f"T{index}", "text": text}) for index, text in enumerate(texts)]
    path = tmp_path / "big.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode())[:-200])
    items = list(read_paths([str(path)]))
    assert kinds(items)[-1] == "Skipped" and "truncated or corrupt gzip" in items[-1].reason
    assert set(kinds(items)[:-1]) == {"Article"} and len(items) > 1000
