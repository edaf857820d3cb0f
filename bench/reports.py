"""The reports at scale: the cost ledger over a million calls, the status of a 100,000-job batch.

    python bench/reports.py [--ledger 1000000] [--batch 100000] [--repeat 5] [--json]

Fills a fresh PostgreSQL database (migrated) in a few server-side statements: `--ledger` ledger
rows over jobs in many batches, one of which has `--batch` jobs (most finished, some in flight,
a result row for each finished one), then times what `tierline costs --json` (by feature),
`tierline costs --by user,feature --json`, `--by tier`, `--by provider`, `--by model`,
`tierline costs --since DATE --json` (a day back, mid-hour) and `tierline status BATCH --json`
run: the library
calls behind them, each the median of `--repeat` runs after one warm run, and, apart, each
whole command in its own process (its start-up included). Before timing, the janitor's sweep
counts the ledger into its rollup (persistence.ledger_rollup), timed apart: what the reports read is
exact either way, the sweep only keeps the part they sum live short. Bounded by the sizes given.

Prints figures, writes bench/out/reports.json, and with --json prints one JSON object last.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from sqlalchemy import text  # noqa: E402

from bench.figures import publish  # noqa: E402
from bench.services import fresh_database  # noqa: E402

BATCH = "00000000-0000-4000-8000-000000000001"
CALLS_PER_JOB = 2.5  # 1 to 4 calls a job
# `--since`: a day back (the ledger spans a week), off the hour so a partial hour is read too.
SINCE = (datetime.now(UTC) - timedelta(days=1)).replace(minute=17, second=0, microsecond=0)


def fill(url: str, ledger_rows: int, batch_jobs: int) -> dict[str, float]:
    from tierline.persistence.db import Database

    jobs = max(batch_jobs, int(ledger_rows / CALLS_PER_JOB))
    db = Database(url)
    started = time.perf_counter()
    with db.session() as session:
        session.execute(text("""
            INSERT INTO jobs (id, idempotency_key, batch_id, tenant, "user", feature, query_type,
                              task, spec, status, current_tier, created_at, updated_at,
                              finished_at)
            SELECT md5(g::text)::uuid::text, 'bench-' || g,
                   CASE WHEN g <= :batch_jobs THEN :batch ELSE 'batch-' || (g % 97) END,
                   (ARRAY['acme', 'globex', 'initech'])[1 + g % 3],
                   'user' || lpad((g % 40)::text, 2, '0'),
                   (ARRAY['ap-invoices', 'receipts', 'contracts', 'support', 'support-answers',
                          'report-digest', 'maths'])[1 + (g / 3) % 7],
                   (ARRAY['invoice', 'receipt', 'nda', 'intent', 'faq', 'digest',
                          'word_problem'])[1 + (g / 3) % 7],
                   'summarize', '{}'::json,
                   CASE WHEN g % 50 = 0 THEN 'running' WHEN g % 53 = 0 THEN 'needs_review'
                        WHEN g % 59 = 0 THEN 'failed' ELSE 'done' END,
                   1 + (g::bigint * 7919) % 4 % 3,
                   now() - (g % 10000) * interval '1 minute',
                   now() - (g % 10000) * interval '1 minute',
                   CASE WHEN g % 50 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, :jobs) AS g
        """), {"batch_jobs": batch_jobs, "batch": BATCH, "jobs": jobs})
        session.execute(text("""
            INSERT INTO attempts (job_id, attempt_no, tier, provider, model, tenant, "user",
                                  feature, query_type, input_tokens, output_tokens, cost_usd,
                                  latency_ms, outcome, validated, created_at)
            SELECT j.id, a, least(a, 3),
                   (ARRAY['groq', 'anthropic', 'openai'])[least(a, 3)],
                   (ARRAY['llama-3.1-8b', 'claude-haiku', 'gpt-4o'])[least(a, 3)],
                   j.tenant, j."user", j.feature, j.query_type,
                   200 + g % 800, 20 + g % 200, (0.00001 * a * (1 + g % 7))::numeric,
                   50 + g % 400,
                   CASE WHEN (g + a) % 10 = 0 THEN 'RateLimited' ELSE 'ok' END,
                   CASE WHEN (g + a) % 10 = 0 THEN NULL
                        ELSE a = 1 + (g::bigint * 7919) % 4 END,
                   j.created_at + a * interval '1 second'
            FROM generate_series(1, :jobs) AS g
            JOIN jobs j ON j.id = md5(g::text)::uuid::text
            CROSS JOIN LATERAL generate_series(1, 1 + (g::bigint * 7919) % 4) AS a
        """), {"jobs": jobs})
        session.execute(text("""
            INSERT INTO results (job_id, batch_id, output, tier, attempt_no, provider, model,
                                 total_cost_usd, attempts, validated, findings, finished_at)
            SELECT id, batch_id, '"ok"'::json, coalesce(current_tier, 1), 1, 'groq',
                   'llama-3.1-8b', 0.0001, 1, status = 'done', '[]'::json, now()
            FROM jobs WHERE batch_id = :batch AND status IN ('done', 'needs_review')
        """), {"batch": BATCH})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE jobs"))
        conn.execute(text("VACUUM ANALYZE attempts"))
        conn.execute(text("VACUUM ANALYZE results"))
        counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
                  for name in ("jobs", "attempts", "results")}
    db.dispose()
    return {**counts, "fill_seconds": round(time.perf_counter() - started, 1)}


def sweep(url: str) -> tuple[float, int]:
    """What the janitor does on each sweep (here the first, over the whole ledger)."""
    from tierline.persistence.db import Database
    from tierline.persistence.ledger_rollup import refresh

    db = Database(url)
    started = time.perf_counter()
    counted = refresh(db)
    seconds = round(time.perf_counter() - started, 2)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE attempts"))
        conn.execute(text("VACUUM ANALYZE ledger_rollup"))
        conn.execute(text("VACUUM ANALYZE ledger_pending"))
        for table in ("ledger_call_rollup", "ledger_hour_rollup", "ledger_spanning_jobs"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    db.dispose()
    return seconds, counted


def _median_s(run: Callable[[], Any], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def time_library(url: str, repeat: int) -> dict[str, float]:
    from tierline.persistence.db import Database
    from tierline.reports.batch import batch_status
    from tierline.reports.costs import cost_ledger

    db = Database(url)

    def costs(by: list[str], since: datetime | None = None) -> Callable[[], Any]:
        def run() -> Any:
            with db.session() as session:
                return cost_ledger(session, by, since=since)
        return run

    def status() -> Any:
        with db.session() as session:
            return batch_status(session, BATCH)

    figures = {"costs_by_feature_s": _median_s(costs(["feature"]), repeat),
               "costs_by_user_feature_s": _median_s(costs(["user", "feature"]), repeat),
               "costs_by_tier_s": _median_s(costs(["tier"]), repeat),
               "costs_by_provider_s": _median_s(costs(["provider"]), repeat),
               "costs_by_model_s": _median_s(costs(["model"]), repeat),
               "costs_by_tier_model_s": _median_s(costs(["tier", "model"]), repeat),
               "costs_since_by_feature_s": _median_s(costs(["feature"], SINCE), repeat),
               "costs_since_by_tier_s": _median_s(costs(["tier"], SINCE), repeat),
               "status_batch_s": _median_s(status, repeat)}
    db.dispose()
    return figures


def time_commands(url: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERLINE_")}
    env.update(TIERLINE_DATABASE_URL=url, TIERLINE_BROKER_URL="redis://127.0.0.1:1/0")
    commands = {"cli_costs_json_s": ["costs", "--json"],
                "cli_costs_by_user_feature_json_s": ["costs", "--by", "user,feature", "--json"],
                "cli_costs_by_tier_json_s": ["costs", "--by", "tier", "--json"],
                "cli_costs_by_provider_json_s": ["costs", "--by", "provider", "--json"],
                "cli_costs_by_model_json_s": ["costs", "--by", "model", "--json"],
                "cli_costs_since_json_s": ["costs", "--since", SINCE.strftime("%Y-%m-%d %H:%M:%S"),
                                           "--json"],
                "cli_costs_since_by_tier_json_s": ["costs", "--since",
                                                   SINCE.strftime("%Y-%m-%d %H:%M:%S"),
                                                   "--by", "tier", "--json"],
                "cli_status_json_s": ["status", BATCH, "--json"],
                "cli_help_s": ["--help"]}
    figures = {}
    for name, args in commands.items():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tierline.cli", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        figures[name] = round(time.perf_counter() - started, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from tierline import migrations

    with fresh_database() as db:
        migrations.upgrade(db.url)
        sizes = fill(db.url, args.ledger, args.batch)
        print(f"filled: {sizes}")
        sizes["rollup_refresh_s"], sizes["rollup_rows_counted"] = sweep(db.url)
        print(f"janitor's first sweep counted {sizes['rollup_rows_counted']} ledger rows into "
              f"the rollup in {sizes['rollup_refresh_s']} s")
        library = time_library(db.url, args.repeat)
        print(f"library calls (median of {args.repeat}): {library}")
        commands = time_commands(db.url)
        print(f"whole commands (start-up included): {commands}")
    publish("reports", {"ledger_rows": sizes["attempts"], "batch_jobs": args.batch,
                        **sizes, **library, **commands}, args.json)


if __name__ == "__main__":
    main()
