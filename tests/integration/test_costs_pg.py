"""The cost ledger read back per user, feature and tier, on the real PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from tests.integration.pipeline_helpers import (
    GOOD,
    INVENTED,
    RecordingPublisher,
    drive,
    make_runtime,
    submit_one,
)
from tierline.cli.main import cli
from tierline.persistence import store
from tierline.persistence.db import Database
from tierline.persistence.tables import Job
from tierline.reports.costs import UnknownDimension, cost_ledger
from tierline.simulator.stub import StubProvider

pytestmark = pytest.mark.integration


def batch_of(database: Database, job_id: str) -> str:
    with database.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.batch_id


def two_users(database: Database) -> str:
    """alice's job passes at tier 1; bob's (returned) invents a value there and is answered at
    tier 2."""
    good = make_runtime(database, {1: [StubProvider(GOOD)]})
    alice = submit_one(database, user="alice", feature="invoices", key="a")
    drive(good, RecordingPublisher(), alice)
    escalating = make_runtime(database, {1: [StubProvider(INVENTED)],
                                         2: [StubProvider(GOOD, name="t2")]})
    bob = submit_one(database, user="bob", feature="invoices", key="b")
    drive(escalating, RecordingPublisher(), bob)
    return bob


def test_spend_per_user_counts_calls_rejections_and_first_answers(db: Database) -> None:
    bob = two_users(db)
    with db.session() as session:
        rows = {r.group: r for r in cost_ledger(session, ["user"])}
        attempts = {a.attempt_no: a for a in store.attempts_of(session, bob)}
    assert set(rows) == {("alice",), ("bob",)}
    assert (rows[("alice",)].jobs, rows[("alice",)].calls) == (1, 1)
    assert rows[("alice",)].rejected_cost_usd == 0
    assert (rows[("bob",)].jobs, rows[("bob",)].calls) == (1, 2)
    tier1, tier2 = attempts[1], attempts[2]
    assert rows[("bob",)].cost_usd == Decimal(tier1.cost_usd) + Decimal(tier2.cost_usd)
    assert rows[("bob",)].rejected_cost_usd == Decimal(tier1.cost_usd) > 0
    # The work bob's job needed is its first answer, the rejected tier-1 one.
    assert rows[("bob",)].first_answer_tokens == (tier1.input_tokens, tier1.output_tokens)


def test_grouping_by_call_dimensions_and_scoping_to_a_batch(db: Database) -> None:
    bob = two_users(db)
    with db.session() as session:
        by_tier = cost_ledger(session, ["feature", "tier"])
        only_bob = cost_ledger(session, ["user"], batch_id=batch_of(db, bob))
        with pytest.raises(UnknownDimension, match="group by one or more of"):
            cost_ledger(session, ["colour"])
    assert sorted(r.group for r in by_tier) == [("invoices", 1), ("invoices", 2)]
    assert all(r.first_answer_tokens is None for r in by_tier)
    assert [r.group for r in only_bob] == [("bob",)]


def test_costs_command_prints_one_json_document_with_groups_and_totals(db: Database,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    two_users(db)
    monkeypatch.setenv("TIERLINE_DATABASE_URL", db.url)
    result = CliRunner().invoke(cli, ["costs", "--by", "user", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    rows = document["rows"]
    assert [r["user"] for r in rows] == ["bob", "alice"]  # most expensive first
    assert all(r["all_top_tier_cost_usd"] > r["cost_usd"] for r in rows)
    totals = document["totals"]
    assert totals["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows))
    assert totals["calls"] == sum(r["calls"] for r in rows) and document["by"] == ["user"]
    bad = CliRunner().invoke(cli, ["costs", "--by", "colour"])
    assert bad.exit_code == 2 and "group by one or more of" in bad.output
