"""call attempts: partitioned by id, one block of ids per month, on PostgreSQL (a no-op on SQLite)

Revision ID: s4c000000001
Revises: s3f000000001
Create Date: 2026-11-29 14:40:00

Six foreign keys point at call_attempts(id), and a partitioned table's unique keys must hold its partition key:
so the partition key is `id` itself (docs/scaling.md weighs the other way, by `started_at`). Each month holds a
block of ids: the months already in the table get the ids of the attempts started in them (each from its
lowest id to the next month's), this month runs past the sequence by a block, and three months ahead follow,
each block twice the most ids a month has used (at least 1M, rounded up to a million). Tick creates the next
months the same way and moves the sequence to each month's block at the month's first run
(callback/partitions.py). `provider_call_sid` stays unique within each month's partition (a partitioned
table cannot keep it unique across them). The referencing foreign keys are dropped and added back unchanged.
Rows are copied before keys and indexes are built, in this migration's transaction: attempts and everything
that references them wait until it commits. bench/bench_partition.py --table call_attempts times it.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 's4c000000001'
down_revision = 's3f000000001'
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3
MIN_IDS_PER_MONTH = 1_000_000
ID_ROUNDING = 1_000_000
MAX_ID = 2**31 - 1
INDEXES = {
    'ix_call_attempts_task_id': '(task_id)',
    'ix_call_attempts_outcome': '(channel, disposition)',
}
UNIQUE = 'uq_call_attempts_provider_call_sid'


def _month_index(moment):
    return moment.year * 12 + moment.month - 1


def _name(index):
    return f'call_attempts_y{index // 12:04d}m{index % 12 + 1:02d}'


def _round_up(value):
    return min(-(-value // ID_ROUNDING) * ID_ROUNDING, MAX_ID)


def _foreign_keys(bind, referencing):
    """(table, name, definition) of the foreign keys on call_attempts, or of those pointing at it."""
    column = 'confrelid' if referencing else 'conrelid'
    return bind.execute(sa.text(
        f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE contype = 'f' AND {column} = 'call_attempts'::regclass ORDER BY 1, 2"
    )).all()


def _set_aside(bind, old_name, unique):
    """Drop the keys pointing at the table; rename it and its schema-wide names. Return what to restore."""
    references = _foreign_keys(bind, referencing=True)
    own = _foreign_keys(bind, referencing=False)
    for table, name, _ in references:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT {name}')
    op.execute(f'ALTER TABLE call_attempts RENAME TO {old_name}')
    op.execute(f'ALTER INDEX pk_call_attempts RENAME TO pk_{old_name}')
    for index in [*INDEXES, *([UNIQUE] if unique else [])]:
        op.execute(f'ALTER INDEX {index} RENAME TO {index.replace("call_attempts", old_name)}')
    return references, own


def _finish(old_name, references, own):
    """Key, indexes and foreign keys on the new table, the keys pointing at it again; drop the old one."""
    op.execute('ALTER TABLE call_attempts ADD CONSTRAINT pk_call_attempts PRIMARY KEY (id)')
    for index, columns in INDEXES.items():
        op.execute(f'CREATE INDEX {index} ON call_attempts {columns}')
    for _, name, definition in own:
        op.execute(f'ALTER TABLE call_attempts ADD CONSTRAINT {name} {definition}')
    for table, name, definition in references:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {name} {definition}')
    op.execute('ALTER SEQUENCE call_attempts_id_seq OWNED BY call_attempts.id')
    op.execute(f'DROP TABLE {old_name}')
    op.execute('ANALYZE call_attempts')


def _next_id(bind):
    last, called = bind.execute(sa.text('SELECT last_value, is_called FROM call_attempts_id_seq')).one()
    return last + 1 if called else last


def _blocks(bind, old_name):
    """[(month index, first id or None, end)] from the oldest attempt's month to three months ahead."""
    current = _month_index(datetime.now(UTC))
    months = bind.execute(sa.text(
        f'SELECT date_trunc(\'month\', started_at), min(id), max(id) FROM {old_name} GROUP BY 1 ORDER BY 1'
    )).all()
    # A month's block starts at the lowest id of the attempts started in it or later (a later start with a
    # lower id, or an attempt dated ahead of today, stays with the earlier month).
    firsts, lowest, busiest = {}, None, 0
    for start, first, last in reversed(months):
        index = min(_month_index(start), current)
        lowest = first if lowest is None else min(lowest, first)
        firsts[index] = lowest
        busiest = max(busiest, last - first + 1)
    size = max(MIN_IDS_PER_MONTH, 2 * busiest)
    blocks, start = [], None
    past = sorted(index for index in firsts if index < current)
    for position, index in enumerate(past):
        end = firsts[past[position + 1]] if position + 1 < len(past) else firsts.get(current, _next_id(bind))
        if start is None or end > start:
            blocks.append((index, start, end))
            start = end
    end = _round_up(max(_next_id(bind), start or 0) + size)
    blocks.append((current, start, end))
    for index in range(current + 1, current + MONTHS_AHEAD + 1):
        start, end = end, _round_up(end + size)
        if start >= end:
            break
        blocks.append((index, start, end))
    return blocks


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.execute('LOCK TABLE call_attempts IN ACCESS EXCLUSIVE MODE')
    references, own = _set_aside(bind, 'call_attempts_unpartitioned', unique=True)
    op.execute('CREATE TABLE call_attempts (LIKE call_attempts_unpartitioned INCLUDING DEFAULTS) '
               'PARTITION BY RANGE (id)')
    names = []
    for index, start, end in _blocks(bind, 'call_attempts_unpartitioned'):
        names.append(_name(index))
        op.execute(f"CREATE TABLE {names[-1]} PARTITION OF call_attempts "
                   f"FOR VALUES FROM ({'MINVALUE' if start is None else start}) TO ({end})")
    # Never used while tick keeps months ahead; an id beyond the last block (a sequence set by hand) lands
    # here rather than being refused.
    op.execute('CREATE TABLE call_attempts_default PARTITION OF call_attempts DEFAULT')
    names.append('call_attempts_default')
    op.execute('INSERT INTO call_attempts SELECT * FROM call_attempts_unpartitioned')
    for name in names:
        op.execute(f'CREATE UNIQUE INDEX uq_{name}_provider_call_sid ON {name} (provider_call_sid)')
    _finish('call_attempts_unpartitioned', references, own)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    op.execute('LOCK TABLE call_attempts IN ACCESS EXCLUSIVE MODE')
    references, own = _set_aside(bind, 'call_attempts_partitioned', unique=False)
    op.execute('CREATE TABLE call_attempts (LIKE call_attempts_partitioned INCLUDING DEFAULTS)')
    op.execute('INSERT INTO call_attempts SELECT * FROM call_attempts_partitioned')
    op.execute(f'ALTER TABLE call_attempts ADD CONSTRAINT {UNIQUE} UNIQUE (provider_call_sid)')
    _finish('call_attempts_partitioned', references, own)
