"""Agreeing tiers against a check (validation.disagreement) through the pipeline's steps, on
PostgreSQL: the job ends as the policy says and no further tier is called."""

from __future__ import annotations

from typing import Literal

import pytest
from sqlalchemy import select

from tests.integration.pipeline_helpers import (
    INVENTED,
    RecordingPublisher,
    drive,
    job_row,
    make_runtime,
    submit_one,
)
from tierline.config.settings import Settings
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Result
from tierline.reports.quality import quality_report
from tierline.simulator.stub import StubProvider

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("policy", "status"), [("accept", "done"), ("review", "needs_review")])
def test_same_answer_rejected_twice_ends_the_job_without_a_third_tier(
        db: Database, policy: Literal["accept", "review"], status: str) -> None:
    tier1, tier2, tier3 = (StubProvider(INVENTED, name=f"t{t}") for t in (1, 2, 3))
    rt = make_runtime(db, {1: [tier1], 2: [tier2], 3: [tier3]})
    rt.settings = Settings(database_url=db.url, simulator=False, disagreement_policy=policy)
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)

    job = job_row(db, job_id)
    assert job.status == status
    assert (job.status_reason or "").startswith("validator disagreement: tiers 1 and 2")
    assert "grounding" in (job.status_reason or "")
    assert not tier3.requests  # no third model paid for on the check's word alone
    with db.session() as session:
        attempts = store.attempts_of(session, job_id)
        result = session.get(Result, job_id)
        report = quality_report(session, job.batch_id).as_dict()
    assert [(a.tier, a.validated) for a in attempts] == [(1, False), (2, False)]
    assert result is not None and result.validated is False and result.tier == 2
    recorded = [f for f in attempts[-1].findings or [] if f["check"] == "disagreement"]
    assert recorded and recorded[0]["strict"] is False and "grounding" in recorded[0]["checks"]
    assert report["disagreements_per_check"]["grounding"] == 1
    assert report["disagreement_rate_per_check"]["grounding"] == 0.5  # 1 of its 2 rejections


def test_a_different_answer_from_the_next_tier_escalates_as_before(db: Database) -> None:
    other = INVENTED.replace("INV-9999", "INV-8888")
    tier3 = StubProvider(INVENTED.replace("INV-9999", "INV-2041"), name="t3")
    rt = make_runtime(db, {1: [StubProvider(INVENTED)], 2: [StubProvider(other, name="t2")],
                           3: [tier3]})
    job_id = submit_one(db)
    drive(rt, RecordingPublisher(), job_id)
    assert job_row(db, job_id).status == "done" and len(tier3.requests) == 1
    with db.session() as session:
        results = session.scalars(select(Result)).all()
    assert [r.validated for r in results] == [True]
