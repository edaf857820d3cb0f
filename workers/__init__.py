"""The Celery app, its queues and settings, and the worker entry points."""
