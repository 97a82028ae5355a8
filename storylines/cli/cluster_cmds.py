"""``storylines ingest | stories | story | eval clusters``: fill a store and read its storylines."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import app, eval_app

if TYPE_CHECKING:
    from storylines.cluster.feed import IngestReport

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Store file (default: storylines.db in the user data folder).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("ingest")
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    db: DbOption = None,
    reference_date: Annotated[
        str | None, typer.Option(help="ISO date used when an article's year is missing.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Articles embedded together.")] = 16,
) -> None:
    """Read, enrich, embed and cluster articles into the store; safe to re-run or interrupt."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from storylines.cluster.feed import configured_comparer, feed
    from storylines.cluster.online import OnlineStoryClusterer
    from storylines.ingest import read_paths
    from storylines.pipeline import default_pipeline
    from storylines.store import open_store

    store = open_store(db)
    clusterer = OnlineStoryClusterer(configured_comparer(), store)
    pipeline = default_pipeline(date.fromisoformat(reference_date) if reference_date else None)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def show(report: IngestReport) -> None:
            rate = report.stored / max(progress.tasks[task].elapsed or 0.0, 1e-9)
            progress.update(task, description=f"read {report.read} · stored {report.stored} · {rate:.1f}/s")

        items = _without_store_files(read_paths(paths), store.path)
        report = feed(items, clusterer, pipeline, batch_size, on_batch=show)
    clusterer.close()
    _print_summary(report, store.path)
    store.close()
    if report.skipped:  # the same contract as `inspect`: the exit status tells whether anything was skipped
        raise typer.Exit(code=2)


def _without_store_files(items: Iterable[Article | Skipped], db_path: str) -> Iterator[Article | Skipped]:
    """A store kept inside the folder being ingested is not input: drop its files, not report them."""
    own = {f"{Path(db_path).resolve()}{suffix}" for suffix in ("", "-wal", "-shm", "-journal", ".faiss")}
    for item in items:
        if not (isinstance(item, Skipped) and str(Path(item.source).resolve()) in own):
            yield item


def _print_summary(report: IngestReport, db_path: str) -> None:
    print(
        f"read {report.read} · stored {report.stored} ({report.new_events} new events, "
        f"{report.new_storylines} new storylines, {report.merges} merges) · "
        f"duplicates {report.already_stored} already stored, "
        f"{report.near_duplicates} near-duplicates grouped · skipped {len(report.skipped)} → {db_path}"
    )
    reasons = Counter(item.reason.split(":")[0] for item in report.skipped)
    for reason, count in reasons.most_common():
        print(f"  skipped {count}: {reason}")
    for item in report.skipped[:10]:
        print(f"  skipped {item.source}: {item.reason}", file=sys.stderr)


@app.command("stories")
def stories(
    db: DbOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Largest storylines shown.")] = 50,
) -> None:
    """Storylines, largest first, with their events, articles, dates and languages."""
    from storylines.cluster.report import describe_storyline, format_storyline
    from storylines.store import open_store

    store = open_store(db)
    described = [describe_storyline(store, record.id) for record in store.list_storylines(limit=limit)]
    counts = store.counts()
    store.close()
    if as_json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return
    print(f"{counts.storylines} storylines · {counts.events} events · {counts.articles} articles")
    for story in described:
        print(format_storyline(story))


@app.command("story")
def story(
    storyline_id: Annotated[int, typer.Argument(help="Storyline id (as listed by `storylines stories`).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One storyline with its events and articles (a merged-away id shows where it went)."""
    from storylines.cluster.report import describe_storyline, format_storyline
    from storylines.store import open_store

    store = open_store(db)
    described = describe_storyline(store, storyline_id)
    store.close()
    if described is None:
        print(f"no storyline {storyline_id}", file=sys.stderr)
        raise typer.Exit(code=1)
    if as_json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return
    if described["merged_into"]:
        print(f"storyline {storyline_id} was merged into {described['merged_into']}")
    print(format_storyline(described))


@eval_app.command("clusters")
def eval_clusters(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL: id, lang, time, title, text?, cluster_id.")],
    as_json: JsonOption = False,
    level: Annotated[str, typer.Option(help="Score events or storylines against cluster_id.")] = "event",
) -> None:
    """Cluster a labelled file in time order; print B-cubed and pairwise F1, overall and per language."""
    from storylines.cluster.evaluate import evaluate_clusters

    if level not in ("event", "storyline"):
        raise typer.BadParameter("--level must be 'event' or 'storyline'")
    result = evaluate_clusters(file, level)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(
        f"{level} level · {result['n']} items · {result['n_clusters']} clusters "
        f"({result['n_gold_clusters']} gold) · {result['seconds']:.1f} s"
    )
    print(f"B-cubed P {result['bcubed_p']:.3f} R {result['bcubed_r']:.3f} F1 {result['bcubed_f1']:.3f}")
    print(f"pairwise F1 {result['pairwise_f1']:.3f}")
    for lang, scores in result["by_lang"].items():
        print(f"  {lang:>4} n={scores['n']:<5} B-cubed F1 {scores['bcubed_f1']:.3f}")
