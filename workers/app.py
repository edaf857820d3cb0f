"""The fleet's Celery app, configured from `TIERLINE_*` variables.

`celery -A tierline.workers.app worker -Q tier2` runs one worker of the fleet; see
workers.celery_app for the reliability settings, and workers.metrics_server for its metrics
endpoint.
"""

from __future__ import annotations

from tierline.config.settings import Settings
from tierline.workers import metrics_env

settings = Settings()
# Before anything imports prometheus-client: it picks multiprocess storage on first import.
metrics_env.prepare(settings.metrics_port)

from tierline.workers.celery_app import create_app  # noqa: E402
from tierline.workers.metrics_server import install as install_metrics  # noqa: E402

app = create_app(settings)
install_metrics(settings.metrics_port, settings.metrics_address)
