"""order_state.taxes_included: whether the order's prices include tax, so its credit memos book refunds ex-tax

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "order_state", sa.Column("taxes_included", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("order_state", "taxes_included")
