"""What part of a long article gets embedded: sentences and token-budgeted leads.

The embedder bounds the product's throughput (~1,000 tokens/s), so every article is cut
to a fixed token budget; ``benchmarks/bench_compare.py`` and ``scripts/train_compare.py``
measure the quality each budget buys.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

# No multilingual sentence splitter ships with our dependencies (razdel is Russian-only),
# and news sentences end on a small set of marks, so a rule is enough: split after
# Latin/Arabic/Devanagari end marks followed by space, or after CJK end marks anywhere.
_SENTENCE_END = regex.compile(r"(?<=[.!?؟।][\"'”’»)]*)\s+(?=\S)|(?<=[。！？][\"'”’」』)]*)|\n{1,}")

TokenCounter = Callable[[str], int]

# No token spans more characters than this, so a text cut here still holds the whole budget;
# the cut keeps tokenising cost bounded for very long articles.
MAX_CHARS_PER_TOKEN = 12


def split_sentences(text: str, min_chars: int = 8) -> list[str]:
    """Sentences, with fragments shorter than ``min_chars`` glued to the next one."""
    sentences: list[str] = []
    carry = ""
    for piece in _SENTENCE_END.split(text):
        piece = f"{carry} {piece}".strip() if carry else piece.strip()
        if len(piece) < min_chars:
            carry = piece
            continue
        sentences.append(piece)
        carry = ""
    if carry:
        if sentences:
            sentences[-1] = f"{sentences[-1]} {carry}"
        else:
            sentences.append(carry)
    return sentences


def truncate_to_tokens(text: str, max_tokens: int, count_tokens: TokenCounter) -> str:
    """Longest prefix (cut at a space when there is one) that stays within ``max_tokens``."""
    text = text[: max_tokens * MAX_CHARS_PER_TOKEN]
    if count_tokens(text) <= max_tokens:
        return text
    low, high = 0, len(text)
    while low < high:  # binary search on characters: tokenising is ~1000x cheaper than embedding
        mid = (low + high + 1) // 2
        if count_tokens(text[:mid]) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    cut = text[:low]
    space = cut.rfind(" ")
    return cut[:space] if space > len(cut) // 2 else cut


def tail_to_tokens(text: str, max_tokens: int, count_tokens: TokenCounter) -> str:
    """Longest suffix within ``max_tokens`` (articles often end on the outcome of the story)."""
    text = text[-max_tokens * MAX_CHARS_PER_TOKEN :]
    if count_tokens(text) <= max_tokens:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high) // 2
        if count_tokens(text[mid:]) <= max_tokens:
            high = mid
        else:
            low = mid + 1
    return text[low:]


def lead_sentences(text: str, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Sentences from the top of the article until the token budget is spent (last one cut)."""
    chosen: list[str] = []
    budget = max_tokens
    for sentence in split_sentences(text):
        cost = count_tokens(sentence)
        if cost > budget:
            if budget >= 8:
                chosen.append(truncate_to_tokens(sentence, budget, count_tokens))
            break
        chosen.append(sentence)
        budget -= cost
    return chosen
