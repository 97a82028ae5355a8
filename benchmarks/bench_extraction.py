"""Article-body extraction: ``storylines`` reading (trafilatura + our cleaning) against plain trafilatura.

Scored the way the ScrapingHub article-extraction benchmark scores: per page, precision, recall and
F1 of the sets of 4-token shingles of the extracted text against the hand-made body, then the mean
of each over pages.  Two sources of pages:

* ``--pages DIR``: a benchmark in the ScrapingHub layout (``DIR/html/<id>.html.gz`` and
  ``DIR/ground-truth.json`` mapping id → {"articleBody": …}), e.g. a checkout of
  github.com/scrapinghub/article-extraction-benchmark (181 pages).  Not shipped here.
* ``--synthetic N`` (default when no ``--pages``): N pages built from SemEval-2022 Task 8 article
  texts in ``../shared/data`` wrapped in a news template with a menu, a "most read" headline list,
  share and comment widgets and a footer, and inside the article a subhead, a bulleted list and a
  credit line: real article bodies, synthetic pages.  An honest stand-in, not the 181-page set.

    python benchmarks/bench_extraction.py --synthetic 200
    python benchmarks/bench_extraction.py --pages ~/article-extraction-benchmark
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import random
import re
import sys
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


def score(predicted: str, truth: str) -> tuple[float, float]:
    """(precision, recall) of 4-shingles; an empty prediction has precision 0 unless truth is empty."""
    got, want = shingles(predicted), shingles(truth)
    if not got or not want:
        return (1.0, 1.0) if got == want else (0.0, 0.0)
    common = len(got & want)
    return common / len(got), common / len(want)


def real_pages(folder: Path) -> Iterator[tuple[str, bytes, str]]:
    truth = json.loads((folder / "ground-truth.json").read_text())
    for page_id, item in sorted(truth.items()):
        page = gzip.decompress((folder / "html" / f"{page_id}.html.gz").read_bytes())
        yield page_id, page, item["articleBody"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, help="benchmark folder in the ScrapingHub layout")
    parser.add_argument("--synthetic", type=int, default=200, help="pages to build from SemEval texts")
    args = parser.parse_args()
    if args.pages is None and not SHARED.exists():
        sys.exit(f"no --pages given and no SemEval data at {SHARED}")
    pages = list(real_pages(args.pages) if args.pages else synthetic_pages(args.synthetic))
    cleaner = BoilerplateRemover()
    extractors = {
        "trafilatura.extract": lambda data, page_id: trafilatura.extract(data) or "",
        "storylines (read + clean)": lambda data, page_id: storylines_text(data, page_id, cleaner),
    }
    print(f"{len(pages)} pages ({'from ' + str(args.pages) if args.pages else 'synthetic, SemEval bodies'})")
    for name, extract in extractors.items():
        started = time.perf_counter()
        scores, failures = [], 0
        for page_id, data, truth in pages:
            try:
                scores.append(score(extract(data, page_id), truth))
            except Exception as error:  # a crash is a page lost; count it and go on
                failures += 1
                scores.append((0.0, 0.0))
                print(f"  {name} failed on {page_id}: {type(error).__name__}: {error}", file=sys.stderr)
        precision = sum(p for p, _ in scores) / len(scores)
        recall = sum(r for _, r in scores) / len(scores)
        f1 = sum(2 * p * r / (p + r) if p + r else 0.0 for p, r in scores) / len(scores)  # mean per page
        seconds = time.perf_counter() - started
        print(
            f"{name:28} F1 {f1:.3f}  P {precision:.3f}  R {recall:.3f}  "
            f"failed {failures}  {1000 * seconds / len(pages):.1f} ms/page"
        )


if __name__ == "__main__":
    main()
