"""supervision cases carry their order's service centre and account manager

Revision ID: s4e000000001
Revises: s4d000000001
Create Date: 2026-11-29 15:40:00

The case list filtered by centre or manager joined every case to its order and read all the centre's orders
(issue 14). Each case now keeps a copy of its order's centre and manager (set when the case opens, kept equal
by intake), indexed with the state; this fills the copy of the cases already open.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's4e000000001'
down_revision = 's4d000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_center', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('account_manager', sa.String(length=50), nullable=True))

    op.execute(
        "UPDATE supervision_cases SET "
        "service_center = (SELECT o.service_center FROM work_orders o WHERE o.id = supervision_cases.order_id), "
        "account_manager = (SELECT o.account_manager FROM work_orders o WHERE o.id = supervision_cases.order_id)"
    )

    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.alter_column('service_center', existing_type=sa.String(length=50), nullable=False)
        batch_op.create_index(
            'ix_supervision_cases_service_center_state', ['service_center', 'state'], unique=False
        )
        batch_op.create_index(
            'ix_supervision_cases_account_manager_state', ['account_manager', 'state'], unique=False
        )


def downgrade():
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_cases_account_manager_state')
        batch_op.drop_index('ix_supervision_cases_service_center_state')
        batch_op.drop_column('account_manager')
        batch_op.drop_column('service_center')
