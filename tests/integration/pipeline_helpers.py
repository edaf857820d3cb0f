"""What the pipeline tests share: a job, scripted tiers, a publisher that records, a driver."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tierline.config.settings import Settings
from tierline.config.tiers import load_tiers
from tierline.jobs.models import JobSpec, TaskType
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Job
from tierline.providers.base import Provider
from tierline.routing.rules import RulesRouter
from tierline.simulator.stub import StubProvider
from tierline.tasks import pipeline
from tierline.tasks.runtime import Runtime

SCHEMA = {
    "type": "object",
    "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}},
    "required": ["invoice_number", "total"],
}
DOCUMENT = "ACME Ltd\nInvoice INV-2041\nTotal due: 1,250.00 EUR"
GOOD = json.dumps({"invoice_number": "INV-2041", "total": 1250.0})
INVENTED = json.dumps({"invoice_number": "INV-9999", "total": 1250.0})


class Census:
    """Statements (by verb and table) and transactions on one engine."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.transactions = 0

    def statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.split(maxsplit=1)[0].upper()
        # The first table named, not a function read from (the ledger read's `unnest(...)`).
        table = re.search(r"(?:FROM|INTO|UPDATE)\s+(\w+)\b(?!\()", statement, re.IGNORECASE)
        self.statements[f"{verb} {table.group(1) if table else '?'}"] += 1

    def begin(self, _conn: Any) -> None:
        self.transactions += 1

    def total(self) -> int:
        return sum(self.statements.values())

    def reset(self) -> None:
        self.statements.clear()
        self.transactions = 0


@dataclass
class RecordingPublisher:
    sent: list[tuple[str, str, int]] = field(default_factory=list)
    shadows: list[tuple[str, int, str]] = field(default_factory=list)

    def infer(self, job_id: str, tier: int) -> None:
        self.sent.append(("infer", job_id, tier))

    def infer_many(self, messages: Sequence[tuple[str, int]]) -> None:
        for job_id, tier in messages:
            self.infer(job_id, tier)

    def validate(self, job_id: str, attempt_no: int) -> None:
        self.sent.append(("validate", job_id, attempt_no))

    def shadow(self, job_id: str, attempt_no: int, candidate: str) -> None:
        # Shadow tests are off the job's path: recorded apart, never driven here.
        self.shadows.append((job_id, attempt_no, candidate))


def make_runtime(db: Database, scripts: dict[int, list[StubProvider]]) -> Runtime:
    tiers = load_tiers()
    providers: dict[str, Provider] = {}
    for tier, stubs in scripts.items():
        for endpoint, stub in zip(tiers.get(tier).endpoints, stubs, strict=False):
            providers[endpoint.label] = stub
    rt = Runtime(Settings(database_url=db.url, simulator=False), db, tiers, RulesRouter(), None,
                 _providers=providers)
    return rt


def submit_one(db: Database, **overrides: Any) -> str:
    spec = JobSpec(task=TaskType.EXTRACT, document=DOCUMENT, schema=SCHEMA, **overrides)
    with db.session() as session:
        receipt = store.insert_jobs(session, [spec])
    return receipt.job_ids[0]


def submit_many(db: Database, count: int) -> list[str]:
    """`count` extract jobs, each document its own (so each job has its own key)."""
    specs = [JobSpec(task=TaskType.EXTRACT, document=f"{DOCUMENT}\nRef {i}", schema=SCHEMA)
             for i in range(count)]
    with db.session() as session:
        return store.insert_jobs(session, specs).job_ids


def drive(rt: Runtime, publisher: RecordingPublisher, job_id: str, limit: int = 20) -> None:
    """Deliver every published message in order, as a worker fleet would."""
    pipeline.route_job(rt, publisher, job_id)
    for _ in range(limit):
        if not publisher.sent:
            return
        kind, jid, arg = publisher.sent.pop(0)
        if kind == "infer":
            outcome = pipeline.infer_job(rt, publisher, jid, arg)
            assert outcome is None, outcome
        else:
            pipeline.validate_attempt(rt, publisher, jid, arg)


def job_row(db: Database, job_id: str) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job
