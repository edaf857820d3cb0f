"""Task events that reach Flower: what the fleet sends, and how.

- `worker_send_task_events` and `task_send_sent_event` are on (see workers.celery_app), so a
  message is PENDING in Flower from the moment it is sent, and moves on as workers report it.
- Task events are published as they happen, never buffered. With an event loop (the Redis
  transport) Celery buffers task events and flushes them from the loop; the buffer is a plain
  list that the threads pool appends to from its threads while the loop publishes and clears
  it, so events get lost (celery/celery#10434) and tasks stay RECEIVED or STARTED in Flower for
  good. Publishing each event at once goes through the dispatcher's lock instead: one Redis
  PUBLISH per event, a small cost next to a step that calls a model.
- Each message carries a short argument representation naming its job (see tasks.publish), so
  a job can be found in Flower's task list and searched for.
- The tier-1 drain's messages get their events from workers.batch_events.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, bootsteps


class UnbufferedTaskEvents(bootsteps.StartStopStep):  # type: ignore[misc]
    """After the consumer's event dispatcher is (re)created, turn off its task-event buffer."""

    requires = ("celery.worker.consumer.events:Events",)

    def start(self, c: Any) -> None:
        dispatcher = getattr(c, "event_dispatcher", None)
        if dispatcher is not None:
            dispatcher.flush()
            dispatcher.buffer_group = frozenset()
            dispatcher.on_send_buffered = None


def install(app: Celery) -> None:
    app.steps["consumer"].add(UnbufferedTaskEvents)
