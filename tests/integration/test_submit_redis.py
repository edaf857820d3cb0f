"""Submitting through the real broker: rows in PostgreSQL, one `route` message per new job on
Redis, and bad input rejected before anything is written or sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from tierline.config.settings import Settings
from tierline.jobs.intake import InvalidInput, read_jobs
from tierline.jobs.models import JobSpec, TaskType
from tierline.persistence import store
from tierline.persistence.bulk import CHUNK
from tierline.persistence.db import Database
from tierline.persistence.tables import Job
from tierline.simulator.sample import generate
from tierline.tasks.publish import CeleryPublisher, argsrepr
from tierline.tasks.queues import (
    INFER_BATCH_TASK,
    ROUTE,
    ROUTE_TASK,
    VALIDATE,
    VALIDATE_TASK,
    tier_queue,
)
from tierline.tasks.submit import requeue, submit_file, submit_jobs
from tierline.workers.celery_app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture()
def app(redis_url: str, migrated_pg_url: str) -> Iterator[Celery]:
    celery_app = create_app(Settings(broker_url=redis_url, database_url=migrated_pg_url))
    celery_app.set_current()
    yield celery_app
    celery_app.close()  # also drops kombu's process-wide pool for this broker URL


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


def _strip_ids(message: dict[str, Any]) -> dict[str, Any]:
    headers = {k: v for k, v in message["headers"].items()
               if k not in {"id", "root_id", "origin"}}
    # send_task also copies an explicit `argsrepr` into the properties, where nothing reads it.
    properties = {k: v for k, v in message["properties"].items()
                  if k not in {"correlation_id", "delivery_tag", "reply_to", "argsrepr"}}
    return {**message, "headers": headers, "properties": properties}


def test_bulk_route_messages_are_the_ones_kombu_writes(app: Celery, redis_url: str) -> None:
    # The same argument text as the publisher's (the job id, for Flower).
    app.send_task(ROUTE_TASK, ("job-1",), queue=ROUTE, argsrepr=argsrepr("job-1"))
    CeleryPublisher().route(["job-1"])
    kombu_message, bulk_message = reversed(_route_messages(redis_url))
    assert _strip_ids(bulk_message) == _strip_ids(kombu_message)
    assert bulk_message["headers"]["id"] == bulk_message["properties"]["correlation_id"]  # type: ignore[index]


def test_a_different_job_under_a_taken_key_is_refused(app: Celery, redis_url: str,
                                                      migrated_pg_url: str) -> None:
    db = Database(migrated_pg_url)
    first = JobSpec(task=TaskType.SUMMARIZE, document="one", key="k-1")
    submit_jobs(db, [first])
    # The same job again is a no-op; a different one under its key is refused, whole.
    assert submit_jobs(db, [first]).duplicates == 1
    other = JobSpec(task=TaskType.SUMMARIZE, document="two", key="k-1")
    new = JobSpec(task=TaskType.SUMMARIZE, document="three", key="k-2")
    with pytest.raises(InvalidInput, match=r"job 2: key 'k-1' is already taken by a different job"):
        submit_jobs(db, [new, other])
    with db.session() as session:
        assert session.scalars(select(Job.idempotency_key)).all() == ["k-1"]
    assert len(_route_messages(redis_url)) == 1
    # Within one file too.
    with pytest.raises(InvalidInput, match=r"job 2: key 'k-3' is used by job 1 for a different"):
        submit_jobs(db, [JobSpec(task=TaskType.SUMMARIZE, document="a", key="k-3"),
                         JobSpec(task=TaskType.SUMMARIZE, document="b", key="k-3")])
    db.dispose()


def test_a_bad_line_after_many_chunks_leaves_no_rows(app: Celery, redis_url: str,
                                                     migrated_pg_url: str, tmp_path: Path) -> None:
    db = Database(migrated_pg_url)
    path = tmp_path / "jobs.jsonl"
    count = 2 * CHUNK + 10
    with path.open("w") as out:
        for job in generate(count, seed=4):
            out.write(json.dumps(job) + "\n")
        out.write('{"task": "summarize", "document": "x", "tenant": "' + "t" * 300 + '"}\n')
    with pytest.raises(InvalidInput, match=rf"jobs.jsonl line {count + 1}: tenant"):
        submit_file(db, path)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert _route_messages(redis_url) == []
    # The same file without its bad line goes through whole, every job with its message.
    lines = path.read_text().splitlines()[:-1]
    path.write_text("\n".join(lines) + "\n")
    receipt = submit_file(db, path)
    assert len(receipt.job_ids) == count == len(_route_messages(redis_url))
    db.dispose()


def test_requeue_sends_jobs_left_queued(app: Celery, redis_url: str,
                                        migrated_pg_url: str) -> None:
    db = Database(migrated_pg_url)
    with db.session() as session:  # rows committed, their messages never sent
        receipt = store.insert_jobs(session, [JobSpec(task=TaskType.SUMMARIZE, document="x")])
    assert _route_messages(redis_url) == []
    assert requeue(db, None) == 1
    (message,) = _route_messages(redis_url)
    assert message["headers"]["argsrepr"] == argsrepr(receipt.job_ids[0])  # type: ignore[index]
    db.dispose()


def _queue_messages(redis_url: str, queue: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url)
    raw = client.lrange(queue, 0, -1)
    client.close()
    return [json.loads(m) for m in raw]


def test_a_flushs_tier_messages_are_the_ones_kombu_writes(app: Celery, redis_url: str) -> None:
    publisher = CeleryPublisher()
    for job_id, tier in (("job-1", 1), ("job-2", 2)):
        app.send_task(INFER_BATCH_TASK, (job_id, tier, 0, 0.0), queue=tier_queue(tier),
                      argsrepr=argsrepr(job_id, tier=tier, retry=0))
    publisher.infer_many([("job-1", 1), ("job-2", 2)])
    publisher.infer("job-1", 1)
    publisher.infer("job-2", 2)
    for queue in ("tier1", "tier2"):
        kombu_message, bulk_message, single_message = reversed(_queue_messages(redis_url, queue))
        assert _strip_ids(bulk_message) == _strip_ids(kombu_message), queue
        assert _strip_ids(single_message) == _strip_ids(kombu_message), queue


class _SentEvents:
    """Stands in for the dispatcher Celery sends task-sent events with."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def publish(self, type: str, fields: dict[str, Any], producer: Any, **_: Any) -> None:
        self.sent.append((type, fields))


