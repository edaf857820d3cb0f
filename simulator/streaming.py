"""Server-sent events for `stream: true`, in the OpenAI chunk and Anthropic event formats.

The text goes out a few tokens at a time, paced at the model's per-token speed (times the
time scale), so time-to-first-token and throughput look like the real services'.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from tierline.simulator.capability import SimulatedOutput
from tierline.simulator.wire import ChatRequest

_PIECE = re.compile(r"\S*\s*|\s+")


def pieces(text: str, words: int = 3) -> list[str]:
    """`text` in small chunks (a few words each) that join back to exactly `text`."""
    found = [m.group() for m in _PIECE.finditer(text) if m.group()]
    return ["".join(found[i:i + words]) for i in range(0, len(found), words)] or [""]


def _sse(data: dict[str, Any], event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def openai_events(chat: ChatRequest, out: SimulatedOutput, gap_s: float,
                        include_usage: bool) -> AsyncIterator[str]:
    base = {"id": f"chatcmpl-{secrets.token_urlsafe(21)[:29]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": chat.model, "system_fingerprint": "fp_simulator"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                          "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(out.text):
        await asyncio.sleep(gap_s)
        yield chunk({"content": piece})
    yield chunk({}, out.finish_reason)
    if include_usage:
        yield _sse({**base, "choices": [], "usage": {
            "prompt_tokens": out.input_tokens, "completion_tokens": out.output_tokens,
            "total_tokens": out.input_tokens + out.output_tokens}})
    yield "data: [DONE]\n\n"


async def anthropic_events(chat: ChatRequest, out: SimulatedOutput, gap_s: float
                           ) -> AsyncIterator[str]:
    message: dict[str, Any] = {"id": f"msg_01{secrets.token_urlsafe(18)[:22]}", "type": "message",
               "role": "assistant", "model": chat.model, "content": [], "stop_reason": None,
               "stop_sequence": None,
               "usage": {"input_tokens": out.input_tokens, "output_tokens": 1}}
    yield _sse({"type": "message_start", "message": message}, "message_start")
    yield _sse({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}, "content_block_start")
    for piece in pieces(out.text):
        await asyncio.sleep(gap_s)
        yield _sse({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece}}, "content_block_delta")
    yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    stop = "max_tokens" if out.finish_reason == "length" else "end_turn"
    yield _sse({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": out.output_tokens}}, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")
