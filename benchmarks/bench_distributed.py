"""Dask ingest against one process: the CPU stages, then the whole ``storylines ingest`` path.

Articles are the ~2 kB SemEval-based .txt files of ``bench_ingest.py``.  ``cpu``: read, clean
and enrich (the single-threaded stages) in one loop, then on a ``LocalCluster`` of ``--workers``
single-threaded processes, one task per group of files (the cluster's start timed apart).  Steady
state: every process first makes one untimed pass over the corpus, which loads the per-language
models and rules (a one-off cost of tens of seconds).  ``ingest``: the full path including
embedding and placement, into fresh temporary stores, ``IngestService.run`` against
``run_distributed``.

Run: PYTHONPATH=. python benchmarks/bench_distributed.py [--n 600] [--workers 2] [--mode cpu|ingest|both]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.bench_ingest import PAIRS, write_articles

if TYPE_CHECKING:
    from storylines.pipeline import Pipeline


@cache
def _pipeline() -> Pipeline:
    from storylines.pipeline import default_pipeline

    return default_pipeline()


def enrich_files(paths: list[str]) -> int:
    """Read, clean and enrich some files (on a worker); the number of articles."""
    from storylines.article import Article
    from storylines.ingest.sources import read_file

    articles = [item for path in paths for item in read_file(Path(path)) if isinstance(item, Article)]
    return len([_pipeline()(article) for article in articles])


def cpu_stages(corpus: Path, workers: int) -> None:
    from distributed import Client, LocalCluster

    from storylines.distributed import file_groups

    files = [str(path) for path in sorted(corpus.iterdir())]
    enrich_files(files)  # a first pass loads every language's models and rules: not timed
    started = time.perf_counter()
    n = sum(enrich_files([path]) for path in files)
    one = n / (time.perf_counter() - started)
    print(f"cpu stages, one process: {n} articles, {one:.0f} articles/s")
    started = time.perf_counter()
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        print(f"LocalCluster of {workers} started in {time.perf_counter() - started:.1f} s")
        client.run(enrich_files, files)  # the same untimed first pass on every worker
        started = time.perf_counter()
        groups = [g for g in file_groups([str(corpus)]) if isinstance(g, list)]
        n = sum(client.gather(client.map(enrich_files, groups, pure=False)))
        many = n / (time.perf_counter() - started)
    print(f"cpu stages, dask {workers} workers: {n} articles, {many:.0f} articles/s, {many / one:.2f}x")


def full_ingest(corpus: Path, workers: int, folder: Path) -> None:
    from storylines.distributed import open_client, run_distributed
    from storylines.engine import Engine
    from storylines.ingest import read_paths
    from storylines.service import IngestService

    for run, label in enumerate(("one process", f"dask {workers} workers")):
        os.environ["STORYLINES_CACHE_DIR"] = str(folder / f"cache-{run}")  # each run embeds afresh
        with Engine.open(folder / f"{label}.db") as engine:
            service = IngestService(engine)
            engine.comparer.represent_many([service.pipeline(next(iter(read_paths([str(corpus)]))))])
            if label == "one process":
                started = time.perf_counter()
                report = service.run(read_paths([str(corpus)]))
            else:
                with open_client(workers) as client:
                    started = time.perf_counter()
                    report = run_distributed(service, [str(corpus)], client)
            wall = time.perf_counter() - started
            rate = report.stored / wall
            print(f"ingest, {label}: {report.stored} stored, {rate:.1f} articles/s ({wall:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mode", choices=["cpu", "ingest", "both"], default="both")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        write_articles(args.pairs, corpus, args.n)
        if args.mode in ("cpu", "both"):
            cpu_stages(corpus, args.workers)
        if args.mode in ("ingest", "both"):
            full_ingest(corpus, args.workers, Path(folder))


if __name__ == "__main__":
    main()
