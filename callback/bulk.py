"""Insert many rows of one table at driver speed: COPY on PostgreSQL, the driver's executemany elsewhere.

The import writes orders, tasks and audit events by the thousand; through SQLAlchemy each row's parameters
are handled one by one in Python (a fifth of an import's time), and on PostgreSQL an INSERT per row, even
pipelined, costs the server a parse-bind-execute each. Here every value is converted once by its column's
own bind processor (so a value is stored exactly as SQLAlchemy would store it), then the rows go to the
driver as they are. Errors come back as SQLAlchemy's exceptions (IntegrityError, OperationalError …), as
they would from `session.execute`.

The rows must name the same columns. Columns left out get their scalar default; a column left out whose
default is a function, or that has no default and no server default, is the caller's mistake.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Column, ColumnElement, Table, any_, bindparam, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import QueryableAttribute, Session

T = TypeVar("T")

# Below this many rows a plain INSERT is one round trip where COPY takes two (its start, then the data), and
# the statement is the same every time (a claim's audit event, a single PUT's order and task).
COPY_MIN_ROWS = 20


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name, all with the same keys) into `table` in one go."""
    if not rows:
        return
    names = list(rows[0])
    defaults = _scalar_defaults(table, names)
    if len(rows) < COPY_MIN_ROWS:
        session.execute(insert(table), list(rows))
        return
    connection = session.connection()
    columns = [table.c[name] for name in names]
    all_columns = [*columns, *(table.c[name] for name in defaults)]
    fill = tuple(defaults.values())
    processors = _processors(all_columns, connection.dialect)
    values = [(*(row[name] for name in names), *fill) for row in rows]
    if processors:
        values = [_converted(row, processors) for row in values]
    if connection.dialect.name == "postgresql":
        _copy(connection, table, all_columns, values)
    else:
        statement = insert(table).compile(
            dialect=connection.dialect, column_keys=[c.key for c in all_columns]
        )
        connection.exec_driver_sql(str(statement), values)


def _scalar_defaults(table: Table, given: list[str]) -> dict[str, Any]:
    """Return the scalar default of each column the rows leave out; refuse a column they cannot leave out."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given:
            continue
        default = column.default
        if default is not None:
            if not default.is_scalar:
                raise ValueError(f"insert_rows into {table.name} needs a value for {column.name}")
            defaults[column.name] = getattr(default, "arg", None)
        elif not (
            column.nullable
            or column.server_default is not None
            or (column.primary_key and column.autoincrement is not False)
        ):
            raise ValueError(f"insert_rows into {table.name} needs a value for {column.name}")
    return defaults


Processors = list[tuple[int, Callable[[Any], Any]]]


def _processors(columns: Sequence[Column[Any]], dialect: Dialect) -> Processors:
    """Return (position, bind processor) for each column whose type converts values for this dialect."""
    found: Processors = []
    for index, column in enumerate(columns):
        processor = column.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((index, processor))
    return found


def _converted(row: tuple[Any, ...], processors: Processors) -> tuple[Any, ...]:
    values = list(row)
    for index, process in processors:
        values[index] = process(values[index])
    return tuple(values)


def _copy(
    connection: Connection, table: Table, columns: Sequence[Column[Any]], values: list[tuple[Any, ...]]
) -> None:
    """COPY the rows in; a failure is raised as SQLAlchemy would raise it from an INSERT."""
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.format_column(column) for column in columns)
    sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    dbapi_connection = connection.connection.driver_connection
    dbapi = connection.dialect.loaded_dbapi
    try:
        with dbapi_connection.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for row in values:
                copy.write_row(row)
    except dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error, dbapi.Error, hide_parameters=True) from error


def among(
    session: Session, column: ColumnElement[T] | QueryableAttribute[T], values: Collection[T]
) -> ColumnElement[bool]:
    """Return `column IN values` for many values: on PostgreSQL `= ANY(array)`, one parameter.

    An IN list of thousands renders a placeholder per value, and psycopg parses such a statement anew each
    time (it differs with every length); an array is one value, and the statement's text stays the same.
    """
    element = column.expression if isinstance(column, QueryableAttribute) else column
    if session.get_bind().dialect.name == "postgresql":
        return element == any_(bindparam(None, list(values), type_=ARRAY(element.type)))
    return element.in_(values)


def among_parameter(column: ColumnElement[T], name: str, dialect: str) -> ColumnElement[bool]:
    """Return `column IN :name` for a statement built once and run with a list bound to `name` each time.

    As `among`: on PostgreSQL `= ANY(:name)`, an array; elsewhere an expanding IN list.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
