"""The simulated providers' token counts: the fleet's own estimate (`routing.tokens`), plus the
few tokens of framing a chat request adds per message.
"""

from __future__ import annotations

from tierline.routing.tokens import count_tokens, truncate_to_tokens

__all__ = ["count_message_tokens", "count_tokens", "truncate_to_tokens"]


def count_message_tokens(system: str, messages: list[dict[str, str]]) -> int:
    """Input tokens of a chat request: the texts plus a few tokens of framing per message."""
    total = count_tokens(system) + 4 if system else 0
    for message in messages:
        total += 4 + count_tokens(message.get("content", ""))
    return total + 3
