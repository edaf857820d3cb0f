"""The tier-1 drain against a plain thread pool of the same concurrency, per MB of memory.

    python bench/drain_vs_pool.py [--calls 320] [--concurrency 32] [--time-scale 1.0] [--json]

The same tier-1 requests (sample jobs' prompts) to the simulator, served over HTTP by its own
process at `--time-scale` (1.0: the models' realistic latencies), made three ways, each in a
fresh process of its own so that its memory is its own:

- one at a time: one thread calling `call_chain`, as a plain worker thread would;
- the drain as the tier-1 worker runs it (workers.tier1, tasks.batch): flushes of
  `--concurrency / --flushes` requests on `--flush-threads` threads (its pool), each flush's
  calls (`acall_chain`) on the process's one event loop, taken as each completes
  (`BackgroundLoop.as_completed`); the loop's gate holds the calls in flight to `--concurrency`,
  so a flush starts while earlier ones wait for their slowest call;
- `drain_no_overlap`: the same with only `--flushes` threads, so a flush's slots stay idle
  while it waits for its slowest call;
- the drain with one flush at a time of `--concurrency` requests (`drain_one_flush`);
- a thread pool: `--concurrency` threads, each calling `call_chain` for the next request.

For each: calls/s, the process's resident memory (peak, and its growth from before the first
call: what the calls themselves hold), and calls/s per MB of peak memory; then the drain's
speed-up over one at a time (the target is at least 20x) and its calls/s per MB against the
pool's. Bounded by the calls given; the simulator is stopped at the end.

Prints figures, writes bench/out/drain_vs_pool.json, and with --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.figures import publish  # noqa: E402
from bench.services import free_port  # noqa: E402
from tests.e2e.fleet import stop_processes, wait_http  # noqa: E402

MODES = ("one_at_a_time", "drain_one_flush", "drain_no_overlap", "drain", "thread_pool")


def _memory_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (from /proc)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def _requests(n: int) -> list[Any]:
    from tierline.jobs.models import JobSpec
    from tierline.prompts.completion import CompletionRequest
    from tierline.prompts.messages import build_prompt
    from tierline.simulator.sample import generate

    requests = []
    for raw in generate(n, seed=21):
        system, messages = build_prompt(JobSpec.model_validate(raw))
        requests.append(CompletionRequest(system=system, messages=messages))
    return requests


def _run(mode: str, requests: list[Any], chain: list[Any], concurrency: int,
         flushes: int = 1, flush_threads: int = 1) -> list[Any]:
    from tierline.tasks.calls import acall_chain, call_chain

    if mode == "one_at_a_time":
        return [call_chain(chain, r) for r in requests]
    if mode == "thread_pool":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            return list(pool.map(lambda r: call_chain(chain, r), requests))
    from concurrent.futures import ThreadPoolExecutor

    from tierline.tasks.asyncloop import BackgroundLoop

    # The drain as tasks.batch.run_batch runs it: each flush's calls on the process's one loop,
    # answers taken as each call completes; the loop's gate bounds the calls in flight across
    # flushes to the concurrency, whatever the number of flushes under way.
    if mode == "drain_one_flush":
        parallel, size = 1, concurrency
    elif mode == "drain_no_overlap":
        parallel, size = flushes, max(1, concurrency // flushes)
    else:
        parallel, size = flush_threads, max(1, concurrency // flushes)
    loop = BackgroundLoop(limit=concurrency)

    def flush(batch: list[Any]) -> list[Any]:
        answers: list[Any] = [None] * len(batch)
        for index, records in loop.as_completed([acall_chain(chain, r) for r in batch]):
            answers[index] = records
        return answers

    try:
        chunks = [requests[start:start + size] for start in range(0, len(requests), size)]
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return [r for records in pool.map(flush, chunks) for r in records]
    finally:
        loop.stop()


def child(mode: str, url: str, calls: int, concurrency: int, flushes: int,
          flush_threads: int) -> dict[str, Any]:
    """One mode in this process: its figures."""
    from tierline.config.tiers import load_tiers
    from tierline.providers.factory import build_provider

    endpoint = load_tiers().get(1).primary
    chain = [(endpoint, build_provider(endpoint, url))]
    requests = _requests(calls)
    # One call first, so the client's connection pool and the SDK's lazy imports are in place.
    _run("one_at_a_time", requests[:1], chain, 1)
    rss_before, _ = _memory_mb()
    cpu_before = time.process_time()
    started = time.perf_counter()
    records = _run(mode, requests, chain, concurrency, flushes, flush_threads)
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_before
    rss_after, peak = _memory_mb()
    answered = sum(1 for r in records if r and r[-1].error is None)
    return {"mode": mode, "calls": calls, "answered": answered, "seconds": round(seconds, 2),
            "calls_per_s": round(calls / seconds, 2),
            "cpu_ms_per_call": round(cpu_s * 1000 / calls, 2),
            "rss_peak_mb": round(peak, 1), "rss_growth_mb": round(rss_after - rss_before, 1),
            "calls_per_s_per_mb": round(calls / seconds / peak, 4), "model": endpoint.model}


def _child_process(mode: str, url: str, calls: int, concurrency: int,
                   flushes: int, flush_threads: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--url", url,
                          "--calls", str(calls), "--concurrency", str(concurrency),
                          "--flushes", str(flushes), "--flush-threads", str(flush_threads)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=320)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--flushes", type=int, default=4,
                        help="flushes that together make the concurrency (flush size: "
                        "concurrency / flushes)")
    parser.add_argument("--flush-threads", type=int, default=None,
                        help="the drain's pool threads, flushes under way at once with the "
                        "calls in flight bounded by the concurrency (default: 2 x --flushes)")
    parser.add_argument("--sequential-calls", type=int, default=None,
                        help="calls made one at a time (default: --calls / 4, at least 20)")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.calls, args.concurrency,
                               args.flushes, args.flush_threads or 2 * args.flushes)))
        return

    port = free_port()
    log = open(Path(tempfile.mkdtemp(prefix="tierline-drain-bench-")) / "simulator.log", "wb")  # noqa: SIM115
    sim = subprocess.Popen([sys.executable, "-m", "tierline.cli", "sim", "serve", "--port",
                            str(port), "--time-scale", str(args.time_scale)], cwd=ROOT,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log,
                           stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/_sim/stats")
        flush_threads = args.flush_threads or 2 * args.flushes
        sequential_calls = args.sequential_calls or max(20, args.calls // 4)
        results = {mode: _child_process(mode, url, sequential_calls if mode == "one_at_a_time"
                                         else args.calls, args.concurrency, args.flushes,
                                         flush_threads)
                   for mode in MODES}
    finally:
        stop_processes([sim])
        log.close()
    one, drain, pool = (results[m] for m in ("one_at_a_time", "drain", "thread_pool"))
    speedup = drain["calls_per_s"] / one["calls_per_s"]
    per_mb = drain["calls_per_s_per_mb"] / pool["calls_per_s_per_mb"]
    print(f"tier-1 calls to {drain['model']}, simulator time scale {args.time_scale}, "
          f"concurrency {args.concurrency} (calls in flight at most), flushes of "
          f"{args.concurrency // args.flushes}, the drain on {flush_threads} threads:")
    for mode, r in results.items():
        print(f"  {mode:16s} {r['calls']:5d} calls {r['calls_per_s']:8.2f} calls/s  "
              f"CPU {r['cpu_ms_per_call']:6.2f} ms/call  RSS peak {r['rss_peak_mb']:6.1f} MB "
              f"(+{r['rss_growth_mb']:.1f})  {r['calls_per_s_per_mb']:.4f} calls/s per MB")
    print(f"drain / one at a time: {speedup:.1f}x (target >= 20x); drain / thread pool, "
          f"calls/s per MB: {per_mb:.2f}x, calls/s: "
          f"{drain['calls_per_s'] / pool['calls_per_s']:.2f}x")
    figures = {"time_scale": args.time_scale, "concurrency": args.concurrency,
               "flushes": args.flushes, "flush_threads": flush_threads,
               "drain_vs_one_at_a_time": round(speedup, 2),
               "drain_vs_pool_per_mb": round(per_mb, 3),
               "drain_vs_pool_calls_per_s": round(drain["calls_per_s"] / pool["calls_per_s"], 3),
               **results}
    publish("drain_vs_pool", figures, args.json)


if __name__ == "__main__":
    main()
