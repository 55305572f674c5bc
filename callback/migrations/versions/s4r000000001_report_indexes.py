"""an index for the reports: the tasks' creation time

Revision ID: s4r000000001
Revises: s4c000000001
Create Date: 2026-11-29 14:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 's4r000000001'
down_revision = 's4c000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_callback_tasks_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_tasks_created_at')
