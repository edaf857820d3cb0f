"""Submitting through the real broker: rows in PostgreSQL, one `route` message per new job on
Redis, and bad input rejected before anything is written or sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from jobs.db import Database
from jobs.intake import InvalidInput, read_jobs
from jobs.sample import generate
from jobs.settings import Settings
from jobs.tables import Job
from tasks.queues import ROUTE, ROUTE_TASK
from tasks.submit import requeue, submit_jobs
from workers.celery_app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture()
def app(redis_url: str, migrated_pg_url: str) -> Iterator[Celery]:
    celery_app = create_app(Settings(broker_url=redis_url, database_url=migrated_pg_url))
    celery_app.set_current()
    yield celery_app
    celery_app.pool.force_close_all()


def _route_messages(redis_url: str) -> list[dict[str, object]]:
    client = redis.Redis.from_url(redis_url)
    raw = client.lrange(ROUTE, 0, -1)
    client.close()
    return [json.loads(m) for m in raw]


def test_submit_writes_rows_and_publishes_ids_only(app: Celery, redis_url: str,
                                                   migrated_pg_url: str, tmp_path: Path) -> None:
    db = Database(migrated_pg_url)
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(json.dumps(j) for j in generate(50, seed=3)))
    receipt = submit_jobs(db, read_jobs(path))
    messages = _route_messages(redis_url)
    assert len(messages) == 50
    assert {m["headers"]["task"] for m in messages} == {ROUTE_TASK}  # type: ignore[index]
    # The body carries the job id and nothing of the document.
    assert all(len(m["body"]) < 200 for m in messages)  # type: ignore[arg-type]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 50
    # Resubmitting the same file is a no-op: nothing new written or sent.
    again = submit_jobs(db, read_jobs(path))
    assert again.job_ids == [] and again.duplicates == 50
    assert len(_route_messages(redis_url)) == 50
    # Requeue after a lost broker sends every unfinished job again.
    redis.Redis.from_url(redis_url).delete(ROUTE)
    assert requeue(db, receipt.batch_id) == 50
    assert len(_route_messages(redis_url)) == 50
    db.dispose()


def test_bad_file_writes_and_sends_nothing(app: Celery, redis_url: str, migrated_pg_url: str,
                                           tmp_path: Path) -> None:
    db = Database(migrated_pg_url)
    path = tmp_path / "jobs.jsonl"
    good = [json.dumps(j) for j in generate(5, seed=1)]
    path.write_text("\n".join([*good, '{"task": "extract", "document": "x"}']))
    with pytest.raises(InvalidInput, match="line 6"):
        submit_jobs(db, read_jobs(path))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert _route_messages(redis_url) == []
    db.dispose()
