"""Do two reports, maybe in different languages, tell the same story?"""

from __future__ import annotations

from functools import lru_cache

from storylines.compare.comparer import StoryComparer
from storylines.compare.representation import ArticleRepresentation
from storylines.compare.types import Comparer, Comparison, Representation

__all__ = [
    "ArticleRepresentation",
    "Comparer",
    "Comparison",
    "Representation",
    "StoryComparer",
    "load_comparer",
]


@lru_cache(maxsize=1)
def load_comparer() -> StoryComparer:
    """The default comparer, shared by the process; the model and embedder load on first use."""
    return StoryComparer()
