"""Building the Celery app from the settings.

Reliability settings, and why:
- threads pool: the tier-1 drain's concurrent calls and the per-process runtime (SDK clients,
  event loop, breaker and database pools) want one process; a killed process takes all its
  threads' messages with it, so what brings them back is the short visibility timeout below,
  not `task_reject_on_worker_lost` (which only helps a prefork pool whose child dies);
- acks late: a message is acknowledged after its task ran, so a worker killed mid-task leaves
  the message to be delivered again (every step is idempotent, and compare-and-set on the job);
- a short visibility timeout (`TIERLINE_VISIBILITY_TIMEOUT_S`, 30 s) swept every 5 s, with a
  heartbeat (workers.heartbeat) that renews every message a live worker holds every third of
  it: a killed worker's messages come back within timeout + sweep, about 35 s, however long
  a healthy task runs. All of them: a message is taken off its list and recorded as
  unacknowledged in one atomic step (workers.redis_transport), where kombu's BRPOP left the
  message in flight when the process died gone for good, its job back only by the janitor
  (`tierline requeue --every`);
- publishing retries for `outage_window_s`, so a broker restart is waited out, not a crash;
- prefetch 1: provider calls are slow, and a prefetched message would wait behind them;
- on a `redis://` broker, kombu's transport with messages taken several at a time and the
  acknowledgements of one event-loop turn written in one round trip (workers.redis_transport),
  where each message cost a round trip for each.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any, TypeVar

from celery import Celery, signals
from kombu.entity import Queue

from tierline.config.settings import Settings
from tierline.tasks import runtime
from tierline.tasks.queues import (
    ALL_QUEUES,
    ROUTE,
    ROUTE_TASK,
    SHADOW,
    SHADOW_TASK,
    VALIDATE,
    VALIDATE_TASK,
)
from tierline.workers import events
from tierline.workers.scheduling import is_bulk_worker, run_as_bulk
from tierline.workers.set_steps import register_set_steps
from tierline.workers.tier1 import register_tier1_drain

log = logging.getLogger(__name__)


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
    return {
        "visibility_timeout": settings.visibility_timeout_s,
        # Sweep for messages past their timeout every 5 s, scanning on every sweep (kombu's
        # defaults sweep every 100 s, made for an hour's timeout).
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
    }


def _publish_retry_policy(settings: Settings) -> dict[str, Any]:
    """Publishing waits out a broker outage of `outage_window_s` (kombu's default: ~1 s)."""
    interval_max = 2.0
    return {"max_retries": max(3, int(settings.outage_window_s / interval_max)),
            "interval_start": 0.2, "interval_step": 0.5, "interval_max": interval_max}


def _yield_to_routing(niceness: int) -> None:
    """A worker that does not route gives way to one that does (see workers.scheduling); set
    once its queues are known, before it starts its threads."""

    def on_init(sender: Any, **_: Any) -> None:
        if is_bulk_worker(sender.app.amqp.queues.consume_from or ALL_QUEUES):
            run_as_bulk(niceness)

    signals.worker_init.connect(on_init, weak=False)


def _start_heartbeat(settings: Settings) -> None:
    """Each worker renews the messages it holds (see workers.heartbeat)."""
    from tierline.workers.heartbeat import VisibilityHeartbeat

    running: list[VisibilityHeartbeat] = []

    def on_ready(sender: Any, **_: Any) -> None:
        heartbeat = VisibilityHeartbeat(sender, settings.effective_broker_url,
                                        every_s=settings.visibility_timeout_s / 3)
        heartbeat.start()
        running.append(heartbeat)

    def on_shutdown(**_: Any) -> None:
        while running:
            running.pop().stop()

    signals.worker_ready.connect(on_ready, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)


def create_app(settings: Settings) -> Celery:
    app = Celery("tierline", broker=settings.effective_broker_url,
                 include=["tierline.tasks.celery_tasks"])
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
        task_publish_retry_policy=_publish_retry_policy(settings),
        broker_connection_retry_on_startup=True,
        # Keep trying to reach a broker that went away (a restart), for ever: the worker's
        # messages wait in Redis, or come back from the janitor.
        broker_connection_max_retries=None,
        # When the broker connection drops, running steps finish their database work (each is
        # idempotent); their messages come back from the broker, or from the janitor when the
        # broker lost them. Cancelling them would only redo the same work.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Flower shows progress from these events (see workers.events; TIERLINE_TASK_EVENTS=false
        # turns them off; a running Flower still turns the workers' own events on).
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
    )
    if settings.embedded:
        app.conf.broker_transport = "tierline.workers.fs_transport:Transport"
    else:
        if settings.effective_broker_url.startswith("redis://"):
            app.conf.broker_transport = "tierline.workers.redis_transport:Transport"
        _start_heartbeat(settings)
        _yield_to_routing(settings.bulk_worker_niceness)
        # The embedded run closes its own runtime; a worker closes the one its tasks built.
        signals.worker_shutdown.connect(_close_runtime, weak=False)
    events.install(app)
    register_tier1_drain(app, settings)
    register_set_steps(app, settings)
    runtime.install_factory(lambda: _long_lived(
        runtime.build_runtime(settings, _worker_concurrency.get(app))))
    return app


T = TypeVar("T")


def _long_lived(built: T) -> T:
    """Move what exists now (modules, the app, the runtime just built on the first task) out of
    the collector's sight: a full collection would otherwise walk every one of them again, in
    the middle of whichever step allocated last."""
    gc.collect()
    gc.freeze()
    return built


def _close_runtime(**_: Any) -> None:
    """A worker that stops closes the runtime its tasks built (a threads pool: in this process)."""
    try:
        runtime.close_current()
    except Exception:  # the process is ending; a failed close must not hide why
        log.warning("could not close the runtime", exc_info=True)


# Each worker's thread count, known once it has started (the runtime is built on its first task,
# after that), so the database pool is sized to it.
_worker_concurrency: dict[Celery, int] = {}


@signals.worker_init.connect
def _record_concurrency(sender: Any, **_: Any) -> None:
    concurrency = getattr(sender, "concurrency", None)
    if isinstance(concurrency, int) and concurrency > 0:
        _worker_concurrency[sender.app] = concurrency

