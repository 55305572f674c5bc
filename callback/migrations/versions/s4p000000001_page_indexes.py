"""indexes the pages walk at a million orders: account managers (the case list's filter), open tasks by
channel, kind and time (the queue's counts), waiting tasks by time and id (the queue's next few)

Revision ID: s4p000000001
Revises: s4r000000001
Create Date: 2026-11-29 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's4p000000001'
down_revision = 's4r000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index('ix_work_orders_account_manager', ['account_manager'], unique=False)
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.create_index(
            'ix_callback_tasks_queue',
            ['channel', 'kind', 'not_before', 'last_disposition', 'attempt_count', 'appointment_owner_id'],
            unique=False,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index('ix_callback_tasks_waiting')
        batch_op.create_index(
            'ix_callback_tasks_waiting',
            ['not_before', 'id'],
            unique=False,
            sqlite_where=sa.text('waiting = 1'),
            postgresql_where=sa.text('waiting = true'),
        )


def downgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_tasks_waiting')
        batch_op.create_index(
            'ix_callback_tasks_waiting',
            ['not_before'],
            unique=False,
            sqlite_where=sa.text('waiting = 1'),
            postgresql_where=sa.text('waiting = true'),
        )
        batch_op.drop_index('ix_callback_tasks_queue')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_account_manager')
