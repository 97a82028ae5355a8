"""Outlets: a publisher's name, never a file path with a line number."""

from __future__ import annotations

from storylines.article import Article
from storylines.cluster.labels import source_name


def test_outlet_from_url_then_record_field_then_file() -> None:
    assert source_name(Article(source="feed.xml", url="https://www.tass.com/world/1")) == "tass.com"
    assert source_name(Article(source="x.html", meta={"canonical_url": "https://bta.bg/a"})) == "bta.bg"
    assert source_name(Article(source="/data/articles.jsonl:326", meta={"outlet": "Reuters"})) == "Reuters"
    assert source_name(Article(source="/data/articles.jsonl:326")) == "articles.jsonl"
    assert source_name(Article(source="/data/000_seed.txt")) == "000_seed.txt"
