"""Approximate nearest-neighbour index over article vectors, persisted next to the store.

faiss HNSW over 8-bit scalar-quantised vectors (inner product = cosine on normalised vectors):
about 0.66 KB of RAM per article at 384-d instead of 1.5 KB for float32.  The quantiser range
is fixed to [-1, 1] (every component of a unit vector lies there), so the index needs no
training data and works from the first article on.

The file is a cache: it records which store it belongs to and the last rowid it holds, so on
open it is caught up from the store (after a crash) or rebuilt (missing, foreign or corrupt).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from storylines.store.base import Store

MAGIC = b"storylines-index-1\n"


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run faiss on one thread: one query gains nothing from threads and, on busy shared cores,
    waiting for them cost up to 100x; one-threaded inserts also build the same graph every time,
    so a rebuilt index gives the same neighbours (and clusters) as the one it replaces."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


class VectorIndex:
    """HNSW-SQ8 inner-product index keyed by store rowid."""

    def __init__(self, dim: int, neighbours: int = 32, ef_construction: int = 40, ef_search: int = 64):
        self.dim = dim
        hnsw = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, neighbours, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = ef_construction
        hnsw.hnsw.efSearch = ef_search
        hnsw.train(np.vstack([-np.ones(dim), np.ones(dim)]).astype(np.float32))
        self._index = faiss.IndexIDMap(hnsw)
        self.max_id = 0

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; ids must grow, so the highest one tells how far the index is caught up."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        with _single_thread():
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim), ids
            )
        self.max_id = max(self.max_id, int(ids.max()))

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, similarities) of the k nearest, best first; fewer when the index is small."""
        if self.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        with _single_thread():
            sims, ids = self._index.search(np.asarray(vector, dtype=np.float32).reshape(1, self.dim), k)
        keep = ids[0] >= 0
        return ids[0][keep], sims[0][keep]

    def nbytes(self) -> int:
        """Serialised size: what the index holds in RAM, give or take a few allocator pages."""
        return int(faiss.serialize_index(self._index).size)

    def save(self, path: str | Path, store_uuid: str) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half an index."""
        header = json.dumps({"store_uuid": store_uuid, "dim": self.dim, "max_id": self.max_id}).encode()
        tmp = Path(f"{path}.tmp")
        with tmp.open("wb") as out:
            out.write(MAGIC + header + b"\n")
            out.write(faiss.serialize_index(self._index).tobytes())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path, store_uuid: str, dim: int) -> VectorIndex | None:
        """The saved index, or None when it is missing, belongs to another store, or is damaged."""
        try:
            blob = Path(path).read_bytes()
            if not blob.startswith(MAGIC):
                return None
            header_end = blob.index(b"\n", len(MAGIC))
            header = json.loads(blob[len(MAGIC) : header_end])
            if header["store_uuid"] != store_uuid or header["dim"] != dim:
                return None
            index = cls.__new__(cls)
            index.dim = dim
            index._index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8, offset=header_end + 1))
            index.max_id = int(header["max_id"])
            return index
        except (OSError, ValueError, KeyError, RuntimeError):
            return None

    @classmethod
    def open_for(cls, store: Store, dim: int, path: str | Path | None = None) -> VectorIndex:
        """Load the index saved next to the store, then add whatever the store has beyond it."""
        path = path or index_path(store.url)
        store_uuid = store.get_meta("store_uuid") or ""
        index = cls.load(path, store_uuid, dim)
        if index is None or index.max_id > store.max_rowid():
            index = cls(dim)
        for rowids, vectors in store.iter_vectors(after_rowid=index.max_id):
            index.add(rowids, vectors)
        return index


def index_path(store_path: str) -> str:
    return f"{store_path}.faiss"
