"""``storylines ingest | stories | story | eval clusters``: fill a store and read its storylines."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import DbOption, app, eval_app

if TYPE_CHECKING:
    from storylines.service import IngestReport

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("ingest")
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    db: DbOption = None,
    reference_date: Annotated[
        str | None, typer.Option(help="ISO date used when an article's year is missing.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Articles embedded together.")] = 16,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Read, enrich and embed on a local Dask cluster of this many processes."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Read, enrich and embed on an existing Dask cluster (tcp://host:8786).")
    ] = None,
) -> None:
    """Read, enrich, embed and cluster articles into the store; safe to re-run or interrupt."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.pipeline import default_pipeline
    from storylines.service import IngestService

    engine = Engine.open(db)
    pipeline = default_pipeline(date.fromisoformat(reference_date) if reference_date else None)
    service = IngestService(engine, pipeline, batch_size)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    started = time.perf_counter()
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def show(report: IngestReport) -> None:
            rate = report.read / max(time.perf_counter() - started, 1e-9)
            progress.update(
                task, description=f"read {report.read} · stored {report.stored} · {rate:.1f} articles/s"
            )

        if workers or scheduler:
            from storylines.distributed import open_client, run_distributed

            with open_client(workers, scheduler) as client:
                own = _store_files(engine.url)
                report = run_distributed(service, paths, client, reference_date, own, on_batch=show)
        else:
            report = service.run(_without_store_files(read_paths(paths), engine.url), on_batch=show)
    engine.close()
    _print_summary(report, engine.url)
    if report.skipped:  # the same contract as `inspect`: the exit status tells whether anything was skipped
        raise typer.Exit(code=2)


def _store_files(url: str) -> set[str]:
    """The files of a SQLite store (none for a server): not input when inside a folder being read."""
    return {f"{Path(url).resolve()}{suffix}" for suffix in ("", "-wal", "-shm", "-journal", ".faiss")}


def _without_store_files(items: Iterable[Article | Skipped], url: str) -> Iterator[Article | Skipped]:
    """A store kept inside the folder being ingested is not input: drop its files, not report them."""
    own = _store_files(url)
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
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="An empty store to cluster into, e.g. postgresql://… (default: a temporary file)."
        ),
    ] = None,
) -> None:
    """Cluster a labelled file in time order; print B-cubed and pairwise F1, overall and per language."""
    from storylines.cluster.evaluate import evaluate_clusters

    if level not in ("event", "storyline"):
        raise typer.BadParameter("--level must be 'event' or 'storyline'")
    result = evaluate_clusters(file, level, db)  # type: ignore[arg-type]
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
