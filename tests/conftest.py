"""Fixtures for the real services of this machine: PostgreSQL and Redis.

A test that needs a service it cannot reach is skipped on a laptop, and fails in CI (CI=true),
where .ci/run has started both.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "TIERLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TIERLINE_TEST_REDIS", "redis://127.0.0.1:6379/11")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _require(host: str, port: int, what: str) -> None:
    if not _reachable(host, port):
        if os.environ.get("CI"):
            pytest.fail(f"{what} at {host}:{port} is not reachable (CI must start it)")
        pytest.skip(f"{what} at {host}:{port} is not reachable")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    _require("127.0.0.1", 5432, "PostgreSQL")
    return PG_ADMIN_URL


@pytest.fixture()
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"tierline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def migrated_pg_url(pg_url: str) -> str:
    from tierline import migrations

    migrations.upgrade(pg_url)
    return pg_url


@pytest.fixture()
def redis_url() -> Iterator[str]:
    """A Redis database emptied before and after the test."""
    _require("127.0.0.1", 6379, "Redis")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()
