"""audit events: monthly range partitions on PostgreSQL (a no-op on SQLite)

Revision ID: s3e000000001
Revises: s3d000000001
Create Date: 2026-11-29 11:40:00

The table is rebuilt as `PARTITION BY RANGE (at)`: one partition per UTC month from the oldest event to three
months ahead, a default partition, primary key (id, at). Rows are copied month by month into the new table
before its keys and indexes are built (faster than maintaining them row by row), in this migration's
transaction: audit writes (so every state change of the app) wait until it commits. bench/bench_partition.py
times it: docs/scaling.md gives the figures and the way to run it on a large table.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's3e000000001'
down_revision = 's3d000000001'
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3
INDEXES = {
    'ix_audit_events_entity': '(entity_type, entity_id)',
    'ix_audit_events_at': '(at)',
    'ix_audit_events_actor_at': '(actor_id, at)',
    'ix_audit_events_action_at': '(action, at)',
}
# The trigger of revision t3a000000001 (its function is kept; a trigger belongs to the table it is on).
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


def _month_index(moment):
    return moment.year * 12 + moment.month - 1


def _month_start(index):
    return f'{index // 12:04d}-{index % 12 + 1:02d}-01'


def _set_aside(old_name):
    """Rename the current table and the schema-wide names it holds (its key's and indexes' names)."""
    op.execute(f'ALTER TABLE audit_events RENAME TO {old_name}')
    op.execute(f'ALTER INDEX pk_audit_events RENAME TO pk_{old_name}')
    for index in INDEXES:
        op.execute(f'ALTER INDEX {index} RENAME TO {index.replace("audit_events", old_name)}')
    op.execute(f'DROP TRIGGER IF EXISTS audit_events_append_only ON {old_name}')


def _finish(old_name, primary_key):
    """Keys, indexes, the append-only trigger and the id sequence on the new table; drop the old one."""
    op.execute(f'ALTER TABLE audit_events ADD CONSTRAINT pk_audit_events PRIMARY KEY {primary_key}')
    op.execute('ALTER TABLE audit_events ADD CONSTRAINT fk_audit_events_actor_id_users '
               'FOREIGN KEY (actor_id) REFERENCES users (id)')
    for index, columns in INDEXES.items():
        op.execute(f'CREATE INDEX {index} ON audit_events {columns}')
    op.execute(APPEND_ONLY_TRIGGER)
    op.execute('ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id')
    op.execute(f'DROP TABLE {old_name}')
    op.execute('ANALYZE audit_events')


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.execute('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE')
    _set_aside('audit_events_unpartitioned')
    op.execute('CREATE TABLE audit_events (LIKE audit_events_unpartitioned INCLUDING DEFAULTS) '
               'PARTITION BY RANGE (at)')
    oldest = bind.execute(sa.text('SELECT min(at) FROM audit_events_unpartitioned')).scalar()
    now = datetime.now(UTC)
    first = _month_index(oldest) if oldest is not None else _month_index(now)
    for index in range(first, _month_index(now) + MONTHS_AHEAD + 1):
        name = f'audit_events_y{index // 12:04d}m{index % 12 + 1:02d}'
        op.execute(f"CREATE TABLE {name} PARTITION OF audit_events "
                   f"FOR VALUES FROM ('{_month_start(index)}') TO ('{_month_start(index + 1)}')")
        op.execute(f"INSERT INTO {name} SELECT * FROM audit_events_unpartitioned "
                   f"WHERE at >= '{_month_start(index)}' AND at < '{_month_start(index + 1)}'")
    # A row whose month has no table yet lands here (tick creates months ahead, so it stays empty); events
    # dated beyond the months created above (a wrong clock) are kept here too.
    op.execute('CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT')
    op.execute(f"INSERT INTO audit_events_default SELECT * FROM audit_events_unpartitioned "
               f"WHERE at >= '{_month_start(_month_index(now) + MONTHS_AHEAD + 1)}'")
    _finish('audit_events_unpartitioned', '(id, at)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE')
    _set_aside('audit_events_partitioned')
    op.execute('CREATE TABLE audit_events (LIKE audit_events_partitioned INCLUDING DEFAULTS)')
    op.execute('INSERT INTO audit_events SELECT * FROM audit_events_partitioned')
    _finish('audit_events_partitioned', '(id)')
