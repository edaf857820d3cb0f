"""Fixtures of the integration tests: a migrated PostgreSQL database of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tierline.persistence.db import Database


@pytest.fixture()
def db(migrated_pg_url: str) -> Iterator[Database]:
    database = Database(migrated_pg_url)
    yield database
    database.dispose()
