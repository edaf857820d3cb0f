"""Prometheus multiprocess mode for a worker, set up before prometheus-client is imported.

prometheus-client picks its value storage when it is first imported (re-made here if it was
already imported, which the `celery` command does): in multiprocess mode every
process (a prefork worker's children included) writes its own files under
`PROMETHEUS_MULTIPROC_DIR`, and the scrape sums them. A worker with `TIERLINE_METRICS_PORT` set
gets a fresh folder of its own unless the operator named one, so a restarted worker never adds
up a dead one's counts.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(port: int | None) -> str | None:
    """The multiprocess folder this worker records into, or None when it serves no metrics."""
    if not port:
        return None
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="tierline-metrics-")
        os.environ[MULTIPROC_ENV] = folder
        atexit.register(shutil.rmtree, folder, True)
    os.makedirs(folder, exist_ok=True)
    # The `celery` command may have imported prometheus-client already (through its plugins,
    # Flower's among them): its storage choice is re-made, before any of our metrics exist.
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return folder
