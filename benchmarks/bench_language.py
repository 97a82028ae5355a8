"""Accuracy and speed of storylines.enrich.language on SemEval-2022 Task 8 dev texts.

Run: /work/venv/bin/python benchmarks/bench_language.py [texts_per_language]
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

import pandas as pd

from storylines.enrich.language import detect_language, language_spans

PAIRS = "/work/shared/data/semeval2022-task8/pairs.csv"


def texts_by_language(per_language: int) -> dict[str, list[str]]:
    """Distinct original (not machine-translated) texts, keyed by their gold language."""
    pairs = pd.read_csv(PAIRS)
    pairs = pairs[~pairs["machine_translated"]]
    found: dict[str, dict[str, None]] = defaultdict(dict)
    for side in ("1", "2"):
        for lang, text in zip(pairs[f"lang{side}"], pairs[f"text{side}"], strict=True):
            if isinstance(text, str) and len(found[lang]) < per_language:
                found[lang][text] = None
    return {lang: list(texts) for lang, texts in sorted(found.items())}


def main(per_language: int) -> None:
    corpus = texts_by_language(per_language)
    detect_language("warm up the lingua models once")
    for texts in corpus.values():
        for text in texts[:3]:
            detect_language(text)
    total_chars = total_seconds = 0.0
    for lang, texts in corpus.items():
        start = time.perf_counter()
        guesses = [detect_language(text) for text in texts]
        total_seconds += time.perf_counter() - start
        total_chars += sum(len(text) for text in texts)
        wrong = sorted({g for g in guesses if g != lang}, key=str)
        correct = sum(g == lang for g in guesses)
        print(f"{lang}: {correct}/{len(texts)} = {correct / len(texts):.1%}  wrong guesses: {wrong}")
    print(f"detect_language: {total_seconds / total_chars * 2000 * 1000:.3f} ms per 2 kB")
    all_texts = [text for texts in corpus.values() for text in texts]
    start = time.perf_counter()
    for text in all_texts:
        language_spans(text)
    spans_seconds = time.perf_counter() - start
    print(f"language_spans: {spans_seconds / total_chars * 2000 * 1000:.3f} ms per 2 kB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
