"""Reader throughput: N synthetic ~2 kB articles in each input format, articles per second.

Run: python benchmarks/bench_readers.py [--articles N]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import tempfile
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from random import Random

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storylines.article import Article
from storylines.ingest import read_paths

WORDS = ["Putin", "Obama", "Kremlin", "Syria", "talks", "said", "Moscow", "coordination", "Путин", "разговор"]


def synthetic_articles(count: int, seed: int = 0) -> list[tuple[str, str]]:
    random = Random(seed)
    articles = []
    for index in range(count):
        paragraphs = [" ".join(random.choices(WORDS, k=50)) + "." for _ in range(5)]
        articles.append((f"Story {index}: {' '.join(random.choices(WORDS, k=6))}", "\n".join(paragraphs)))
    return articles


def html_page(title: str, body: str) -> str:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in body.splitlines())
    head = f"<head><title>{escape(title)}</title></head>"
    return f"<html lang='en'>{head}<body><article>{paragraphs}</article></body></html>"


def write_txt(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    for index, (title, body) in enumerate(articles):
        (folder / f"{index:06d}.txt").write_text(f"{title}\n\n{body}\n")
    return [str(folder / "*.txt")]


def write_html(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    for index, (title, body) in enumerate(articles):
        (folder / f"{index:06d}.html").write_text(html_page(title, body))
    return [str(folder / "*.html")]


def write_jsonl(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    lines = (json.dumps({"title": title, "text": body}, ensure_ascii=False) for title, body in articles)
    (folder / "all.jsonl").write_text("\n".join(lines))
    return [str(folder / "all.jsonl")]


def write_json(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    records = [{"title": title, "text": body} for title, body in articles]
    (folder / "all.json").write_text(json.dumps(records, ensure_ascii=False))
    return [str(folder / "all.json")]


def write_csv(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    with (folder / "all.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text"])
        writer.writerows(articles)
    return [str(folder / "all.csv")]


def write_rss(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://example.com/{index}</link>"
        f"<description>{escape(html_page(title, body))}</description></item>"
        for index, (title, body) in enumerate(articles)
    )
    feed = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{items}</channel></rss>'
    (folder / "all.rss").write_text(feed)
    return [str(folder / "all.rss")]


def write_warc(folder: Path, articles: list[tuple[str, str]]) -> list[str]:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    headers = [("Content-Type", "text/html; charset=utf-8")]
    for index, (title, body) in enumerate(articles):
        payload = io.BytesIO(html_page(title, body).encode())
        http = StatusAndHeaders("200 OK", headers, "HTTP/1.1")
        uri = f"https://example.com/{index}"
        writer.write_record(writer.create_warc_record(uri, "response", payload=payload, http_headers=http))
    (folder / "all.warc.gz").write_bytes(gzip.compress(buffer.getvalue()))
    return [str(folder / "all.warc.gz")]


WRITERS: dict[str, Callable[[Path, list[tuple[str, str]]], list[str]]] = {
    "txt (one file each)": write_txt,
    "html (one file each)": write_html,
    "jsonl": write_jsonl,
    "json array": write_json,
    "csv": write_csv,
    "rss": write_rss,
    "warc.gz": write_warc,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=500)
    count = parser.parse_args().articles
    articles = synthetic_articles(count)
    list(read_paths([]))  # imports happen before any timing
    print(f"{count} synthetic articles of ~{sum(len(body) for _, body in articles) // count} chars each")
    for name, write in WRITERS.items():
        with tempfile.TemporaryDirectory() as folder:
            paths = write(Path(folder), articles)
            started = time.perf_counter()
            read = sum(isinstance(item, Article) for item in read_paths(paths))
            elapsed = time.perf_counter() - started
        print(f"{name:22s} {read:6d} articles  {elapsed:7.2f} s  {read / elapsed:8.0f} articles/s")


if __name__ == "__main__":
    main()
