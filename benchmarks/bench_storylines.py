"""Do storylines read as one story?  SemEval-2022 dev pairs ingested as one stream, and the seeds.

1. Every distinct article of the dev pairs is placed, in one fixed shuffled order, into one
   store.  For each held-out pair we ask: does a pair annotators judged the same story
   (Overall ≤ 1.5) share an event, and a storyline?  Does a pair they judged unrelated
   (Overall ≥ 3.5) share a storyline, a dissimilar one (≥ 2.5) an event?  The compare model
   was trained on these pairs, so the stream is run once per fold of a 5-fold split grouped by
   base pair id, each time with a compare model refitted without that fold, and only that
   fold's pairs are counted.
2. The four bundled seed reports (``samples/``) are placed among ``--distractors`` dev articles
   with the shipped model: do they still form one storyline, and how large is it?

Run: PYTHONPATH=. python benchmarks/bench_storylines.py [--pairs CSV] [--distractors 300] [--set NAME=VALUE]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from storylines.article import Article
from storylines.cluster.evaluate import LabelledPair, read_semeval_pairs
from storylines.cluster.online import OnlineStoryClusterer
from storylines.compare import StoryComparer, load_comparer
from storylines.compare.evaluate import base_pair_id
from storylines.compare.features import pair_features
from storylines.compare.representation import ArticleRepresentation
from storylines.ingest import read_paths
from storylines.pipeline import default_pipeline
from storylines.settings import ClusterSettings, parse_overrides
from storylines.store import open_store

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT.parent / "shared/data/semeval2022-task8/pairs.csv"
SAME, DISSIMILAR, UNRELATED = 1.5, 2.5, 3.5


def place_all(
    comparer: StoryComparer,
    articles: list[Article],
    reps: list[ArticleRepresentation],
    settings: ClusterSettings,
) -> tuple[dict[str, tuple[int, int]], list[float]]:
    """(event, storyline) of every article id, and the seconds each placement took."""
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "bench.db")
        clusterer = OnlineStoryClusterer(comparer, store, settings)
        for article, rep in zip(articles, reps, strict=True):
            started = time.perf_counter()
            clusterer.place(article, rep)
            seconds.append(time.perf_counter() - started)
        placed = {}
        for article in articles:
            stored = store.get_article(article.id)
            assert stored is not None and stored.event_id is not None and stored.storyline_id is not None
            placed[article.id] = (stored.event_id, stored.storyline_id)
        store.close()
    return placed, seconds


def fold_comparers(pairs: list[LabelledPair], reps: dict[str, ArticleRepresentation]):
    """(held-out pair indices, a comparer whose model never saw them) for 5 grouped folds."""
    base = load_comparer()
    rows = np.vstack([pair_features(reps[p.first], reps[p.second]) for p in pairs])
    gold = np.array([p.scores(base.model.targets) for p in pairs])
    groups = [base_pair_id(p.pair_id) for p in pairs]
    for held, model in base.model.out_of_fold(rows, gold, groups):
        yield held, StoryComparer(embedder=base.embedder, model=model)


def semeval_stream(csv_path: Path, settings: ClusterSettings) -> None:
    articles, pairs = read_semeval_pairs(csv_path)
    pipeline = default_pipeline()
    order = sorted(articles)
    random.Random(13).shuffle(order)
    enriched = [pipeline(articles[article_id]) for article_id in order]
    reps_list = load_comparer().represent_many(enriched)
    reps = dict(zip(order, reps_list, strict=True))
    junk = {article.id for article in enriched if article.not_article}
    tallies: Counter[str] = Counter()
    largest, seconds = [], []
    for held, comparer in fold_comparers(pairs, reps):
        placed, took = place_all(comparer, enriched, reps_list, settings)
        seconds += took
        before = Counter(tallies)
        storylines = Counter(storyline for _, storyline in placed.values())
        largest.append(storylines.most_common(1)[0][1])
        for index in held:
            pair = pairs[index]
            (event_a, story_a), (event_b, story_b) = placed[pair.first], placed[pair.second]
            if pair.overall <= SAME:
                tallies["same"] += 1
                tallies["same_event"] += event_a == event_b
                tallies["same_storyline"] += story_a == story_b
                # Where the loss is: the pair's own judgement, or the event decision around it.
                judged = comparer.compare(reps[pair.first], reps[pair.second])
                clears = (judged.same_event or 0.0) >= settings.body_join
                tallies["same_clears"] += clears
                tallies["same_clears_event"] += clears and event_a == event_b
                links = judged.overall <= settings.storyline_overall
                tallies["same_links"] += links
                tallies["same_links_storyline"] += links and story_a == story_b
            if pair.overall >= DISSIMILAR:  # what a looser event decision costs
                tallies["dissimilar"] += 1
                tallies["dissimilar_event"] += event_a == event_b
            if pair.overall >= UNRELATED:
                tallies["unrelated"] += 1
                tallies["unrelated_storyline"] += story_a == story_b
                if not {pair.first, pair.second} & junk:
                    tallies["unrelated_articles"] += 1
                    tallies["unrelated_articles_storyline"] += story_a == story_b
        fold = tallies - before
        print(
            f"  fold done: {len(storylines)} storylines, largest {largest[-1]}; same-story pairs sharing "
            f"an event {fold['same_event']}/{fold['same']}, "
            f"a storyline {fold['same_storyline']}/{fold['same']}; "
            f"dissimilar sharing an event {fold['dissimilar_event']}/{fold['dissimilar']}; unrelated "
            f"sharing a storyline {fold['unrelated_storyline']}/{fold['unrelated']}",
            flush=True,
        )
    print(f"SemEval dev stream: {len(order)} articles, {len(pairs)} pairs, 5 folds")
    print(
        f"  same-story pairs (Overall ≤ {SAME}, n={tallies['same']}): share an event "
        f"{tallies['same_event'] / tallies['same']:.1%}, share a storyline "
        f"{tallies['same_storyline'] / tallies['same']:.1%}"
    )
    print(
        f"    of them, {tallies['same_clears'] / tallies['same']:.1%} clear body_join on their own "
        f"(the pair judged alone); of those, "
        f"{tallies['same_clears_event'] / max(tallies['same_clears'], 1):.1%} share an event"
    )
    print(
        f"    {tallies['same_links'] / tallies['same']:.1%} reach storyline_overall on their own; of those, "
        f"{tallies['same_links_storyline'] / max(tallies['same_links'], 1):.1%} share a storyline"
    )
    print(
        f"  dissimilar pairs (Overall ≥ {DISSIMILAR}, n={tallies['dissimilar']}): share an event "
        f"{tallies['dissimilar_event'] / tallies['dissimilar']:.1%}"
    )
    print(
        f"  unrelated pairs (Overall ≥ {UNRELATED}, n={tallies['unrelated']}): share a storyline "
        f"{tallies['unrelated_storyline'] / tallies['unrelated']:.1%}"
    )
    print(
        f"  the same, leaving out pairs with a side flagged as no article ({len(junk)} texts: block pages, "
        f"cookie walls, empty shells; n={tallies['unrelated_articles']}): "
        f"{tallies['unrelated_articles_storyline'] / tallies['unrelated_articles']:.1%}"
    )
    print(f"  largest storyline per fold run: {largest}")
    print(
        f"  placement p50 {np.percentile(seconds, 50) * 1000:.1f} ms, "
        f"p99 {np.percentile(seconds, 99) * 1000:.1f} ms"
    )


def seeds_among_distractors(csv_path: Path, distractors: int, settings: ClusterSettings) -> None:
    pipeline = default_pipeline()
    seeds = [pipeline(item) for item in read_paths([str(ROOT / "samples")]) if isinstance(item, Article)]
    articles, _ = read_semeval_pairs(csv_path)
    others = sorted(articles)
    random.Random(7).shuffle(others)
    stream = [pipeline(articles[article_id]) for article_id in others[:distractors]]
    rng = random.Random(11)
    for seed in seeds:
        stream.insert(rng.randrange(len(stream) + 1), seed)
    comparer = load_comparer()
    placed, _ = place_all(comparer, stream, comparer.represent_many(stream), settings)
    seed_storylines = {placed[seed.id][1] for seed in seeds}
    sizes = Counter(storyline for _, storyline in placed.values())
    print(
        f"seeds among {distractors} distractors: {len(seeds)} seeds in {len(seed_storylines)} storyline(s) "
        f"of sizes {[sizes[s] for s in sorted(seed_storylines)]}; "
        f"{len({placed[seed.id][0] for seed in seeds})} events; "
        f"largest storyline {sizes.most_common(1)[0][1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("--skip-stream", action="store_true", help="only the seeds among distractors")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a cluster setting")
    args = parser.parse_args()
    settings = ClusterSettings(**parse_overrides(args.set))
    print(f"settings: {settings.model_dump()}")
    if not args.skip_stream:
        semeval_stream(args.pairs, settings)
    seeds_among_distractors(args.pairs, args.distractors, settings)


if __name__ == "__main__":
    main()
