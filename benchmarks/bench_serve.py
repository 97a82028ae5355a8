"""Read latency of the REST API under load: storylines list and hybrid search at 100k articles.

Builds (once, cached at --db) a store of synthetic articles with vectors drawn around random
storyline centroids — no embedding, so 100k articles take about a minute — then starts
``storylines serve`` in a subprocess on a free loopback port and runs a bounded load test:
--clients concurrent clients for --seconds per scenario, loopback only, stopping by itself.
Search embeds its queries with the configured e5 engine (ONNX int8 by default); "search-unique"
sends a new query every time (embedding included), "search-repeat" cycles through 20 queries
(embedding cached).  Each scenario also reports the CPU time the server and wrk used: all share
the same cores.

    python benchmarks/bench_serve.py --articles 100000 --clients 50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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
UNIQUE_PATHS_PER_SECOND = 2_000  # "search-unique" needs one path per request: never one repeated
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


def _wrk(base: str, make_path, clients: int, seconds: float, threads: int, unique: bool = False) -> str:
    """One scenario under wrk; its --latency summary as a report line (the URL must be loopback).
    ``unique``: a path per request (flagged when wrk sent more requests than there were paths)."""
    n_paths = int(UNIQUE_PATHS_PER_SECOND * seconds) if unique else WRK_PATHS
    rng = random.Random(0)
    paths = [httpx.URL(make_path(rng)).raw_path.decode() for _ in range(n_paths)]
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
        + (f"  PATHS REPEATED ({total} requests, {n_paths} paths)" if unique and total > n_paths else "")
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds() -> float:
    """CPU time of this process's finished children: the load generator (wrk) once it has exited."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _report(name: str, latencies: list[float], seconds: float) -> None:
    ms = np.array(latencies) * 1000
    print(
        f"{name:16s} n={len(ms):6d}  {len(ms) / seconds:7.1f} req/s  p50={np.percentile(ms, 50):7.1f} ms"
        f"  p99={np.percentile(ms, 99):7.1f} ms  max={ms.max():7.1f} ms"
    )


def time_in_process(db: Path, clients: int, seconds: float, n_queries: int = 40) -> None:
    """Searches in this process, without HTTP or a load generator: what a search costs the server."""
    from storylines.embed import make_embedder
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    embedder = make_embedder()
    searcher = HybridSearcher(open_store(db), embedder)
    started = time.perf_counter()
    searcher.catch_up()
    print(
        f"index load + hubness of every article: {time.perf_counter() - started:.1f} s ({embedder.model_id})"
    )
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
    time_concurrent_searches(db, embedder, clients, seconds)


def time_concurrent_searches(db: Path, embedder, clients: int, seconds: float) -> None:
    """``clients`` threads searching never-seen queries back to back, as the server's thread pool
    does (one locked read connection): query embedder as before (the shared session behind the disk
    cache), then the server's query path (one thread per search, no disk cache)."""
    from storylines.embed.cache import CachedEmbedder, EmbeddingCache
    from storylines.serve.locked import LockedStore
    from storylines.serve.search import HybridSearcher, server_query_embedder
    from storylines.store import open_store

    store = LockedStore(open_store(db))
    index = store.vector_index(embedder.dim)
    with tempfile.TemporaryDirectory() as folder:
        cached = CachedEmbedder(embedder, EmbeddingCache(Path(folder) / "cache.sqlite"))
        for seed, (name, query_embedder) in enumerate(
            (("shared session + disk cache", cached), ("query path", server_query_embedder(cached)))
        ):
            searcher = HybridSearcher(store, query_embedder, index)
            searcher.catch_up()
            ms, cpu = _search_threads(searcher, clients, seconds, seed)
            print(
                f"{clients} threads, never-seen queries, {name:27s}: {len(ms) / seconds:6.1f} searches/s,"
                f" p50 {np.percentile(ms, 50):7.1f} ms, p99 {np.percentile(ms, 99):7.1f} ms,"
                f" CPU {1000 * cpu / len(ms):5.1f} ms per search; load average {os.getloadavg()[0]:.2f}"
            )


