"""What one ``recluster`` pass does to event quality on the OG2021 held-out titles (issue 8).

The held-out part (last share by time, as ``eval clusters --holdout``) is ingested twice into
fresh stores: once in time order (as ``eval clusters`` does), once with late arrivals (a share
of the titles reach the store hours to days after their publication, so the online pass sees
them out of order).  Each store is then reclustered once over the whole held-out span, and
event B-cubed / pairwise scores are printed before and after, with the pass's counts and time.

    PYTHONPATH=. python benchmarks/bench_recluster.py ../shared/data/og2021-dev/og2021_dev.csv --holdout 0.4
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from storylines.cluster.evaluate import LabelledItem, holdout_split, read_labelled, score
from storylines.cluster.recluster import recluster
from storylines.engine import Engine
from storylines.service import IngestService


def arrival_order(
    items: list[LabelledItem], late: float, max_delay_hours: float, seed: int
) -> list[LabelledItem]:
    """Items in the order they reach the store: ``late`` of them delayed by up to ``max_delay_hours``."""
    rng = random.Random(seed)

    def arrives(item: LabelledItem) -> datetime:
        published = datetime.fromisoformat(item.time or "9999-01-01")
        delayed = rng.random() < late
        return published + timedelta(hours=rng.uniform(1, max_delay_hours) if delayed else 0)

    return [item for _, item in sorted(((arrives(item), i), item) for i, item in enumerate(items))]


def event_scores(engine: Engine, items: list[LabelledItem]) -> dict[str, float]:
    stored = {s.id: s for s in engine.store.get_articles([item.article.id for item in items])}
    kept = [item for item in items if item.article.id in stored]
    result = score([i.cluster_id for i in kept], [stored[i.article.id].event_id for i in kept])
    return {key: result[key] for key in ("bcubed_p", "bcubed_r", "bcubed_f1", "pairwise_f1", "largest")}


def run(items: list[LabelledItem], order: list[LabelledItem], span: timedelta) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder, Engine.open(Path(folder) / "bench.db") as engine:
        started = time.perf_counter()
        IngestService(engine).run([item.article for item in order])
        ingest_seconds = time.perf_counter() - started
        before = event_scores(engine, items)
        started = time.perf_counter()
        report = recluster(engine, span)
        seconds = time.perf_counter() - started
        after = event_scores(engine, items)
        problems = engine.store.check_integrity()
    return {
        "before": before,
        "after": after,
        "report": report.summary(),
        "seconds": seconds,
        "ingest_seconds": ingest_seconds,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--holdout", type=float, default=0.4)
    parser.add_argument("--late", type=float, default=0.3, help="share of titles arriving late")
    parser.add_argument("--max-delay-hours", type=float, default=48.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one late-arrival run per seed")
    args = parser.parse_args()
    items = sorted(read_labelled(args.file), key=lambda item: (item.time is None, item.time or ""))
    items = items[holdout_split(len(items), args.holdout)[0] :]
    days = {item.time[:10] for item in items if item.time}
    span = timedelta(days=len(days) + 1)  # one pass over the whole held-out part
    print(f"{len(items)} held-out titles, {min(days)} to {max(days)} · load {os.getloadavg()[0]:.2f}")
    print(
        "| arrival order | B3 P | B3 R | B3 F1 | pair F1 | largest | moved | events kept/created/removed "
        "| recluster s | ingest s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    late = f"{args.late:.0%} late by ≤{args.max_delay_hours:.0f} h"
    orders = {"time order": items} | {
        f"{late} (seed {seed})": arrival_order(items, args.late, args.max_delay_hours, seed)
        for seed in args.seeds
    }
    for name, order in orders.items():
        result = run(items, order, span)
        report = result["report"]
        for stage in ("before", "after"):
            s = result[stage]
            events = f"{report['events_kept']}/{report['events_created']}/{report['events_removed']}"
            changes = (
                f"{report['moved']} | {events} | {result['seconds']:.1f} | {result['ingest_seconds']:.1f}"
                if stage == "after"
                else "| | |"
            )
            print(
                f"| {name}, {'online' if stage == 'before' else 'after 1 recluster'} | {s['bcubed_p']:.3f} "
                f"| {s['bcubed_r']:.3f} | {s['bcubed_f1']:.3f} | {s['pairwise_f1']:.3f} | {s['largest']} "
                f"| {changes} |"
            )
        if result["problems"]:
            print(f"integrity problems after recluster: {result['problems']}")
    print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