def test_a_validate_message_is_kombus_own_and_announced_as_sent(
        app: Celery, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _SentEvents()
    monkeypatch.setattr(app.amqp, "_event_dispatcher", events)
    app.send_task(VALIDATE_TASK, ("job-1", 2), queue=VALIDATE,
                  argsrepr=argsrepr("job-1", attempt=2))
    sent_by_celery = len(events.sent)
    CeleryPublisher().validate("job-1", 2)
    kombu_message, direct_message = reversed(_queue_messages(redis_url, VALIDATE))
    assert _strip_ids(direct_message) == _strip_ids(kombu_message)
    # Flower sees it PENDING from its task-sent event, as it sees one Celery sent.
    (kind, fields), = events.sent[sent_by_celery:]
    assert kind == "task-sent" and fields["uuid"] == direct_message["headers"]["id"]
    assert (fields["name"], fields["args"], fields["queue"]) == (
        VALIDATE_TASK, argsrepr("job-1", attempt=2), VALIDATE)


def test_a_flushs_tier_messages_are_each_announced_as_sent(
        app: Celery, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _SentEvents()
    monkeypatch.setattr(app.amqp, "_event_dispatcher", events)
    CeleryPublisher().infer_many([("job-1", 1), ("job-2", 2), ("job-3", 1)])
    queued = {m["headers"]["id"]: m for q in ("tier1", "tier2")
              for m in _queue_messages(redis_url, q)}
    assert [kind for kind, _ in events.sent] == ["task-sent"] * 3
    assert {fields["uuid"] for _, fields in events.sent} == set(queued)
    for _, fields in events.sent:
        message = queued[fields["uuid"]]
        assert fields["queue"] == message["properties"]["delivery_info"]["routing_key"]
        assert fields["args"] == message["headers"]["argsrepr"]


def test_a_message_with_a_countdown_goes_through_celery(app: Celery, redis_url: str) -> None:
    CeleryPublisher().validate("job-1", 2, countdown=30)
    (message,) = _queue_messages(redis_url, VALIDATE)
    assert message["headers"]["eta"] is not None
