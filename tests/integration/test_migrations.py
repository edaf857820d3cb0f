"""The Alembic migrations create the tables on a fresh PostgreSQL and SQLite, and undo them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, inspect

from tierline import migrations
from tierline.jobs.models import JobSpec
from tierline.persistence.tables import TABLE_NAMES

pytestmark = pytest.mark.integration


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_on_postgresql(pg_url: str) -> None:
    migrations.upgrade(pg_url)
    assert _tables(pg_url) == set(TABLE_NAMES)
    assert "attempt_no" in _columns(pg_url, "results")
    migrations.downgrade(pg_url, "base")
    assert _tables(pg_url) == set()
    migrations.upgrade(pg_url)  # and again, from nothing
    assert _tables(pg_url) == set(TABLE_NAMES)


def test_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrations.upgrade(url)
    assert _tables(url) == set(TABLE_NAMES)
    migrations.downgrade(url, "0001")
    assert "attempt_no" not in _columns(url, "results")
    migrations.upgrade(url)
    assert "attempt_no" in _columns(url, "results")


def test_models_match_migrations(pg_url: str) -> None:
    """Autogenerate finds nothing to add: the tables in code and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tierline.persistence.tables import Base

    migrations.upgrade(pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


_OLD_SPECS: list[dict[str, Any]] = [
    {"task": "classify", "document": "Refund me.", "labels": ["billing", "other"],
     "reference": "billing", "key": "old-0"},
    {"task": "summarize", "document": "A memo.", "reference": None, "key": "old-1"},
    {"task": "summarize", "document": "Never had one.", "key": "old-2"},
]


def _insert_old_jobs(url: str, count: int) -> None:
    """`count` jobs as submit wrote them before 0006, cycling through `_OLD_SPECS` (more than
    one migration batch, so the batches' seams are crossed)."""
    jobs = sa.table("jobs", *(sa.column(c) for c in (
        "id", "idempotency_key", "batch_id", "tenant", "user", "feature", "query_type", "task",
        "status", "created_at", "updated_at")), sa.column("spec", sa.JSON))
    now = dt.datetime.now(dt.UTC)
    rows = [{"id": f"{i:036d}", "idempotency_key": f"k{i}", "batch_id": "b", "tenant": "t",
             "user": "u", "feature": "f", "query_type": "q",
             "task": _OLD_SPECS[i % 3]["task"], "spec": _OLD_SPECS[i % 3], "status": "done",
             "created_at": now, "updated_at": now} for i in range(count)]
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(jobs), rows)
    engine.dispose()


def _specs(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        specs = [row.spec for row in connection.execute(
            sa.select(sa.table("jobs", sa.column("id"), sa.column("spec", sa.JSON)))
            .order_by(sa.column("id")))]
    engine.dispose()
    return specs


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_0006_removes_the_reference_answer_from_stored_specs(
        dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = (request.getfixturevalue("pg_url") if dialect == "postgresql"
           else f"sqlite:///{tmp_path / 'old.db'}")
    migrations.upgrade(url, "0005")
    _insert_old_jobs(url, 2500)
    migrations.upgrade(url)
    specs = _specs(url)
    assert len(specs) == 2500
    assert not [s for s in specs if "reference" in s]
    expected = [{k: v for k, v in _OLD_SPECS[i % 3].items() if k != "reference"}
                for i in range(2500)]
    assert specs == expected
    assert JobSpec.from_row(specs[0]).labels == ["billing", "other"]
    migrations.downgrade(url, "0005")  # nothing to put back, and nothing breaks
    assert _specs(url) == expected
