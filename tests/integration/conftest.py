"""Fixtures of the integration tests: a migrated PostgreSQL database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from tests.integration.pipeline_helpers import Census
from tierline.persistence.db import Database


@pytest.fixture()
def db(migrated_pg_url: str) -> Iterator[Database]:
    database = Database(migrated_pg_url)
    yield database
    database.dispose()


@pytest.fixture()
def census(db: Database) -> Iterator[Census]:
    """Counts the statements and transactions run on the test's database."""
    counted = Census()
    event.listen(db.engine, "before_cursor_execute", counted.statement)
    event.listen(db.engine, "begin", counted.begin)
    yield counted
    event.remove(db.engine, "before_cursor_execute", counted.statement)
    event.remove(db.engine, "begin", counted.begin)
