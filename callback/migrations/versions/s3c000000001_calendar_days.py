"""calendar days: the working-day calendar as a table, for reports that aggregate in SQL

Revision ID: s3c000000001
Revises: s3b000000001
Create Date: 2026-11-29 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import callback.models.types


# revision identifiers, used by Alembic.
revision = 's3c000000001'
down_revision = 's3b000000001'
branch_labels = None
depends_on = None


def upgrade():
    # Empty: reports fill the days they need for the configured calendar (callback/reports/calendar.py).
    op.create_table('calendar_days',
    sa.Column('calendar', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('prev_is_workday', sa.Boolean(), nullable=False),
    sa.Column('starts_at', callback.models.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', callback.models.types.UTCDateTime(), nullable=False),
    sa.Column('utc_offset', sa.Integer(), nullable=False),
    sa.Column('work_seconds_before', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('calendar', 'day', name=op.f('pk_calendar_days'))
    )


def downgrade():
    op.drop_table('calendar_days')
