"""Everything the comparer keeps about one article, computed once and stored as bytes."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

_HEADER = struct.Struct("<I")


@dataclass
class ArticleRepresentation:
    """Vectors, shingles and normalised facts of one article (see ``features.py`` for their use)."""

    article_id: str
    # L2-normalised float32 document vector (the view's passages averaged), by the encoder the
    # compare model was fitted on: the title encoder for the shipped one, then == tuned_vector
    vector: np.ndarray
    passage_vectors: np.ndarray  # (n_passages, dim) float32: one row per embedded text of the view
    passages: list[str]
    minhash: np.ndarray  # uint32 MinHash signature of character shingles
    name_keys: list[str] = field(default_factory=list)  # transliterated capitalised words
    numbers: list[str] = field(default_factory=list)
    entities: dict[str, str] = field(default_factory=dict)  # cross-lingual entity id -> type
    entity_names: dict[str, str] = field(default_factory=dict)  # id -> display name
    published: str | None = None
    event_dates: list[str] = field(default_factory=list)
    lang: str | None = None
    title: str = ""
    length: int = 0
    script: str = ""  # dominant Unicode script ("LATIN", "CJK"...), for same-script pair features
    # second view (USE v3, see embed/use_embedder.py); None for languages it lacks and for
    # representations stored before it existed
    use_vector: np.ndarray | None = None
    # the title encoder's vector of the title alone (embed/title_encoder.py); None without a title
    # and in representations stored before it existed
    title_vector: np.ndarray | None = None
    # the title encoder's vector of the same view as ``vector``: tuned to tell events apart, it
    # judges "same story" better than e5 itself, across languages too (BENCHMARKS.md, issue 9);
    # embedded once when the view's encoder is the title encoder
    tuned_vector: np.ndarray | None = None

    @property
    def retrieval_vector(self) -> np.ndarray:
        """The tuned vector: as neighbours, the title encoder finds a report's same-story partners
        that e5 ranks past the candidates, mostly across languages (BENCHMARKS.md, issue 8)."""
        return self.tuned_vector if self.tuned_vector is not None else self.vector

    def to_bytes(self) -> bytes:
        """JSON header, then float32 doc vector, float16 passage vectors, uint32 MinHash and, when
        there are, the float16 optional vectors (``use_dim``/``title_dim``/``tuned_dim`` in the
        header; absent in older blobs)."""
        meta = {
            "article_id": self.article_id,
            "dim": int(self.vector.shape[0]),
            "n_passages": int(self.passage_vectors.shape[0]),
            "n_minhash": int(self.minhash.shape[0]),
            "passages": self.passages,
            "name_keys": self.name_keys,
            "numbers": self.numbers,
            "entities": self.entities,
            "entity_names": self.entity_names,
            "published": self.published,
            "event_dates": self.event_dates,
            "lang": self.lang,
            "title": self.title,
            "length": self.length,
            "script": self.script,
        }
        optional = [getattr(self, name) for name in _OPTIONAL_VECTORS]
        for name, vector in zip(_OPTIONAL_VECTORS, optional, strict=True):
            if vector is not None:
                meta[_dim_key(name)] = int(vector.shape[0])
        header = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
        return b"".join(
            [
                _HEADER.pack(len(header)),
                header,
                self.vector.astype("<f4").tobytes(),
                self.passage_vectors.astype("<f2").tobytes(),
                self.minhash.astype("<u4").tobytes(),
                *(b"" if vector is None else vector.astype("<f2").tobytes() for vector in optional),
            ]
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> ArticleRepresentation:
        (size,) = _HEADER.unpack_from(blob)
        meta = json.loads(blob[_HEADER.size : _HEADER.size + size])
        dim, n_passages, n_minhash = meta.pop("dim"), meta.pop("n_passages"), meta.pop("n_minhash")
        optional_dims = {name: meta.pop(_dim_key(name), 0) for name in _OPTIONAL_VECTORS}
        offset = _HEADER.size + size
        vector = np.frombuffer(blob, "<f4", dim, offset).astype(np.float32)
        offset += 4 * dim
        passage_vectors = np.frombuffer(blob, "<f2", n_passages * dim, offset).astype(np.float32)
        offset += 2 * n_passages * dim
        minhash = np.frombuffer(blob, "<u4", n_minhash, offset).astype(np.uint32)
        offset += 4 * n_minhash
        optional = {}
        for name, length in optional_dims.items():
            optional[name] = np.frombuffer(blob, "<f2", length, offset).astype(np.float32) if length else None
            offset += 2 * length
        return cls(
            vector=vector,
            passage_vectors=passage_vectors.reshape(n_passages, dim),
            minhash=minhash,
            **optional,
            **meta,
        )


# written after the MinHash in this order; each one's length is in the header when present
_OPTIONAL_VECTORS = ("use_vector", "title_vector", "tuned_vector")


def _dim_key(name: str) -> str:
    return name.replace("_vector", "_dim")
