"""The shipped comparer end to end: model file, verdicts on real articles, CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from storylines.article import Article
from storylines.cli.app import app
from storylines.compare import Comparison, StoryComparer, load_comparer
from storylines.compare.model import TARGETS, CompareModel
from storylines.embed import CachedEmbedder, Embedder, EmbeddingCache, make_embedder
from storylines.embed.title_encoder import is_title_encoder
from tests.conftest import DEV_PAIRS

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
# An unrelated SemEval article (German, animal testing for Corona vaccines), quoted as a fixture.
ANIMAL_TESTING_DE = (
    "Corona: Bei der Impfstoffsuche auf Tierversuche verzichten? Köln / Göttingen. Aktionstag gegen "
    "Tierprüfungsanforderungen sind für Alternativen laut. Internationaler Tag zur Abschaffung von "
    "Tierversuchen (24. April): Tierrechtliche Aktivisten betonen, dass Fortschritte bei der Bekämpfung "
    "der Corona-Pandemie ohne Tierversuche möglich wären – Experimente mit Affen könnten den Prozess "
    "sogar verlangsamen."
)


@pytest.fixture(scope="module")
def comparer() -> StoryComparer:
    """The shipped comparer: its model reads the title encoder's view."""
    return StoryComparer()


class CountingEmbedder:
    """An embedder that records every text it is asked to embed."""

    def __init__(self, inner: Embedder):
        self.inner, self.texts = inner, []
        self.model_id, self.dim = inner.model_id, inner.dim

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.inner.embed_passages(texts)


def enriched(article: Article) -> Article:
    from storylines.pipeline import default_pipeline

    return default_pipeline()(article)


def sample(prefix: str) -> Article:
    path = next(SAMPLES.glob(f"{prefix}_*.txt"))
    return enriched(Article(source=str(path), raw_text=path.read_text()))


def test_model_loads_from_package_data():
    model = CompareModel.load()
    assert model.targets == TARGETS
    assert model.view and 1.0 < model.same_story_threshold < 4.0
    assert model.report["cv_pearson"]["overall"]["n"] > 1000
    assert load_comparer() is load_comparer()


@pytest.mark.slow
def test_same_story_across_languages_and_unrelated_story(comparer):
    chinese, tass = sample("000"), sample("002")
    animals = enriched(Article(source="semeval", raw_text=ANIMAL_TESTING_DE))
    rep_chinese, rep_tass, rep_animals = comparer.represent_many([chinese, tass, animals])
    same = comparer.compare(rep_chinese, rep_tass)
    different = comparer.compare(rep_chinese, rep_animals)
    assert isinstance(same, Comparison)
    assert same.same_story and same.overall < different.overall
    assert not different.same_story and not different.near_duplicate
    assert set(same.dimensions) == {"geography", "entities", "time", "narrative"}


@pytest.mark.slow
def test_representation_bytes_give_the_same_verdict(comparer):
    reps = comparer.represent_many([sample("001"), sample("003")])
    restored = [comparer.representation_from_bytes(rep.to_bytes()) for rep in reps]
    assert restored[0].vector.dtype.name == "float32"
    assert abs(comparer.compare(*reps).overall - comparer.compare(*restored).overall) < 0.05


@pytest.mark.slow
def test_the_title_encoder_embeds_the_same_view_and_a_bare_title_once(comparer):
    body, bare = sample("002"), Article(source="t", title="Putin and Obama agree on Syria", raw_text="")
    bare.text = bare.title
    rep_body, rep_bare = comparer.represent_many([body, bare])
    encoder = comparer.title_encoder
    np.testing.assert_allclose(rep_body.tuned_vector, encoder.embed_passages(rep_body.passages)[0], atol=1e-5)
    np.testing.assert_allclose(rep_bare.tuned_vector, rep_bare.title_vector, atol=1e-5)
    assert rep_body.retrieval_vector is rep_body.tuned_vector  # what the index holds
    assert comparer.query_embedder is encoder  # and what search embeds queries with


