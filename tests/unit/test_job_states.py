"""The job state machine: one table of transitions, enforced by `set_status`."""

from __future__ import annotations

import itertools

import pytest

from tierline.jobs.models import (
    FEEDBACK_TRANSITIONS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    JobStatus,
    check_transition,
)
from tierline.persistence.store import set_status
from tierline.persistence.tables import Job


def test_the_documented_life_of_a_job_is_allowed() -> None:
    life = ["queued", "routed", "running", "validating", "routed", "running", "validating",
            "done"]
    for current, new in itertools.pairwise(life):
        check_transition(JobStatus(current), JobStatus(new))


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_nothing_but_feedback_leaves_a_terminal_state(terminal: JobStatus) -> None:
    assert TRANSITIONS[terminal] == frozenset()
    for new in JobStatus:
        with pytest.raises(IllegalTransition):
            check_transition(terminal, new)
    for new in FEEDBACK_TRANSITIONS[terminal]:
        check_transition(terminal, new, by_feedback=True)


def test_every_unfinished_state_may_fail_and_no_step_skips_validation() -> None:
    for status in set(JobStatus) - TERMINAL_STATUSES:
        check_transition(status, JobStatus.FAILED)
    for status in (JobStatus.QUEUED, JobStatus.ROUTED, JobStatus.RUNNING):
        for finished in (JobStatus.DONE, JobStatus.NEEDS_REVIEW):
            with pytest.raises(IllegalTransition):
                check_transition(status, finished)


def test_set_status_refuses_an_illegal_move_and_leaves_the_job_as_it_was() -> None:
    job = Job(status="done", status_reason=None)
    with pytest.raises(IllegalTransition, match="done job cannot become validating"):
        set_status(job, JobStatus.VALIDATING)
    assert job.status == "done"
    set_status(job, JobStatus.ROUTED, "marked bad", by_feedback=True)
    assert (job.status, job.finished_at) == ("routed", None)
