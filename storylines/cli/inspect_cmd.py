"""``storylines inspect``: read, clean and enrich articles, print them."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import app


def _published(article: Article) -> str:
    if article.published:
        return f"{article.published}  ({article.published_source})"
    partial = article.meta.get("published_partial")
    if partial:
        return f"{partial}, year unknown  ({article.meta.get('published_partial_source')})"
    return "unknown"


def _summary(article: Article) -> str:
    spans = ", ".join(f"{s.lang}[{s.start}:{s.end}]" for s in article.languages)
    people = ", ".join(f"{e.name} ({e.type})" for e in article.entities[:12])
    return "\n".join(
        [
            f"── {article.title or '(no title)'}",
            f"   id {article.id}  source {article.source}",
            f"   lang {article.lang}  segments {spans or '-'}",
            f"   published {_published(article)}",
            f"   events {', '.join(d.date for d in article.event_dates) or '-'}",
            f"   entities {people or '-'}",
            f"   text {len(article.text)} chars, {len(article.removed)} boilerplate lines removed",
        ]
    )


@app.command("inspect")
def inspect(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, one object per article.")] = False,
    reference_date: Annotated[
        str | None, typer.Option(help="ISO date used when an article's year is missing.")
    ] = None,
) -> None:
    """Read, clean and enrich articles; print a summary or JSON Lines."""
    from storylines.ingest import read_paths
    from storylines.pipeline import default_pipeline

    pipeline = default_pipeline(date.fromisoformat(reference_date) if reference_date else None)
    skipped = 0
    for item in read_paths(paths):
        if isinstance(item, Skipped):
            skipped += 1
            print(f"skipped {item.source}: {item.reason}", file=sys.stderr)
            continue
        article = pipeline(item)
        print(json.dumps(article.to_dict(), ensure_ascii=False) if as_json else _summary(article))
    if skipped:
        print(f"{skipped} input(s) skipped", file=sys.stderr)
        raise typer.Exit(code=2)
