"""``storylines search`` and ``storylines serve``: find stories, or serve the API and web page."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from storylines.cli.app import DbOption, app


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="Words in any language.")],
    db: DbOption = None,
    lang: Annotated[str | None, typer.Option(help="Only articles in this language (en, bg, zh…).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Articles to show.")] = 10,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object with articles and storylines.")
    ] = False,
) -> None:
    """Hybrid keyword + cross-lingual vector search over stored articles and storylines."""
    from storylines.engine import comparer_from_spec
    from storylines.serve.catalog import storyline_summary
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    store = open_store(db)
    searcher = HybridSearcher(store, comparer_from_spec().query_embedder)
    result = searcher.search(query, lang=lang, depth=max(limit, 30))
    summaries = (storyline_summary(store, group.storyline_id) for group in result.storylines)
    titles = {summary.id: summary.title for summary in summaries if summary}
    if as_json:
        print(
            json.dumps(
                {
                    "query": query,
                    "articles": [vars(hit) for hit in result.articles[:limit]],
                    "storylines": [
                        {**vars(group), "title": titles.get(group.storyline_id, group.title)}
                        for group in result.storylines
                    ],
                },
                ensure_ascii=False,
            )
        )
        return
    if not result.articles:
        print(f"nothing found for {query!r}: no article is close enough in any language")
    print(f"storylines ({len(result.storylines)})")
    for group in result.storylines:
        print(
            f"  #{group.storyline_id}  {group.relevance:4.0%}  {titles.get(group.storyline_id, group.title)}"
            f"  [{len(group.article_ids)} hits, {'+'.join(group.matched_by)}]"
        )
    print(f"articles ({len(result.articles)})")
    for hit in result.articles[:limit]:
        print(
            f"  {hit.article_id}  {hit.relevance:4.0%}  {hit.lang or '?'}  {hit.title[:90]}"
            f"  [{'+'.join(hit.matched_by)}]  storyline #{hit.storyline_id}"
        )


@app.command("serve")
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="STORYLINES_API_KEY", show_envvar=True, help="Key for the write endpoints (X-API-Key)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: warning hides the access log.")] = "info",
) -> None:
    """REST API (OpenAPI at /openapi.json) and the web page at /."""
    import uvicorn

    from storylines.serve.app import create_app
    from storylines.store import resolve_db

    uvicorn.run(create_app(resolve_db(db), api_key=api_key), host=host, port=port, log_level=log_level)
