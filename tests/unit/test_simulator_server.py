"""The simulator over HTTP, driven by the unmodified official SDKs."""

from __future__ import annotations

import asyncio
import http.client
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import groq
import httpx
import openai
import pytest

from tierline.jobs.models import JobSpec
from tierline.prompts.messages import build_prompt
from tierline.simulator import (
    FaultSpec,
    RunningSimulator,
    SimulatorConfig,
    start_in_thread,
)
from tierline.simulator.sample import generate
from tierline.simulator.tokens import count_message_tokens

GPT, LLAMA, CLAUDE = "gpt-4o-mini-2024-07-18", "llama-3.1-8b-instant", "claude-3-5-haiku-20241022"
SYSTEM, TURNS = build_prompt(JobSpec.model_validate(next(generate(1))))
MESSAGES: list[Any] = [m.model_dump() for m in TURNS]
PROMPT_TOKENS = count_message_tokens(SYSTEM, MESSAGES)
OPENAI_MESSAGES: list[Any] = [{"role": "system", "content": SYSTEM}, *MESSAGES]


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_in_thread(SimulatorConfig(time_scale=0.01)) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(sim: RunningSimulator) -> Iterator[None]:
    yield
    sim.set_faults({}, replace=True)


def _openai(sim: RunningSimulator, timeout: float = 30.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim.url + "/v1", api_key="sim", max_retries=0, timeout=timeout)


def _anthropic(sim: RunningSimulator, timeout: float = 30.0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=sim.url, api_key="sim", max_retries=0, timeout=timeout)


def _groq(sim: RunningSimulator, timeout: float = 30.0) -> groq.Groq:
    return groq.Groq(base_url=sim.url, api_key="sim", max_retries=0, timeout=timeout)


def test_openai_sdk_completes_with_usage(sim: RunningSimulator) -> None:
    with _openai(sim) as client:
        reply = client.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
    assert reply.id.startswith("chatcmpl-")
    assert reply.model == GPT
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content
    assert reply.usage is not None and reply.usage.prompt_tokens == PROMPT_TOKENS
    assert reply.usage.total_tokens == PROMPT_TOKENS + reply.usage.completion_tokens


def test_groq_sdk_completes_at_its_own_prefix(sim: RunningSimulator) -> None:
    with _groq(sim) as client:
        reply = client.chat.completions.create(model=LLAMA, messages=OPENAI_MESSAGES)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.prompt_tokens == PROMPT_TOKENS
    assert reply.x_groq is not None


def test_anthropic_sdk_completes_with_usage(sim: RunningSimulator) -> None:
    with _anthropic(sim) as client:
        reply = client.messages.create(model=CLAUDE, system=SYSTEM, messages=MESSAGES,
                                       max_tokens=1024)
    assert reply.id.startswith("msg_")
    assert reply.stop_reason == "end_turn"
    assert reply.content[0].type == "text" and reply.content[0].text
    assert reply.usage.input_tokens == PROMPT_TOKENS and reply.usage.output_tokens > 0


def test_async_clients_complete(sim: RunningSimulator) -> None:
    async def both() -> tuple[str | None, str]:
        async with openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sim",
                                      max_retries=0) as oa, \
                anthropic.AsyncAnthropic(base_url=sim.url, api_key="sim", max_retries=0) as an:
            first, second = await asyncio.gather(
                oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES),
                an.messages.create(model=CLAUDE, system=SYSTEM, messages=MESSAGES,
                                   max_tokens=1024))
            return first.choices[0].message.content, second.content[0].text  # type: ignore[union-attr]

    text_a, text_b = asyncio.run(both())
    assert text_a and text_b


def test_max_tokens_truncation_reports_length(sim: RunningSimulator) -> None:
    with _openai(sim) as oa, _anthropic(sim) as an:
        cut = oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES, max_tokens=4)
        capped = an.messages.create(model=CLAUDE, system=SYSTEM, messages=MESSAGES,
                                    max_tokens=4)
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 4
    assert capped.stop_reason == "max_tokens" and capped.usage.output_tokens == 4


def test_rate_limit_raises_rate_limit_error_with_retry_after(sim: RunningSimulator) -> None:
    sim.set_faults({"*": FaultSpec(rate_limit=1.0, retry_after_s=200)})
    with _openai(sim) as oa, pytest.raises(openai.RateLimitError) as caught:
        oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
    assert caught.value.response.headers["retry-after"] == "2"  # 200 s at time_scale 0.01
    with _anthropic(sim) as an, pytest.raises(anthropic.RateLimitError) as caught_an:
        an.messages.create(model=CLAUDE, messages=MESSAGES, max_tokens=10)
    assert "retry-after" in caught_an.value.response.headers
    with _groq(sim) as gq, pytest.raises(groq.RateLimitError):
        gq.chat.completions.create(model=LLAMA, messages=OPENAI_MESSAGES)


def test_server_errors_raise_internal_server_error(sim: RunningSimulator) -> None:
    sim.set_faults({GPT: FaultSpec(script=["server_error", "unavailable"]),
                    CLAUDE: FaultSpec(script=["overloaded"])})
    with _openai(sim) as oa:
        for status in (500, 503):
            with pytest.raises(openai.InternalServerError) as caught:
                oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
            assert caught.value.status_code == status
        assert oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
    with _anthropic(sim) as an, pytest.raises(anthropic.InternalServerError) as caught_an:
        an.messages.create(model=CLAUDE, messages=MESSAGES, max_tokens=10)
    assert caught_an.value.status_code == 529


