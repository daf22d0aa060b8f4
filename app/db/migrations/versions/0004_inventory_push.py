"""inventory push-back: Shopify inventory item map, watermarks, pushes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopify_inventory_items",
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("inventory_item_id", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "sync_watermarks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "inventory_pushes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("cycle", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("shopify_location_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("previous_quantity", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inventory_pushes_cycle", "inventory_pushes", ["cycle"])


def downgrade() -> None:
    op.drop_table("inventory_pushes")
    op.drop_table("sync_watermarks")
    op.drop_table("shopify_inventory_items")
