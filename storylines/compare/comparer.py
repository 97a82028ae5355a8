"""The default comparer: represent articles once, then judge pairs in about a millisecond."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.compare.features import FEATURE_NAMES, pair_features
from storylines.compare.lexical import dominant_script, minhash_signature, name_keys, numbers
from storylines.compare.model import CompareModel
from storylines.compare.representation import ArticleRepresentation
from storylines.compare.same_event import SameEventModel, title_only
from storylines.compare.types import Comparison
from storylines.compare.views import VIEWS, prepare
from storylines.embed import CachedEmbedder, Embedder, default_embedder
from storylines.embed.text import truncate_to_tokens
from storylines.embed.title_encoder import is_title_encoder, load_title_encoder, title_adapter
from storylines.embed.use_embedder import USE_LANGUAGES, UseEmbedder

EVIDENCE_SENTENCE_PAIRS = 3
# USE v3 reads the top of the article: with the tuned cosine, 1,000 characters score CV 0.810 as
# 1,500 did, in 3/4 of the embed time (BENCHMARKS.md, issue 9)
USE_CHARS = 1000
# Every OG2021 dev title fits (at most 67 tokens); a longer "title" is a plain text's first paragraph,
# which cost a 1 kB pass per article (BENCHMARKS.md, issue 9, 2026-12-08)
TITLE_TOKENS = 80


def article_text(article: Article) -> str:
    """Title and body as one text, without repeating a title the body already starts with."""
    body = article.body.strip()
    title = article.title.strip()
    return body if not title or body.startswith(title) else f"{title}\n{body}"


class StoryComparer:
    """Implements :class:`storylines.compare.types.Comparer` with an embedder and a learned model."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        model: CompareModel | None = None,
        view: str | None = None,
        second: Embedder | None = None,
        title_encoder: Embedder | None = None,
    ):
        self._embedder = embedder
        self._model = model
        self._view = view  # only for training and measurement; the model knows its view
        self._second = second
        self._title_encoder = title_encoder

    @cached_property
    def model(self) -> CompareModel:
        return self._model or CompareModel.load()

    @cached_property
    def same_event_model(self) -> SameEventModel:
        return SameEventModel.load()

    @cached_property
    def embedder(self) -> Embedder:
        """The encoder of the view, as the model was fitted: the title encoder since its vectors
        score as well alone as beside e5's (CV 0.811 against 0.810), which saves a pass per article."""
        if self._embedder is not None:
            return self._embedder
        return self.title_encoder if is_title_encoder(self.model.embedder_id) else default_embedder()

    @property
    def _one_encoder(self) -> bool:
        """The view's vectors are the title encoder's own: embed them once."""
        return self.embedder.model_id == self.title_encoder.model_id

    @cached_property
    def second(self) -> Embedder:
        """The second view's embedder (USE v3), behind the same disk cache."""
        return self._second or CachedEmbedder(UseEmbedder())

    @cached_property
    def title_encoder(self) -> Embedder:
        """The encoder fine-tuned on event titles (bare-title pairs are judged by its cosine)."""
        return self._title_encoder or load_title_encoder(title_adapter())

    @property
    def query_embedder(self) -> Embedder:
        """What embeds search queries: the encoder of the vectors the index holds
        (:attr:`ArticleRepresentation.retrieval_vector`)."""
        return self.title_encoder

    @property
    def view(self) -> str:
        return self._view or self.model.view

    @property
    def model_id(self) -> str:
        """The judge's id with the engines that actually embed: a store filled by the GPU engine
        (bf16) must not take vectors of the CPU one (int8), nor titles of another title encoder,
        without saying so; ``retrieval=tuned``: the index holds the title encoder's vectors."""
        model = self.model
        return (
            f"{self.embedder.model_id}:{model.view}:{len(model.feature_names)}f:{self.title_encoder.model_id}"
            ":retrieval=tuned"
        )

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def represent_many(self, articles: list[Article]) -> list[ArticleRepresentation]:
        """One batched embedding call for the passages of all articles."""
        view = VIEWS[self.view]
        texts = [article_text(article) for article in articles]
        pieces = [view(text, self.embedder.count_tokens) for text in texts]
        flat = [piece for article_pieces in pieces for piece in article_pieces]
        vectors = self.embedder.embed_passages(flat) if flat else np.zeros((0, self.dim), np.float32)
        prepared = [prepare(text) for text in texts]
        second = self._second_vectors(articles, prepared)
        one_encoder = self._one_encoder
        titles, tuned = self._title_encoder_vectors(articles, [] if one_encoder else flat)
        tuned = vectors if one_encoder else tuned
        reps = []
        start = 0
        for article, text, article_pieces in zip(articles, prepared, pieces, strict=True):
            rows = slice(start, start + len(article_pieces))
            start += len(article_pieces)
            rep = self._represent(article, text, article_pieces, vectors[rows], second.get(article.id))
            rep.title_vector = titles.get(article.id)
            rep.tuned_vector = unit_mean(tuned[rows], self.title_encoder.dim)
            reps.append(rep)
        return reps

    def _title_encoder_vectors(
        self, articles: list[Article], passages: list[str]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The title encoder's vectors of the titles (by article id) and of the view's passages,
        in one call (a bare title is its own view, embedded once)."""
        encoder = self.title_encoder
        titled = [
            (a.id, truncate_to_tokens(a.title.strip(), TITLE_TOKENS, encoder.count_tokens))
            for a in articles
            if a.title.strip()
        ]
        texts = [title for _, title in titled] + passages
        vectors = encoder.embed_passages(texts) if texts else np.zeros((0, encoder.dim), np.float32)
        title_rows = vectors[: len(titled)]
        titles = {article_id: vector for (article_id, _), vector in zip(titled, title_rows, strict=True)}
        return titles, vectors[len(titled) :]

    def _second_vectors(self, articles: list[Article], prepared: list[str]) -> dict[str, np.ndarray]:
        """USE v3 vectors of the articles in languages it knows."""
        known = [(a.id, text) for a, text in zip(articles, prepared, strict=True) if a.lang in USE_LANGUAGES]
        if not known:
            return {}
        vectors = self.second.embed_passages([text.replace("\n", " ")[:USE_CHARS] for _, text in known])
        return {article_id: vector for (article_id, _), vector in zip(known, vectors, strict=True)}

    def _represent(
        self, article: Article, text: str, pieces: list[str], rows: np.ndarray, use_vector: np.ndarray | None
    ) -> ArticleRepresentation:
        return ArticleRepresentation(
            article_id=article.id,
            vector=unit_mean(rows, self.dim),
            passage_vectors=rows.astype(np.float32),
            passages=pieces,
            minhash=minhash_signature(text),
            name_keys=name_keys(text),
            numbers=numbers(text),
            entities={entity.id: entity.type for entity in article.entities},
            entity_names={entity.id: entity.name for entity in article.entities},
            published=article.published,
            event_dates=[event.date for event in article.event_dates],
            lang=article.lang,
            title=article.title,
            length=len(text),
            script=dominant_script(text),
            use_vector=use_vector,
        )

    def representation_from_bytes(self, blob: bytes) -> ArticleRepresentation:
        return ArticleRepresentation.from_bytes(blob)

    def compare(self, a: ArticleRepresentation, b: ArticleRepresentation, detail: bool = False) -> Comparison:
        """Verdict with cheap evidence; ``detail`` adds aligned sentence pairs (embeds sentences)."""
        result = self.compare_many(a, [b])[0]
        if detail:
            result.evidence["sentence_pairs"] = self.align_sentences(a, b)
        return result

    def align_sentences(self, a: ArticleRepresentation, b: ArticleRepresentation) -> list[dict[str, Any]]:
        """The best-matching lead sentence pairs, each sentence embedded on its own (cached)."""
        view = VIEWS["sents96"]
        sentences_a = view(" ".join(a.passages), self.embedder.count_tokens)
        sentences_b = view(" ".join(b.passages), self.embedder.count_tokens)
        vectors = self.embedder.embed_passages([*sentences_a, *sentences_b])
        sims = vectors[: len(sentences_a)] @ vectors[len(sentences_a) :].T
        pairs = []
        for flat_index in np.argsort(sims, axis=None)[::-1][:EVIDENCE_SENTENCE_PAIRS]:
            i, j = np.unravel_index(flat_index, sims.shape)
            pairs.append(
                {"a": sentences_a[i], "b": sentences_b[j], "similarity": round(float(sims[i, j]), 3)}
            )
        return pairs

    def compare_many(self, a: ArticleRepresentation, others: list[ArticleRepresentation]) -> list[Comparison]:
        """Judge ``a`` against many candidates with one model call (what the clusterer needs)."""
        if not others:
            return []
        rows = np.vstack([pair_features(a, b) for b in others])
        scores = self.model.predict(rows)
        titles_only = np.array(
            [title_only(a.length, a.title) or title_only(b.length, b.title) for b in others]
        )
        same_event = self.same_event_model.probabilities(
            rows, FEATURE_NAMES, scores["overall"], titles_only, title_cosines(a, others)
        )
        results = []
        for index, b in enumerate(others):
            features = dict(zip(FEATURE_NAMES, rows[index].tolist(), strict=True))
            overall = float(scores["overall"][index])
            results.append(
                Comparison(
                    overall=round(overall, 3),
                    dimensions={
                        dim: round(float(scores[dim][index]), 3) for dim in scores if dim != "overall"
                    },
                    same_story=overall <= self.model.same_story_threshold,
                    near_duplicate=self.model.is_near_duplicate(features, bool(titles_only[index])),
                    evidence=explain(a, b, features),
                    same_event=round(float(same_event[index]), 4),
                    titles_only=bool(titles_only[index]),
                )
            )
        return results


def unit_mean(rows: np.ndarray, dim: int) -> np.ndarray:
    """The L2-normalised mean of passage vectors (zeros for an article with nothing to embed)."""
    mean = rows.mean(axis=0) if len(rows) else np.zeros(dim, np.float32)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def title_cosines(a: ArticleRepresentation, others: list[ArticleRepresentation]) -> np.ndarray:
    """The title encoder's cosine of ``a`` with each of ``others``; NaN where a side has no title vector."""
    if a.title_vector is None:
        return np.full(len(others), np.nan)
    return np.array(
        [np.nan if b.title_vector is None else float(a.title_vector @ b.title_vector) for b in others]
    )


def explain(a: ArticleRepresentation, b: ArticleRepresentation, features: dict[str, float]) -> dict[str, Any]:
    """What both reports share, from fields already in the representations (cheap)."""
    shared = sorted(set(a.entities) & set(b.entities))
    return {
        "shared_entities": [a.entity_names.get(eid, eid) for eid in shared],
        "shared_names": sorted(set(a.name_keys) & set(b.name_keys)),
        "shared_numbers": sorted(set(a.numbers) & set(b.numbers)),
        "features": {name: None if np.isnan(value) else round(value, 4) for name, value in features.items()},
    }
