"""`tierline db upgrade`: create the database when it is missing, then migrate its tables."""

from __future__ import annotations

import click

from tierline.cli.errors import mask_url


def create_if_missing(url: str) -> bool:
    """Create the PostgreSQL database `url` names when the server has no such database (through
    the server's `postgres` database); True when it was created. Other databases: nothing."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, OperationalError

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql") or not parsed.database:
        return False
    engine = create_engine(url)
    try:
        with engine.connect():
            return False
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    finally:
        engine.dispose()
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = parsed.database.replace('"', '""')
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        if isinstance(exc, OperationalError) and "does not exist" not in str(exc):
            raise
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise click.ClickException(
            f"database {parsed.database} does not exist and could not be created ({reason}); "
            f"create it with: createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
            f"-U {parsed.username or 'postgres'} {parsed.database}") from None
    finally:
        admin.dispose()
    return True


def autovacuum_warning(setting: str | None) -> str | None:
    """What to say when the server's `autovacuum` is `setting` (None: not PostgreSQL)."""
    if setting is None or setting.lower() != "off":
        return None
    return ("warning: autovacuum is off on this PostgreSQL server. The fleet updates each job's "
            "row several times: without vacuuming, the dead versions pile up in the tables and "
            "their indexes, and the planner never gets the statistics ANALYZE gathers. "
            "Turn it on (autovacuum = on, PostgreSQL's default) or vacuum and analyze the "
            "tables yourself.")


def autovacuum_setting(url: str) -> str | None:
    """The server's `autovacuum` setting, or None for a database other than PostgreSQL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not make_url(url).drivername.startswith("postgresql"):
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW autovacuum")).scalar_one())
    finally:
        engine.dispose()


@click.group()
def db() -> None:
    """The database: create it, migrate its tables."""


@db.command()
def upgrade() -> None:
    """Create the database if it is missing, and migrate the tables (alembic upgrade head)."""
    from tierline import migrations
    from tierline.config.settings import Settings

    settings = Settings()
    url = settings.effective_database_url
    if settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    if create_if_missing(url):
        click.echo(f"created database {mask_url(url)}")
    migrations.upgrade(url)
    click.echo(f"database at head: {mask_url(url)}")
    warning = autovacuum_warning(autovacuum_setting(url))
    if warning:
        click.echo(warning, err=True)
