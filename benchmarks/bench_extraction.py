"""Article-body extraction: ``storylines`` reading (trafilatura + our cleaning) against plain trafilatura.

Scored the way the ScrapingHub article-extraction benchmark scores: per page, precision, recall and
F1 of the sets of 4-token shingles of the extracted text against the hand-made body, then the mean
of each over pages.  Two sources of pages:

* ``--pages DIR``: a benchmark in the ScrapingHub layout (``DIR/html/<id>.html.gz`` and
  ``DIR/ground-truth.json`` mapping id → {"articleBody": …}), e.g. a checkout of
  github.com/scrapinghub/article-extraction-benchmark (181 pages).  Not shipped here.
* ``--newspaper4k CACHE``: 23 real news pages (English, Spanish, Arabic, Chinese, Japanese, Korean,
  Thai, Burmese, Latvian) with expected article texts, from the tests of newspaper4k 0.9.6 (MIT).
  The set is fetched at benchmark time with ``pip download`` into CACHE (never into the repo).
  Caveat: its expected texts are newspaper's own output, checked by its authors, not hand-made
  bodies, so the set leans towards newspaper's idea of a body (e.g. no subheads or captions).
* ``--synthetic N`` (default when no other source): N pages built from SemEval-2022 Task 8 article
  texts in ``../shared/data`` wrapped in a news template with a menu, a "most read" headline list,
  share and comment widgets and a footer, and inside the article a subhead, a bulleted list and a
  credit line: real article bodies, synthetic pages.  An honest stand-in, not the 181-page set.

Run from the repository root with ``PYTHONPATH=.`` to measure this checkout's ``storylines``:

    python benchmarks/bench_extraction.py --synthetic 200
    python benchmarks/bench_extraction.py --pages ~/article-extraction-benchmark
    python benchmarks/bench_extraction.py --newspaper4k ~/.cache/storylines-bench --per-page
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import random
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import trafilatura

from storylines.article import Article
from storylines.clean.boilerplate import BoilerplateRemover
from storylines.ingest import read_bytes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2022-task8" / "pairs.csv"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.lower())
    return {tuple(tokens[i : i + size]) for i in range(max(len(tokens) - size + 1, 1))} if tokens else set()


def overlap(predicted: str, truth: str) -> tuple[int, int, int]:
    """(shared, predicted, true) 4-shingle counts: per-page scores and corpus (micro) sums."""
    got, want = shingles(predicted), shingles(truth)
    return len(got & want), len(got), len(want)


def prf(shared: int, predicted: int, true: int) -> tuple[float, float, float]:
    """Precision, recall, F1; an empty prediction scores 1 only against an empty truth."""
    if not predicted or not true:
        return (1.0, 1.0, 1.0) if predicted == true else (0.0, 0.0, 0.0)
    precision, recall = shared / predicted, shared / true
    return precision, recall, 2 * precision * recall / (precision + recall) if shared else 0.0


def real_pages(folder: Path) -> Iterator[tuple[str, bytes, str]]:
    truth = json.loads((folder / "ground-truth.json").read_text())
    for page_id, item in sorted(truth.items()):
        page = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        yield page_id, page, item["articleBody"]


NEWSPAPER4K = "newspaper4k==0.9.6"


def newspaper4k_pages(cache: Path) -> Iterator[tuple[str, bytes, str]]:
    """The pages of newspaper4k's tests that have an expected text, downloaded once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    name = NEWSPAPER4K.replace("==", "-")
    archive = cache / f"{name}.tar.gz"
    if not archive.exists():
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", cache]
        subprocess.run([*command, NEWSPAPER4K], check=True)
    data = cache / name / "tests" / "data"
    if not data.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    for page in sorted((data / "html").glob("*.html")):
        truth = data / "txt" / f"{page.stem}.txt"
        if truth.exists():
            yield page.stem, page.read_bytes(), truth.read_text(encoding="utf-8")


_MENU = ["Home", "World", "Politics", "Business", "Sport", "Culture", "Opinion", "Video"]
_WIDGETS = ["Share on Facebook", "Share on Twitter", "Email", "Print"]


