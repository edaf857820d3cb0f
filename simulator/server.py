"""The simulator as an HTTP server (Starlette on uvicorn); `threaded` runs it in-process.

Routes:
    POST /v1/chat/completions          OpenAI chat completions
    POST /openai/v1/chat/completions   the same, at Groq's prefix (adds `x_groq`)
    POST /v1/messages                  Anthropic messages (+ /v1/messages/count_tokens)
    GET  /v1/models, /openai/v1/models the known model ids
    GET  /_sim/stats                   calls, outcomes and tokens per model
    POST /_sim/stats/reset
    GET  /_sim/faults                  the injected faults per model
    POST /_sim/faults                  {"faults": {model: spec | null}, "replace": false}
    POST /_sim/config                  {"time_scale": 0.1}

`stream: true` is answered with server-sent events in each API's format (see `streaming`).
Latencies are the capability model's, times `time_scale`; a waiting request ends early when
its client disconnects or the server stops, so a short client timeout never leaves work behind.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tierline.simulator.capability import SimulatedOutput, simulate_completion
from tierline.simulator.config import MALFORMED_KINDS, FaultSpec, SimulatorConfig
from tierline.simulator.faults import FaultInjector
from tierline.simulator.profiles import known_models, profile_for
from tierline.simulator.streaming import anthropic_events, openai_events
from tierline.simulator.tokens import count_message_tokens
from tierline.simulator.wire import (
    FAULT_MESSAGES,
    ChatRequest,
    WireError,
    anthropic_request,
    anthropic_response,
    error_body,
    malformed_body,
    openai_request,
    openai_response,
)


class SimulatorState:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.time_scale = config.time_scale
        self.injector = FaultInjector(config.faults, config.seed)
        self.stopping = threading.Event()


async def _pause(request: Request, seconds: float, state: SimulatorState) -> bool:
    """Sleep `seconds`; False if the client went away (or the server stops) first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        await asyncio.sleep(min(0.05, remaining))
        if state.stopping.is_set() or await request.is_disconnected():
            return False
    return True


def _error(kind: str, message: str, anthropic: bool, headers: dict[str, str] | None = None
           ) -> JSONResponse:
    status, body = error_body(kind, message, anthropic)
    return JSONResponse(body, status_code=status, headers=headers)


def _request_id_header(anthropic: bool) -> dict[str, str]:
    return {"request-id": f"req_{secrets.token_hex(12)}"} if anthropic else {
        "x-request-id": f"req_{secrets.token_hex(16)}"}


def _client_timeout(request: Request) -> float | None:
    try:
        return float(request.headers.get("x-stainless-timeout", "")) + 1.0
    except ValueError:
        return None


async def _complete(request: Request, state: SimulatorState, wire: str) -> Response:
    anthropic = wire == "anthropic"
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error("bad_request", "request body is not valid JSON", anthropic)
    headers = request.headers
    if state.config.require_api_key and not (
            headers.get("authorization") or headers.get("x-api-key")):
        return _error("auth", "missing API key", anthropic)
    try:
        chat = anthropic_request(body) if anthropic else openai_request(body)
    except WireError as exc:
        return _error(exc.kind, exc.message, anthropic)
    return await _answer(request, state, chat, wire)


async def _answer(request: Request, state: SimulatorState, chat: ChatRequest, wire: str
                  ) -> Response:
    anthropic, injector = wire == "anthropic", state.injector
    profile = profile_for(chat.model)
    if profile is None:
        injector.record(chat.model, "not_found")
        return _error("not_found", f"The model `{chat.model}` does not exist.", anthropic)
    max_tokens = chat.max_tokens or state.config.default_max_tokens
    prompt_tokens = count_message_tokens(chat.system, chat.messages)
    if prompt_tokens + max_tokens > profile.context_window:
        injector.record(chat.model, "context_too_long")
        return _error("context_too_long",
                      f"prompt is too long: {prompt_tokens} tokens plus max_tokens {max_tokens} "
                      f"> {profile.context_window} maximum", anthropic)
    fault = injector.decide(chat.model)
    spec = injector.spec_for(chat.model) or FaultSpec()
    if fault == "timeout":
        # Hang past the client's own deadline (the Anthropic SDK sends it), or for hang_s.
        hang = _client_timeout(request) or spec.hang_s
        await _pause(request, hang, state)
        injector.record(chat.model, "timeout")
        return Response(status_code=504)
    if fault == "hang" and not await _pause(request, spec.hang_s, state):
        injector.record(chat.model, "client_gone")
        return Response(status_code=499)
    if fault is not None and fault not in ("give_up", "hang", *MALFORMED_KINDS):
        injector.record(chat.model, fault)
        extra = _request_id_header(anthropic)
        if fault == "rate_limit":
            wait = spec.retry_after_s * state.time_scale
            extra.update({"retry-after": str(max(1, math.ceil(wait))),
                          "retry-after-ms": str(int(wait * 1000))})
            if not anthropic:
                extra["x-ratelimit-remaining-requests"] = "0"
        return _error(fault, FAULT_MESSAGES.get(fault, fault), anthropic, extra)
    out = simulate_completion(chat.model, chat.system, chat.messages, max_tokens,
                              seed=state.config.seed, profile=profile, input_tokens=prompt_tokens)
    if fault == "give_up":
        out = replace(out, text="I don't know.", output_tokens=5, finish_reason="stop",
                      failure="give_up")
    if chat.stream:
        return _stream(request, state, chat, out, wire)
    if not await _pause(request, out.latency_s * state.time_scale, state):
        injector.record(chat.model, "client_gone")
        return Response(status_code=499)
    payload = (anthropic_response(chat, out) if anthropic
               else openai_response(chat, out, groq=wire == "groq"))
    if fault in MALFORMED_KINDS:
        # Answered (status 200, tokens spent) but unusable: the client must ledger a failure.
        injector.record(chat.model, fault, out.input_tokens, out.output_tokens)
        content, media_type = malformed_body(fault, payload, anthropic)
        return Response(content, status_code=200, media_type=media_type,
                        headers=_request_id_header(anthropic))
    injector.record(chat.model, "ok", out.input_tokens, out.output_tokens)
    return JSONResponse(payload, headers=_request_id_header(anthropic))


