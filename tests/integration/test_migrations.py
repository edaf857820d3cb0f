"""The Alembic migrations create the tables on a fresh PostgreSQL and SQLite, and undo them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from tierline import migrations
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
