"""Quantiles of a Prometheus histogram between two scrapes, as the bucket bounds they fall in.

A histogram keeps counts per bucket, not the values: the p99 of the observations made between
two scrapes is known only to lie at or below the upper bound of the bucket it reaches.
"""

from __future__ import annotations

import math
import re
import urllib.request

_BUCKET = re.compile(r'^(?P<name>[a-z_]+)_bucket\{(?:[^}]*,)?le="(?P<le>[^"]+)"[^}]*\} '
                     r'(?P<count>[0-9.e+]+)$')

Buckets = dict[float, float]


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        text: str = response.read().decode()
    return text


def buckets(exposition: str, name: str) -> Buckets:
    """The cumulative count per upper bound of histogram `name` (summed over labels)."""
    counts: Buckets = {}
    for line in exposition.splitlines():
        match = _BUCKET.match(line)
        if match and match["name"] == name:
            bound = math.inf if match["le"] == "+Inf" else float(match["le"])
            counts[bound] = counts.get(bound, 0.0) + float(match["count"])
    return counts


def quantile_bound(before: Buckets, after: Buckets, q: float) -> float | None:
    """The upper bound of the bucket holding quantile `q` of what was observed in between
    (None: nothing was)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    target = q * counts[-1]
    return next(b for b, c in zip(bounds, counts, strict=True) if c >= target)
