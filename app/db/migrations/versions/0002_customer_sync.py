"""customer_sync: the last customer body sent to NetSuite, so unchanged customers are not re-sent

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_sync",
        sa.Column("shopify_customer_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("netsuite_internal_id", sa.String(length=64), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("shopify_customer_id"),
    )


def downgrade() -> None:
    op.drop_table("customer_sync")
