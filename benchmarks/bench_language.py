"""Accuracy and speed of storylines.enrich.language on SemEval-2022 Task 8 dev texts.

Run: python benchmarks/bench_language.py [texts_per_language]
Gold languages are the lang1/lang2 columns (machine-translated sides included: they are
in the labelled language).  Times are CPU seconds (time.process_time).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

from storylines.enrich.language import detect_language, language_spans

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2022-task8" / "pairs.csv"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def texts_by_language(per_language: int) -> dict[str, list[str]]:
    """Distinct texts, keyed by their gold language."""
    pairs = pd.read_csv(PAIRS)
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
        start = time.process_time()
        guesses = [detect_language(text) for text in texts]
        total_seconds += time.process_time() - start
        total_chars += sum(len(text) for text in texts)
        wrong = sorted({g for g in guesses if g != lang}, key=str)
        correct = sum(g == lang for g in guesses)
        print(f"{lang}: {correct}/{len(texts)} = {correct / len(texts):.1%}  wrong guesses: {wrong}")
    all_texts = [text for texts in corpus.values() for text in texts]
    print(f"{len(all_texts)} texts, mean {total_chars / len(all_texts):.0f} chars")
    print(f"detect_language: {total_seconds / len(all_texts) * 1000:.3f} ms per text")
    start = time.process_time()
    for text in all_texts:
        language_spans(text)
    spans_seconds = time.process_time() - start
    print(f"language_spans: {spans_seconds / len(all_texts) * 1000:.3f} ms per text")
    seeds = [path.read_text()[:2000] for path in sorted(SAMPLES.glob("*.txt"))]
    rounds = []
    for _ in range(10):  # best of 10 rounds: the least disturbed by other jobs
        start = time.process_time()
        for text in seeds:
            detect_language(text)
        rounds.append((time.process_time() - start) / len(seeds))
    print(f"detect_language on the seeds cut to 2 kB: {min(rounds) * 1000:.3f} ms per text")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
