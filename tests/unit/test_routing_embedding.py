"""The static text embedding read from the wordllama wheel (a development dependency)."""

from __future__ import annotations

import numpy as np
import pytest

from tierline.routing.embedding import wordllama_embedding

pytest.importorskip("wordllama")


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_embedding_loads_from_the_package_and_places_like_texts_together() -> None:
    embedding = wordllama_embedding()
    assert embedding.dim == 256
    physics, optics, law = embedding.embed([
        "A ball of mass 2 kg falls from 10 m. What is its momentum on impact?",
        "A photon of wavelength 500 nm: what is its energy in electronvolts?",
        "The tenant sued the landlord for breach of the implied warranty of habitability.",
    ])
    assert physics.dtype == np.float32
    assert _cosine(physics, optics) > _cosine(physics, law)


def test_empty_and_long_texts_embed_to_a_vector_of_the_right_size() -> None:
    embedding = wordllama_embedding()
    assert embedding.embed_one("").shape == (256,)
    assert not embedding.embed_one("").any()
    long = embedding.embed_one("word " * 5000)
    assert long.shape == (256,) and np.isfinite(long).all()
    assert embedding.embed([]).shape == (0, 256)
