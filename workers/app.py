"""The fleet's Celery app, configured from `TIERLINE_*` variables.

`celery -A workers.app worker -Q tier2` runs one worker of the fleet; see workers.celery_app for
the reliability settings.
"""

from __future__ import annotations

from jobs.settings import Settings
from workers.celery_app import create_app

app = create_app(Settings())
