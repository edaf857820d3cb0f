"""shadow results

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 02:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('shadow_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('candidate', sa.String(length=300), nullable=False),
    sa.Column('pinned_model', sa.String(length=200), nullable=False),
    sa.Column('candidate_model', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=50), nullable=False),
    sa.Column('output_text', sa.Text(), nullable=True),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=10), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=50), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('validated', sa.Boolean(), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=True),
    sa.Column('agrees', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'attempt_no', 'candidate',
                        name='uq_shadow_results_job_attempt_candidate')
    )
    with op.batch_alter_table('shadow_results', schema=None) as batch_op:
        batch_op.create_index('ix_shadow_results_tier_candidate', ['tier', 'candidate'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shadow_results', schema=None) as batch_op:
        batch_op.drop_index('ix_shadow_results_tier_candidate')

    op.drop_table('shadow_results')
