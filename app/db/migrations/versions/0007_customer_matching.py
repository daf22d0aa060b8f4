"""customer matching: customers found by email in NetSuite (never written to), and guest customers

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer_sync", sa.Column("matched", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "guest_customer_sync",
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("netsuite_internal_id", sa.String(length=64), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("matched", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("external_id"),
    )


def downgrade() -> None:
    op.drop_table("guest_customer_sync")
    op.drop_column("customer_sync", "matched")
