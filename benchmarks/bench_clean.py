"""Speed of boilerplate removal, and how much it removes from already-clean SemEval texts.

Run: python benchmarks/bench_clean.py [n_texts]
Times are CPU seconds (time.process_time), the best of several rounds, so other jobs on a
shared machine disturb them less.  Per-document costs are mostly fixed (lingua reads a
sample), so short texts cost more per 2 kB than long ones: both figures are printed.
"""

from __future__ import annotations

import html
import sys
import time
from pathlib import Path

import justext
import pandas as pd

from storylines.article import Article
from storylines.clean.boilerplate import BoilerplateRemover, remove_boilerplate
from storylines.enrich.language import detect_language

PAIRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2022-task8" / "pairs.csv"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ROUNDS = 5


def semeval_texts(count: int) -> list[str]:
    pairs = pd.read_csv(PAIRS)
    texts = dict.fromkeys(t for t in [*pairs["text1"], *pairs["text2"]] if isinstance(t, str))
    return list(texts)[:count]


def cpu_ms(function, texts: list[str]) -> tuple[float, float]:
    """(ms per text, ms per 2 kB of text), best of ROUNDS rounds."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for text in texts:
            function(text)
        rounds.append(time.process_time() - start)
    seconds = min(rounds)
    return seconds / len(texts) * 1000, seconds / sum(len(t) for t in texts) * 2000 * 1000


def justext_on_lines(text: str) -> list:
    """jusText's own path: lines as <p> paragraphs, parsed by lxml, English stoplist."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return justext.justext(f"<html><body>{paragraphs}</body></html>", justext.get_stoplist("English"))


def main(count: int) -> None:
    seeds = [path.read_text() for path in sorted(SAMPLES.glob("*.txt"))]
    texts = semeval_texts(count)
    stage = BoilerplateRemover()
    clean = lambda text: stage(Article(source="bench", raw_text=text))  # noqa: E731
    for text in seeds + texts:  # lingua loads each language model on first use
        detect_language(text)
    for name, corpus in (("seeds", seeds), (f"{len(texts)} SemEval texts", texts)):
        print(f"{name} (mean {sum(map(len, corpus)) / len(corpus):.0f} chars):")
        for label, function in (
            ("BoilerplateRemover", clean),
            ("  of which detect_language", detect_language),
            ("jusText lxml path", justext_on_lines),
        ):
            per_text, per_2kb = cpu_ms(function, corpus)
            print(f"  {label}: {per_text:.3f} ms per text, {per_2kb:.3f} ms per 2 kB")
    removed_chars = total_chars = touched = 0
    for text in texts:
        kept, removed = remove_boilerplate(text, detect_language(text))
        removed_chars += sum(len(line) for line in removed)
        total_chars += sum(len(line.strip()) for line in text.splitlines())
        touched += bool(removed)
    print(
        f"SemEval: {removed_chars / total_chars:.2%} of characters removed; "
        f"{touched}/{len(texts)} texts lost at least one line"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
