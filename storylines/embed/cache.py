"""A disk cache of embeddings so that no text is ever embedded twice.

SQLite in WAL mode lets many processes read while one writes, and survives crashes,
which an ``.npy`` shard layout would have to re-implement by hand.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import platformdirs

from storylines.embed.base import Embedder

CACHE_ENV = "STORYLINES_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$STORYLINES_CACHE_DIR`` if set, else the per-user cache folder."""
    return Path(os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("storylines"))


def content_key(model_id: str, kind: str, text: str) -> str:
    """The model id is part of the key so that changing the model never returns stale vectors."""
    return hashlib.sha256(f"{model_id}\0{kind}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors by content hash in one SQLite file."""

    def __init__(self, path: Path | None = None):
        self.path = path or default_cache_dir() / "embeddings.sqlite"
        self._db: sqlite3.Connection | None = None
        # One connection serves every thread (the server embeds queries in its thread pool), and a
        # sqlite3 connection must not interleave two transactions: each use holds the lock.
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return self._db

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            db = self._connection()
            for start in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock, self._connection() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items.items()],
            )


class CachedEmbedder:
    """Wraps any :class:`Embedder`; only texts missing from the cache reach the model."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache | None = None):
        self.inner = inner
        self.cache = cache or EmbeddingCache()
        self.model_id = inner.model_id
        self.dim = inner.dim

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def _embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        keys = [content_key(self.model_id, kind, text) for text in texts]
        found = self.cache.get_many(keys)
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if missing:
            embed = self.inner.embed_passages if kind == "passage" else self.inner.embed_queries
            vectors = embed(list(missing.values()))
            fresh = dict(zip(missing, vectors, strict=True))
            self.cache.put_many(fresh)
            found.update(fresh)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out
