"""Column types shared by the models."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

# Values the fast SQLite path below must store exactly as SQLAlchemy's own processor does.
_SAMPLES = (datetime(2026, 3, 1, 9, 30, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC))


class UTCDateTime(TypeDecorator[datetime]):
    """Store an aware datetime as naive UTC; load it back as aware UTC on every database."""

    impl = DateTime
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one C call (isoformat) where SQLAlchemy formats each field in Python.

        The import stores a dozen times per order; this halves what each costs. Used only when it writes
        exactly what SQLAlchemy's SQLite processor writes (its default storage format), else the usual path.
        """
        usual = super().bind_processor(dialect)
        if dialect.name != "sqlite" or usual is None:
            return usual

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process if all(process(sample) == usual(sample) for sample in _SAMPLES) else usual

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
