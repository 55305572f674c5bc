"""Write work orders: the only module that creates or changes them (contract 4.1)."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Update, insert, select, update
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, jsonable, record
from callback.bulk import among, among_parameter, insert_rows
from callback.fields import FieldError
from callback.intake.validation import ValidOrder
from callback.models import (
    ORDER_FIELDS,
    POWERED_STATUSES,
    CallbackTask,
    OrderStatus,
    SupervisionCase,
    WorkOrder,
)
from callback.settings import Settings
from callback.task_plans import TaskPlan, plans_on_arrival
from callback.worklist import cancel_tasks_of_orders, create_tasks

CREATED, UPDATED, UNCHANGED, STALE, REJECTED = "created", "updated", "unchanged", "stale", "rejected"
RESULTS = (CREATED, UPDATED, UNCHANGED, STALE, REJECTED)


@dataclass
class ItemResult:
    order_no: str | None
    result: str
    errors: list[FieldError] = field(default_factory=list)
    tasks_created: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Render the result as the API's JSON."""
        return {
            "order_no": self.order_no,
            "result": self.result,
            "errors": [error.as_dict() for error in self.errors],
            "tasks_created": self.tasks_created,
        }


def rejected(order_no: Any, errors: list[FieldError]) -> ItemResult:
    """Make the result of an item that failed validation."""
    return ItemResult(order_no if isinstance(order_no, str) else None, REJECTED, errors)


def upsert_orders(
    session: Session, items: Sequence[ValidOrder], *, now: datetime, settings: Settings, actor: Actor
) -> list[ItemResult]:
    """Create or update each order and plan its tasks; results come back in the items' order.

    An order number that repeats within `items` is applied in turn, so the last version wins
    unless it is older than the one before it.
    """
    results: list[ItemResult] = []
    for batch in _batches_without_repeats(items):
        results.extend(_upsert_batch(session, batch, now=now, settings=settings, actor=actor))
    return results


def _batches_without_repeats(items: Sequence[ValidOrder]) -> Iterator[list[ValidOrder]]:
    batch: list[ValidOrder] = []
    seen: set[str] = set()
    for item in items:
        if item.order_no in seen:
            yield batch
            batch, seen = [], set()
        batch.append(item)
        seen.add(item.order_no)
    if batch:
        yield batch


def _upsert_batch(
    session: Session, batch: list[ValidOrder], *, now: datetime, settings: Settings, actor: Actor
) -> list[ItemResult]:
    stored = _load_stored(session, [item.order_no for item in batch])
    results: dict[str, ItemResult] = {}
    inserts: list[ValidOrder] = []
    updates: list[dict[str, Any]] = []
    audits: list[AuditEntry] = []
    plans: list[tuple[int, TaskPlan]] = []
    newly_cancelled: list[int] = []
    moved: list[int] = []  # orders whose centre or manager changed: their cases carry a copy

    for item in batch:
        current = stored.get(item.order_no)
        if current is None:
            inserts.append(item)
            continue
        if not item.ledger_given:
            item.values["ledger"] = current["ledger"]
        changes = {
            name: (current[name], item.values[name])
            for name in ORDER_FIELDS
            if current[name] != item.values[name]
        }
        if not changes:
            # What is stored already says this, whatever version the source gave it: two identical
            # requests racing each other are `updated` and `unchanged`, never `stale`.
            results[item.order_no] = ItemResult(item.order_no, UNCHANGED)
            continue
        if item.updated_at < current["source_updated_at"]:
            results[item.order_no] = ItemResult(item.order_no, STALE)
            continue
        order_id = current["id"]
        updates.append(
            {
                "id": order_id,
                **item.values,
                "source_updated_at": item.updated_at,
                "updated_at": now,
                # A new due date or status: `tick` looks at this order's 到期回访 again.
                "due_task_pending": "due_at" in changes or "status" in changes or current["due_task_pending"],
            }
        )
        audits.append(
            AuditEntry(
                "order.updated",
                "work_order",
                order_id,
                {"changes": {name: [jsonable(old), jsonable(new)] for name, (old, new) in changes.items()}},
            )
        )
        if "service_center" in changes or "account_manager" in changes:
            moved.append(order_id)
        if item.values["status"] == OrderStatus.CANCELLED and current["status"] != OrderStatus.CANCELLED:
            newly_cancelled.append(order_id)
        if item.values["status"] in POWERED_STATUSES and current["status"] not in POWERED_STATUSES:
            plans.extend(
                (order_id, plan)
                for plan in plans_on_arrival(
                    item.values,
                    first_seen=False,
                    existing_kinds=current["task_kinds"],
                    now=now,
                    settings=settings,
                )
            )
        results[item.order_no] = ItemResult(item.order_no, UPDATED)

    new_ids: list[int] = []
    if inserts:
        new_ids = _insert_orders(session, inserts, now)
        for item, order_id in zip(inserts, new_ids, strict=True):
            results[item.order_no] = ItemResult(item.order_no, CREATED)
            audits.append(AuditEntry("order.created", "work_order", order_id, {"order_no": item.order_no}))
            plans.extend(
                (order_id, plan)
                for plan in plans_on_arrival(
                    item.values, first_seen=True, existing_kinds=set(), now=now, settings=settings
                )
            )
    if updates:
        session.execute(update(WorkOrder), updates)
    if moved:
        _copy_centre_to_cases(session, moved)
    # The orders' events and their new tasks' in one INSERT. (A cancelled order gets no new task: the
    # cancellations below concern other orders than the tasks created.)
    created = create_tasks(session, plans, now=now, actor=actor, audit=audits)
    record(session, actor, now, audits)
    cancel_tasks_of_orders(session, newly_cancelled, now=now, actor=actor)

    order_nos = {order_id: no for no, order_id in _ids(stored, inserts, new_ids)}
    for order_id, task_id, kind in created:
        results[order_nos[order_id]].tasks_created.append({"id": task_id, "kind": kind})
    return [results[item.order_no] for item in batch]


