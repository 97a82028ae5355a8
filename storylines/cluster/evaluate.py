"""``storylines eval clusters``: cluster a labelled file in time order and score it.

B-cubed (Bagga & Baldwin 1998) is written out here because scikit-learn has no B-cubed; the
per-item form also gives the per-language breakdown for free.  Pairwise F1 comes from
scikit-learn's pair confusion matrix.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from storylines.article import Article
from storylines.compare.types import Comparer

Level = Literal["event", "storyline"]


@dataclass
class LabelledItem:
    article: Article
    lang: str
    time: str | None
    cluster_id: str


def read_labelled(path: str | Path) -> list[LabelledItem]:
    """Rows of a CSV or JSONL file with id, lang, time, title, optional text, cluster_id."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(_rows(handle, path.suffix.lower()))
    return [
        LabelledItem(
            article=Article(
                source=str(row["id"]),
                title=str(row.get("title") or ""),
                raw_text=str(row.get("text") or ""),
                lang_hint=row.get("lang") or None,
                published_hint=row.get("time") or None,
            ),
            lang=str(row.get("lang") or "und"),
            time=row.get("time") or None,
            cluster_id=str(row["cluster_id"]),
        )
        for row in rows
    ]


def _rows(handle: Any, suffix: str) -> Iterator[dict[str, Any]]:
    if suffix == ".csv":
        yield from csv.DictReader(handle)
        return
    for line in handle:
        if line.strip():
            yield json.loads(line)


def bcubed(gold: Sequence[str], predicted: Sequence[Any]) -> tuple[list[float], list[float]]:
    """Per-item B-cubed precision and recall."""
    overlap = Counter(zip(gold, predicted, strict=True))
    gold_sizes, predicted_sizes = Counter(gold), Counter(predicted)
    precision = [overlap[g, p] / predicted_sizes[p] for g, p in zip(gold, predicted, strict=True)]
    recall = [overlap[g, p] / gold_sizes[g] for g, p in zip(gold, predicted, strict=True)]
    return precision, recall


def pairwise_f1(gold: Sequence[str], predicted: Sequence[Any]) -> float:
    from sklearn.metrics.cluster import pair_confusion_matrix

    (_, false_positive), (false_negative, true_positive) = pair_confusion_matrix(
        gold, [str(p) for p in predicted]
    )
    denominator = 2 * true_positive + false_positive + false_negative
    return float(2 * true_positive / denominator) if denominator else 1.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _scores(precision: list[float], recall: list[float]) -> dict[str, float]:
    p, r = sum(precision) / len(precision), sum(recall) / len(recall)
    return {"bcubed_p": p, "bcubed_r": r, "bcubed_f1": _f1(p, r), "n": len(precision)}


def score(items: Sequence[LabelledItem], predicted: Sequence[Any]) -> dict[str, Any]:
    gold = [item.cluster_id for item in items]
    precision, recall = bcubed(gold, predicted)
    by_lang: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for item, p, r in zip(items, precision, recall, strict=True):
        by_lang[item.lang][0].append(p)
        by_lang[item.lang][1].append(r)
    return {
        **_scores(precision, recall),
        "pairwise_f1": pairwise_f1(gold, predicted),
        "n_clusters": len(set(predicted)),
        "n_gold_clusters": len(set(gold)),
        "by_lang": {lang: _scores(*pr) for lang, pr in sorted(by_lang.items())},
    }


def evaluate_clusters(
    path: str | Path,
    level: Level = "event",
    db: str | None = None,
    comparer: Comparer | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Ingest the file in time order (undated last) into a store and score the clusters.

    The store is a temporary SQLite file unless ``db`` names an empty one (a PostgreSQL
    database, to check that both backends give the same clusters)."""
    from storylines.engine import Engine
    from storylines.service import IngestService

    items = sorted(read_labelled(path), key=lambda item: (item.time is None, item.time or ""))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        with Engine.open(db or Path(folder) / "eval.db", comparer, overrides) as engine:
            IngestService(engine).run([item.article for item in items])
            stored = [engine.store.get_article(item.article.id) for item in items]
        predicted = [s.event_id if level == "event" else s.storyline_id for s in stored if s]
    return {**score(items, predicted), "level": level, "seconds": time.perf_counter() - started}
