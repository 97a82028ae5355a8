"""``storylines inspect``: read, clean and enrich articles, print them."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import app
from storylines.cli.cluster_cmds import ReferenceDate, reference_date_option
from storylines.skips import failure

if TYPE_CHECKING:
    from storylines.pipeline import Pipeline


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


def _shown(pipeline: Pipeline, article: Article, as_json: bool) -> str | Skipped:
    """The article enriched and formatted, or why not: one bad article never stops the listing."""
    try:
        article = pipeline(article)
        return json.dumps(article.to_dict(), ensure_ascii=False) if as_json else _summary(article)
    except Exception as error:  # MemoryError and RecursionError included
        return Skipped(article.source, failure("enrichment", error))


@app.command("inspect")
def inspect(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, one object per article.")] = False,
    reference_date: ReferenceDate = None,
) -> None:
    """Read, clean and enrich articles; print a summary or JSON Lines."""
    from storylines.ingest import read_paths
    from storylines.pipeline import default_pipeline

    pipeline = default_pipeline(reference_date_option(reference_date))
    skipped = 0
    for item in read_paths(paths):
        shown = item if isinstance(item, Skipped) else _shown(pipeline, item, as_json)
        if isinstance(shown, Skipped):
            skipped += 1
            print(f"skipped {shown.source}: {shown.reason}", file=sys.stderr)
        else:
            print(shown)
    if skipped:
        print(f"{skipped} input(s) skipped", file=sys.stderr)
        raise typer.Exit(code=2)
