"""The route step on the real PostgreSQL records its router decision's wall and CPU time."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.integration.pipeline_helpers import RecordingPublisher, make_runtime, submit_one
from tierline.persistence.db import Database
from tierline.tasks import pipeline

pytestmark = pytest.mark.integration


def count(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_routing_a_job_records_the_decisions_wall_and_cpu_time(db: Database) -> None:
    rt = make_runtime(db, {})
    before = (count("tierline_router_decision_seconds_count"),
              count("tierline_router_decision_cpu_seconds_count"))
    pipeline.route_job(rt, RecordingPublisher(), submit_one(db))
    assert count("tierline_router_decision_seconds_count") == before[0] + 1
    assert count("tierline_router_decision_cpu_seconds_count") == before[1] + 1
