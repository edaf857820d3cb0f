"""Building the Celery app from the settings.

Reliability settings, and why:
- acks late + reject on worker lost: a message is acknowledged after its task ran, so a worker
  killed mid-task leaves the message to be delivered again (every step is idempotent);
- prefetch 1: provider calls are slow, and a prefetched message would wait behind them;
- one visibility timeout, longer than the slowest task plus its retry countdown, for every
  Redis connection (broker and ETA handling alike), so a healthy worker is never raced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_init
from kombu.entity import Queue

from jobs.settings import Settings
from tasks import runtime
from tasks.queues import (
    ALL_QUEUES,
    ROUTE,
    ROUTE_TASK,
    SHADOW,
    SHADOW_TASK,
    VALIDATE,
    VALIDATE_TASK,
)
from workers.tier1 import register_tier1_drain


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.embedded:
        folder = Path(settings.home) / "broker"
        folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "store_processed": False,
            "control_folder": str(folder / "control"),
            # An empty queue is polled; the default second between polls would dominate a
            # step that takes milliseconds.
            "polling_interval": 0.01,
        }
    return {"visibility_timeout": settings.visibility_timeout_s}


def create_app(settings: Settings) -> Celery:
    app = Celery("tierline", broker=settings.effective_broker_url, include=["tasks.celery_tasks"])
    app.conf.update(
        task_queues=[Queue(name) for name in ALL_QUEUES],
        task_default_queue=ROUTE,
        task_routes={ROUTE_TASK: {"queue": ROUTE}, VALIDATE_TASK: {"queue": VALIDATE},
                     SHADOW_TASK: {"queue": SHADOW}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        # When the broker connection drops, running steps finish their database work (each is
        # idempotent); their messages come back from the broker, or from the janitor when the
        # broker lost them. Cancelling them would only redo the same work.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Flower shows progress from these events (TIERLINE_TASK_EVENTS=false turns them off; a
        # running Flower still turns the workers' own events on).
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
    )
    if settings.embedded:
        app.conf.broker_transport = "workers.fs_transport:Transport"
    register_tier1_drain(app, settings)
    runtime.install_factory(lambda: runtime.build_runtime(settings, _worker_concurrency.get(app)))
    return app


# Each worker's thread count, known once it has started (the runtime is built on its first task,
# after that), so the database pool is sized to it.
_worker_concurrency: dict[Celery, int] = {}


@worker_init.connect
def _record_concurrency(sender: Any, **_: Any) -> None:
    concurrency = getattr(sender, "concurrency", None)
    if isinstance(concurrency, int) and concurrency > 0:
        _worker_concurrency[sender.app] = concurrency

