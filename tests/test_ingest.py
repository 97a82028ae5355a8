"""Readers: the seeds, plain text, HTML, and where inputs come from (paths, globs, stdin, uploads)."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from storylines.article import Article, Skipped
from storylines.clean.boilerplate import BoilerplateRemover
from storylines.ingest import FieldNames, read_bytes, read_paths

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"


def only_article(items) -> Article:
    items = list(items)
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def only_skipped(items) -> Skipped:
    items = list(items)
    assert len(items) == 1 and isinstance(items[0], Skipped), items
    return items[0]


# --- the four seeds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "title_start"),
    [
        ("000", "Putin it is necessary for the US Russian Defense Ministry"),
        ("001", "Путин и Оланд договориха съвместни военни действия срещу „Ислямска държава”"),
        ("002", "MOSCOW, July 6 /TASS/. Russian President Vladimir Putin"),
        ("003", "Moscow ready for coordinated anti-terrorist efforts with US — Kremlin"),
    ],
)
def test_seed_titles(stem: str, title_start: str) -> None:
    article = only_article(read_paths([str(next(SAMPLES.glob(f"{stem}_*.txt")))]))
    assert article.title.startswith(title_start)
    assert article.raw_text and not article.raw_text.startswith(article.title)
    assert article.meta["encoding"] == "utf-8"


def test_seed_003_keeps_the_date_header_apart() -> None:
    article = only_article(read_paths([str(next(SAMPLES.glob("003_*.txt")))]))
    assert article.title == "Moscow ready for coordinated anti-terrorist efforts with US — Kremlin"
    assert article.meta["header_lines"] == ["Thursday, July 14, 2016"]
    assert article.raw_text.startswith("The Kremlin confirms")


def test_seed_000_keeps_both_languages() -> None:
    article = only_article(read_paths([str(next(SAMPLES.glob("000_*.txt")))]))
    assert "Putin" in article.raw_text and "普京" in article.raw_text
    assert "header_lines" not in article.meta


def test_folder_reads_all_seeds_in_order() -> None:
    items = list(read_paths([str(SAMPLES)]))
    assert [Path(item.source).name[:3] for item in items] == ["000", "001", "002", "003"]
    assert all(isinstance(item, Article) for item in items)


# --- plain text -----------------------------------------------------------------------------------


def test_txt_title_only_is_skipped() -> None:
    assert "no text" in only_skipped(read_bytes(b"\n\nJust a headline\n\n", "a.txt")).reason


@pytest.mark.parametrize("title", ["G20 summit opens in Hangzhou", "Brexit 2020", "Top 10 stories"])
def test_txt_numbers_in_a_title_are_not_a_date_header(title: str) -> None:
    article = only_article(read_bytes(f"{title}\n\nLeaders met.".encode(), "a.txt"))
    assert article.title == title and "header_lines" not in article.meta


@pytest.mark.parametrize("header", ["14 юли 2016 г.", "2016-07-14", "Четвъртък, 14 юли 2016"])
def test_txt_date_headers_in_other_forms(header: str) -> None:
    article = only_article(read_bytes(f"{header}\n\nЗаглавие\n\nТекст.".encode(), "a.txt"))
    assert (article.meta["header_lines"], article.title) == ([header], "Заглавие")


def test_txt_windows_line_breaks_and_legacy_encoding() -> None:
    data = "Путин и Оланд\r\n\r\nРуският президент Владимир Путин и френският му колега Франсоа Оланд.\r\n"
    article = only_article(read_bytes(data.encode("cp1251"), "bg.txt"))
    assert article.title == "Путин и Оланд"
    assert article.raw_text == "Руският президент Владимир Путин и френският му колега Франсоа Оланд."


def test_txt_utf16_with_bom() -> None:
    article = only_article(read_bytes("Заголовок\nТекст статьи.".encode("utf-16"), "ru.txt"))
    assert (article.title, article.raw_text) == ("Заголовок", "Текст статьи.")


def test_txt_mojibake_is_repaired() -> None:
    broken = "Café society\n\nThe café opened in Zürich.".encode().decode("latin-1").encode()
    article = only_article(read_bytes(broken, "a.txt"))
    assert (article.title, article.raw_text) == ("Café society", "The café opened in Zürich.")


def test_txt_damaged_utf8_stays_utf8() -> None:
    data = "Путин\n\nТекст о переговорах в Москве ".encode() + b"\xff" + "и в Вашингтоне.".encode()
    article = only_article(read_bytes(data, "a.txt"))
    assert article.meta["encoding"] == "utf-8" and "Вашингтоне" in article.raw_text


# --- HTML -----------------------------------------------------------------------------------------


def test_html_metadata_and_body() -> None:
    article = only_article(read_paths([str(FIXTURES / "article.html")]))
    assert article.title == "Moscow ready for coordinated efforts with US"
    assert article.url == "https://news.example.com/world/kremlin-us-coordination"  # canonical before og:url
    assert article.published_hint == "2016-07-14"
    assert article.lang_hint == "en-GB"
    assert article.raw_text.startswith("The Kremlin confirms")
    assert "Home" not in article.raw_text and "rights reserved" not in article.raw_text
    assert article.raw_html and "<article>" in article.raw_html
    assert article.meta["author"] == "Jane Reporter"


def test_html_declared_charset_is_honoured() -> None:
    page = (
        '<html><head><meta charset="windows-1251"><title>Путин и Оланд</title></head><body><article>'
        "<p>Руският президент Владимир Путин и френският му колега Франсоа Оланд са провели телефонен "
        "разговор, в който са се споразумели да засилят сътрудничеството между двете страни.</p>"
        "</article></body></html>"
    )
    article = only_article(read_bytes(page.encode("cp1251"), "page.html"))
    assert article.meta["encoding"] == "cp1251"
    assert "Владимир Путин" in article.raw_text


def test_big_html_drops_raw_html_but_keeps_text() -> None:
    page = (FIXTURES / "article.html").read_text().replace("</head>", f"<!-- {'x' * 2_200_000} --></head>")
    article = only_article(read_bytes(page.encode(), "big.html"))
    assert article.raw_html is None and "Peskov" in article.raw_text


def test_html_source_line_breaks_inside_a_paragraph_do_not_cost_its_last_lines() -> None:
    """A paragraph wrapped in the HTML source is one line of text, so cleaning keeps it whole
    (it used to become short "lines" whose tail went as a trailing list)."""
    wrapped = (
        "She flaunted her hand bag which had the colours of the Nigerian\nflag. The 47 year old was"
        " one of the guests invited to an event by media\n mogul, Debola Lagos."
    )
    page = (
        "<html><head><title>Kate Henshaw</title></head><body><article><h1>Kate Henshaw</h1>"
        "<p>Veteran Nollywood actress Kate Henshaw, who won the Africa Movie Academy Award in 2008,\n"
        "has taken to her Instagram page to share some stunning photos of herself.</p>"
        f"<div><span>{wrapped}</span></div><pre>line one\nline two</pre></article></body></html>"
    )
    article = BoilerplateRemover()(only_article(read_bytes(page.encode(), "page.html")))
    assert " ".join(wrapped.split()) in article.text.splitlines()
    assert "line one\nline two" in article.raw_text


def test_html_without_article_text_is_skipped() -> None:
    assert "no article text" in only_skipped(read_bytes(b"<html><body></body></html>", "x.html")).reason


# --- inputs: paths, globs, stdin, uploads ---------------------------------------------------------


def test_missing_path_and_empty_glob_are_skipped(tmp_path: Path) -> None:
    paths = [str(tmp_path / "missing.txt"), str(tmp_path / "*.none"), str(SAMPLES / "00[3]*")]
    items = list(read_paths(paths))
    assert [type(item) for item in items] == [Skipped, Skipped, Article]
    assert "no such file" in items[0].reason and "no file matches" in items[1].reason


def test_folders_recurse_and_skip_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "a.txt").write_text("Title A\n\nBody A")
    (tmp_path / "b.txt").write_text("Title B\n\nBody B")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.txt").write_text("Title C\n\nBody C")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    assert [item.title for item in read_paths([str(tmp_path)])] == ["Title B", "Title A"]


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("Title\n\nBody")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("storylines.ingest.sources._open_regular", refuse)
    assert "Permission denied" in only_skipped(read_paths([str(path)])).reason


def test_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"title": "From stdin", "text": "Body from a pipe."}) + "\n")
    with path.open("rb") as piped:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(piped))
        article = only_article(read_paths(["-"]))
    assert (article.source, article.title) == ("<stdin>:1", "From stdin")


def test_custom_field_names_and_sniffed_csv() -> None:
    fields = FieldNames(title="headline", text="body", url="link", published="day", lang="language")
    data = (FIXTURES / "custom_fields.csv").read_bytes()
    items = list(read_bytes(data, "upload", fields))  # no extension: sniffed from the header row
    assert [item.title for item in items] == ["Kremlin ready to work with US", "Second story"]


@pytest.mark.parametrize(
    ("fixture", "source"),
    [
        ("article.html", "upload"),
        ("feed.rss", "upload[0]"),
        ("feed.atom", "upload[0]"),
        ("articles.jsonl", "upload:1"),
    ],
)
def test_format_is_sniffed_without_extension(fixture: str, source: str) -> None:
    first = next(read_bytes((FIXTURES / fixture).read_bytes(), "upload"))
    assert isinstance(first, Article) and first.source == source


def test_sniffed_json_array_and_text() -> None:
    array = json.dumps([{"title": "T", "text": "Body"}]).encode()
    assert only_article(read_bytes(array, "upload")).source == "upload[0]"
    assert only_article(read_bytes(b"Title line\n\nBody line", "upload")).title == "Title line"


def test_gzipped_jsonl_by_extension_and_by_sniffing() -> None:
    data = gzip.compress((FIXTURES / "articles.jsonl").read_bytes())
    for name in ("a.jsonl.gz", "a.gz"):
        items = list(read_bytes(data, name))
        assert [type(item) for item in items] == [Article, Skipped, Skipped, Article], name
