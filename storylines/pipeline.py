"""Small composable stages over :class:`~storylines.article.Article`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Protocol

from storylines.article import Article


class Stage(Protocol):
    """A pipeline component: takes an article, fills in its fields, returns it."""

    name: str

    def __call__(self, article: Article) -> Article: ...


class Pipeline:
    """Runs stages in order, like spaCy's ``nlp`` object."""

    def __init__(self, stages: Iterable[Stage]):
        self.stages = list(stages)

    def __call__(self, article: Article) -> Article:
        for stage in self.stages:
            article = stage(article)
        return article

    def pipe(self, articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            yield self(article)


def default_pipeline(reference_date: date | None = None) -> Pipeline:
    """clean → non-article flag → language → dates → entities, the enrichment every command shares."""
    from storylines.clean.boilerplate import BoilerplateRemover
    from storylines.clean.nonarticle import NonArticleFlagger
    from storylines.enrich.dates import DateExtractor
    from storylines.enrich.entities import EntityExtractor
    from storylines.enrich.language import LanguageDetector

    return Pipeline(
        [
            BoilerplateRemover(),
            NonArticleFlagger(),
            LanguageDetector(),
            DateExtractor(reference_date=reference_date),
            EntityExtractor(),
        ]
    )
