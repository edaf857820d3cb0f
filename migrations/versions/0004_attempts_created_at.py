"""index the cost ledger by time

Budgets and `tierline costs --since` sum the ledger since a date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 02:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_attempts_created_at', 'attempts', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_attempts_created_at', table_name='attempts')
