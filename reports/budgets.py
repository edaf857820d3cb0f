"""Spend against a budget, summed from the cost ledger.

Every provider call is a row of `attempts` stamped with its job's tenant and feature, so what a
tenant or feature has spent since a period began is one sum over the ledger. Shadow tests are not
in it: their cost lives in `shadow_results`, the experiment's own account.
"""

from __future__ import annotations

import fnmatch
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tierline.persistence.tables import Attempt
from tierline.reports.costs import money

_GLOB_CHARS = frozenset("*?[")


def _like(pattern: str) -> str:
    """A LIKE pattern matching at least what the glob `pattern` matches (`\\` escapes)."""
    if "[" in pattern:
        # Character classes have no LIKE form: keep what comes before the first one.
        pattern = pattern[: pattern.index("[")] + "*"
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _narrowed(query: Any, column: Any, pattern: str) -> Any:
    if pattern == "*":
        return query
    if not _GLOB_CHARS.intersection(pattern):
        return query.where(column == pattern)  # the common case: one tenant, on the index
    return query.where(column.like(_like(pattern), escape="\\"))


def ledger_spend(session: Session, tenant: str, feature: str, since: datetime) -> Decimal:
    """What the ledger holds since `since` for tenants and features matching the glob patterns
    `tenant` and `feature` (fnmatch, case-sensitive, as budgets and business rules match).

    SQL narrows the rows (equality, or a LIKE that matches a superset of the glob); the glob
    itself is applied to the few (tenant, feature) groups that come back, so the match is the
    same on PostgreSQL and SQLite."""
    query = select(Attempt.tenant, Attempt.feature, func.sum(Attempt.cost_usd)).where(
        Attempt.created_at >= since)
    query = _narrowed(_narrowed(query, Attempt.tenant, tenant), Attempt.feature, feature)
    rows = session.execute(query.group_by(Attempt.tenant, Attempt.feature))
    return sum((money(cost) for row_tenant, row_feature, cost in rows
                if fnmatch.fnmatchcase(row_tenant, tenant)
                and fnmatch.fnmatchcase(row_feature, feature)), Decimal(0))
