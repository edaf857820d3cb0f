"""Writing a batch of jobs in chunks, inside the caller's one transaction.

Submit streams a file through `BatchWriter.add`: every `CHUNK` jobs become one multi-row
INSERT ... ON CONFLICT DO NOTHING RETURNING, so a batch of 100,000 is a hundred statements, and
memory holds one chunk plus a digest per key. A key is one job: the same job again (in the file
or already stored) is skipped as a duplicate, a different job under a taken key is a problem of
its line. The caller commits or rolls back the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from tierline.jobs.intake import InputProblem
from tierline.jobs.models import JobSpec, JobStatus
from tierline.persistence.tables import Job, utcnow

CHUNK = 1000


@dataclass(frozen=True)
class SubmitReceipt:
    batch_id: str
    job_ids: list[str]
    duplicates: int


@dataclass(frozen=True)
class _Pending:
    where: str
    key: str
    # The spec as stored: JSON text, written as it is.
    spec_json: str
    row: dict[str, Any]


# COPY cannot skip conflicting rows: PostgreSQL copies a chunk into a staging table (dropped with
# the transaction) and moves it into `jobs` with one INSERT ... SELECT ... ON CONFLICT.
_COLUMNS = ("id", "idempotency_key", "batch_id", "tenant", "user", "feature", "query_type",
            "task", "spec", "status", "created_at", "updated_at")
_QUOTED = ", ".join(f'"{c}"' for c in _COLUMNS)
_STAGE = "submit_stage"
_CREATE_STAGE = (f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} "
                 f"(LIKE jobs INCLUDING DEFAULTS) ON COMMIT DROP")
_COPY = f"COPY {_STAGE} ({_QUOTED}) FROM STDIN"
_MOVE = (f"INSERT INTO jobs ({_QUOTED}) SELECT {_QUOTED} FROM {_STAGE} "
         f"ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key")


def content_key(canonical: str) -> str:
    """The idempotency key of a job without one: a hash of its canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def canonical_json(spec: JobSpec) -> tuple[dict[str, Any], str]:
    dump = spec.model_dump(mode="json", by_alias=True)
    return dump, json.dumps(dump, sort_keys=True)


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    # The route step may lower a stored job's ceiling to a spend budget's cap: the same job
    # resubmitted still carries the ceiling it was submitted with.
    context = {k: v for k, v in (spec.get("context") or {}).items() if k != "max_tier"}
    return {**spec, "context": context}


@dataclass
class BatchWriter:
    session: Session
    batch_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    job_ids: list[str] = field(default_factory=list)
    duplicates: int = 0
    # Per key: a digest of the job's content and where it was first seen.
    _seen: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)
    _writing: bool = True

    @property
    def jobs_seen(self) -> int:
        return len(self._seen) + self.duplicates

    def stop_writing(self) -> None:
        """Keep checking what is added, but write nothing more (the batch will be refused)."""
        self._writing = False
        self._pending.clear()

    def add(self, where: str, spec: JobSpec) -> list[InputProblem]:
        """Queue one job for the next chunk; returns the problems found so far, if any."""
        # pydantic's own serializer is a tenth of the cost of json.dumps over model_dump; the
        # sorted form is computed only for a job whose key is a hash of its content.
        spec_json = spec.model_dump_json(by_alias=True)
        key = spec.key or content_key(canonical_json(spec)[1])
        digest = hashlib.blake2b(spec_json.encode(), digest_size=16).digest()
        earlier = self._seen.get(key)
        if earlier is not None:
            if earlier[0] == digest:
                self.duplicates += 1
                return []
            return [InputProblem(where, f"key {key!r} is used by {earlier[1]} for a different "
                                        "job; give each job its own key")]
        self._seen[key] = (digest, where)
        if not self._writing:
            return []
        now = utcnow()
        self._pending.append(_Pending(where, key, spec_json, {
            "id": str(uuid.uuid4()), "idempotency_key": key, "batch_id": self.batch_id,
            "tenant": spec.tenant, "user": spec.user, "feature": spec.feature,
            "query_type": spec.effective_query_type, "task": spec.task.value, "spec": spec_json,
            "status": JobStatus.QUEUED.value, "created_at": now, "updated_at": now,
        }))
        return self.flush() if len(self._pending) >= CHUNK else []

    def flush(self) -> list[InputProblem]:
        """Write the pending chunk; keys already stored are duplicates or problems."""
        pending, self._pending = self._pending, []
        if not pending or not self._writing:
            return []
        if self.session.get_bind().dialect.name == "postgresql":
            created = self._copy(pending)
        else:
            statement = (sqlite.insert(Job)
                         .on_conflict_do_nothing(index_elements=["idempotency_key"])
                         .returning(Job.idempotency_key))
            rows = [{**p.row, "spec": json.loads(p.spec_json)} for p in pending]
            created = set(self.session.scalars(statement, rows))
        self.job_ids.extend(p.row["id"] for p in pending if p.key in created)
        taken = [p for p in pending if p.key not in created]
        return self._check_taken(taken) if taken else []

    def _copy(self, pending: list[_Pending]) -> set[str]:
        """COPY a chunk in, move what is new into `jobs`; the keys written."""
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            with cursor.copy(_COPY) as copy:
                for item in pending:
                    row = item.row
                    copy.write_row([row[c] for c in _COLUMNS])
            cursor.execute(_MOVE)
            created = {str(key) for (key,) in cursor.fetchall()}
            cursor.execute(f"TRUNCATE {_STAGE}")
        return created

    def _check_taken(self, taken: list[_Pending]) -> list[InputProblem]:
        stored = {key: (spec, batch) for key, spec, batch in self.session.execute(
            select(Job.idempotency_key, Job.spec, Job.batch_id)
            .where(Job.idempotency_key.in_([p.key for p in taken])))}
        problems = []
        for item in taken:
            spec, batch = stored[item.key]
            if _comparable(spec) == _comparable(json.loads(item.spec_json)):
                self.duplicates += 1
            else:
                problems.append(InputProblem(
                    item.where, f"key {item.key!r} is already taken by a different job "
                                f"(batch {batch}); resubmit that job unchanged, or give this one "
                                "a new key"))
        return problems

    def receipt(self) -> SubmitReceipt:
        return SubmitReceipt(self.batch_id, list(self.job_ids), self.duplicates)
