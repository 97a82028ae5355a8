"""``storylines eval clusters``: cluster a labelled file in time order and score it.

B-cubed (Bagga & Baldwin 1998) is written out here because scikit-learn has no B-cubed; the
per-item form also gives the per-language breakdown for free.  Pairwise scores come
from scikit-learn's pair confusion matrix.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from storylines.article import Article
from storylines.compare.types import Comparer

Level = Literal["event", "storyline"]
DIMENSION_COLUMNS = ("Geography", "Entities", "Time", "Narrative")


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


def pairwise_scores(gold: Sequence[str], predicted: Sequence[Any]) -> dict[str, float]:
    """Precision, recall and F1 over all pairs of items (scikit-learn's pair confusion matrix)."""
    from sklearn.metrics.cluster import pair_confusion_matrix

    (_, false_positive), (false_negative, true_positive) = pair_confusion_matrix(
        gold, [str(p) for p in predicted]
    )
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 1.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 1.0
    return {
        "pairwise_p": float(precision),
        "pairwise_r": float(recall),
        "pairwise_f1": float(_f1(precision, recall)),
    }


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _scores(precision: list[float], recall: list[float]) -> dict[str, float]:
    p, r = sum(precision) / len(precision), sum(recall) / len(recall)
    return {"bcubed_p": p, "bcubed_r": r, "bcubed_f1": _f1(p, r), "n": len(precision)}


def score(
    gold: Sequence[str], predicted: Sequence[Any], langs: Sequence[str] | None = None
) -> dict[str, Any]:
    """B-cubed and pairwise scores, cluster counts, the largest clusters, and B-cubed per language."""
    precision, recall = bcubed(gold, predicted)
    by_lang: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for lang, p, r in zip(langs or ["all"] * len(gold), precision, recall, strict=True):
        by_lang[lang][0].append(p)
        by_lang[lang][1].append(r)
    return {
        **_scores(precision, recall),
        **pairwise_scores(gold, predicted),
        "n_clusters": len(set(predicted)),
        "n_gold_clusters": len(set(gold)),
        "largest": Counter(predicted).most_common(1)[0][1],
        "largest_gold": Counter(gold).most_common(1)[0][1],
        "by_lang": {lang: _scores(*pr) for lang, pr in sorted(by_lang.items())},
    }


def holdout_split(n: int, holdout: float) -> tuple[int, int]:
    """(items before the held-out part, items in it): the last ``holdout`` share by time."""
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), not {holdout}")
    test = round(n * holdout)
    return n - test, test


def evaluate_clusters(
    path: str | Path,
    level: Level = "event",
    holdout: float = 0.0,
    db: str | None = None,
    comparer: Comparer | None = None,
    overrides: dict[str, Any] | None = None,
    new_events: bool = False,
) -> dict[str, Any]:
    """Ingest the file in time order (undated last) into a store and score the clusters.

    The store is a temporary SQLite file unless ``db`` names an empty one (a PostgreSQL
    database, to check that both backends give the same clusters); ``overrides`` are settings
    (``--set``) saved with it.  ``holdout`` > 0 keeps only the last share of the items by time,
    as a fresh stream: models and settings tuned on the earlier part are then scored on data
    they never saw; ``new_events`` then also drops the held-out items whose gold cluster already has
    items in the earlier part (what the models may have learned), as a held-out stream of later
    events holds none of them.  Beside the scores of ``level``, ``storyline_purity`` is the B-cubed
    precision of the storylines against the gold clusters (how much of a reader's storyline
    belongs to each article's own cluster).
    """
    from storylines.engine import Engine
    from storylines.service import IngestService

    items = sorted(read_labelled(path), key=lambda item: (item.time is None, item.time or ""))
    if holdout:
        cut, _ = holdout_split(len(items), holdout)
        earlier, items = items[:cut], items[cut:]
        if new_events:
            seen = {item.cluster_id for item in earlier}
            items = [item for item in items if item.cluster_id not in seen]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as folder,
        Engine.open(db or Path(folder) / "eval.db", comparer, overrides) as engine,
    ):
        IngestService(engine).run([item.article for item in items])
        stored = [engine.store.get_article(item.article.id) for item in items]
    kept = [(item, s) for item, s in zip(items, stored, strict=True) if s is not None]
    gold = [item.cluster_id for item, _ in kept]
    events = [s.event_id for _, s in kept]
    storylines = [s.storyline_id for _, s in kept]
    precision, _ = bcubed(gold, storylines)
    return {
        **score(gold, events if level == "event" else storylines, [item.lang for item, _ in kept]),
        "storyline_purity": sum(precision) / len(precision) if precision else 1.0,
        "largest_storyline": Counter(storylines).most_common(1)[0][1] if storylines else 0,
        "level": level,
        "holdout": holdout,
        "new_events": new_events,
        "seconds": time.perf_counter() - started,
    }


@dataclass
class LabelledPair:
    """Two articles and the annotators' Overall (SemEval-2022 Task 8: 1 = same story … 4 = unrelated)."""

    pair_id: str
    first: str  # article ids, keys of the articles dict read alongside
    second: str
    overall: float
    dimensions: dict[str, float] = field(default_factory=dict)  # geography, entities, time, narrative

    def scores(self, targets: Sequence[str]) -> list[float]:
        """Gold scores in the order of ``targets`` (names as the compare model spells them)."""
        return [self.overall if t == "overall" else self.dimensions[t] for t in targets]


def read_semeval_pairs(path: str | Path) -> tuple[dict[str, Article], list[LabelledPair]]:
    """Every distinct text of a SemEval pairs CSV as one article, and the pairs between them.

    The data joins title and body with a double space: the title is the text up to there
    (capped at 200 characters), so title-only and body views both apply as in a real stream.
    """
    articles: dict[str, Article] = {}
    pairs = []
    with Path(path).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            ids = []
            for key, lang in (("text1", row.get("lang1")), ("text2", row.get("lang2"))):
                text = (row.get(key) or "").strip()
                title = re.split(r"\s{2,}", text, maxsplit=1)[0][:200]
                source = f"semeval:{row['pair_id']}"
                article = Article(source=source, title=title, raw_text=text, lang_hint=lang)
                articles.setdefault(article.id, article)
                ids.append(article.id)
            dimensions = {name.lower(): float(row[name]) for name in DIMENSION_COLUMNS if row.get(name)}
            pairs.append(LabelledPair(row["pair_id"], ids[0], ids[1], float(row["Overall"]), dimensions))
    return articles, pairs
