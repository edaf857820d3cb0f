"""The labelled prompts nearest a job in the static text embedding, and what they say.

The hashed-words classifier judges a job by the kind of job its words suggest; its labelled
neighbours in the embedding (`routing.embedding`) say how the weak and the strong model did on
prompts that read like it. The router mixes the two per tier:
P'(tier) = (1 - w) P(tier) + w (share of the k nearest labelled prompts that tier got right),
for the weakest and the strongest tier with outcomes, on jobs of the tasks the prompts are of.
`bench/routing.py` measures it (the `neighbour-blend` candidates, `routing.dense`) and the
protocol chooses w inside each fitting half.

Pure: unit vectors and outcomes in, rates out; the model file stores the vectors as int8.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class LabelledNeighbours:
    # One row per labelled prompt: its unit vector, and whether the weak and strong models'
    # answers were right (1.0) or not (0.0).
    vectors: np.ndarray
    weak: np.ndarray
    strong: np.ndarray
    # The tasks of those prompts: jobs of other tasks are not compared with them.
    tasks: tuple[str, ...]
    k: int
    weight: float
    # Which embedding the vectors are in (`routing.embedding.embedding_named`).
    embedding: str

    def __post_init__(self) -> None:
        self.vectors = unit_rows(np.asarray(self.vectors, dtype=np.float32))
        self.weak = np.asarray(self.weak, dtype=np.float32)
        self.strong = np.asarray(self.strong, dtype=np.float32)

    def rates(self, vector: np.ndarray) -> tuple[float, float]:
        """The share of the k nearest prompts (cosine) the weak model got right, and the
        strong one."""
        similarity = self.vectors @ unit_rows(np.asarray(vector, dtype=np.float32)[None, :])[0]
        k = min(self.k, len(similarity))
        nearest = np.argpartition(-similarity, k - 1)[:k] if k < len(similarity) else (
            np.arange(len(similarity)))
        return float(self.weak[nearest].mean()), float(self.strong[nearest].mean())

    def applies_to(self, task: str) -> bool:
        return self.weight > 0 and task in self.tasks and len(self.vectors) > 0

    def blend(self, known: dict[int, float], vector: np.ndarray) -> dict[int, float]:
        """The weakest and strongest known tiers' probabilities mixed with the neighbours'
        rates; tiers between them are left as they are."""
        weak, strong = self.rates(vector)
        out = dict(known)
        low, high = min(known), max(known)
        out[low] = (1 - self.weight) * known[low] + self.weight * weak
        out[high] = (1 - self.weight) * known[high] + self.weight * strong
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "embedding": self.embedding, "k": self.k, "weight": self.weight,
            "tasks": list(self.tasks), "dim": int(self.vectors.shape[1]),
            "vectors": _pack(quantised(self.vectors)),
            "weak": _pack(self.weak.astype("u1")), "strong": _pack(self.strong.astype("u1")),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LabelledNeighbours:
        dim = int(raw["dim"])
        vectors = np.frombuffer(_unpack(raw["vectors"]), dtype="i1").reshape(-1, dim)
        return cls(
            vectors=vectors.astype(np.float32),
            weak=np.frombuffer(_unpack(raw["weak"]), dtype="u1").astype(np.float32),
            strong=np.frombuffer(_unpack(raw["strong"]), dtype="u1").astype(np.float32),
            tasks=tuple(str(t) for t in raw["tasks"]), k=int(raw["k"]),
            weight=float(raw["weight"]), embedding=str(raw["embedding"]),
        )


def quantised(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to its largest component = 127 and rounded to int8: only directions
    matter (rows are made unit again on loading), and a cosine moves by about 1e-3 at most,
    where float16 would double the model file."""
    scale = 127.0 / (np.abs(vectors).max(axis=1, keepdims=True) + 1e-12)
    return np.asarray(np.rint(vectors * scale), dtype=np.int8)


def unit_rows(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9), dtype=np.float32)


def _pack(array: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(array.tobytes(), 9)).decode("ascii")


def _unpack(blob: str) -> bytes:
    return zlib.decompress(base64.b64decode(blob))
