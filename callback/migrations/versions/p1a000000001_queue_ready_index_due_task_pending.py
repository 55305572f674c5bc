"""queue index that serves "workable now"; last disposition on tasks; orders pending a due-date task

Revision ID: p1a000000001
Revises: q1d000000001
Create Date: 2026-11-29 09:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'p1a000000001'
down_revision = 'q1d000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('last_disposition', sa.String(length=24), nullable=True))
        batch_op.drop_index('ix_callback_tasks_queue')
        batch_op.create_index('ix_callback_tasks_ready', ['state', 'waiting', 'channel', 'due_by', 'id'], unique=False)
        batch_op.create_index(
            'ix_callback_tasks_waiting',
            ['not_before'],
            unique=False,
            sqlite_where=sa.text('waiting = 1'),
            postgresql_where=sa.text('waiting = true'),
        )
    # Open tasks that wait for a retry or an appointment leave the ready queue; the first claim after their
    # time makes them ready again. (Timestamps are stored as naive UTC.)
    tasks = sa.table(
        'callback_tasks',
        sa.column('id', sa.Integer()),
        sa.column('state', sa.String()),
        sa.column('not_before', sa.DateTime()),
        sa.column('waiting', sa.Boolean()),
        sa.column('last_disposition', sa.String()),
    )
    attempts = sa.table(
        'call_attempts',
        sa.column('id', sa.Integer()),
        sa.column('task_id', sa.Integer()),
        sa.column('disposition', sa.String()),
    )
    if op.get_bind().dialect.name == 'postgresql':
        now = sa.text("(now() at time zone 'utc')")
    else:
        now = sa.func.current_timestamp()
    op.execute(tasks.update().where(tasks.c.state == 'open', tasks.c.not_before > now).values(waiting=True))
    last = (
        sa.select(attempts.c.disposition)
        .where(attempts.c.task_id == tasks.c.id, attempts.c.disposition.is_not(None))
        .order_by(attempts.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    op.execute(tasks.update().values(last_disposition=last))

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_task_pending', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_index('ix_work_orders_due_task_pending', ['due_task_pending', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_work_orders_due_task_pending')
        batch_op.drop_column('due_task_pending')

    with op.batch_alter_table('callback_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_tasks_waiting')
        batch_op.drop_index('ix_callback_tasks_ready')
        batch_op.create_index('ix_callback_tasks_queue', ['state', 'channel', 'due_by', 'id'], unique=False)
        batch_op.drop_column('last_disposition')
        batch_op.drop_column('waiting')
