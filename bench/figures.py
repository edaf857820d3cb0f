"""Where every benchmark leaves its figures: `bench/out/<name>.json`, and with `--json` one JSON
object as the last line printed (what outside checks read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def publish(name: str, figures: Any, as_json: bool) -> Path:
    """Write the figures to `bench/out/<name>.json`, say so, and print them last if asked."""
    target = OUT / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(OUT.parents[1])}")
    if as_json:
        print(json.dumps(figures, sort_keys=True))
    return target
