"""ledger rollup and report indexes

The cost ledger summed per batch and job dimensions (`ledger_rollup`, kept by the janitor's
sweeps, see jobs.ledger_rollup), a marker on each ledger row once it is counted there, and
covering indexes for a batch's status counts.

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
    # A constant default: PostgreSQL adds the column without rewriting the table. Every
    # existing row starts uncounted and is read live until a sweep counts it.
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rolled_up', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index('ix_attempts_not_rolled_up', ['id'], unique=False,
                              postgresql_where=sa.text('NOT rolled_up'),
                              sqlite_where=sa.text('NOT rolled_up'))
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
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_not_rolled_up')
        batch_op.drop_column('rolled_up')
    op.drop_table('ledger_rollup')
