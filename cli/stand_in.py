"""The outside world of a run in this process: with TIERLINE_SIMULATOR on and no
TIERLINE_SIMULATOR_URL (the embedded default, `tierline demo`), the model providers are the
simulator's, started here. The one module of the CLI besides the demo that imports the
simulator room; it needs the `sim` extra (starlette, uvicorn)."""

from __future__ import annotations

import click

from tierline.config.settings import Settings
from tierline.tasks import runtime


def install_simulator(settings: Settings) -> None:
    """Let the task runtime start the simulator when these settings ask for one here."""
    if not settings.simulator or settings.simulator_url:
        return
    try:
        from tierline.simulator.threaded import start_for_runtime
    except ImportError as exc:
        raise click.ClickException(
            f"the in-process simulator needs the sim extra ({exc}): "
            "pip install 'tierline[sim]', or set TIERLINE_SIMULATOR_URL") from None
    runtime.install_simulator(start_for_runtime)
