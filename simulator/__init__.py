"""The outside world, in its own room: a local stand-in for the LLM APIs (OpenAI/Groq chat
completions and Anthropic messages), the tests' scripted provider, the sample and agreements
workloads and the benchmarks' answer key. No production module imports it; its server needs
the `sim` extra.

    from tierline.simulator import SimulatorConfig, start_in_thread
    with start_in_thread(SimulatorConfig(time_scale=0.01)) as sim:
        client = openai.OpenAI(base_url=sim.openai_base_url, api_key="sim")

The pure parts (`simulate_completion`, `solve`, `difficulty`) run without HTTP.
"""

from tierline.simulator.capability import (
    SimulatedOutput,
    UnknownModel,
    difficulty,
    error_probability,
    simulate_completion,
)
from tierline.simulator.config import FaultSpec, SimulatorConfig, load_faults
from tierline.simulator.profiles import ModelProfile, known_models, profile_for
from tierline.simulator.server import create_app, serve
from tierline.simulator.threaded import RunningSimulator, SimulatorThread, start_in_thread
from tierline.simulator.tokens import count_tokens

__all__ = [
    "FaultSpec",
    "ModelProfile",
    "RunningSimulator",
    "SimulatedOutput",
    "SimulatorConfig",
    "SimulatorThread",
    "UnknownModel",
    "count_tokens",
    "create_app",
    "difficulty",
    "error_probability",
    "known_models",
    "load_faults",
    "profile_for",
    "serve",
    "simulate_completion",
    "start_in_thread",
]
