"""Work orders (业扩工单) as the marketing system recorded them."""

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import DDL, Date, Index, String, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callback.extensions import Model
from callback.models.types import UTCDateTime

if TYPE_CHECKING:
    from callback.models.task import CallbackTask


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    SURVEYED = "surveyed"
    CONSTRUCTION = "construction"
    CONNECTED = "connected"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


# The stages an order passes through, in order; `cancelled` can end any of them.
STAGE_SEQUENCE: tuple[OrderStatus, ...] = (
    OrderStatus.ACCEPTED,
    OrderStatus.SURVEYED,
    OrderStatus.CONSTRUCTION,
    OrderStatus.CONNECTED,
    OrderStatus.ARCHIVED,
)
STAGE_TIME_FIELDS: dict[str, str] = {status.value: f"{status.value}_at" for status in OrderStatus}
POWERED_STATUSES = frozenset({OrderStatus.CONNECTED, OrderStatus.ARCHIVED})


class CustomerType(StrEnum):
    SMALL_MICRO = "small_micro"
    RESIDENTIAL = "residential"
    OTHER = "other"


class Ledger(StrEnum):
    CONNECT_FIRST = "connect_first"
    IN_TRANSIT = "in_transit"
    PRE_ADVANCED = "pre_advanced"


# The fields the marketing system owns; intake writes exactly these.
ORDER_FIELDS: tuple[str, ...] = (
    "order_no",
    "customer_name",
    "customer_phone",
    "address",
    "customer_type",
    "service_center",
    "account_manager",
    "has_engineering",
    "ledger",
    "status",
    "accepted_at",
    "due_at",
    "surveyed_at",
    "construction_at",
    "connected_at",
    "archived_at",
    "cancelled_at",
)


def _order_no_key(context: Any) -> str:
    """Return the order number lower-cased: the key a case-insensitive prefix search scans."""
    return str(context.get_current_parameters()["order_no"]).lower()


class WorkOrder(Model):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_name: Mapped[str] = mapped_column(String(100))
    # Indexed: search by phone is an exact match on the E.164 form.
    customer_phone: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    customer_type: Mapped[str] = mapped_column(String(16), default=CustomerType.SMALL_MICRO.value)
    service_center: Mapped[str] = mapped_column(String(50), index=True)
    # Indexed: the case list and the reports list the managers by walking it (callback.web.index_walk).
    account_manager: Mapped[str | None] = mapped_column(String(50), index=True)
    has_engineering: Mapped[bool]
    ledger: Mapped[str | None] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    surveyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    construction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # order_no lower-cased (filled on insert; order numbers never change), for search by prefix.
    order_no_key: Mapped[str] = mapped_column(String(32), default=_order_no_key)
    # The marketing system's version of this record: older updates are stale.
    source_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When this product first saw and last changed the order.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    tasks: Mapped[list["CallbackTask"]] = relationship(
        back_populates="order", order_by="CallbackTask.id", lazy="selectin"
    )

    # True until `tick` has considered this order's 到期回访 since intake last wrote the order; `tick` reads
    # only pending orders whose due day has begun, so its cost follows what is due, not the table.
    due_task_pending: Mapped[bool] = mapped_column(default=True, server_default=true())

    # The customer's latest statement of when they applied (the `applied_on` answer of the order's latest
    # call that gave a real date), kept by the worklist as answers are stored (callback.worklist.stated):
    # the reports read it here instead of ranking every answer ever given.
    stated_applied_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_work_orders_accepted_at", "accepted_at"),
        # text_pattern_ops lets PostgreSQL answer LIKE 'prefix%' from the index whatever its collation.
        Index(
            "ix_work_orders_order_no_key",
            "order_no_key",
            postgresql_ops={"order_no_key": "text_pattern_ops"},
        ),
        Index("ix_work_orders_due_task_pending", "due_task_pending", "due_at"),
        # The order list's search (ILIKE '%term%' on number or name) on PostgreSQL: trigrams find the few
        # matching rows among a million. SQLite ignores the postgresql_* options and keeps a plain
        # (order_no, customer_name) index; its search scans a bounded window instead (callback/web/orders.py).
        Index(
            "ix_work_orders_search_trgm",
            "order_no",
            "customer_name",
            postgresql_using="gin",
            postgresql_ops={"order_no": "gin_trgm_ops", "customer_name": "gin_trgm_ops"},
        ),
    )

    def snapshot(self) -> dict[str, Any]:
        """Return the order as the system records it now, one value per intake field."""
        return {field: getattr(self, field) for field in ORDER_FIELDS}

    def timeline(self) -> list[tuple[str, datetime]]:
        """Return the stages that happened, with their times, in stage order."""
        stages = [*STAGE_SEQUENCE, OrderStatus.CANCELLED]
        return [
            (stage.value, getattr(self, STAGE_TIME_FIELDS[stage]))
            for stage in stages
            if getattr(self, STAGE_TIME_FIELDS[stage]) is not None
        ]


# The trigram operator classes come from the pg_trgm extension (the migration creates it the same way).
event.listen(
    WorkOrder.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)
