"""call attempts remember the calling slot they started in (CALL_SLOTS)

Revision ID: s3b000000001
Revises: s3a000000001
Create Date: 2026-11-29 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's3b000000001'
down_revision = 's3a000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_column('slot')
