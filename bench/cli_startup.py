"""How fast `tierline --help` answers: the command's start-up, which every script pays.

    python bench/cli_startup.py [--runs 15] [--json]

Runs the installed `tierline --help` (and, for comparison, `python -c pass`, the interpreter's
own start-up) `--runs` times each, after one warm-up, and prints the median and the spread;
writes bench/out/cli_startup.json. The target is a median under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402

TARGET_S = 0.5


def timed(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, capture_output=True, check=True, timeout=60)  # warm the file cache
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, timeout=60)
        seconds.append(time.perf_counter() - started)
    return seconds


def summary(seconds: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(seconds), 4), "min_s": round(min(seconds), 4),
            "max_s": round(max(seconds), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 100))
    tierline = Path(sys.executable).with_name("tierline")
    command = [str(tierline)] if tierline.exists() else [sys.executable, "-m", "tierline.cli"]
    help_s = summary(timed([*command, "--help"], runs))
    python_s = summary(timed([sys.executable, "-c", "pass"], runs))
    figures = {"runs": runs, "tierline_help": help_s, "python_startup": python_s,
               "target_s": TARGET_S, "meets_target": help_s["median_s"] < TARGET_S}
    print(f"tierline --help: median {help_s['median_s']:.3f} s (min {help_s['min_s']:.3f}, "
          f"max {help_s['max_s']:.3f}) over {runs} runs; target < {TARGET_S} s")
    print(f"python -c pass:  median {python_s['median_s']:.3f} s")
    publish("cli_startup", figures, args.json)


if __name__ == "__main__":
    main()
