"""What every command needs: settings from the environment, the database, the Celery app.

Commands that only read the database (`costs`, `status`, `results`, `report`, `budgets`,
`shadow`) open it without the app: building the app imports Celery, the tasks and the
runtime, about 1.5 s of a command's start-up. Commands that publish build it at once, since
publishing goes through Celery's current app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from tierline.config.settings import Settings
from tierline.persistence.db import Database

if TYPE_CHECKING:
    from celery import Celery


@dataclass
class Context:
    settings: Settings
    db: Database

    @cached_property
    def app(self) -> Celery:
        from tierline.workers.celery_app import create_app

        app = create_app(self.settings)
        app.set_current()
        app.set_default()
        return app


def open_context(settings: Settings | None = None, *, with_app: bool = True) -> Context:
    settings = settings or Settings()
    if settings.database_url is None:
        from tierline import migrations

        # The embedded SQLite file is ours to create and keep current.
        settings.home.mkdir(parents=True, exist_ok=True)
        migrations.upgrade(settings.effective_database_url)
    context = Context(settings, Database(settings.effective_database_url))
    if with_app:
        # Built now rather than on first use: publishing goes through Celery's current app.
        context.app.set_current()
    return context
