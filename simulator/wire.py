"""The two wire formats: OpenAI chat completions (also Groq's) and Anthropic messages.

Requests become one `ChatRequest`; a `SimulatedOutput` or an error becomes the JSON body each
API really sends, so the official SDKs parse it and raise their own exception classes
(status 429 -> RateLimitError, 5xx -> InternalServerError, 404 -> NotFoundError, ...).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tierline.simulator.capability import SimulatedOutput


@dataclass(frozen=True)
class ChatRequest:
    model: str
    system: str
    messages: list[dict[str, str]]
    max_tokens: int | None
    stream: bool = False
    # OpenAI's stream_options.include_usage: a last chunk that carries the usage.
    stream_usage: bool = False


class WireError(Exception):
    """A request the API would refuse; `kind` picks the status and error type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# kind -> (status, OpenAI error type, OpenAI code, Anthropic error type)
ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "bad_request": (400, "invalid_request_error", None, "invalid_request_error"),
    "context_too_long": (400, "invalid_request_error", "context_length_exceeded",
                         "invalid_request_error"),
    "auth": (401, "invalid_request_error", "invalid_api_key", "authentication_error"),
    "not_found": (404, "invalid_request_error", "model_not_found", "not_found_error"),
    "rate_limit": (429, "rate_limit_exceeded", "rate_limit_exceeded", "rate_limit_error"),
    "server_error": (500, "server_error", None, "api_error"),
    "unavailable": (503, "server_error", "service_unavailable", "api_error"),
    "overloaded": (503, "server_error", "overloaded", "overloaded_error"),
}
FAULT_MESSAGES = {
    "rate_limit": "Rate limit reached for requests (simulated). Please try again later.",
    "server_error": "The server had an error while processing your request (simulated).",
    "unavailable": "Service unavailable (simulated).",
    "overloaded": "Overloaded (simulated).",
}


def _text(content: Any) -> str:
    """Message content as plain text: a string, or the text parts of a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content
                       if isinstance(part, dict) and part.get("type") in ("text", "input_text"))
    if content is None:
        return ""
    raise WireError("bad_request", "message content must be a string or a list of parts")


def _require(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WireError("bad_request", "request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise WireError("bad_request", "you must provide a model parameter")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise WireError("bad_request", "messages: at least one message is required")
    return body


def _max_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WireError("bad_request", "max_tokens: must be a positive integer")
    return value


def openai_request(body: Any) -> ChatRequest:
    body = _require(body)
    system, turns = [], []
    for message in body["messages"]:
        if not isinstance(message, dict) or "role" not in message:
            raise WireError("bad_request", "each message needs a role")
        text = _text(message.get("content"))
        if message["role"] in ("system", "developer"):
            system.append(text)
        else:
            turns.append({"role": str(message["role"]), "content": text})
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    options = body.get("stream_options") or {}
    return ChatRequest(body["model"], "\n\n".join(system), turns, _max_tokens(limit),
                       bool(body.get("stream")), bool(options.get("include_usage")))


def anthropic_request(body: Any) -> ChatRequest:
    body = _require(body)
    if "max_tokens" not in body:
        raise WireError("bad_request", "max_tokens: Field required")
    turns = []
    for message in body["messages"]:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise WireError("bad_request", "messages: roles must be 'user' or 'assistant'")
        turns.append({"role": message["role"], "content": _text(message.get("content"))})
    return ChatRequest(body["model"], _text(body.get("system")), turns,
                       _max_tokens(body["max_tokens"]), bool(body.get("stream")))


def openai_response(request: ChatRequest, out: SimulatedOutput, groq: bool = False
                    ) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": out.input_tokens,
                             "completion_tokens": out.output_tokens,
                             "total_tokens": out.input_tokens + out.output_tokens}
    body: dict[str, Any] = {
        "id": f"chatcmpl-{secrets.token_urlsafe(21)[:29]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": out.finish_reason,
                     "message": {"role": "assistant", "content": out.text, "refusal": None}}],
        "usage": usage,
        "system_fingerprint": "fp_simulator",
    }
    if groq:
        usage.update(queue_time=0.0, prompt_time=0.0, completion_time=round(out.latency_s, 4),
                     total_time=round(out.latency_s, 4))
        body["x_groq"] = {"id": f"req_{secrets.token_hex(13)}"}
    return body


def anthropic_response(request: ChatRequest, out: SimulatedOutput) -> dict[str, Any]:
    return {
        "id": f"msg_01{secrets.token_urlsafe(18)[:22]}",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": [{"type": "text", "text": out.text}],
        "stop_reason": "max_tokens" if out.finish_reason == "length" else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": out.input_tokens, "output_tokens": out.output_tokens,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def error_body(kind: str, message: str, anthropic: bool) -> tuple[int, dict[str, Any]]:
    status, oa_type, code, an_type = ERRORS[kind]
    if anthropic:
        if kind == "overloaded":
            status = 529
        return status, {"type": "error", "error": {"type": an_type, "message": message}}
    return status, {"error": {"message": message, "type": oa_type, "param": None, "code": code}}


def malformed_body(kind: str, payload: dict[str, Any], anthropic: bool) -> tuple[bytes, str]:
    """A 200 body that no client can use, and its media type (see `config.MALFORMED_KINDS`)."""
    body = dict(payload)
    if kind == "empty_choices":
        body["content" if anthropic else "choices"] = []
    elif kind == "empty_content":
        if anthropic:
            body["content"] = [{"type": "text", "text": ""}]
        else:
            choice = dict(body["choices"][0])
            choice["message"] = {**choice["message"], "content": ""}
            body["choices"] = [choice]
    elif kind == "truncated_json":
        text = json.dumps(body)
        return text[: len(text) // 2].encode(), "application/json"
    elif kind == "html_page":
        return (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
                b"<body><h1>Bad Gateway</h1></body></html>"), "text/html"
    return json.dumps(body).encode(), "application/json"
