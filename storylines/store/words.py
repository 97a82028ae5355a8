"""Words for keyword search in scripts written without spaces.

SQLite's unicode61 tokenizer splits on spaces and punctuation only, so a Chinese sentence is one
"word" and "普京" never matches inside it.  jieba segments Han text into words; the store indexes
the segmented text and search segments queries the same way.
"""

from __future__ import annotations

from functools import cache

import regex

_HAN = regex.compile(r"\p{Han}+")


@cache
def _jieba():  # noqa: ANN202 - the module; loading its dictionary takes about a second
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def segment_for_index(text: str) -> str:
    """Text with spaces between the Han words jieba finds (and the shorter words inside long
    ones, so that "叙利亚总统" is found by "叙利亚" and by "总统"); other scripts unchanged."""
    if not _HAN.search(text):
        return text
    return _HAN.sub(lambda run: f" {' '.join(_jieba().cut_for_search(run.group()))} ", text)


def segment_query(text: str) -> str:
    """A query with its Han runs cut into words (jieba's precise mode: "普京叙利亚" → 普京 叙利亚)."""
    if not _HAN.search(text):
        return text
    return _HAN.sub(lambda run: f" {' '.join(_jieba().cut(run.group()))} ", text)