@pytest.mark.slow
def test_the_view_is_embedded_once_when_the_model_reads_the_title_encoder(comparer, tmp_path):
    assert is_title_encoder(comparer.model.embedder_id) and comparer.embedder is comparer.title_encoder
    counting = CountingEmbedder(comparer.title_encoder)
    one_pass = StoryComparer(title_encoder=counting)
    body = enriched(Article(source="de", title="Tierversuche?", raw_text=ANIMAL_TESTING_DE))
    (rep,) = one_pass.represent_many([body])
    assert sorted(counting.texts) == sorted([body.title, *rep.passages])  # each text once
    assert rep.vector is not None and np.allclose(rep.vector, rep.tuned_vector)
    # a comparer given e5 for the view still embeds it a second time by the title encoder
    e5 = CachedEmbedder(make_embedder(), EmbeddingCache(tmp_path / "embeddings.sqlite"))
    second = CountingEmbedder(comparer.title_encoder)
    (two,) = StoryComparer(embedder=e5, title_encoder=second).represent_many([body])
    assert len(second.texts) == 1 + len(two.passages)
    assert np.allclose(two.tuned_vector, rep.tuned_vector, atol=1e-5)
    assert not np.allclose(two.vector, rep.vector)


def test_compare_is_fast_on_embedded_articles(comparer):
    reps = comparer.represent_many([sample("000"), sample("001")])
    comparer.compare(*reps)
    started = time.perf_counter()
    for _ in range(20):
        comparer.compare(*reps)
    assert (time.perf_counter() - started) / 20 < 0.020


@pytest.mark.slow
def test_bulgarian_has_no_second_view_and_is_judged_by_the_fallback(comparer):
    bulgarian, english = sample("001"), sample("003")  # Putin and Hollande on Syria; Kremlin on Syria
    animals = enriched(Article(source="semeval", raw_text=ANIMAL_TESTING_DE))
    assert (bulgarian.lang, english.lang) == ("bg", "en")  # USE v3 knows English, not Bulgarian
    rep_bulgarian, rep_english, rep_animals = comparer.represent_many([bulgarian, english, animals])
    assert rep_bulgarian.use_vector is None and rep_english.use_vector is not None
    related, unrelated = comparer.compare_many(rep_bulgarian, [rep_english, rep_animals])
    assert related.overall < unrelated.overall and not unrelated.same_story


def test_near_duplicate_for_an_exact_copy(comparer):
    article = sample("002")
    copy = Article(
        source="copy", title="copy", raw_text=article.raw_text, text=article.text, lang=article.lang
    )
    rep, rep_copy = comparer.represent_many([article, copy])
    assert comparer.compare(rep, rep_copy).near_duplicate


def test_cli_compare_json(tmp_path):
    paths = [str(next(SAMPLES.glob(f"{prefix}_*"))) for prefix in ("000", "002")]
    result = CliRunner().invoke(app, ["compare", *paths, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"overall", "dimensions", "same_story", "near_duplicate", "evidence"} <= set(data)
    assert data["same_story"] is True
    assert data["evidence"]["sentence_pairs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing-a.txt", "{sample}"], "A: no such file"),
        (["{sample}", "{empty}"], "B: empty"),
    ],
)
def test_cli_compare_names_the_bad_side(tmp_path, args, message):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    sample_path = str(next(SAMPLES.glob("000_*")))
    argv = ["compare", *(arg.format(sample=sample_path, empty=empty) for arg in args)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.skipif(not DEV_PAIRS.exists(), reason="SemEval dev pairs not available")
def test_cli_eval_pairs_on_dev_csv():
    result = CliRunner().invoke(app, ["eval", "pairs", str(DEV_PAIRS), "--limit", "20", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 20 and -1.0 <= data["pearson"] <= 1.0
    assert {"by_pair", "by_dimension", "seconds"} <= set(data)
    assert "training-set" in data["note"]


@pytest.mark.slow
def test_a_first_paragraph_taken_as_title_is_cut_before_the_title_encoder(comparer):
    """A plain text's first line may be a whole paragraph: its title vector reads a title's length."""
    from storylines.compare.comparer import TITLE_TOKENS

    counting = CountingEmbedder(comparer.title_encoder)
    article = enriched(Article(source="de", title=ANIMAL_TESTING_DE, raw_text=ANIMAL_TESTING_DE))
    (rep,) = StoryComparer(title_encoder=counting).represent_many([article])
    (title_text,) = [text for text in counting.texts if text not in rep.passages]
    assert ANIMAL_TESTING_DE.startswith(title_text)
    assert TITLE_TOKENS - 8 <= counting.count_tokens(title_text) <= TITLE_TOKENS
    expected = comparer.title_encoder.embed_passages([title_text])[0]
    np.testing.assert_allclose(rep.title_vector, expected, atol=1e-5)
