"""Approximate nearest-neighbour index over article vectors, persisted next to the store.

faiss HNSW over 8-bit scalar-quantised vectors (inner product = cosine on normalised vectors):
about 0.66 KB of RAM per article at 384-d instead of 1.5 KB for float32.  The quantiser range
is fixed to [-1, 1] (every component of a unit vector lies there), so the index needs no
training data and works from the first article on.

The file is a cache of the store, which stays the truth.  On open its ids are compared with the
store's (not a max-id watermark: two writers interleave their rowids, and each one's highest id
says nothing about the other's), missing vectors are added and a foreign, corrupt or ahead-of-store
file is rebuilt.  Writers take the store's articles in before each batch and before saving, and save
under a file lock, so the last save holds everything committed by then.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock

from storylines.store.base import Store

MAGIC = b"storylines-index-1\n"
# The approximate search fetches this many times the neighbours asked for; they are then re-scored
# exactly from the stored vectors, so every backend returns the same k (see :func:`exact_top_k`).
RERANK_DEPTH = 4
# Stores up to this many articles are scanned whole instead (a flat half-float scan on every
# backend): each HNSW graph misses some true neighbours in its own way, and on the SemEval stream
# that alone put 35 of 2,024 articles in different storylines on SQLite and PostgreSQL.  With
# every article compared, both backends propose the same candidates, so give the same storylines;
# above the limit the graphs answer, for speed, and may disagree.
EXACT_SEARCH_LIMIT = 10_000


def exact_top_k(
    query: np.ndarray, rowids: np.ndarray, vectors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best of an approximate search, re-scored exactly: (rowids, similarities), best first.

    Both backends store half-precision vectors, but their indexes rank with different
    approximations (faiss 8-bit codes, pgvector half floats), so their k-th neighbour, and with it
    a clustering decision, could differ.  Here the products of the stored half floats with the
    float32 query are exact in float64 and each row is summed on its own, so a vector scores the
    same on every backend; ties (copies) go to the lower rowid, i.e. the earlier article.
    """
    if len(rowids) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    query64 = np.asarray(query, dtype=np.float64).reshape(-1)
    scores = (np.asarray(vectors, dtype=np.float64) * query64).sum(axis=1)
    rowids = np.asarray(rowids, dtype=np.int64)
    best = np.lexsort((rowids, -scores))[:k]
    return rowids[best], scores[best].astype(np.float32)


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
        self._flat: faiss.IndexIDMap | None = _flat_index(dim)
        self.max_id = 0
        self._tracking: _StoreTracking | None = None

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; ids must grow, so the highest one tells how far the index is caught up."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with _single_thread():
            self._index.add_with_ids(vectors, ids)
            if self._flat is not None and self.ntotal > EXACT_SEARCH_LIMIT:
                self._flat = None  # for good: a store never shrinks
            elif self._flat is not None:
                self._flat.add_with_ids(vectors, ids)
        self.max_id = max(self.max_id, int(ids.max()))
        if self._tracking:
            self._tracking.own.update(int(i) for i in ids)

    def ids(self) -> np.ndarray:
        """The ids the index holds (unordered)."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def _add_from(self, store: Store, rowids: np.ndarray, batch: int = 10_000) -> None:
        for start in range(0, len(rowids), batch):
            chunk = rowids[start : start + batch]
            self.add(chunk, store.vectors_of(chunk))

    def catch_up(self, store: Store) -> int:
        """Add what other writers stored since the last look; returns how many vectors were added.

        Rowids grow in commit order (SQLite serialises writers), so only ids above the last
        seen maximum can be new; of those, the ones this process added itself are skipped.
        """
        if self._tracking is None or self._tracking.store is not store:
            return self._sync(store)
        tracking = self._tracking
        new = store.rowids(after_rowid=tracking.seen)
        missing = np.array([r for r in new if int(r) not in tracking.own], dtype=np.int64)
        self._add_from(store, missing)
        tracking.seen = int(new[-1]) if len(new) else tracking.seen
        tracking.own.clear()
        return len(missing)

    def _sync(self, store: Store) -> int:
        """Compare ids with the store: add the missing ones; -1 when the index holds ids the store
        lacks (another store's, or rolled back), and must be rebuilt."""
        truth = store.rowids()
        held = self.ids()
        if len(np.setdiff1d(held, truth, assume_unique=True)):
            return -1
        missing = np.setdiff1d(truth, held, assume_unique=True)
        self._tracking = _StoreTracking(store, int(truth[-1]) if len(truth) else 0)
        self._add_from(store, missing)
        self._tracking.own.clear()
        return len(missing)

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, similarities) of the k nearest by the HNSW graph, best first; fewer when the index
        is small."""
        return self._search(self._index, vector, k)

    def _search(self, index: faiss.Index, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if index.ntotal == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        with _single_thread():
            sims, ids = index.search(np.asarray(vector, dtype=np.float32).reshape(1, self.dim), k)
        keep = ids[0] >= 0
        return ids[0][keep], sims[0][keep]

    def search_exact(self, store: Store, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``RERANK_DEPTH`` times deeper than asked, by a flat scan up to ``EXACT_SEARCH_LIMIT``
        articles and by the HNSW graph above, then re-ranked exactly (:func:`exact_top_k`) from the
        store's vectors."""
        ids, _ = self._search(self._flat_of(store) or self._index, vector, k * RERANK_DEPTH)
        return exact_top_k(vector, ids, store.vectors_of(ids) if len(ids) else np.empty(0), k)

    def _flat_of(self, store: Store) -> faiss.IndexIDMap | None:
        """The flat index while the store is small; after a load it is rebuilt from the store."""
        if self._flat is None and 0 < self.ntotal <= EXACT_SEARCH_LIMIT:
            held = self.ids()
            self._flat = _flat_index(self.dim)
            with _single_thread():
                self._flat.add_with_ids(np.ascontiguousarray(store.vectors_of(held), dtype=np.float32), held)
        return self._flat

    def nbytes(self) -> int:
        """Serialised size: what the index holds in RAM, give or take a few allocator pages."""
        return int(faiss.serialize_index(self._index).size)

    def save(self, path: str | Path, store_uuid: str) -> None:
        """Write atomically (a temp file of this writer's own + rename) so a crash never leaves half
        an index; under a lock, and caught up with the store first, so a concurrent writer's save
        cannot replace this one with an index that lacks its articles."""
        header = json.dumps({"store_uuid": store_uuid, "dim": self.dim}).encode()
        with FileLock(f"{path}.lock"):
            if self._tracking:
                self.catch_up(self._tracking.store)
            handle, tmp = tempfile.mkstemp(prefix=f"{Path(path).name}.", suffix=".tmp", dir=Path(path).parent)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(MAGIC + header + b"\n")
                    out.write(faiss.serialize_index(self._index).tobytes())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

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
            index._tracking = None
            index._flat = None  # rebuilt from the store on the first search (:meth:`_flat_of`)
            held = index.ids()
            index.max_id = int(held.max()) if len(held) else 0
            return index
        except (OSError, ValueError, KeyError, RuntimeError):
            return None

    @classmethod
    def open_for(cls, store: Store, dim: int, path: str | Path | None = None) -> VectorIndex:
        """Load the index saved next to the store and repair it from the store's ids."""
        path = path or index_path(store.url)
        index = cls.load(path, store.get_meta("store_uuid") or "", dim)
        if index is None or index._sync(store) < 0:
            index = cls(dim)
            index._sync(store)
        return index


def _flat_index(dim: int) -> faiss.IndexIDMap:
    """Every vector scanned, as half floats (the precision both backends store)."""
    flat = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    return faiss.IndexIDMap(flat)


class _StoreTracking:
    """What an index knows of the store it follows: the highest rowid seen there, and the ids
    it added itself since (so catching up skips them)."""

    def __init__(self, store: Store, seen: int):
        self.store = store
        self.seen = seen
        self.own: set[int] = set()


def index_path(store_path: str) -> str:
    return f"{store_path}.faiss"
