"""ledger rollup and report indexes

The cost ledger summed per batch and job dimensions (`ledger_rollup`, kept by the janitor's
sweeps, see persistence.ledger_rollup), how far it has counted (`ledger_rollup_state`, one row) and the
rows below that mark still awaiting validation (`ledger_pending`), and covering indexes for a
batch's status counts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:45:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_rollup',
    sa.Column('batch_id', sa.String(length=36), nullable=False),
    sa.Column('tenant', sa.String(length=100), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('feature', sa.String(length=100), nullable=False),
    sa.Column('query_type', sa.String(length=100), nullable=False),
    sa.Column('jobs', sa.BigInteger(), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.Column('failed_calls', sa.BigInteger(), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('rejected_cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('validation_failures', sa.BigInteger(), nullable=False),
    sa.Column('escalated_jobs', sa.BigInteger(), nullable=False),
    sa.Column('first_input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('first_output_tokens', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id', 'tenant', 'user', 'feature', 'query_type')
    )
    state = op.create_table('ledger_rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watermark', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # Nothing counted yet: existing ledger rows are read live until a sweep counts them.
    op.bulk_insert(state, [{'id': 1, 'watermark': 0}])
    op.create_table('ledger_pending',
    sa.Column('attempt_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('attempt_id')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_batch_status_tier', ['batch_id', 'status', 'current_tier'],
                              unique=False)
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.create_index('ix_results_batch_tier', ['batch_id', 'tier'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_index('ix_results_batch_tier')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_batch_status_tier')
    op.drop_table('ledger_pending')
    op.drop_table('ledger_rollup_state')
    op.drop_table('ledger_rollup')
