"""Speed of boilerplate removal, and how much it removes from already-clean SemEval texts.

Run: /work/venv/bin/python benchmarks/bench_clean.py [n_texts]
Times are CPU seconds (time.process_time), so other jobs on the machine disturb them less.
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

PAIRS = "/work/shared/data/semeval2022-task8/pairs.csv"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
REPEATS = 20


def semeval_texts(count: int) -> list[str]:
    pairs = pd.read_csv(PAIRS)
    texts = dict.fromkeys(t for t in [*pairs["text1"], *pairs["text2"]] if isinstance(t, str))
    return list(texts)[:count]


def ms_per_2kb(function, texts: list[str]) -> float:
    start = time.process_time()
    for _ in range(REPEATS):
        for text in texts:
            function(text)
    seconds = (time.process_time() - start) / REPEATS
    return seconds / sum(len(t) for t in texts) * 2000 * 1000


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
        print(f"{name}: BoilerplateRemover {ms_per_2kb(clean, corpus):.3f} ms per 2 kB "
              f"(of which detect_language {ms_per_2kb(detect_language, corpus):.3f}); "
              f"jusText lxml path {ms_per_2kb(justext_on_lines, corpus):.3f} ms per 2 kB")
    removed_chars = total_chars = touched = 0
    for text in texts:
        kept, removed = remove_boilerplate(text, detect_language(text))
        removed_chars += sum(len(line) for line in removed)
        total_chars += sum(len(line.strip()) for line in text.splitlines())
        touched += bool(removed)
    print(f"SemEval: {removed_chars / total_chars:.2%} of characters removed; "
          f"{touched}/{len(texts)} texts lost at least one line")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
