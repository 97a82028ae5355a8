"""The int8 e5 graph with its activations quantised per text, so that batching leaves vectors unchanged.

ONNX Runtime's dynamic int8 quantisation (``DynamicQuantizeLinear``) picks one scale and zero point
for a whole activation tensor: in a batch, every text and every padding position moves the range
of all the others, and a query embedded with 31 others lands ~0.004 in cosine away from the same
query embedded alone.  Search must not depend on which queries happened to arrive together, so
this graph computes the range per text over its real tokens only.  For a text alone that is the
tensor's range, so each text gets exactly the quantised activations it gets when embedded by
itself, and (integer products being exact) the same vector up to float rounding (~1e-7).

The rewrite works on the quantised graph that ``onnx_graph.write_graph`` produced:
``DynamicQuantizeLinear(x)`` becomes a per-row range over the masked positions and a per-axis
``QuantizeLinear``; ``MatMulInteger`` drops its (now per-row) activation zero point, which is
subtracted afterwards as ``zero_point × column sums of the int8 weights`` in int32 (ONNX Runtime's
kernel accepts only a scalar one).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from storylines.embed.onnx_embedder import OnnxE5Embedder

MASK_INPUT = "mask"


def row_quantized(model: Any) -> Any:
    """A copy of the quantised e5 ``model`` (onnx.ModelProto) quantising activations per batch row."""
    import onnx
    from onnx import numpy_helper

    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    graph = rewritten.graph
    weights = {init.name: init for init in graph.initializer}
    builder = _Builder(graph)
    nodes = [
        builder.node("Unsqueeze", [MASK_INPUT, builder.const(np.array([2], np.int64))], "mask3"),
    ]
    nodes.append(builder.node("Cast", [nodes[0].output[0]], "real", to=onnx.TensorProto.BOOL))
    real = nodes[-1].output[0]
    for node in list(graph.node):
        if node.op_type == "DynamicQuantizeLinear":
            nodes += builder.quantize_rows(node, real)
        elif node.op_type == "MatMulInteger":
            weight_zero = numpy_helper.to_array(weights[node.input[3]])
            if np.any(weight_zero != 0):
                raise ValueError(f"{node.name or node.output[0]}: expected symmetric int8 weights")
            column_sums = numpy_helper.to_array(weights[node.input[1]]).sum(axis=0, dtype=np.int32)
            nodes += builder.matmul_row_zero_point(node, column_sums)
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(builder.constants)
    return rewritten


class _Builder:
    """Makes uniquely named nodes and constants for the rewrite."""

    def __init__(self, graph: Any):
        self.constants: list[Any] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"rowq_{hint}_{self._count}"

    def const(self, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name("c")
        self.constants.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, output: str | None = None, **attrs: Any) -> Any:
        from onnx import helper

        return helper.make_node(op, inputs, [output or self.name(hint)], **attrs)

    def quantize_rows(self, node: Any, real: str) -> list[Any]:
        """uint8 activations, scale (batch, 1, 1) and int32 zero point (batch, 1, 1) per row, computed
        as ONNX Runtime's DynamicQuantizeLinear does for a whole tensor (range widened to hold 0,
        scale 1 for an all-zero range, zero point clamped then rounded half to even)."""
        from onnx import TensorProto

        x, (quantized, scale, zero_point) = node.input[0], node.output
        zero, one, levels = (self.const(np.float32(v)) for v in (0.0, 1.0, 255.0))
        flat = self.const(np.array([-1], np.int64))
        nodes = [self.node("Where", [real, x, zero], "masked")]
        masked = nodes[-1].output[0]
        nodes.append(self.node("ReduceMin", [masked], "low", axes=[1, 2], keepdims=1))
        nodes.append(self.node("ReduceMax", [masked], "high", axes=[1, 2], keepdims=1))
        low, high = nodes[-2].output[0], nodes[-1].output[0]
        nodes.append(self.node("Min", [low, zero], "low0"))
        nodes.append(self.node("Max", [high, zero], "high0"))
        low, high = nodes[-2].output[0], nodes[-1].output[0]
        nodes.append(self.node("Div", [self.node_out(nodes, "Sub", [high, low], "span"), levels], "step"))
        nodes.append(self.node("Equal", [high, low], "flat_range"))
        nodes.append(self.node("Where", [nodes[-1].output[0], one, nodes[-2].output[0]], "", output=scale))
        nodes.append(self.node("Div", [low, scale], "low_steps"))
        nodes.append(self.node("Sub", [zero, nodes[-1].output[0]], "zp_raw"))
        nodes.append(self.node("Clip", [nodes[-1].output[0], zero, levels], "zp_clip"))
        nodes.append(self.node("Round", [nodes[-1].output[0]], "zp_float"))
        zero_float = nodes[-1].output[0]
        nodes.append(self.node("Cast", [zero_float], "", output=zero_point, to=TensorProto.INT32))
        nodes.append(self.node("Cast", [zero_float], "zp_u8", to=TensorProto.UINT8))
        nodes.append(self.node("Reshape", [nodes[-1].output[0], flat], "zp_rows"))
        zero_rows = nodes[-1].output[0]
        nodes.append(self.node("Reshape", [scale, flat], "scale_rows"))
        nodes.append(
            self.node("QuantizeLinear", [x, nodes[-1].output[0], zero_rows], "", output=quantized, axis=0)
        )
        return nodes

    def node_out(self, nodes: list[Any], op: str, inputs: list[str], hint: str) -> str:
        """Append a node and return its output's name."""
        nodes.append(self.node(op, inputs, hint))
        return nodes[-1].output[0]

    def matmul_row_zero_point(self, node: Any, column_sums: np.ndarray) -> list[Any]:
        """MatMulInteger without the activation zero point, minus zero point × weight column sums."""
        from onnx import helper

        activations, weight, zero_point, weight_zero = node.input
        raw = self.name("product")
        nodes = [helper.make_node("MatMulInteger", [activations, weight, "", weight_zero], [raw])]
        offset = self.node_out(nodes, "Mul", [zero_point, self.const(column_sums)], "offset")
        nodes.append(self.node("Sub", [raw, offset], "", output=node.output[0]))
        return nodes


class BatchInvariantE5(OnnxE5Embedder):
    """ONNX int8 e5 whose vectors do not depend on the batch: one text runs the shared int8 session
    (the same vector, fastest), several run the per-row graph in one call."""

    def __init__(self, threads: int | None = None, batch_size: int = 64):
        super().__init__("int8", threads=threads, batch_size=batch_size)

    @cached_property
    def rows_session(self) -> Any:
        import onnx
        import onnxruntime

        self.session  # noqa: B018 - converts the int8 graph when the cache folder lacks it
        graph = row_quantized(onnx.load(str(self.graph_path)))
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def _pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if len(ids) == 1:
            return super()._pooled(ids, mask)
        embeddings = self.weights.embed_tokens(ids).astype(np.float32)
        return self.rows_session.run(["pooled"], {"embeddings": embeddings, "mask": mask})[0]
