"""A cosine comparer over hashed bag-of-words vectors: the clusterer's test double.

It implements the :class:`~storylines.compare.types.Comparer` protocol with no model, so store
and clusterer tests run in milliseconds; the product uses ``storylines.compare.load_comparer``.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from storylines.article import Article
from storylines.cluster.event_judge import EVENT_FEATURES, JoinModel
from storylines.compare.types import Comparison

DIM = 64


@dataclass
class VectorRepresentation:
    article_id: str
    vector: np.ndarray
    retrieval: np.ndarray | None = None  # what the index holds, when not ``vector``

    @property
    def retrieval_vector(self) -> np.ndarray:
        return self.vector if self.retrieval is None else self.retrieval

    def to_bytes(self) -> bytes:
        return self.article_id.encode() + b"\n" + self.vector.astype(np.float32).tobytes()


def word_vector(text: str, dim: int = DIM) -> np.ndarray:
    """Sum of one fixed random vector per word, normalised: shared words → high cosine."""
    total = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        total += np.random.default_rng(zlib.crc32(word.encode())).standard_normal(dim).astype(np.float32)
    return total / (np.linalg.norm(total) or 1.0)


class WordVectorEmbedder:
    """Queries as the double's articles are represented (search over a double-filled store)."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([word_vector(text, self.dim) for text in texts])


class CosineComparer:
    """Overall = 4 − 3·cosine (1 = same story … 4 = unrelated); same-event probability = cosine;
    near-duplicate at cosine ≥ 0.97."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim
        self.model_id = f"test-cosine-{dim}"
        self.query_embedder = WordVectorEmbedder(dim)
        self.compare_calls = 0

    def represent_many(self, articles: list[Article]) -> list[VectorRepresentation]:
        return [VectorRepresentation(a.id, word_vector(f"{a.title} {a.body}", self.dim)) for a in articles]

    def representation_from_bytes(self, blob: bytes) -> VectorRepresentation:
        article_id, vector = blob.split(b"\n", 1)
        return VectorRepresentation(article_id.decode(), np.frombuffer(vector, dtype=np.float32))

    def compare(self, a: VectorRepresentation, b: VectorRepresentation) -> Comparison:
        self.compare_calls += 1
        cosine = float(a.vector @ b.vector)
        overall = float(np.clip(4 - 3 * cosine, 1, 4))
        return Comparison(
            overall=overall,
            dimensions={"entities": overall, "geography": overall, "time": overall, "narrative": overall},
            same_story=overall <= 2,
            near_duplicate=cosine >= 0.97,
            same_event=max(cosine, 0.0),
        )


def test_double_scores_shared_words_as_same_story() -> None:
    comparer = CosineComparer()
    a, b, c = comparer.represent_many(
        [
            Article("a", "Putin Obama call", "Syria talks"),
            Article("b", "Putin Obama call", "Syria talks today"),
            Article("c", "Cheese prices", "Dairy farmers protest"),
        ]
    )
    assert comparer.compare(a, b).same_story
    assert not comparer.compare(a, c).same_story
    assert comparer.representation_from_bytes(a.to_bytes()).vector.tolist() == a.vector.tolist()


class MeanProbability:
    """A join "classifier" that is plain average link: the mean same-event probability of the hits."""

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        mean = np.asarray(rows)[:, EVENT_FEATURES.index("mean_p")]
        return np.column_stack([1 - mean, mean])


AVERAGE_LINK = JoinModel(MeanProbability(), threshold=0.5)
