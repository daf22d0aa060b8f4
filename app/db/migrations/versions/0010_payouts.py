"""payouts: each Shopify Payments payout and its NetSuite deposit; watermarks long enough for a GraphQL cursor

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("payout_id", sa.String(32), primary_key=True),
        sa.Column("shopify_status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net", sa.Numeric(18, 2), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("transactions", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("missing", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("variance", sa.Numeric(18, 2), nullable=False, server_default="0"),
        sa.Column("suspense_types", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("deposit_external_id", sa.String(64), nullable=True),
        sa.Column("deposit_netsuite_id", sa.String(32), nullable=True),
        sa.Column("reversal_netsuite_id", sa.String(32), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_payouts_issued_at", "payouts", ["issued_at"])
    op.create_index("ix_payouts_state", "payouts", ["state"])
    # A Shopify GraphQL cursor is longer than the 64 characters a watermark had.
    op.alter_column("sync_watermarks", "value", type_=sa.Text(), existing_type=sa.String(64))


def downgrade() -> None:
    op.alter_column("sync_watermarks", "value", type_=sa.String(64), existing_type=sa.Text())
    op.drop_index("ix_payouts_state", table_name="payouts")
    op.drop_index("ix_payouts_issued_at", table_name="payouts")
    op.drop_table("payouts")
