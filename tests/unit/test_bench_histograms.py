"""Quantile bounds of a histogram between two scrapes (bench/histograms.py)."""

from __future__ import annotations

import math

from bench.histograms import buckets, quantile_bound

BEFORE = """# TYPE t_seconds histogram
t_seconds_bucket{le="0.001"} 10.0
t_seconds_bucket{le="0.01"} 10.0
t_seconds_bucket{le="+Inf"} 10.0
"""
AFTER = """t_seconds_bucket{le="0.001"} 108.0
t_seconds_bucket{le="0.01"} 109.0
t_seconds_bucket{le="+Inf"} 110.0
other_bucket{le="0.001"} 5.0
"""


def test_quantiles_count_only_what_was_observed_between_the_scrapes() -> None:
    before, after = buckets(BEFORE, "t_seconds"), buckets(AFTER, "t_seconds")
    assert after == {0.001: 108.0, 0.01: 109.0, math.inf: 110.0}
    assert quantile_bound(before, after, 0.5) == 0.001
    assert quantile_bound(before, after, 0.99) == 0.01
    assert quantile_bound(before, after, 1.0) == math.inf
    assert quantile_bound(after, after, 0.5) is None
