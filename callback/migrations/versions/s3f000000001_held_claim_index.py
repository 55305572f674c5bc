"""an index of live claims by their holder, for the claim's one-at-a-time check

Revision ID: s3f000000001
Revises: s3e000000001
Create Date: 2026-11-29 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's3f000000001'
down_revision = 's3e000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index(
            'ix_callback_tasks_held',
            ['lease_owner_id', 'lease_expires_at'],
            unique=False,
            sqlite_where=sa.text("state = 'claimed'"),
            postgresql_where=sa.text("state = 'claimed'"),
        )


def downgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_tasks_held')
