"""Why a job is still open when a fleet test gives up: its row, its ledger, and where its
messages are in the broker (a queue's list, the unacknowledged hash and its index, or nowhere).

kombu's Redis transport keeps a delivered, unacknowledged message in the hash `unacked`
(delivery tag -> [message, exchange, routing key]) and its delivery time in the sorted set
`unacked_index`; the sweep hands it out again once that time is older than the visibility
timeout. A message in the hash whose index entry is gone is never handed out again.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Job

UNACKED = "unacked"
UNACKED_INDEX = "unacked_index"
# Held by the worker sweeping `unacked_index`; while it is held no other worker sweeps.
UNACKED_MUTEX = "unacked_mutex"
DELIVERY_COUNTS = "tierline:deliveries:"


def _message_args(message: dict[str, Any]) -> list[Any]:
    try:
        body = json.loads(base64.b64decode(message.get("body", "")))
        return list(body[0])
    except (ValueError, TypeError, IndexError, KeyError):
        return []


def _describe_message(message: dict[str, Any]) -> str:
    headers = message.get("headers") or {}
    return (f"{headers.get('task')} args={_message_args(message)} "
            f"retries={headers.get('retries')} eta={headers.get('eta')}")


def _mentions(message: dict[str, Any], job_id: str) -> bool:
    return job_id in _message_args(message) or job_id in str(
        (message.get("headers") or {}).get("argsrepr", ""))


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def message_whereabouts(client: Any, job_id: str, now: float | None = None) -> list[str]:
    """Every message of `job_id` in the broker, one line each; ["nowhere ..."] when none."""
    now = time.time() if now is None else now
    found: list[str] = []
    for key in client.scan_iter(count=1000):
        if client.type(key) != b"list":
            continue
        for raw in client.lrange(key, 0, -1):
            message = _parse(raw)
            if _mentions(message, job_id):
                found.append(f"queued in {key.decode(errors='replace')!r}: "
                             f"{_describe_message(message)}")
    for tag, raw in client.hgetall(UNACKED).items():
        entry = json.loads(raw)
        message = entry[0] if isinstance(entry, list) and entry else {}
        if not _mentions(message, job_id):
            continue
        score = client.zscore(UNACKED_INDEX, tag)
        held = ("NOT in unacked_index (never handed out again)" if score is None
                else f"delivered/renewed {now - score:.1f} s ago")
        found.append(f"unacked tag={tag.decode()} routing_key={entry[2]!r}, {held}: "
                     f"{_describe_message(message)}")
    for key in client.scan_iter(match=f"{DELIVERY_COUNTS}*{job_id}*"):
        found.append(f"delivery count {key.decode()} = {client.get(key)!r}")
    found = found or ["nowhere in the broker (no queued or unacknowledged message)"]
    if client.exists(UNACKED_MUTEX):
        found.append(f"the sweep's {UNACKED_MUTEX} is held, expiring in "
                     f"{client.pttl(UNACKED_MUTEX) / 1000:.1f} s")
    return found


def describe_open_jobs(db: Database, broker_url: str, batch_id: str, open_statuses: list[str],
                       limit: int = 5) -> str:
    """The first `limit` open jobs of the batch: row, ledger rows and broker whereabouts."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=5)
    lines: list[str] = []
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            jobs = session.scalars(select(Job).where(Job.batch_id == batch_id,
                                                     Job.status.in_(open_statuses))
                                   .limit(limit)).all()
            for job in jobs:
                lines.append(f"job {job.id}: status={job.status} tier={job.current_tier} "
                             f"reason={job.status_reason!r} updated "
                             f"{(now - job.updated_at).total_seconds():.0f} s ago")
                for attempt in store.attempts_of(session, job.id):
                    lines.append(f"  attempt {attempt.attempt_no}: tier={attempt.tier} "
                                 f"model={attempt.model} outcome={attempt.outcome} "
                                 f"validated={attempt.validated} error={attempt.error!r}")
                lines.extend(f"  broker: {where}" for where in message_whereabouts(client,
                                                                                   job.id))
    finally:
        client.close()
    return "\n".join(lines)
