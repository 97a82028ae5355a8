"""The interface every text embedder offers the rest of the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Maps texts to L2-normalised float32 vectors; passages and queries may differ (e5 prefixes).

    ``count_tokens`` lets callers cut texts to a token budget, the unit embedding cost is paid in.
    """

    model_id: str
    dim: int

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...
