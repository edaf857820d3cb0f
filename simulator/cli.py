"""The simulator's commands: `tierline sim serve` (the provider simulator as a standalone HTTP
server) and `tierline sample` (the sample workload as JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tierline.simulator import SimulatorConfig, load_faults, serve
from tierline.simulator.sample import generate


@click.group("sim")
def sim() -> None:
    """The built-in LLM API simulator (OpenAI, Groq and Anthropic wire formats)."""


@sim.command("serve")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--time-scale", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Multiplies every simulated latency (0.01 = a hundred times faster).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--faults", "faults_file", type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path),
              help="JSON or TOML table: model id (or '*') -> rate_limit, server_error, "
                   "unavailable, overloaded, timeout rates, script, retry_after_s.")
def serve_command(port: int, host: str, time_scale: float, seed: int,
                  faults_file: Path | None) -> None:
    """Serve the simulator; point the SDKs' base_url at it (OpenAI: URL/v1, Groq and
    Anthropic: URL)."""
    faults = load_faults(faults_file) if faults_file else {}
    config = SimulatorConfig(time_scale=time_scale, seed=seed, faults=faults)
    click.echo(f"simulator on http://{host}:{port}  (OpenAI base_url http://{host}:{port}/v1)",
               err=True)
    serve(host, port, config)


@click.command("sample")
@click.option("--n", "n", type=click.IntRange(min=0), default=1000, show_default=True,
              help="How many jobs to print.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same jobs; job i depends only on (seed, i).")
def sample(n: int, seed: int) -> None:
    """Print N sample jobs (with their reference answers) as JSONL on stdout."""
    for job in generate(n, seed):
        click.echo(json.dumps(job, ensure_ascii=False, sort_keys=True))
