"""A job's spec is checked whole at submit; read back from its row it is trusted, and a schema
is checked against the metaschema once per process however many jobs repeat it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobSpec, TaskType, schema_problem
from tierline.tasks.submit import fits_some_tier

BAD_SCHEMA: dict[str, Any] = {"type": "nonsense"}


def test_submit_refuses_an_invalid_schema() -> None:
    with pytest.raises(ValidationError, match="invalid JSON Schema"):
        JobSpec.model_validate({"task": "extract", "document": "x", "schema": BAD_SCHEMA})


def test_a_stored_spec_is_not_checked_again() -> None:
    # A row holds only what submit accepted; its schema is not re-checked on every load.
    spec = JobSpec.from_row({"task": "extract", "document": "x", "schema": BAD_SCHEMA})
    assert spec.output_schema == BAD_SCHEMA


def test_a_stored_spec_written_with_a_reference_answer_loads_without_it() -> None:
    # Rows submitted while a job could carry its right answer: a worker loads them as they are.
    row = {"task": "classify", "document": "x", "labels": ["a", "b"], "reference": "a"}
    spec = JobSpec.from_row(row)
    assert "reference" not in spec.model_dump(by_alias=True)
    assert spec.labels == ["a", "b"]
    with pytest.raises(ValidationError, match="'reference' is no longer part of a job"):
        JobSpec.model_validate(row)


def test_a_repeated_schema_is_checked_once() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}
    before = schema_problem.cache_info()
    for _ in range(50):
        JobSpec.model_validate({"task": "extract", "document": "x", "schema": schema})
    after = schema_problem.cache_info()
    assert after.misses - before.misses <= 1
    assert after.hits - before.hits >= 49


def test_a_document_no_tier_can_hold_is_refused_with_the_reason() -> None:
    tiers = load_tiers()
    largest = max(t.context_window for t in tiers.tiers)
    check = fits_some_tier(tiers)
    assert check(JobSpec(task=TaskType.SUMMARIZE, document="word " * 100)) is None
    reason = check(JobSpec(task=TaskType.SUMMARIZE, document="word " * largest))
    assert reason is not None and f"largest context window of any tier ({largest}" in reason
