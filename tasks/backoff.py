"""How long to wait before trying a tier again."""

from __future__ import annotations

import random

MAX_DELAY_S = 60.0


def retry_delay(retries: int, hinted_s: float = 0.0, base_s: float = 1.0) -> float:
    """Exponential backoff with full jitter, never shorter than the server's Retry-After."""
    ceiling = min(MAX_DELAY_S, base_s * 2**retries)
    return max(hinted_s, random.uniform(0, ceiling))
