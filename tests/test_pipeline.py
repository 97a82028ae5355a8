"""The pipeline runs its stages in order on each article, like spaCy's components on a Doc."""

from __future__ import annotations

from storylines.article import Article
from storylines.pipeline import Pipeline, default_pipeline


class Mark:
    def __init__(self, name: str):
        self.name = name

    def __call__(self, article: Article) -> Article:
        article.removed.append(self.name)
        return article


def test_stages_run_in_order_on_every_article() -> None:
    pipeline = Pipeline([Mark("first"), Mark("second")])
    articles = list(pipeline.pipe(Article(source=f"s{i}", raw_text="x") for i in range(3)))
    assert [a.removed for a in articles] == [["first", "second"]] * 3


def test_default_pipeline_enriches_an_article_end_to_end() -> None:
    article = default_pipeline()(
        Article(
            source="t",
            title="Putin and Obama discuss Syria",
            raw_text="MOSCOW, July 6 /TASS/. Russian President Vladimir Putin and US President Barack Obama "
            "discussed Syria by telephone on Wednesday, the Kremlin said.",
        )
    )
    stages = [stage.name for stage in default_pipeline().stages]
    assert stages == ["clean", "non_article", "language", "dates", "entities"]
    assert article.lang == "en" and article.text
    assert {"person:vladimir-putin", "place:sy"} <= {e.id for e in article.entities}
