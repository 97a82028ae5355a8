"""``storylines compare A B`` and ``storylines eval pairs CSV``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from storylines.article import Article, Skipped
from storylines.cli.app import app, eval_app


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=2)


def read_side(label: str, path: str) -> Article:
    """The first article in ``path`` ('-' for stdin), or a clear error naming the side."""
    from storylines.ingest import read_paths

    if path != "-" and not Path(path).exists():
        raise _fail(f"{label}: no such file: {path}")
    try:
        items = list(read_paths([path]))
    except (OSError, ValueError) as error:
        raise _fail(f"{label}: cannot read {path}: {error}") from error
    articles = [item for item in items if isinstance(item, Article)]
    if not articles:
        reason = next((item.reason for item in items if isinstance(item, Skipped)), "no article found")
        raise _fail(f"{label}: empty or unreadable file {path}: {reason}")
    article = articles[0]
    if not (article.title.strip() or article.body.strip()):
        raise _fail(f"{label}: empty file {path}")
    return article


def _enrich(articles: list[Article]) -> list[Article]:
    from storylines.pipeline import default_pipeline

    pipeline = default_pipeline()
    return [pipeline(article) for article in articles]


def _verdict_text(result: dict[str, Any]) -> str:
    dims = "  ".join(f"{name} {value:.2f}" for name, value in result["dimensions"].items())
    lines = [
        f"overall {result['overall']:.2f} (1 = same story … 4 = unrelated): "
        f"{'same story' if result['same_story'] else 'different stories'}"
        f"{', near-duplicate' if result['near_duplicate'] else ''}",
        f"  {dims}",
    ]
    evidence = result["evidence"]
    if evidence.get("shared_entities"):
        lines.append(f"  shared entities: {', '.join(evidence['shared_entities'][:12])}")
    for pair in evidence.get("sentence_pairs", [])[:2]:
        lines.append(f"  {pair['similarity']:.2f}  A: {pair['a'][:90]}\n        B: {pair['b'][:90]}")
    return "\n".join(lines)


@app.command("compare")
def compare(
    a: Annotated[str, typer.Argument(help="First article: a file the readers take, or '-' for stdin.")],
    b: Annotated[str, typer.Argument(help="Second article.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Do two reports, maybe in different languages, tell the same story?"""
    from dataclasses import asdict

    from storylines.compare import load_comparer

    if a == "-" and b == "-":
        raise _fail("A and B cannot both be '-' (stdin)")
    articles = _enrich([read_side("A", a), read_side("B", b)])
    comparer = load_comparer()
    rep_a, rep_b = comparer.represent_many(articles)
    result = asdict(comparer.compare(rep_a, rep_b, detail=True))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else _verdict_text(result))


@eval_app.command("pairs")
def eval_pairs(
    csv: Annotated[
        Path,
        typer.Argument(help="SemEval-2022 Task 8 CSV: text1, text2, Overall[, dimensions, lang1, lang2]."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int | None, typer.Option(help="Use only the first N pairs.")] = None,
) -> None:
    """Pearson r of the committed model against human scores."""
    from storylines.compare import load_comparer

    try:
        from storylines.compare.evaluate import (
            featurize_pairs,
            pearson,
            pearson_by_dimension,
            pearson_by_pair,
            read_pairs,
        )
    except ImportError as missing:  # evaluation needs pandas, which the product itself does not
        raise _fail(f"eval pairs needs {missing.name}: pip install 'storylines[eval]'") from missing
    if not csv.is_file():
        raise _fail(f"no such file: {csv}")
    started = time.perf_counter()
    frame = read_pairs(csv, limit)
    if "Overall" not in frame or frame.empty:
        raise _fail(f"{csv}: needs text1, text2 and Overall columns with at least one pair")
    comparer = load_comparer()
    data = featurize_pairs(frame, comparer)
    predictions = comparer.model.predict(data.features)
    result = {
        "pearson": pearson(predictions["overall"], frame.Overall.to_numpy()),
        "n": len(frame),
        "by_pair": pearson_by_pair(frame, predictions["overall"], min_pairs=1),
        "by_dimension": pearson_by_dimension(frame, predictions),
        "seconds": round(time.perf_counter() - started, 2),
        "note": "the committed model was trained on the SemEval-2022 dev pairs: on that file this is a "
        "training-set number; see scripts/train_compare.py --cv for cross-validated scores",
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Pearson r {result['pearson']:.3f} over {result['n']} pairs in {result['seconds']} s")
    for lang_pair, row in result["by_pair"].items():
        typer.echo(f"  {lang_pair:8} n={row['n']:<5} r={row['pearson']:.3f}")
    for dim, value in result["by_dimension"].items():
        typer.echo(f"  {dim:10} r={value:.3f}")
    typer.echo(f"note: {result['note']}")