def _page(title: str, paragraphs: list[str], others: list[str]) -> tuple[str, str]:
    """(HTML, gold body) for one article: body paragraphs with a subhead and a list inside
    (list items: the first words of other articles' sentences, as in a "key points" box)."""
    body = list(paragraphs)
    items = [" ".join(other.split()[-9:]) for other in others[:3]]
    cut = max(1, len(body) // 2)
    subhead = " ".join(others[0].split()[:5])
    gold = [*body[:cut], subhead, *items, *body[cut:], "Reporting by Jane Doe; editing by John Roe"]
    paragraphs_html = "".join(f"<p>{html.escape(p)}</p>" for p in body[:cut])
    paragraphs_html += f"<h2>{html.escape(subhead)}</h2>"
    paragraphs_html += "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
    paragraphs_html += "".join(f"<p>{html.escape(p)}</p>" for p in body[cut:])
    paragraphs_html += "<p><em>Reporting by Jane Doe; editing by John Roe</em></p>"
    menu = "".join(f'<li><a href="/{m.lower()}">{m}</a></li>' for m in _MENU)
    most_read = "".join(f'<li><a href="/a/{i}">{html.escape(t[:90])}</a></li>' for i, t in enumerate(others))
    share = "".join(f'<a href="#">{w}</a>' for w in _WIDGETS)
    page = f"""<!doctype html><html lang="en"><head><title>{html.escape(title)} | Daily News</title></head>
<body><header><nav><ul>{menu}</ul></nav></header>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By Staff Reporter</p>
<div class="article-body">{paragraphs_html}</div><div class="share">{share}</div></article>
<aside><h3>Most read</h3><ol>{most_read}</ol></aside>
<section class="comments"><h3>Comments</h3><p>Log in to comment.</p></section></main>
<footer><p>© 2024 Daily News. All rights reserved.</p><a href="/privacy">Privacy</a></footer></body></html>"""
    return page, "\n".join(gold)


def synthetic_pages(n: int, seed: int = 12) -> Iterator[tuple[str, bytes, str]]:
    with SHARED.open(encoding="utf-8") as handle:
        texts = [row["text1"] for row in csv.DictReader(handle) if row["lang1"] == "en"]
    rng = random.Random(seed)
    for index in range(len(texts)):
        sentences = re.split(r"(?<=[.!?])\s+", " ".join(texts[index].split()))
        title, sentences = sentences[0], sentences[1:]
        paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2) if sentences[i]]
        if len(paragraphs) < 2:
            continue
        others = [t.strip().split("\n")[0] for t in rng.sample(texts, 6)]
        page, gold = _page(title.strip(), paragraphs, others)
        yield f"synthetic-{index}", page.encode(), gold
        n -= 1
        if n == 0:
            return


def storylines_text(data: bytes, page_id: str, cleaner: BoilerplateRemover) -> str:
    items = list(read_bytes(data, f"{page_id}.html"))
    if not items or not isinstance(items[0], Article):
        return ""
    return cleaner(items[0]).text


Counts = dict[str, tuple[int, int, int]]  # page id → (shared, predicted, true) shingles


def run(extract, pages: list[tuple[str, bytes, str]], name: str) -> tuple[Counts, int]:
    """(overlap counts per page, pages failed); a page whose extraction raises scores as empty."""
    counts, failures = {}, 0
    for page_id, data, truth in pages:
        try:
            counts[page_id] = overlap(extract(data, page_id), truth)
        except Exception as error:  # a crash is a page lost; count it and go on
            counts[page_id] = (0, 0, len(shingles(truth)))
            failures += 1
            print(f"  {name} failed on {page_id}: {type(error).__name__}: {error}", file=sys.stderr)
    return counts, failures


def summary(counts: Counts) -> str:
    per_page = [prf(*c) for c in counts.values()]
    macro = [sum(values) / len(per_page) for values in zip(*per_page, strict=True)]
    micro = prf(*(sum(values) for values in zip(*counts.values(), strict=True)))
    return (
        f"macro F1 {macro[2]:.3f} P {macro[0]:.3f} R {macro[1]:.3f}  "
        f"micro F1 {micro[2]:.3f} P {micro[0]:.3f} R {micro[1]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, help="benchmark folder in the ScrapingHub layout")
    parser.add_argument("--newspaper4k", type=Path, metavar="CACHE", help="newspaper4k's test pages")
    parser.add_argument("--synthetic", type=int, default=200, help="pages to build from SemEval texts")
    parser.add_argument("--per-page", action="store_true", help="print each page's F1 (markdown)")
    args = parser.parse_args()
    if args.pages:
        pages, origin = list(real_pages(args.pages)), f"from {args.pages}"
    elif args.newspaper4k:
        pages, origin = list(newspaper4k_pages(args.newspaper4k)), f"from {NEWSPAPER4K}'s tests"
    elif SHARED.exists():
        pages, origin = list(synthetic_pages(args.synthetic)), "synthetic, SemEval bodies"
    else:
        sys.exit(f"no --pages or --newspaper4k given and no SemEval data at {SHARED}")
    cleaner = BoilerplateRemover()
    extractors = {
        "trafilatura.extract": lambda data, page_id: trafilatura.extract(data) or "",
        "storylines (read + clean)": lambda data, page_id: storylines_text(data, page_id, cleaner),
    }
    print(f"{len(pages)} pages ({origin})")
    results = {}
    for name, extract in extractors.items():
        started = time.perf_counter()
        results[name], failures = run(extract, pages, name)
        seconds = time.perf_counter() - started
        per_page_ms = 1000 * seconds / len(pages)
        print(f"{name:26} {summary(results[name])}  failed {failures}  {per_page_ms:.1f} ms/page")
    if args.per_page:
        print("\n| page | " + " | ".join(f"{name} F1" for name in results) + " |")
        print("|---" * (len(results) + 1) + "|")
        for page_id, *_ in pages:
            row = " | ".join(f"{prf(*counts[page_id])[2]:.3f}" for counts in results.values())
            print(f"| {page_id} | {row} |")


if __name__ == "__main__":
    main()
