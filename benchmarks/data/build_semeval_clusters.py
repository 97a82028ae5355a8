"""Build semeval_events.jsonl, a labelled multilingual event set, from SemEval-2022 Task 8.

How: every article of the dev pairs (/work/shared/data/semeval2022-task8/pairs.csv) is an item.
Two articles are one event when annotators scored the pair Overall ≤ 1.5 ("very similar"), and a
machine-translated copy (id with a language suffix, e.g. ``1498601317zh``) is one event with its
original when that is in the set.  Events are the connected components of these links
(scipy).  Articles of pairs scored between 1.5 and 2.5 are left out: annotators found them
neither clearly one story nor clearly two, so any clustering of them would be scored on noise.
Pairs scored ≥ 2.5 stay as hard negatives (articles sampled as similar but judged different).

The file has no dates (the source data carries none), so ``time`` is null: the benchmark
measures the comparer-driven decisions, not the time window.  Titles are the text up to the
first double space (the data joins title and body that way), capped at 200 characters.

Run: python benchmarks/data/build_semeval_clusters.py [pairs.csv] [out.jsonl]  (default out: /tmp)
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PAIRS = Path(__file__).resolve().parents[3] / "shared/data/semeval2022-task8/pairs.csv"
OUT = Path("/tmp/semeval_events.jsonl")  # the texts belong to their publishers: never into the repository
SAME, AMBIGUOUS_UNTIL = 1.5, 2.5


def split_title(text: str) -> tuple[str, str]:
    head, sep, rest = text.strip().partition("  ")
    if sep and len(head) <= 200:
        return head.strip(), rest.strip()
    return text.strip()[:120], text.strip()


def main(pairs_path: Path = PAIRS, out_path: Path = OUT) -> None:
    articles: dict[str, dict[str, str]] = {}
    links: list[tuple[str, str]] = []
    ambiguous: set[str] = set()
    with pairs_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            left, right = row["pair_id"].split("_")
            overall = float(row["Overall"])
            for key, lang, text in ((left, row["lang1"], row["text1"]), (right, row["lang2"], row["text2"])):
                articles.setdefault(key, {"lang": lang, "text": text})
            if overall <= SAME:
                links.append((left, right))
            elif overall < AMBIGUOUS_UNTIL:
                ambiguous.update((left, right))
    for key in articles:
        base = re.sub(r"[a-z]+$", "", key)
        if base != key and base in articles:
            links.append((key, base))
    keys = sorted(k for k in articles if k not in ambiguous)
    position = {k: i for i, k in enumerate(keys)}
    kept = [(position[a], position[b]) for a, b in links if a in position and b in position]
    rows, cols = np.array([a for a, _ in kept], dtype=int), np.array([b for _, b in kept], dtype=int)
    graph = coo_matrix((np.ones(len(kept)), (rows, cols)), shape=(len(keys), len(keys)))
    _, component = connected_components(graph, directed=False)
    with out_path.open("w", encoding="utf-8") as out:
        for key in keys:
            title, text = split_title(articles[key]["text"])
            item = {
                "id": key,
                "lang": articles[key]["lang"],
                "time": None,
                "title": title,
                "text": text,
                "cluster_id": f"e{component[position[key]]}",
            }
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    sizes = np.bincount(component)
    print(
        f"{len(keys)} articles ({len(ambiguous)} ambiguous left out), {len(sizes)} events, "
        f"{(sizes > 1).sum()} with ≥ 2 articles, largest {sizes.max()} → {out_path}"
    )


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:3]))
