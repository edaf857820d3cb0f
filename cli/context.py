"""What every command needs: settings from the environment, the database, the Celery app."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from tierline import migrations
from tierline.config.settings import Settings
from tierline.persistence.db import Database
from tierline.workers.celery_app import create_app


@dataclass
class Context:
    settings: Settings
    db: Database
    app: Celery


def open_context(settings: Settings | None = None) -> Context:
    settings = settings or Settings()
    if settings.database_url is None:
        # The embedded SQLite file is ours to create and keep current.
        settings.home.mkdir(parents=True, exist_ok=True)
        migrations.upgrade(settings.effective_database_url)
    app = create_app(settings)
    app.set_current()
    app.set_default()
    return Context(settings, Database(settings.effective_database_url), app)
