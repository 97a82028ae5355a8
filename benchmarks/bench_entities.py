"""Entity extraction quality and speed on the labelled set tests/data/entities_gold.jsonl.

Prints precision / recall / F1 per language at the entity-id level (a document's set of predicted ids
against its gold ids, counts summed over the documents), and the milliseconds per article.

    python benchmarks/bench_entities.py
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

from storylines.article import Article, LanguageSpan
from storylines.enrich.entities import EntityExtractor

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "entities_gold.jsonl"
REPEATS = 5


def load_gold() -> list[tuple[Article, set[str]]]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(to_article(row), set(row["entities"])) for row in rows]


def to_article(row: dict) -> Article:
    article = Article(source=row["doc"], title=row["title"], raw_text=row["text"], text=row["text"])
    article.lang = row["lang"]
    article.languages = [LanguageSpan(**span) for span in row["languages"] or []]
    return article


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    extractor = EntityExtractor()
    gold = load_gold()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fp fn docs
    timings: dict[str, list[float]] = defaultdict(list)
    cpu_ms = 0.0  # CPU time of the non-ru/bg articles: less skewed than wall time on a shared machine
    extractor(Article(source="warm-up", text="Путин", lang="ru"))  # loads gazetteer and natasha
    for article, expected in gold:
        for _ in range(REPEATS):
            started, cpu_started = time.perf_counter(), time.process_time()
            extractor(article)
            timings[article.lang or "?"].append((time.perf_counter() - started) * 1000)
            if article.lang not in {"ru", "bg"}:
                cpu_ms += (time.process_time() - cpu_started) * 1000
        predicted = {e.id for e in article.entities}
        row = counts[article.lang or "?"]
        row[0] += len(predicted & expected)
        row[1] += len(predicted - expected)
        row[2] += len(expected - predicted)
        row[3] += 1
    print(f"{'lang':<6}{'docs':>5}{'P':>7}{'R':>7}{'F1':>7}{'ms/article':>12}")
    total = [0, 0, 0, 0]
    for lang in sorted(counts):
        tp, fp, fn, docs = counts[lang]
        total = [a + b for a, b in zip(total, counts[lang], strict=True)]
        p, r, f = prf(tp, fp, fn)
        ms = sum(timings[lang]) / len(timings[lang])
        print(f"{lang:<6}{docs:>5}{p:>7.2f}{r:>7.2f}{f:>7.2f}{ms:>12.2f}")
    p, r, f = prf(*total[:3])
    all_ms = [t for values in timings.values() for t in values]
    print(f"{'all':<6}{total[3]:>5}{p:>7.2f}{r:>7.2f}{f:>7.2f}{sum(all_ms) / len(all_ms):>12.2f}")
    non_natasha = [t for lang, values in timings.items() if lang not in {"ru", "bg"} for t in values]
    chars = sum(len(a.title) + len(a.body) for a, _ in gold if a.lang not in {"ru", "bg"})
    docs = sum(1 for a, _ in gold if a.lang not in {"ru", "bg"})
    scale = chars / docs / 2000
    per_2kb = sum(non_natasha) / len(non_natasha) / scale
    cpu_per_2kb = cpu_ms / len(non_natasha) / scale
    print(
        f"non-ru/bg: {per_2kb:.2f} ms wall, {cpu_per_2kb:.2f} ms CPU per 2 kB article "
        f"(mean {chars / docs:.0f} chars/article)"
    )


if __name__ == "__main__":
    main()
