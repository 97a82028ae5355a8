"""Scoring the comparer on SemEval-2022 Task 8 style pairs (CLI ``eval pairs`` and training)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

from storylines.article import Article
from storylines.compare.comparer import StoryComparer
from storylines.compare.features import pair_features
from storylines.compare.model import DIMENSIONS
from storylines.compare.representation import ArticleRepresentation
from storylines.embed import default_cache_dir

GOLD_COLUMNS = {"overall": "Overall", **{dim: dim.capitalize() for dim in DIMENSIONS}}
MIN_PAIRS_PER_LANGUAGE_PAIR = 30


@dataclass
class PairData:
    """Feature rows for every labelled pair plus what validation groups and reports by."""

    frame: pd.DataFrame
    features: np.ndarray
    reps: dict[str, ArticleRepresentation]  # by text


def base_pair_id(pair_id: str) -> str:
    """``1498601317zh_1483894995`` -> ``1498601317_1483894995`` (machine-translated copies share a base)."""
    return re.sub(r"[a-z]+", "", str(pair_id))


def read_pairs(csv: Path, limit: int | None = None) -> pd.DataFrame:
    """The SemEval CSV with ``lang_pair`` and ``base_id`` added (``unknown`` when languages are absent)."""
    frame = pd.read_csv(csv)
    if limit:
        frame = frame.head(limit)
    frame = frame.dropna(subset=["text1", "text2"]).reset_index(drop=True)
    langs = [frame.get(c, pd.Series(["?"] * len(frame))).fillna("?").astype(str) for c in ("lang1", "lang2")]
    pair_ids = frame["pair_id"] if "pair_id" in frame else pd.Series(frame.index.astype(str))
    return frame.assign(lang_pair=langs[0] + "-" + langs[1], base_id=pair_ids.map(base_pair_id))


def enrich_cached(articles: list[Article], enricher: Callable[[Article], Article]) -> None:
    """Copy language, dates and entities from the enrich pipeline onto ``articles``, cached on disk.

    The article text itself is left as given, because the embedding cache is keyed by it.
    """
    cache_path = default_cache_dir() / "enriched_articles.jsonl"
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cached = {}
    if cache_path.exists():
        cached = {row["id"]: row for row in map(json.loads, cache_path.open())}
    with cache_path.open("a") as out:
        for article in articles:
            if article.id not in cached:
                enriched = enricher(
                    Article(source=article.source, title=article.title, raw_text=article.raw_text)
                )
                cached[article.id] = {**enriched.to_dict(), "id": article.id}
                out.write(json.dumps(cached[article.id], ensure_ascii=False) + "\n")
            done = Article.from_dict(cached[article.id])
            article.lang = done.lang or article.lang
            article.entities, article.event_dates, article.published = (
                done.entities,
                done.event_dates,
                done.published,
            )


def default_enricher() -> Callable[[Article], Article] | None:
    """The shared enrich pipeline, or None while it is not importable (features then stay empty)."""
    try:
        from storylines.pipeline import default_pipeline

        return default_pipeline()
    except ImportError as error:
        print(
            f"note: enrich pipeline unavailable ({error}); entity and date features stay empty",
            file=sys.stderr,
        )
        return None


def featurize_pairs(frame: pd.DataFrame, comparer: StoryComparer, enrich: bool = True) -> PairData:
    """Represent every distinct text once, then compute one feature row per pair."""
    texts = sorted(set(frame.text1) | set(frame.text2))
    articles = {text: Article(source="pairs", raw_text=text, text=text) for text in texts}
    enricher = default_enricher() if enrich else None
    if enricher:
        enrich_cached(list(articles.values()), enricher)
    if "lang1" in frame:
        for text, lang in [
            *zip(frame.text1, frame.lang1, strict=True),
            *zip(frame.text2, frame.lang2, strict=True),
        ]:
            articles[text].lang = articles[text].lang or lang
    reps = dict(zip(texts, comparer.represent_many([articles[t] for t in texts]), strict=True))
    features = np.vstack(
        [pair_features(reps[a], reps[b]) for a, b in zip(frame.text1, frame.text2, strict=True)]
    )
    return PairData(frame, features, reps)


def pearson(predicted: np.ndarray, gold: np.ndarray) -> float:
    """NaN rather than an error for tiny or constant groups."""
    if len(gold) < 3 or np.std(predicted) == 0 or np.std(gold) == 0:
        return float("nan")
    return float(pearsonr(predicted, gold).statistic)


def pearson_by_pair(
    frame: pd.DataFrame, predicted: np.ndarray, min_pairs: int = MIN_PAIRS_PER_LANGUAGE_PAIR
) -> dict:
    """Overall Pearson per language pair with at least ``min_pairs`` pairs."""
    gold = frame.Overall.to_numpy()
    return {
        lang_pair: {"n": len(rows), "pearson": pearson(predicted[np.asarray(rows)], gold[np.asarray(rows)])}
        for lang_pair, rows in sorted(frame.groupby("lang_pair").indices.items())
        if len(rows) >= min_pairs
    }


def pearson_by_dimension(frame: pd.DataFrame, predictions: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        dim: pearson(predictions[dim], frame[GOLD_COLUMNS[dim]].to_numpy())
        for dim in DIMENSIONS
        if GOLD_COLUMNS[dim] in frame and dim in predictions
    }
