"""The Celery tasks, thin: load by id, call the core, record, publish the next step."""
