"""Fast bulk loading for the benches: `COPY` on PostgreSQL, Core `executemany` on SQLite.

Generating a million orders with their tasks and attempts through the ORM takes many minutes; these helpers
write the same rows in a fraction of that. Columns a row leaves out take their Python-side scalar default
(as an ORM insert would) or else the server's default.
"""

import json
from datetime import UTC, datetime

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session


class _RowContext:
    """What a context-sensitive column default (order_no_key from order_no) reads: the row's values."""

    def __init__(self, row: dict) -> None:
        self.row = row

    def get_current_parameters(self) -> dict:
        return self.row


def _with_defaults(table: Table, rows: list[dict]) -> list[dict]:
    """Return the rows with every column they leave out filled by its Python-side default, if any."""
    missing = [
        column
        for column in table.columns
        if column.name not in rows[0] and column.default is not None and not column.default.is_sequence
    ]
    if not missing:
        return rows
    filled = []
    for row in rows:
        extra = {}
        for column in missing:
            if column.default.is_scalar:
                extra[column.name] = column.default.arg
            else:
                extra[column.name] = column.default.arg(_RowContext(row))
        filled.append({**row, **extra})
    return filled


def _copy_value(value: object) -> object:
    if isinstance(value, datetime):
        # Our UTC columns are `timestamp without time zone` holding naive UTC.
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def bulk_insert(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    rows = _with_defaults(table, rows)
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    driver_connection = session.connection().connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in rows[0])
    # A JSON column's value is written as its JSON text (a str is a JSON string, not the text itself).
    json_columns = [isinstance(table.columns[name].type, JSON) for name in rows[0]]
    with (
        driver_connection.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    json.dumps(value, ensure_ascii=False)
                    if is_json and value is not None
                    else _copy_value(value)
                    for value, is_json in zip(row.values(), json_columns, strict=True)
                ]
            )
