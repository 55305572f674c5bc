"""audit events: channel and client address, indexes for the audit queries, append-only on PostgreSQL

Revision ID: t3a000000001
Revises: t2a5e55101a1
Create Date: 2026-11-29 08:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 't3a000000001'
down_revision = 't2a5e55101a1'
branch_labels = None
depends_on = None

# The same SQL as callback.models.audit.APPEND_ONLY_SQL, frozen here as of this revision.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('callback.audit_scrub', true) = 'on'
       AND (to_jsonb(NEW) - 'details') = (to_jsonb(OLD) - 'details')
       AND (NEW.details::jsonb -> 'purged') = 'true'::jsonb THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


def upgrade():
    # Events written before this revision keep an empty channel and address: nobody knows them now.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audit_events_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_events_actor_at', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_action_at', ['action', 'at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION IF EXISTS audit_events_append_only()')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_action_at')
        batch_op.drop_index('ix_audit_events_actor_at')
        batch_op.drop_index('ix_audit_events_at')
        batch_op.drop_column('address')
        batch_op.drop_column('channel')
