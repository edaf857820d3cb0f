"""A job row held by a tier step moves only as the job model allows, and never to a status
that needs a reason (those go through `store.set_status`)."""

from __future__ import annotations

import pytest

from tierline.jobs.models import IllegalTransition, JobStatus
from tierline.tasks.job_rows import LockedJob, set_status


def row(status: JobStatus) -> LockedJob:
    return LockedJob("j1", status.value, 1, "acme", "ann", "invoices", "extract")


def test_a_claim_and_an_answer_move_the_row() -> None:
    job = row(JobStatus.ROUTED)
    set_status(job, JobStatus.RUNNING)
    set_status(job, JobStatus.VALIDATING)
    assert job.status == "validating"


def test_an_illegal_move_is_refused_and_leaves_the_row() -> None:
    job = row(JobStatus.DONE)
    with pytest.raises(IllegalTransition):
        set_status(job, JobStatus.RUNNING)
    assert job.status == "done"


def test_a_finishing_status_is_not_set_here() -> None:
    with pytest.raises(ValueError, match="reason"):
        set_status(row(JobStatus.RUNNING), JobStatus.FAILED)