def _search_threads(searcher, clients: int, seconds: float, seed: int) -> tuple[np.ndarray, float]:
    """Latencies (ms) of ``clients`` threads searching new queries for ``seconds``; this process's CPU."""
    deadline = time.perf_counter() + seconds
    numbers = iter(range(10**9))  # next() on a range iterator is atomic under the GIL
    words = [word for vocabulary in WORDS.values() for word in vocabulary[:500]]
    latencies: list[float] = []

    def client(rng: random.Random) -> None:
        while time.perf_counter() < deadline:
            query = f"{' '.join(rng.sample(words, 3))} {seed}x{next(numbers)}"
            sent = time.perf_counter()
            searcher.search(query)
            latencies.append((time.perf_counter() - sent) * 1000)

    cpu = time.process_time()
    threads = [
        threading.Thread(target=client, args=(random.Random(seed * 1000 + i),)) for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array(latencies), time.process_time() - cpu


def _unique_queries(n: int, seed: int = 0) -> list[str]:
    """Queries as "search-unique" sends them: three mid-frequency pseudo-words and a counter."""
    rng = random.Random(seed)
    words = [word for vocabulary in WORDS.values() for word in vocabulary[:500]]
    return [f"{' '.join(rng.sample(words, 3))} {i}" for i in range(n)]


SIXTY_CHARS = "Putin and Obama discuss the ceasefire in Syria at the summit"  # 60 characters


def time_query_embedding(n_queries: int = 128) -> None:
    """Query-embedding latency one query at a time (issue 9's goal) at 1 and 2 threads, and the
    cost per query of one call for a batch of 8/32/64 (plain batching: the int8 graph's activation
    range is shared by the batch, so a batched query's vector moves, cosine ~0.996)."""
    from storylines.embed.onnx_embedder import OnnxE5Embedder

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for threads in (1, 2):
        embedder = OnnxE5Embedder(threads=threads)
        embedder.embed_queries(["warm up"])
        for label, queries in (
            ("3 words + n", _unique_queries(n_queries)),
            ("60 characters", [f"{SIXTY_CHARS[:-4]} {i:3d}" for i in range(n_queries)]),
        ):
            cpu = time.process_time()
            ms = _timed([[query] for query in queries], embedder.embed_queries)
            cpu = 1000 * (time.process_time() - cpu) / len(queries)
            print(
                f"threads={threads} {label:14s} one at a time: p50 {np.percentile(ms, 50):6.1f} ms"
                f"  p99 {np.percentile(ms, 99):6.1f} ms  CPU {cpu:5.1f} ms per query"
                f"  ({embedder.count_tokens(queries[0])} tokens)"
            )
            for size in (8, 32, 64):
                batches = [queries[start : start + size] for start in range(0, len(queries), size)]
                ms = _timed(batches, embedder.embed_queries)
                print(
                    f"threads={threads} {label:14s} batch {size:2d}: call p50 {np.percentile(ms, 50):7.1f} ms"
                    f", {np.percentile(ms, 50) / size:5.2f} ms per query"
                )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _timed(batches: list[list[str]], embed) -> np.ndarray:
    ms = []
    for batch in batches:
        started = time.perf_counter()
        embed(batch)
        ms.append((time.perf_counter() - started) * 1000)
    return np.array(ms)


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
    parser.add_argument("--only", nargs="+", help="run only these scenarios (names as printed)")
    parser.add_argument(
        "--query-embedding", action="store_true", help="time query embedding alone (no store needed)"
    )
    args = parser.parse_args()
    if args.query_embedding:
        return time_query_embedding()
    db = args.db or Path(f"/tmp/storylines-bench-serve-{args.articles}.db")
    if not db.exists():
        build_store(db, args.articles)
    if args.in_process:
        return time_in_process(db, args.clients, args.seconds)
    port = _free_port()
    cache = tempfile.TemporaryDirectory(prefix="bench-serve-cache-")
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
        env=_fresh_embedding_cache(Path(cache.name)),
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
            if not args.only or name in args.only:
                _run_scenario(name, make_path, args, base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        cache.cleanup()


def _fresh_embedding_cache(folder: Path) -> dict[str, str]:
    """The server's environment with an empty embedding cache, so that "never-seen" queries are
    never seen in any run, sharing the converted ONNX graphs of the usual cache folder."""
    from storylines.embed.cache import CACHE_ENV, default_cache_dir

    graphs = default_cache_dir() / "onnx"
    if graphs.is_dir():
        (folder / "onnx").symlink_to(graphs)
    return {**os.environ, CACHE_ENV: str(folder)}


def _run_scenario(name: str, make_path, args: argparse.Namespace, base: str, server_pid: int) -> None:
    """One scenario's latency line, then the CPU the server and the load generator spent on it."""
    server_cpu, client_cpu = _cpu_seconds(server_pid), _children_cpu_seconds()
    if args.tool == "wrk":
        unique = name == "search-unique"
        print(f"{name:16s} {_wrk(base, make_path, args.clients, args.seconds, args.threads, unique)}")
        client = f"wrk {_children_cpu_seconds() - client_cpu:.1f} s"
    else:
        _report(name, asyncio.run(_load(base, make_path, args.clients, args.seconds)), args.seconds)
        client = "this process (not counted)"
    print(
        f"{'':16s} CPU: server {_cpu_seconds(server_pid) - server_cpu:.1f} s, load generator {client}"
        f" (of {os.cpu_count() * args.seconds:.0f} core-s); load average {os.getloadavg()[0]:.2f}"
    )


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
