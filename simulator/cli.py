"""The simulator's commands: `tierline sim serve` (the provider simulator as a standalone HTTP
server) and `tierline sample` (the sample workload as JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tierline.simulator import SimulatorConfig, load_faults, serve
from tierline.simulator.answer_key import write_answers
from tierline.simulator.sample import generate_with_answers


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
@click.option("--access-log", is_flag=True,
              help="Log a line per request (off by default: it costs CPU on every call).")
def serve_command(port: int, host: str, time_scale: float, seed: int,
                  faults_file: Path | None, access_log: bool) -> None:
    """Serve the simulator; point the SDKs' base_url at it (OpenAI: URL/v1, Groq and
    Anthropic: URL)."""
    faults = load_faults(faults_file) if faults_file else {}
    config = SimulatorConfig(time_scale=time_scale, seed=seed, faults=faults)
    click.echo(f"simulator on http://{host}:{port}  (OpenAI base_url http://{host}:{port}/v1)",
               err=True)
    serve(host, port, config, access_log=access_log)


@click.command("sample")
@click.option("--n", "n", type=click.IntRange(min=0), default=1000, show_default=True,
              help="How many jobs to print.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Same seed, same jobs; job i depends only on (seed, i).")
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the jobs' answer key to this file (JSON lines: key, answer).")
def sample(n: int, seed: int, answers_file: Path | None) -> None:
    """Print N sample jobs as JSONL on stdout (their right answers, with --answers, to a file
    of their own: they are no part of a job)."""
    answers: dict[str, Any] = {}
    for job, answer in generate_with_answers(n, seed):
        click.echo(json.dumps(job, ensure_ascii=False, sort_keys=True))
        answers[job["key"]] = answer
    if answers_file is not None:
        write_answers(answers_file, answers)
