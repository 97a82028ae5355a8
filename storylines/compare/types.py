"""The contract between the comparison model and its users (clusterer, CLI, API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from storylines.article import Article


@dataclass
class Comparison:
    """SemEval-2022 Task 8 scale: 1 = same story … 4 = unrelated."""

    overall: float
    dimensions: dict[str, float]  # geography, entities, time, narrative
    same_story: bool
    near_duplicate: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    # Probability that both report the same happening, calibrated for what the two texts hold
    # (titles only, or bodies); None when the comparer has no calibration (the clusterer then
    # derives it from ``overall``).
    same_event: float | None = None
    titles_only: bool = False  # a side has no body: same_event came from the title-pair calibration


class Representation(Protocol):
    """Everything the comparer needs about one article, computed once and stored."""

    article_id: str
    vector: np.ndarray  # L2-normalised float32 document vector

    @property
    def retrieval_vector(self) -> np.ndarray:
        """What the vector index holds and events average: candidates and search come from it."""
        ...

    def to_bytes(self) -> bytes: ...


class Comparer(Protocol):
    """Turns articles into representations and judges pairs of them."""

    model_id: str
    dim: int
    query_embedder: Any  # embeds search queries into the space of the representations' retrieval_vector

    def represent_many(self, articles: list[Article]) -> list[Representation]: ...

    def representation_from_bytes(self, blob: bytes) -> Representation: ...

    def compare(self, a: Representation, b: Representation) -> Comparison: ...