@pytest.mark.parametrize("sdk", ["openai", "anthropic", "groq"])
def test_a_hanging_server_gives_the_sdks_timeout_error(sim: RunningSimulator, sdk: str) -> None:
    sim.set_faults({"*": FaultSpec(script=["timeout"], hang_s=5)})
    if sdk == "anthropic":
        with _anthropic(sim, timeout=0.3) as an, pytest.raises(anthropic.APITimeoutError):
            an.messages.create(model=CLAUDE, messages=MESSAGES, max_tokens=10)
    elif sdk == "openai":
        with _openai(sim, timeout=0.3) as oa, pytest.raises(openai.APITimeoutError):
            oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
    else:
        with _groq(sim, timeout=0.3) as gq, pytest.raises(groq.APITimeoutError):
            gq.chat.completions.create(model=LLAMA, messages=OPENAI_MESSAGES)


def test_unknown_model_is_not_found(sim: RunningSimulator) -> None:
    with _openai(sim) as oa, pytest.raises(openai.NotFoundError):
        oa.chat.completions.create(model="no-such-model", messages=OPENAI_MESSAGES)
    with _anthropic(sim) as an, pytest.raises(anthropic.NotFoundError):
        an.messages.create(model="no-such-model", messages=MESSAGES, max_tokens=10)


def test_context_too_long_is_a_bad_request(sim: RunningSimulator) -> None:
    huge: list[Any] = [{"role": "user", "content": "word " * 40_000}]
    with _groq(sim) as gq, pytest.raises(groq.BadRequestError) as caught:
        gq.chat.completions.create(model="mixtral-8x7b-32768", messages=huge)
    assert "context_length_exceeded" in str(caught.value.body)


def test_admin_endpoints_change_faults_and_count_calls(sim: RunningSimulator) -> None:
    with httpx.Client(base_url=sim.url) as admin:
        admin.post("/_sim/stats/reset")
        set_ = admin.post("/_sim/faults", json={"faults": {GPT: {"script": ["rate_limit"]}}})
        assert set_.json()[GPT]["script"] == ["rate_limit"]
        with _openai(sim) as oa:
            with pytest.raises(openai.RateLimitError):
                oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
            oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
        stats = admin.get("/_sim/stats").json()[GPT]
    assert stats["calls"] == 2 and stats["ok"] == 1 and stats["rate_limit"] == 1
    assert stats["input_tokens"] == PROMPT_TOKENS


def test_seeded_fault_rates_repeat_exactly() -> None:
    def outcomes() -> list[str]:
        config = SimulatorConfig(time_scale=0, seed=7, faults={GPT: FaultSpec(server_error=0.5)})
        with start_in_thread(config) as running, _openai(running) as oa:
            seen = []
            for _ in range(12):
                try:
                    oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
                    seen.append("ok")
                except openai.InternalServerError:
                    seen.append("500")
            return seen

    first = outcomes()
    assert first == outcomes()
    assert "ok" in first and "500" in first


def test_missing_api_key_is_unauthorised(sim: RunningSimulator) -> None:
    response = httpx.post(sim.url + "/v1/chat/completions",
                          json={"model": GPT, "messages": OPENAI_MESSAGES})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_stop_shuts_the_server_down_even_with_a_request_hanging() -> None:
    running = start_in_thread(SimulatorConfig(time_scale=0, faults={
        "*": FaultSpec(script=["timeout"], hang_s=60)}))
    with _openai(running, timeout=0.2) as oa, pytest.raises(openai.APITimeoutError):
        oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
    running.stop()
    assert not running.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(running.url + "/v1/models")


def test_fault_scripts_reject_unknown_steps() -> None:
    with pytest.raises(ValueError, match="unknown script steps"):
        FaultSpec(script=["explode"])


def test_streaming_delivers_the_same_text_and_usage(sim: RunningSimulator) -> None:
    with _openai(sim) as oa, _anthropic(sim) as an:
        whole = oa.chat.completions.create(model=GPT, messages=OPENAI_MESSAGES)
        chunks = list(oa.chat.completions.create(
            model=GPT, messages=OPENAI_MESSAGES, stream=True,
            stream_options={"include_usage": True}))
        with an.messages.stream(model=CLAUDE, system=SYSTEM, messages=MESSAGES,
                                max_tokens=6) as events:
            final = events.get_final_message()
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == whole.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == PROMPT_TOKENS
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 6


def test_an_idle_connection_outlives_the_clients_own_idle_expiry(sim: RunningSimulator) -> None:
    # The SDK clients drop an idle connection after httpx's keep-alive expiry: the simulator
    # must not close it first, or a call sent as it closes is lost.
    pause = httpx.Limits().keepalive_expiry or 5.0
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=10)
    try:
        connection.request("GET", "/_sim/faults")
        assert connection.getresponse().read() and connection.sock is not None
        first = connection.sock
        time.sleep(pause + 1.0)
        connection.request("GET", "/_sim/faults")
        response = connection.getresponse()
        assert response.status == 200 and connection.sock is first
    finally:
        connection.close()
