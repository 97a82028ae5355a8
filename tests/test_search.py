"""Hybrid search: safe keyword queries, reciprocal rank fusion, cross-lingual retrieval, CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from storylines.cli import app
from storylines.serve.search import RRF_K, reciprocal_rank_fusion
from storylines.store import TextQuery
from storylines.store.sqlite import fts_query


def keyword_query(text: str, match_all: bool = False) -> str | None:
    query = TextQuery.from_text(text, match_all)
    return fts_query(query) if query else None


def test_keyword_query_quotes_every_word() -> None:
    assert keyword_query('Putin NEAR(Obama) "Syria" *') == '"putin" OR "near" OR "obama" OR "syria"'
    assert keyword_query("Путин 普京 Putin putin") == '"путин" OR "普京" OR "putin"'
    assert keyword_query(" *() ") is None


@given(st.text(max_size=200))
def test_keyword_query_is_always_valid_fts5(text: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
    db.execute("INSERT INTO docs VALUES ('putin obama syria')")
    query = keyword_query(text)
    if query is not None:
        db.execute("SELECT * FROM docs WHERE docs MATCH ?", (query,)).fetchall()


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion({"keyword": ["a", "b"], "vector": ["b", "c"]})
    assert fused["b"][0] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert fused["b"][1] == ["keyword", "vector"]
    assert fused["a"][0] == pytest.approx(1 / (RRF_K + 1)) and fused["a"][1] == ["keyword"]
    assert max(fused, key=lambda key: fused[key][0]) == "b"


def test_searcher_finds_english_from_bulgarian_and_chinese(sample_db: Path) -> None:
    from storylines.compare import load_comparer
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    searcher = HybridSearcher(open_store(sample_db), load_comparer().query_embedder)
    for query in ("Путин Обама Сирия", "普京 奥巴马 叙利亚"):
        result = searcher.search(query)
        assert "en" in {hit.lang for hit in result.articles[:3]}, query
        assert len(result.storylines) >= 1
    keyword_only = searcher.search("Obama")
    assert any("keyword" in hit.matched_by for hit in keyword_only.articles)


def test_search_command_json(sample_db: Path) -> None:
    result = CliRunner().invoke(
        app, ["search", "Путин Обама Сирия", "--db", str(sample_db), "--json", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["articles"]) == 2 and data["storylines"][0]["title"]


def test_search_command_text_with_language_filter(sample_db: Path) -> None:
    result = CliRunner().invoke(app, ["search", "Putin Syria", "--db", str(sample_db), "--lang", "bg"])
    assert result.exit_code == 0, result.output
    assert "storylines (" in result.output and " bg " in result.output


def test_keyword_query_can_require_every_word() -> None:
    assert keyword_query("Putin Obama putin", match_all=True) == '"putin" AND "obama"'


def test_a_snippet_without_words_falls_back_to_the_body() -> None:
    from storylines.serve.search import _snippet

    assert _snippet("……", "普京说") == "普京说"
    assert _snippet("…[Putin] said…", "body") == "…[Putin] said…"


def test_search_command_says_nothing_found(sample_db: Path) -> None:
    result = CliRunner().invoke(app, ["search", "xqzvbnmqq", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("nothing found") and "articles (0)" in result.output
