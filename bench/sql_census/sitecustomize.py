"""Counts every SQL statement a process sends, by its first words, for bench/fleet_throughput.py
--count-sql: put this folder first on PYTHONPATH and set BENCH_SQL_CENSUS to a file prefix; the
process writes `<prefix>.<pid>.json` when it exits. Production code never sees it."""

from __future__ import annotations

import atexit
import json
import os
import re
import threading
from collections import Counter
from typing import Any

_PREFIX = os.environ.get("BENCH_SQL_CENSUS")


def _install(prefix: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def shape(statement: str) -> str:
        words = re.sub(r"\s+", " ", statement).strip()
        for table in ("jobs", "attempts", "results", "routing_decisions", "feedback",
                      "shadow_results", "ledger_rollup"):
            if f" {table}" in words or f'"{table}"' in words:
                return f"{words.split(' ', 1)[0].upper()} {table}"
        return words[:40]

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        with lock:
            counts[shape(statement)] += 1

    @event.listens_for(Engine, "begin")
    def _begin(_conn: Any) -> None:
        with lock:
            counts["(transaction)"] += 1

    def dump() -> None:
        with open(f"{prefix}.{os.getpid()}.json", "w", encoding="utf-8") as out:
            json.dump(dict(counts), out)

    atexit.register(dump)


if _PREFIX:
    _install(_PREFIX)
