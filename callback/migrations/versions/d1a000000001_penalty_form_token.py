"""penalties: the form that recorded each one, so a form sent twice records one penalty

Revision ID: d1a000000001
Revises: d2a000000001
Create Date: 2026-11-29 08:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1a000000001'
down_revision = 'd2a000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_penalties_case_id_form_token'), ['case_id', 'form_token']
        )


def downgrade():
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_penalties_case_id_form_token'), type_='unique')
        batch_op.drop_column('form_token')
