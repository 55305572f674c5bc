"""dialer heartbeats; attempts counted by disposition for /metrics

Revision ID: o2a000000001
Revises: t3a000000001
Create Date: 2026-11-29 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import callback.models.types


# revision identifiers, used by Alembic.
revision = 'o2a000000001'
down_revision = 't3a000000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dialer_heartbeats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('started_at', callback.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_pass_at', callback.models.types.UTCDateTime(), nullable=False),
    sa.Column('calls_in_flight', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialer_heartbeats')),
    sa.UniqueConstraint('name', name=op.f('uq_dialer_heartbeats_name'))
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_call_attempts_outcome', ['channel', 'disposition'], unique=False)


def downgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_call_attempts_outcome')
    op.drop_table('dialer_heartbeats')
