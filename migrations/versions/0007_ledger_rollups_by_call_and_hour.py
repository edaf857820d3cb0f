"""ledger rollups per call and per hour

The cost ledger summed per batch, tier, provider, model and UTC hour (`ledger_call_rollup`), per
job dimension and UTC hour (`ledger_hour_rollup`), and the jobs whose ledger rows span hours
(`ledger_spanning_jobs`), kept by the janitor's sweeps with `ledger_rollup` (see
persistence.call_rollup and persistence.hour_rollup). Back-filled on PostgreSQL with what `ledger_rollup`
has counted already, so both stand at its watermark.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:30:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tierline.persistence import call_rollup, hour_rollup

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ('calls', 'failed_calls', 'input_tokens', 'output_tokens')
JOB_COUNTS = ('jobs_tier', 'jobs_provider', 'jobs_model', 'jobs_tier_provider',
              'jobs_tier_model', 'jobs_provider_model', 'jobs_tier_provider_model')


def upgrade() -> None:
    op.create_table('ledger_call_rollup',
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=50), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    *[sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTS],
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('rejected_cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    *[sa.Column(name, sa.BigInteger(), nullable=False) for name in JOB_COUNTS],
    sa.PrimaryKeyConstraint('batch_id', 'tier', 'provider', 'model', 'hour')
    )
    op.create_index('ix_ledger_call_rollup_hour', 'ledger_call_rollup', ['hour'], unique=False)
    op.create_table('ledger_hour_rollup',
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=100), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    *[sa.Column(name, sa.BigInteger(), nullable=False) for name in ('jobs', *COUNTS)],
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('rejected_cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('first_input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('first_output_tokens', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('dimension', 'value', 'hour')
    )
    op.create_index('ix_ledger_hour_rollup_hour', 'ledger_hour_rollup', ['hour'], unique=False)
    op.create_table('ledger_spanning_jobs',
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('last_hour', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job_id')
    )
    op.create_index('ix_ledger_spanning_jobs_last_hour', 'ledger_spanning_jobs', ['last_hour'],
                    unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in [*call_rollup.backfill_sql(), hour_rollup.backfill_sql()]:
            op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_ledger_spanning_jobs_last_hour', table_name='ledger_spanning_jobs')
    op.drop_table('ledger_spanning_jobs')
    op.drop_index('ix_ledger_hour_rollup_hour', table_name='ledger_hour_rollup')
    op.drop_table('ledger_hour_rollup')
    op.drop_index('ix_ledger_call_rollup_hour', table_name='ledger_call_rollup')
    op.drop_table('ledger_call_rollup')
