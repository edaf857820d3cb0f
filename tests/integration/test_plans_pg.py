"""The ledger read of a flush looks its jobs up whatever the planner knows of the table: a
statement psycopg prepared while a fresh ledger held a few rows must not keep the generic plan
made then (a whole-table scan, until an ANALYZE, never with autovacuum off), and before the table
has statistics at all a long list of ids must not look like most of it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tierline.persistence.db import Database
from tierline.persistence.store import attempts_of_jobs, ledger_rows_of_jobs


def _fill(db: Database, first: int, last: int) -> None:
    with db.session() as session:
        session.execute(text(
            "INSERT INTO jobs (id, idempotency_key, batch_id, tenant, \"user\", feature, "
            "query_type, task, spec, status, created_at, updated_at) "
            "SELECT 'j' || g, 'k' || g, 'b', 't', 'u', 'f', 'q', 'extract', '{}', 'routed', "
            "now(), now() FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g"),
            {"first": first, "last": last})
        session.execute(text(
            "INSERT INTO attempts (job_id, attempt_no, tier, provider, model, tenant, \"user\", "
            "feature, query_type, input_tokens, output_tokens, cost_usd, latency_ms, outcome, "
            "created_at) SELECT 'j' || g, 1, 1, 'groq', 'm', 't', 'u', 'f', 'q', 1, 1, 0, 1, "
            "'ok', now() FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) g"),
            {"first": first, "last": last})


def test_every_connection_plans_each_execution(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"


def test_a_ledger_read_prepared_early_uses_the_index_once_the_ledger_grows(db: Database) -> None:
    ids = ["j1", "j2", "j3"]
    _fill(db, 1, 20)  # a first batch's few rows: one page, where a whole-table scan is cheapest
    # One connection throughout: psycopg prepares statements per connection.
    with db.engine.connect() as conn:
        with Session(bind=conn) as session:
            # psycopg prepares on the fifth run; PostgreSQL weighs a generic plan after five more.
            for _ in range(15):
                attempts_of_jobs(session, ids)
            session.commit()
        _fill(db, 21, 5000)
        with Session(bind=conn) as session:
            found = attempts_of_jobs(session, ids)
            session.commit()
        prepared = conn.execute(text(
            "SELECT name, generic_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%FROM attempts%WHERE attempts.job_id =%'")).all()
        assert prepared, "the ledger read was not prepared: the test shows nothing"
        plans = [conn.execute(text(f"EXPLAIN EXECUTE {name}('{{j1,j2,j3}}')")).scalars().all()
                 for name, _ in prepared]
        conn.rollback()
    assert {job: len(rows) for job, rows in found.items()} == {job: 1 for job in ids}
    assert all(generic == 0 for _, generic in prepared), prepared
    assert not any("Seq Scan" in line for plan in plans for line in plan), plans


def test_a_flushs_ledger_read_looks_each_job_up_before_the_table_has_statistics(
        db: Database) -> None:
    """Never analyzed, the planner takes each id of `job_id IN (...)` for 0.5% of the table: 64
    ids were a third of it, and it scanned it all. Each id looked up on its own is not."""
    _fill(db, 1, 5000)
    ids = [f"j{n}" for n in range(100, 164)]
    with db.engine.connect() as conn:
        analyzed = conn.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'attempts'")).scalar_one()
        statement = str(ledger_rows_of_jobs("postgresql").compile(dialect=conn.dialect))
        plan = conn.exec_driver_sql(f"EXPLAIN {statement}", {"ids": ids}).scalars().all()
        read = list(conn.execute(ledger_rows_of_jobs("postgresql"), {"ids": ids}))
    assert analyzed < 0, "the table has statistics: the test shows nothing"
    assert not any("Seq Scan" in line for line in plan), plan
    assert [row.job_id for row in read] == sorted(ids)