def _stream(request: Request, state: SimulatorState, chat: ChatRequest, out: SimulatedOutput,
            wire: str) -> Response:
    """The answer as server-sent events: first token after the fixed latency, then paced."""
    profile = profile_for(chat.model)
    per_token = profile.per_output_token_s if profile else 0.0
    gap = per_token * 3 * state.time_scale
    first = max(0.0, out.latency_s - per_token * out.output_tokens) * state.time_scale

    async def events() -> AsyncIterator[str]:
        if not await _pause(request, first, state):
            return
        source = (anthropic_events(chat, out, gap) if wire == "anthropic"
                  else openai_events(chat, out, gap, chat.stream_usage))
        async for event in source:
            yield event
        state.injector.record(chat.model, "ok", out.input_tokens, out.output_tokens)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers=_request_id_header(wire == "anthropic"))


def create_app(config: SimulatorConfig | None = None) -> Starlette:
    """The simulator's ASGI app; its state is `app.state.sim` (a `SimulatorState`)."""
    state = SimulatorState(config or SimulatorConfig())

    def completions(wire: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _complete(request, state, wire)
        return endpoint

    async def count_tokens(request: Request) -> Response:
        try:
            chat = anthropic_request({**await request.json(), "max_tokens": 1})
        except (WireError, json.JSONDecodeError) as exc:
            return _error("bad_request", str(exc), True)
        return JSONResponse({"input_tokens": count_message_tokens(chat.system, chat.messages)})

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "simulator"}
            for m in known_models()]})

    async def stats(request: Request) -> Response:
        return JSONResponse(state.injector.stats())

    async def reset_stats(request: Request) -> Response:
        state.injector.reset_stats()
        return JSONResponse({"ok": True})

    async def get_faults(request: Request) -> Response:
        return JSONResponse({m: s.model_dump() for m, s in state.injector.faults().items()})

    async def set_faults(request: Request) -> Response:
        try:
            body: dict[str, Any] = await request.json()
            table = body.get("faults", {})
            updates = {m: None if s is None else FaultSpec.model_validate(s)
                       for m, s in table.items()}
        except (json.JSONDecodeError, AttributeError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        state.injector.set_faults(updates, replace=bool(body.get("replace")))
        return await get_faults(request)

    async def set_config(request: Request) -> Response:
        body = await request.json()
        if "time_scale" in body:
            state.time_scale = max(0.0, float(body["time_scale"]))
        return JSONResponse({"time_scale": state.time_scale})

    app = Starlette(routes=[
        Route("/v1/chat/completions", completions("openai"), methods=["POST"]),
        Route("/openai/v1/chat/completions", completions("groq"), methods=["POST"]),
        Route("/v1/messages", completions("anthropic"), methods=["POST"]),
        Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/openai/v1/models", models, methods=["GET"]),
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/stats/reset", reset_stats, methods=["POST"]),
        Route("/_sim/faults", get_faults, methods=["GET"]),
        Route("/_sim/faults", set_faults, methods=["POST"]),
        Route("/_sim/config", set_config, methods=["POST"]),
    ])
    app.state.sim = state
    return app


# uvicorn's settings wherever the simulator serves (its own process or a thread). Its event loop
# and HTTP parser are uvicorn's "auto" choices: uvloop and httptools, which the `sim` extra
# installs, take about a fifth less CPU per call than asyncio and h11 (and are used only where
# installed). No access log: a line per call cost a tenth of the simulator's CPU. No proxy
# headers: nothing stands in front of the simulator for them to describe. An idle connection is
# kept 75 s (nginx's default), well past the clients' idle expiry: uvicorn's own 5 s is
# the SDK clients' idle expiry too, so a client sending on a connection just as the server
# closed it lost that call (as a connection failure) after any pause of about 5 s.
KEEP_ALIVE_S = 75
SERVER_OPTIONS: dict[str, Any] = {"access_log": False, "proxy_headers": False, "lifespan": "off",
                                  "ws": "none", "timeout_keep_alive": KEEP_ALIVE_S}


def serve(host: str = "127.0.0.1", port: int = 8765, config: SimulatorConfig | None = None,
          access_log: bool = False) -> None:
    """Serve the simulator in the foreground until interrupted (`access_log`: a line per call)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info",
                **{**SERVER_OPTIONS, "access_log": access_log})
