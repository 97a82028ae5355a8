"""HTML pages: trafilatura finds the article, htmldate its publication date."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from itertools import islice

import htmldate
import lxml.html
import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from storylines.article import Article, Skipped
from storylines.ingest.base import MAX_RAW_HTML_BYTES, FieldNames, Item, read_document, strip_leading_title
from storylines.ingest.decode import declared_charset, decode_document, fix_text

# trafilatura's time grows faster than linearly with the element count (measured on a loaded 2-core
# machine: 20k paragraphs 7.9 s, 40k 20 s, 200k: minutes); news pages have a few thousand elements.
MAX_HTML_ELEMENTS = 20_000
_HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")  # what browsers collapse; not U+00A0
_PREFORMATTED = ("pre", "textarea", "code", "script", "style")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre")


def _first(tree: etree._Element, xpath: str) -> str | None:
    values = [value.strip() for value in tree.xpath(xpath) if value.strip()]
    return values[0] if values else None


def _collapse_whitespace(tree: etree._Element) -> None:
    """Collapse runs of whitespace in text nodes as a browser renders them.

    trafilatura keeps the source's line breaks inside a paragraph ("…of the Nigerian\\nflag. The…"),
    and the clean stage reads lines: a paragraph wrapped in the source became several short
    "lines", and its last ones were dropped as a trailing list.  <br> (an element) still breaks lines.
    """
    kept = {node for pre in tree.iter(*_PREFORMATTED) for node in pre.iter()}
    for element in tree.iter():
        if element not in kept and element.text:
            element.text = _HTML_WHITESPACE.sub(" ", element.text)
        if element.tail and element.getparent() not in kept:
            element.tail = _HTML_WHITESPACE.sub(" ", element.tail)


def _published(tree: etree._Element) -> str | None:
    try:
        return htmldate.find_date(tree, original_date=True)
    except ValueError:  # htmldate rejects some malformed date strings it finds
        return None


def article_from_html(data: bytes, source: str, url: str | None = None, charset: str | None = None) -> Item:
    """One article from one page; ``url``/``charset`` come from a WARC record when there is one."""
    html, encoding = decode_document(data, charset or declared_charset(data))
    tree = load_html(html)
    if tree is None:
        return Skipped(source, "malformed HTML: no document could be parsed")
    if any(True for _ in islice(tree.iter(), MAX_HTML_ELEMENTS, None)):
        return Skipped(source, f"HTML page with over {MAX_HTML_ELEMENTS:,} elements (the limit for one page)")
    canonical = _first(tree, "//link[@rel='canonical']/@href | //meta[@property='og:url']/@content")
    lang = _first(tree, "/html/@lang")
    published = _published(tree)
    _collapse_whitespace(tree)
    document = trafilatura.bare_extraction(tree, with_metadata=True)  # mutates the tree: runs last
    title = fix_text(document.title or "") if document else ""
    body = strip_leading_title(fix_text(document.text or ""), title).strip() if document else ""
    if not body:
        return Skipped(source, "no article text found in the HTML")
    meta = {
        "encoding": encoding,
        "sitename": document.sitename,
        "author": document.author,
        "extractor": "trafilatura",  # the clean stage trusts its output more
    }
    if url and canonical and canonical != url:
        meta["canonical_url"] = canonical
    return Article(
        source=source,
        title=title,
        raw_text=body,
        url=url or canonical,
        published_hint=published,
        lang_hint=lang or document.language,
        raw_html=html if len(data) <= MAX_RAW_HTML_BYTES else None,
        meta={key: value for key, value in meta.items() if value},
    )


def html_to_text(fragment: str) -> str:
    """Text of an HTML snippet (a feed entry) with one line per block element.

    Not trafilatura: its extractor expects a whole page and drops short snippets.
    """
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment.strip()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def read_html(stream: io.BufferedReader, name: str, fields: FieldNames) -> Iterator[Item]:
    yield article_from_html(read_document(stream), name)
