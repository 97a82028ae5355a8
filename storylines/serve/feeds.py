"""Atom feeds, so that a reader can follow a story in any feed reader (as EMM's alerts do):
the front page, one storyline, or a saved search.  Written by feedgen, never by string pasting:
titles come from crawled pages and must be escaped."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

import regex
from feedgen.feed import FeedGenerator

from storylines.day import Day
from storylines.serve.models import ArticleSummary, SearchHitOut, StorylineSummary

ATOM = "application/atom+xml"
# Characters XML 1.0 cannot hold (control characters, lone surrogates): crawled titles and a
# query string may contain them, and lxml refuses them.
_NOT_XML = regex.compile(r"[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _when(day: str | None) -> datetime:
    """A feed entry needs a timestamp: the day at midnight UTC; year-less or unknown days give
    the Unix epoch, so they sort as oldest instead of pretending to be new."""
    parsed = Day.parse(day)
    if parsed is None or parsed.year is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)


def _feed(feed_id: str, title: str, page_url: str, self_url: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(_text(title))
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=self_url, rel="self", type=ATOM)
    feed.generator("storylines")
    return feed


def _finish(feed: FeedGenerator, times: Iterable[datetime]) -> bytes:
    feed.updated(max(times, default=datetime(1970, 1, 1, tzinfo=UTC)))
    return feed.atom_str(pretty=True)


def _entry(
    feed: FeedGenerator, entry_id: str, title: str, link: str, day: str | None, summary: str
) -> datetime:
    """Append one entry; returns its timestamp, from which the feed's own ``updated`` is taken."""
    when = _when(day)
    entry = feed.add_entry(order="append")
    entry.id(entry_id)
    entry.title(_text(title) or "(untitled)")
    entry.link(href=link)
    entry.updated(when)
    entry.summary(_text(summary))
    return when


def storylines_feed(base: str, self_url: str, stories: list[StorylineSummary]) -> bytes:
    """One entry per storyline on the front page: a new or growing story shows up as updated."""
    feed = _feed(f"{base}/#/", "Storylines: what matters now", f"{base}/#/", self_url)
    times = [
        _entry(
            feed,
            f"{base}/#/storyline/{story.id}",
            story.title,
            f"{base}/#/storyline/{story.id}",
            story.end,
            f"{story.article_count} articles from {story.source_count} outlets in "
            f"{', '.join(story.languages)}; about {', '.join(e.name for e in story.top_entities[:5])}",
        )
        for story in stories
    ]
    return _finish(feed, times)


def articles_feed(
    base: str, self_url: str, title: str, page_url: str, articles: list[ArticleSummary]
) -> bytes:
    """One entry per article of a storyline, linking to the original report when it has a web URL."""
    feed = _feed(self_url, title, page_url, self_url)
    times = []
    for article in articles:
        original = article.url if article.url and article.url.startswith(("http://", "https://")) else None
        times.append(
            _entry(
                feed,
                f"{base}/#/article/{article.id}",
                article.title,
                original or f"{base}/#/article/{article.id}",
                article.published or article.day,
                f"{article.outlet} · {article.lang or 'language unknown'}",
            )
        )
    return _finish(feed, times)


def search_feed(base: str, self_url: str, query: str, hits: list[SearchHitOut]) -> bytes:
    """A saved search: its relevant articles, best first (an empty feed when nothing matches)."""
    page_url = f"{base}/#/search?{urlencode({'q': query})}"
    feed = _feed(self_url, f"storylines search: {query}", page_url, self_url)
    times = [
        _entry(
            feed, f"{base}/#/article/{hit.id}", hit.title, f"{base}/#/article/{hit.id}", hit.day, hit.snippet
        )
        for hit in hits
    ]
    return _finish(feed, times)
