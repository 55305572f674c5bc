"""case events keep the assignee in a column

Revision ID: s3a000000001
Revises: d3a0c45e0001
Create Date: 2026-11-29 12:00:00

An "assigned" event kept the new assignee's user id in its note, and the case page parsed it back out.
The id now has its own column; this fills it from the notes already written (issue 15).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's3a000000001'
down_revision = 'd3a0c45e0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_case_events_assignee_id_users'), 'users', ['assignee_id'], ['id']
        )

    connection = op.get_bind()
    users = {row.id for row in connection.execute(sa.text("SELECT id FROM users"))}
    assigned = connection.execute(
        sa.text("SELECT id, note FROM case_events WHERE action = 'assigned' AND note IS NOT NULL")
    ).all()
    for event_id, note in assigned:
        text = (note or "").strip()
        if text.isdigit() and int(text) in users:
            connection.execute(
                sa.text("UPDATE case_events SET assignee_id = :assignee WHERE id = :id"),
                {"assignee": int(text), "id": event_id},
            )


def downgrade():
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_events_assignee_id_users'), type_='foreignkey')
        batch_op.drop_column('assignee_id')
