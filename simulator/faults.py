"""Deciding, per call, whether a model fails, and counting what each model was asked."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from typing import Any

from tierline.simulator.config import FAULT_KINDS, FaultSpec


class FaultInjector:
    """Thread-safe: the admin endpoint and `RunningSimulator` may change it while it serves."""

    def __init__(self, faults: dict[str, FaultSpec], seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults = dict(faults)
        self._seed = seed
        self._rngs: dict[str, random.Random] = {}
        self._script_pos: dict[str, int] = defaultdict(int)
        self._stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def spec_for(self, model: str) -> FaultSpec | None:
        with self._lock:
            return self._faults.get(model) or self._faults.get("*")

    def set_faults(self, updates: dict[str, FaultSpec | None], replace: bool = False) -> None:
        """Merge (or with `replace`, swap in) per-model specs; None removes a model's entry."""
        with self._lock:
            if replace:
                self._faults = {}
            for model, spec in updates.items():
                if spec is None:
                    self._faults.pop(model, None)
                else:
                    self._faults[model] = spec
                self._script_pos.pop(model, None)
                self._rngs.pop(model, None)

    def faults(self) -> dict[str, FaultSpec]:
        with self._lock:
            return dict(self._faults)

    def decide(self, model: str) -> str | None:
        """The fault kind for this call of `model`, or None to answer normally."""
        spec = self.spec_for(model)
        if spec is None:
            return None
        key = model if model in self._faults else "*"
        with self._lock:
            pos = self._script_pos[key]
            if pos < len(spec.script):
                self._script_pos[key] = pos + 1
                step = spec.script[pos]
                return None if step == "ok" else step
            rng = self._rngs.setdefault(key, random.Random(f"{self._seed}:{key}"))
            u = rng.random()
        for kind in FAULT_KINDS:
            rate = float(getattr(spec, kind))
            if u < rate:
                return kind
            u -= rate
        return None

    def record(self, model: str, outcome: str, input_tokens: int = 0, output_tokens: int = 0
               ) -> None:
        with self._lock:
            row = self._stats[model]
            row["calls"] += 1
            row[outcome] += 1
            row["input_tokens"] += input_tokens
            row["output_tokens"] += output_tokens

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {model: dict(row) for model, row in self._stats.items()}

    def reset_stats(self) -> None:
        with self._lock:
            self._stats.clear()
