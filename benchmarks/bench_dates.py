"""Time of the ``dates`` stage per article on SemEval-2022 Task 8 dev texts (text1, lang1).

Usage: python benchmarks/bench_dates.py [N] — times the first N articles (default 300): once in a
fresh process ("cold": includes building each language's regexes from dateparser's locale data)
and then three more passes ("warm", median reported; the stage keeps no per-article cache).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from storylines.article import Article
from storylines.enrich.dates import DateExtractor

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2022-task8" / "pairs.csv"


def _timed_pass(extractor: DateExtractor, texts: list[tuple[str, str]]) -> tuple[float, list[Article]]:
    articles = [Article(source="semeval", text=text, lang=lang) for text, lang in texts]
    started = time.perf_counter()
    for article in articles:
        extractor(article)
    return time.perf_counter() - started, articles


def _publication_kind(article: Article) -> str:
    return article.published_source or ("partial" if "published_partial" in article.meta else "none")


def main(count: int = 300) -> None:
    rows = pd.read_csv(PAIRS, usecols=["text1", "lang1"]).dropna().iloc[:count]
    texts = list(zip(rows.text1, rows.lang1, strict=True))
    extractor = DateExtractor()
    cold, articles = _timed_pass(extractor, texts)
    warm = statistics.median(_timed_pass(extractor, texts)[0] for _ in range(3))
    chars = sum(len(text) for text, _ in texts)
    print(f"articles: {len(texts)}, mean length {chars / len(texts):.0f} chars")
    for label, elapsed in (("cold", cold), ("warm", warm)):
        per_article, per_2kb = elapsed / len(texts) * 1000, elapsed / chars * 2000 * 1000
        print(f"{label}: {per_article:.3f} ms per article, {per_2kb:.3f} ms per 2 kB of text")
    print(f"published: {dict(Counter(map(_publication_kind, articles)))}")
    print(f"event dates: {sum(len(a.event_dates) for a in articles)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
