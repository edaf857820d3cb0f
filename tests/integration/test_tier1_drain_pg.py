"""The tier-1 drain on the real PostgreSQL: an item whose call is answered is ledgered and
published while the flush's slower calls are still waiting."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from tests.integration.pipeline_helpers import (
    DOCUMENT,
    GOOD,
    SCHEMA,
    RecordingPublisher,
    make_runtime,
)
from tierline.jobs.models import JobSpec, TaskType
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.prompts.completion import Completion, CompletionRequest
from tierline.simulator.stub import StubProvider
from tierline.tasks import batch, pipeline

pytestmark = pytest.mark.integration

# Long enough for the fast item to be ledgered and published; a drain that waits for the
# whole flush first never lets the slow call go on, and it fails after this.
SLOW_CALL_LIMIT_S = 10.0


class WaitsForOthers(StubProvider):
    """Answers "Ref 1" only once the first job has been handed to validation."""

    def __init__(self) -> None:
        super().__init__(GOOD)
        self.others_published = asyncio.Event()

    async def acomplete(self, request: CompletionRequest) -> Completion:
        if "Ref 1" in request.messages[-1].content:
            await asyncio.wait_for(self.others_published.wait(), SLOW_CALL_LIMIT_S)
        return self.complete(request)


@dataclass
class SignallingPublisher(RecordingPublisher):
    on_validate: list[object] = field(default_factory=list)

    def validate(self, job_id: str, attempt_no: int) -> None:
        super().validate(job_id, attempt_no)
        for callback in self.on_validate:
            callback()  # type: ignore[operator]


def test_an_answered_item_is_ledgered_and_published_before_the_flushs_slowest_call(
        db: Database) -> None:
    provider = WaitsForOthers()
    rt = make_runtime(db, {1: [provider]})
    specs = [JobSpec(task=TaskType.EXTRACT, document=f"{DOCUMENT}\nRef {i}", schema=SCHEMA)
             for i in range(2)]
    with db.session() as session:
        job_ids = store.insert_jobs(session, specs).job_ids
    publisher = SignallingPublisher()
    for job_id in job_ids:
        pipeline.route_job(rt, publisher, job_id)
    publisher.sent.clear()
    loop = rt.async_loop().loop
    ledgered_when_published: list[int] = []

    def first_job_published() -> None:
        with db.session() as session:
            ledgered_when_published.append(len(store.attempts_of(session, job_ids[0])))
        loop.call_soon_threadsafe(provider.others_published.set)

    publisher.on_validate.append(first_job_published)
    try:
        outcomes = batch.run_batch(rt, publisher, [batch.BatchItem(j, 1) for j in job_ids])
    finally:
        rt.close()

    assert outcomes == []
    assert [m[1] for m in publisher.sent if m[0] == "validate"] == job_ids
    # The first job's answer was in the ledger before it was published.
    assert ledgered_when_published[0] == 1
