"""work_orders.stated_applied_on: the customer's latest stated application date, kept on the order so the
reports need not rank every applied_on answer ever given; filled here from the answers

Revision ID: s4d000000001
Revises: s4p000000001
Create Date: 2026-11-29 15:20:00

"""
import re
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's4d000000001'
down_revision = 's4p000000001'
branch_labels = None
depends_on = None

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
BATCH = 5000


def _stated_day(value):
    # A frozen copy of callback.worklist.attempts.stated_day: a text starting with a real ISO date.
    if not isinstance(value, str) or not ISO_DAY.match(value):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def upgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stated_applied_on', sa.Date(), nullable=True))
    answers = sa.table(
        'answers', sa.column('id'), sa.column('attempt_id'), sa.column('question'), sa.column('value', sa.JSON)
    )
    attempts = sa.table('call_attempts', sa.column('id'), sa.column('task_id'), sa.column('started_at'))
    tasks = sa.table('callback_tasks', sa.column('id'), sa.column('order_id'))
    orders = sa.table('work_orders', sa.column('id'), sa.column('stated_applied_on', sa.Date))
    # Each order's answers latest first: the first one that gives a date is the order's.
    rows = op.get_bind().execute(
        sa.select(tasks.c.order_id, answers.c.value)
        .select_from(answers)
        .join(attempts, answers.c.attempt_id == attempts.c.id)
        .join(tasks, attempts.c.task_id == tasks.c.id)
        .where(answers.c.question == 'applied_on')
        .order_by(tasks.c.order_id, attempts.c.started_at.desc(), answers.c.id.desc())
    ).all()
    stated = {}
    for order_id, value in rows:
        if order_id not in stated:
            day = _stated_day(value)
            if day is not None:
                stated[order_id] = day
    update = (
        sa.update(orders)
        .where(orders.c.id == sa.bindparam('order_id'))
        .values(stated_applied_on=sa.bindparam('day'))
    )
    items = [{'order_id': order_id, 'day': day} for order_id, day in stated.items()]
    for start in range(0, len(items), BATCH):
        op.get_bind().execute(update, items[start : start + BATCH])


def downgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('stated_applied_on')
