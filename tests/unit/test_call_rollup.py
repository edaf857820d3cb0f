"""The call rollup's pure parts: where `--since` switches from the ledger to whole hours, and
which job count a grouping reads."""

from __future__ import annotations

from datetime import UTC, datetime

from tierline.persistence.call_rollup import JOB_COUNTS, job_count, next_hour


def test_a_date_on_the_hour_is_its_own_first_whole_hour() -> None:
    on_the_hour = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert next_hour(on_the_hour) == on_the_hour


def test_a_date_inside_an_hour_starts_the_whole_hours_at_the_next() -> None:
    assert next_hour(datetime(2026, 12, 1, 23, 0, 0, 1, tzinfo=UTC)) == datetime(
        2026, 12, 2, 0, tzinfo=UTC)


def test_each_grouping_reads_its_own_job_count_whatever_the_order() -> None:
    assert job_count(["model", "tier"]) == "jobs_tier_model"
    assert job_count(["provider"]) == "jobs_provider"
    assert len(set(JOB_COUNTS)) == 7
    assert {job_count(list(name.split("_")[1:])) for name in JOB_COUNTS} <= set(JOB_COUNTS)
