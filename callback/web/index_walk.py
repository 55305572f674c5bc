"""The distinct values of an indexed column, read one index seek per value (the lists' filter choices).

`SELECT DISTINCT service_center FROM work_orders` reads every entry of the index (a million at a million
orders) to return twenty names. A recursive query asks instead for the smallest value, then for the smallest
value above it, and so on: each step is one seek into the column's index, so the cost follows the number of
distinct values, not the number of rows. NULLs are skipped (`min` ignores them).
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from callback.extensions import db


def distinct_values(column: InstrumentedAttribute[Any]) -> list[str]:
    """Return the column's distinct non-NULL values in order, walking its index (the column must have one)."""
    name = f"walk_{column.key}"
    first = select(func.min(column).label("value")).cte(name, recursive=True)
    following = select(select(func.min(column)).where(column > first.c.value).scalar_subquery()).where(
        first.c.value.is_not(None)
    )
    values = first.union_all(following)
    return list(db.session.scalars(select(values.c.value).where(values.c.value.is_not(None))))
