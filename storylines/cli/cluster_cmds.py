"""``storylines ingest | stories | story | eval clusters``: fill a store and read its storylines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import DbOption, app, eval_app

if TYPE_CHECKING:
    from storylines.service import IngestReport

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def reference_date_option(value: str | None) -> date | None:
    """``--reference-date``: an ISO date, or a usage error naming the bad value."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date such as 2024-03-05") from None


ReferenceDate = Annotated[str | None, typer.Option(help="ISO date used when an article's year is missing.")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Clusterer setting NAME=VALUE (e.g. event_days=2); saved with the store."),
]


def settings_option(values: list[str] | None) -> dict[str, Any]:
    """``--set`` values as validated overrides, or a usage error naming the bad one."""
    from storylines.settings import ClusterSettings, SettingsError, parse_overrides

    try:
        overrides = parse_overrides(values or [])
        ClusterSettings().with_overrides(overrides)
    except SettingsError as error:
        raise typer.BadParameter(str(error), param_hint="--set") from None
    return overrides


@app.command("ingest")
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    db: DbOption = None,
    reference_date: ReferenceDate = None,
    batch_size: Annotated[int, typer.Option(min=1, max=4096, help="Articles embedded together.")] = 16,
    set_: SetOption = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Read, enrich and embed on a local Dask cluster of this many processes."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Read, enrich and embed on an existing Dask cluster (tcp://host:8786).")
    ] = None,
) -> None:
    """Read, enrich, embed and cluster articles into the store; safe to re-run or interrupt."""
    from storylines.cli.progress import IngestProgress
    from storylines.engine import Engine
    from storylines.ingest import ReadProgress, read_paths
    from storylines.pipeline import default_pipeline
    from storylines.service import IngestService

    pipeline = default_pipeline(reference_date_option(reference_date))
    overrides = settings_option(set_)
    read_progress = ReadProgress()
    with Engine.open(db, overrides=overrides) as engine, IngestProgress(read_progress) as progress:
        service = IngestService(engine, pipeline, batch_size)
        if workers or scheduler:
            from storylines.distributed import open_client, run_distributed

            with open_client(workers, scheduler) as client:
                own = _store_files(engine.url)
                report = run_distributed(
                    service, paths, client, reference_date, own, on_batch=progress.update
                )
        else:
            items = _without_store_files(read_paths(paths, progress=read_progress), engine.url)
            report = service.run(items, on_batch=progress.update)
    _print_summary(report, engine.url)
    if report.skipped:  # the same contract as `inspect`: the exit status tells whether anything was skipped
        raise typer.Exit(code=2)


def _store_files(url: str) -> set[str]:
    """The files of a SQLite store (none for a server): not input when inside a folder being read."""
    suffixes = ("", "-wal", "-shm", "-journal", ".faiss", ".faiss.lock")
    return {f"{Path(url).resolve()}{suffix}" for suffix in suffixes}


def _without_store_files(items: Iterable[Article | Skipped], url: str) -> Iterator[Article | Skipped]:
    """A store kept inside the folder being ingested is not input: drop its files, not report them."""
    own = _store_files(url)
    for item in items:
        if not (isinstance(item, Skipped) and str(Path(item.source).resolve()) in own):
            yield item


def _print_summary(report: IngestReport, db_path: str) -> None:
    print(
        f"read {report.read} · stored {report.stored} ({report.new_events} new events, "
        f"{report.new_storylines} new storylines) · "
        f"duplicates {report.already_stored} already stored, "
        f"{report.near_duplicates} near-duplicates grouped · skipped {len(report.skipped)} → {db_path}"
    )
    for reason, count in report.skipped.kinds.most_common():
        print(f"  skipped {count}: {reason}")
    for item in report.skipped.first[:10]:
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
    storyline_id: Annotated[
        int, typer.Argument(min=1, max=2**63 - 1, help="Storyline id (as listed by `storylines stories`).")
    ],
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


@app.command("recluster")
def recluster_command(
    since: Annotated[
        str, typer.Option(help="Window ending at the newest article, in hours or days: 12h, 3d, 7d.")
    ] = "3d",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Place a recent window's articles again, in time order; ids stay with most of their articles."""
    from storylines.cluster.recluster import parse_since, recluster
    from storylines.engine import Engine

    try:
        span = parse_since(since)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None
    with Engine.open(db) as engine:
        report = recluster(engine, span)
    if as_json:
        print(json.dumps(report.summary(), indent=2))
        return
    print(
        f"reclustered {report.articles} articles ({report.start} to {report.end}) · {report.moved} moved · "
        f"events {report.events_kept} kept, {report.events_created} created, "
        f"{report.events_removed} removed · storylines {report.storylines_kept} kept, "
        f"{report.storylines_created} created, "
        f"{report.storylines_removed} removed → {engine.url}"
    )


@eval_app.command("clusters")
def eval_clusters(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL: id, lang, time, title, text?, cluster_id.")],
    as_json: JsonOption = False,
    level: Annotated[str, typer.Option(help="Score events or storylines against cluster_id.")] = "event",
    holdout: Annotated[
        float, typer.Option(min=0, max=0.99, help="Score only the last share by time, as a fresh stream.")
    ] = 0.0,
    new_events: Annotated[
        bool,
        typer.Option("--new-events", help="With --holdout: only the events that start in the held-out part."),
    ] = False,
    set_: SetOption = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="An empty store to cluster into, e.g. postgresql://… (default: a temporary file)."
        ),
    ] = None,
) -> None:
    """Cluster a labelled file in time order; print B-cubed and pairwise scores, overall and per language."""
    from storylines.cluster.evaluate import evaluate_clusters

    if level not in ("event", "storyline"):
        raise typer.BadParameter("--level must be 'event' or 'storyline'")
    if new_events and not holdout:
        raise typer.BadParameter("--new-events needs --holdout")
    overrides = settings_option(set_)
    result = evaluate_clusters(file, level, holdout, db, overrides=overrides, new_events=new_events)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(
        f"{level} level · {result['n']} items · {result['n_clusters']} clusters "
        f"({result['n_gold_clusters']} gold) · {result['seconds']:.1f} s"
    )
    print(f"B-cubed P {result['bcubed_p']:.3f} R {result['bcubed_r']:.3f} F1 {result['bcubed_f1']:.3f}")
    print(
        f"pairwise P {result['pairwise_p']:.3f} R {result['pairwise_r']:.3f} F1 {result['pairwise_f1']:.3f}"
    )
    print(
        f"largest cluster {result['largest']} (largest gold {result['largest_gold']}) · "
        f"storyline purity {result['storyline_purity']:.3f} · largest storyline {result['largest_storyline']}"
    )
    for lang, scores in result["by_lang"].items():
        print(f"  {lang:>4} n={scores['n']:<5} B-cubed F1 {scores['bcubed_f1']:.3f}")
