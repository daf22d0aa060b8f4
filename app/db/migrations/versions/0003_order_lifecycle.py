"""order lifecycle: per-line quantities, applied documents, money, restocks, schema drift counters

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order_state", sa.Column("customer_external_id", sa.String(length=255), nullable=True))
    op.add_column("order_state", sa.Column("total_price", sa.Numeric(14, 2), nullable=True))
    op.add_column("order_state", sa.Column("currency", sa.String(length=3), nullable=True))
    op.add_column("order_state", sa.Column("refunded_amount", sa.Numeric(14, 2), nullable=False, server_default="0.00"))
    op.add_column("order_state", sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("order_state", sa.Column("money_mismatch", sa.Text(), nullable=True))
    op.create_table(
        "order_lines",
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("shopify_line_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("ordered", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(14, 2), nullable=False),
        sa.Column("fulfilled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refunded", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("restocked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("netsuite_line", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["shopify_order_id"], ["order_state.shopify_order_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shopify_order_id", "shopify_line_id"),
    )
    op.create_table(
        "order_documents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("netsuite_type", sa.String(length=64), nullable=True),
        sa.Column("netsuite_internal_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["shopify_order_id"], ["order_state.shopify_order_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "shopify_id", name="uq_order_documents_kind_shopify_id"),
    )
    op.create_index("ix_order_documents_shopify_order_id", "order_documents", ["shopify_order_id"])
    op.create_table(
        "inventory_restocks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("shopify_order_id", sa.BigInteger(), nullable=False),
        sa.Column("shopify_refund_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("shopify_location_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inventory_restocks_shopify_order_id", "inventory_restocks", ["shopify_order_id"])
    op.create_table(
        "schema_drift",
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("api_version", sa.String(length=20), nullable=False),
        sa.Column("field_path", sa.String(length=255), nullable=False),
        sa.Column("seen", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("topic", "api_version", "field_path"),
    )


def downgrade() -> None:
    op.drop_table("schema_drift")
    op.drop_table("inventory_restocks")
    op.drop_table("order_documents")
    op.drop_table("order_lines")
    for column in ("money_mismatch", "cancelled", "refunded_amount", "currency", "total_price", "customer_external_id"):
        op.drop_column("order_state", column)
