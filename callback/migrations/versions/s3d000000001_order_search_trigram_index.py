"""order search trigram index

Revision ID: s3d000000001
Revises: s3c000000001
Create Date: 2026-11-29 11:50:00

The order list's search (ILIKE '%term%' on order number or customer name) read every order; on PostgreSQL a
pg_trgm GIN index answers it. SQLite gets a plain (order_no, customer_name) index of the same name (it ignores
the postgresql_* options), so the schema matches the models on both.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 's3d000000001'
down_revision = 's3c000000001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_work_orders_search_trgm",
        "work_orders",
        ["order_no", "customer_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"order_no": "gin_trgm_ops", "customer_name": "gin_trgm_ops"},
    )


def downgrade():
    # The extension stays: other databases objects may use it, and it holds no data of ours.
    op.drop_index("ix_work_orders_search_trgm", table_name="work_orders")
