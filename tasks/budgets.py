"""Budgets at the route step: each budget's spend, cached per process, and the gate a job passes.

The route step sees thousands of jobs a minute in a bulk batch; summing the ledger for each
would cost more than routing them. So each process keeps every budget's spend for
`budget_refresh_s` seconds. The price is staleness: spend recorded in that window (by any
process) is not yet seen, which the README's Budgets section turns into an overshoot bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tierline.jobs.models import JobSpec
from tierline.persistence.tables import utcnow
from tierline.reports.budgets import ledger_spend
from tierline.routing.budget import (
    Budget,
    BudgetGate,
    BudgetStatus,
    budget_effect,
    gate_job,
    matching,
    period_start,
)


@dataclass(frozen=True)
class _Reading:
    period_start: datetime
    read_at: datetime
    spent_usd: Decimal


@dataclass
class SpendCache:
    """Each budget's spend this period, summed from the ledger at most once per `refresh_s`.

    `clock` (UTC) decides both the period and the readings' age, so tests drive it."""

    refresh_s: float = 10.0
    clock: Callable[[], datetime] = utcnow
    _readings: dict[str, _Reading] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spent(self, session: Session, budget: Budget) -> Decimal:
        now = self.clock()
        start = period_start(budget.period, now)
        with self._lock:
            reading = self._readings.get(budget.name)
        if reading is not None and reading.period_start == start:
            age = (now - reading.read_at).total_seconds()
            if 0 <= age < self.refresh_s:  # a clock set back is no reason to trust old figures
                return reading.spent_usd
        # Two threads may both miss and both sum; the later reading wins, either is right.
        spent = ledger_spend(session, budget.tenant, budget.feature, start)
        with self._lock:
            self._readings[budget.name] = _Reading(start, now, spent)
        return spent

    def statuses(self, session: Session, budgets: Sequence[Budget]) -> list[BudgetStatus]:
        return [BudgetStatus(b, self.spent(session, b)) for b in budgets]


def budget_gate(session: Session, spend: SpendCache, budgets: Sequence[Budget], spec: JobSpec,
                top: int) -> BudgetGate:
    """The gate of `spec` under the budgets that govern it (no query when none do)."""
    governing = matching(budgets, spec.tenant, spec.feature)
    if not governing:
        return BudgetGate(spec)
    return gate_job(budget_effect(spend.statuses(session, governing)), spec, top)