def _copy_centre_to_cases(session: Session, order_ids: list[int]) -> None:
    """Give these orders' cases the orders' centre and manager again (the case list filters on the copy)."""
    of_order = SupervisionCase.order_id == WorkOrder.id
    session.execute(
        update(SupervisionCase)
        .where(among(session, SupervisionCase.order_id, order_ids))
        .values(
            service_center=select(WorkOrder.service_center).where(of_order).scalar_subquery(),
            account_manager=select(WorkOrder.account_manager).where(of_order).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def _insert_orders(session: Session, inserts: list[ValidOrder], now: datetime) -> list[int]:
    """Insert new orders; return their ids in the items' order.

    One (a single PUT): INSERT … RETURNING, the same statement every time. Several: in one go (COPY on
    PostgreSQL), without RETURNING: a batched insert with RETURNING becomes one statement with a placeholder
    per value, which psycopg parses anew for every batch. Their ids are read back by order number, unique by
    constraint.
    """
    rows = [
        {
            **item.values,
            "order_no_key": item.order_no.lower(),
            "source_updated_at": item.updated_at,
            "created_at": now,
            "updated_at": now,
        }
        for item in inserts
    ]
    table = WorkOrder.__table__
    if len(rows) == 1:
        return [session.execute(insert(table).returning(table.c.id), rows[0]).scalar_one()]
    insert_rows(session, table, rows)
    order_nos = [item.order_no for item in inserts]
    found = session.execute(
        select(WorkOrder.order_no, WorkOrder.id).where(among(session, WorkOrder.order_no, order_nos))
    )
    ids = {order_no: order_id for order_no, order_id in found}
    return [ids[order_no] for order_no in order_nos]


def _ids(
    stored: dict[str, dict[str, Any]], inserts: list[ValidOrder], new_ids: Sequence[int]
) -> Iterable[tuple[str, int]]:
    yield from ((no, row["id"]) for no, row in stored.items())
    yield from ((item.order_no, order_id) for item, order_id in zip(inserts, new_ids, strict=True))


def _load_stored(session: Session, order_nos: list[str]) -> dict[str, dict[str, Any]]:
    """Load the stored orders with these numbers, locked until commit, and the kinds of task of each.

    Writers of the same orders take turns, so the second reads what the first committed. PostgreSQL locks the
    stored rows as it reads them (FOR UPDATE, in order-number order, so two batches cannot deadlock; after a
    wait it returns the rows as committed); a new order has no row yet, and its second writer meets the unique
    index and retries. SQLite locks the whole database for a writer: a no-op UPDATE takes that lock before
    anything is read.
    """
    dialect = session.connection().dialect.name
    if dialect == "sqlite":
        session.execute(_sqlite_write_lock(), {"order_nos": order_nos})
    rows = session.execute(_stored_statement(dialect), {"order_nos": order_nos}).mappings().all()
    stored = {row["order_no"]: {**row, "task_kinds": set()} for row in rows}
    if stored:
        by_id = {row["id"]: row for row in stored.values()}
        for order_id, kind in session.execute(_task_kinds_statement(dialect), {"order_ids": list(by_id)}):
            by_id[order_id]["task_kinds"].add(kind)
    return stored


# The statements of every upsert, built once per database (built per call, their constructs cost more CPU
# than a single order's statements take to run), on the tables: they load no objects, so the ORM's work per
# execution is not needed. The lists are bound as one parameter (callback.bulk.among_parameter).


@cache
def _stored_statement(dialect: str) -> Select[Any]:
    orders = WorkOrder.__table__
    names = ["id", "source_updated_at", "due_task_pending", *ORDER_FIELDS]
    return (
        select(*(orders.c[name] for name in names))
        .where(among_parameter(orders.c.order_no, "order_nos", dialect))
        .order_by(orders.c.order_no)
        .with_for_update()  # nothing on SQLite, which has no row locks
    )


@cache
def _sqlite_write_lock() -> Update:
    orders = WorkOrder.__table__
    return (
        update(orders)
        .where(among_parameter(orders.c.order_no, "order_nos", "sqlite"))
        .values(order_no=orders.c.order_no)
    )


@cache
def _task_kinds_statement(dialect: str) -> Select[int, str]:
    tasks = CallbackTask.__table__
    return select(tasks.c.order_id, tasks.c.kind).where(
        among_parameter(tasks.c.order_id, "order_ids", dialect)
    )
