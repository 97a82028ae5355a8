"""Which text of an article is embedded ("views"), each with a fixed token budget.

The product embeds one view per article; ``scripts/train_compare.py --views`` measures
every view's Pearson on the dev pairs against its token cost.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

from storylines.embed.text import TokenCounter, lead_sentences, tail_to_tokens, truncate_to_tokens

_SPACES = regex.compile(r"[^\S\n]+")

View = Callable[[str, TokenCounter], list[str]]


def prepare(text: str) -> str:
    """Collapse runs of spaces inside lines and drop empty lines; keep line breaks for sentences."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def head(max_tokens: int) -> View:
    def view(text: str, count: TokenCounter) -> list[str]:
        return [truncate_to_tokens(prepare(text).replace("\n", " "), max_tokens, count)]

    return view


def head_and_tail(head_tokens: int, tail_tokens: int) -> View:
    def view(text: str, count: TokenCounter) -> list[str]:
        flat = prepare(text).replace("\n", " ")
        start = truncate_to_tokens(flat, head_tokens, count)
        if len(start) == len(flat):
            return [flat]
        return [f"{start} … {tail_to_tokens(flat[len(start) :], tail_tokens, count)}"]

    return view


def sentences(max_tokens: int) -> View:
    def view(text: str, count: TokenCounter) -> list[str]:
        return lead_sentences(prepare(text), max_tokens, count) or [prepare(text)[:200]]

    return view


def full(text: str, count: TokenCounter) -> list[str]:
    return [prepare(text).replace("\n", " ")]


VIEWS: dict[str, View] = {
    "head96": head(96),
    "sents96": sentences(96),
    "full": full,
    "head64": head(64),
    "head128": head(128),
    "headtail96": head_and_tail(64, 32),
    "head32": head(32),
    "head192": head(192),
}
