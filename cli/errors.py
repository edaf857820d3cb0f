"""How the command reports what it cannot do: one line and an exit code, never a traceback.

Exit codes: 1 an error in what was asked (an unknown batch, a failed command), 2 bad input or
usage, 3 the database or the broker cannot be reached, or the database has no tables yet.
"""

from __future__ import annotations

import re

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@]*):(?P<pw>[^@/]*)@",
                          re.IGNORECASE)


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***`, for anything printed or logged."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return mask_url(text[0]) if text else type(cause).__name__


def _missing_table(exc: BaseException) -> bool:
    """PostgreSQL's undefined table (SQLSTATE 42P01) or SQLite's "no such table": a database
    that was never migrated, or migrated by an older release."""
    import sqlalchemy.exc

    if not isinstance(exc, sqlalchemy.exc.DBAPIError):
        return False
    return (getattr(exc.orig, "sqlstate", None) == "42P01"
            or str(exc.orig).startswith("no such table"))


def describe_outage(exc: BaseException, database_url: str, broker_url: str | None) -> str | None:
    """One line naming the unreachable service behind `exc` (or the database's missing tables),
    or None when `exc` is neither."""
    import kombu.exceptions
    import redis.exceptions
    import sqlalchemy.exc

    if _missing_table(exc):
        return (f"the database at {mask_url(database_url)} has no tierline tables (or an older "
                f"schema): run `tierline db upgrade` ({_first_line(exc)})")
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return f"cannot reach the database at {mask_url(database_url)}: {_first_line(exc)}"
    broker = mask_url(broker_url or "the embedded broker")
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
                  | kombu.exceptions.OperationalError | ConnectionError):
        return f"cannot reach the broker at {broker}: {_first_line(exc)}"
    return None
