"""Cheap language-independent signals: numbers, transliterated names, character MinHash."""

from __future__ import annotations

import unicodedata

import numpy as np
import regex
from anyascii import anyascii
from datasketch import MinHash

MINHASH_PERMUTATIONS = 64
SHINGLE_CHARS = 5

_NUMBER = regex.compile(r"\d+(?:[.,]\d+)*")
# A capitalised word in any cased script (Latin, Cyrillic, Greek...), not at a sentence start.
_NAME = regex.compile(r"(?<![.!?]\s|^)\b\p{Lu}[\p{Ll}\p{Lu}'’-]{2,}")
NAME_KEY_CHARS = 4  # a prefix absorbs case endings: "Obama", "Obamoy" -> "obam"
# Transliterations disagree on a few letters ("Barack"/"Barak"); fold them together.
_FOLD = str.maketrans({"c": "k", "y": "i", "w": "v", "q": "k"})


def numbers(text: str) -> list[str]:
    """Numbers of two or more digits, separators removed ("1,500" and "1.500" match)."""
    found = {regex.sub(r"[.,]", "", match) for match in _NUMBER.findall(text)}
    return sorted(number for number in found if len(number) >= 2)


def name_keys(text: str) -> list[str]:
    """Transliterated name prefixes, so "Путин" and "Putin" give the same key."""
    keys = {anyascii(word).lower().translate(_FOLD)[:NAME_KEY_CHARS] for word in _NAME.findall(text)}
    return sorted(key for key in keys if len(key) >= 3 and key.isalpha())


SCRIPT_SAMPLE_CHARS = 400


def dominant_script(text: str) -> str:
    """Most frequent script among the first letters; empty when the text has no letters.

    Cosine scales differ between same-script and cross-script pairs, so the model needs to know.
    """
    counts: dict[str, int] = {}
    for char in text[:SCRIPT_SAMPLE_CHARS]:
        if char.isalpha():
            script = unicodedata.name(char, "UNKNOWN").split()[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else ""


def minhash_signature(text: str) -> np.ndarray:
    """MinHash of lower-cased character shingles: near-duplicate copies within one language."""
    flat = " ".join(text.lower().split())
    shingles = {flat[i : i + SHINGLE_CHARS] for i in range(max(1, len(flat) - SHINGLE_CHARS + 1))}
    sketch = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)
    sketch.update_batch([shingle.encode() for shingle in shingles])
    return sketch.hashvalues.astype(np.uint32)


def minhash_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard of the shingle sets (what ``MinHash.jaccard`` computes, without objects)."""
    return float(np.mean(a == b)) if len(a) and len(a) == len(b) else 0.0
