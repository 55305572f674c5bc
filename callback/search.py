"""Search everywhere: one box finds orders, their tasks and cases by phone, order number, name or address.

What the box holds decides how it is looked up, each way from an index so it stays fast at a million orders:

- a full phone number in any format (151 2394 0550, +86 151…, 0571-8888 1234) is normalised to E.164 by
  intake's own rule and matched exactly on the indexed `customer_phone`; it is a read of personal data, so
  it is written to the audit trail (the number masked);
- text that could be an order number is matched case-insensitively as a prefix of `order_no_key`
  (order_no lower-cased, indexed);
- two or more characters are also looked for inside the customer's name and address, among the newest
  TEXT_SCAN_LIMIT orders only (a substring cannot use an index; older orders are found by number or phone),
  unless they are a whole order number.

Roles: operators see orders and tasks, never cases; discipline inspectors only orders that have a case
referred to them, and those cases; supervisors and admins everything.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, case, exists, or_, select
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.fields import normalise_phone
from callback.formatting import mask_phone
from callback.models import CallbackTask, Role, SupervisionCase, TaskState, WorkOrder

MAX_QUERY_LENGTH = 100
TEXT_MIN_LENGTH = 2
# Name and address are searched among this many newest orders (by acceptance time).
TEXT_SCAN_LIMIT = 100_000
# At most this many rows of each kind are shown; the page says when there are more.
GROUP_LIMIT = 20
ORDER_NO_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
PHONE_PATTERN = re.compile(r"\+?[\d\s()\-.]{7,40}")
LETTER_NO_PATTERN = re.compile(r"[A-Za-z]{1,8}-\d{4}-\d{1,6}")
# Who sees which groups.
SEARCHERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
CASE_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)
TASK_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


class SearchError(ValueError):
    """The query cannot be searched; the message says why."""


@dataclass(frozen=True)
class Query:
    text: str
    phone: str | None = None  # E.164, when the text is a whole phone number
    order_prefix: str | None = None  # lower-cased, when the text could begin an order number
    words: str | None = None  # when name and address are searched too
    letter_no: str | None = None  # upper-cased, when the text looks like a letter number (JD-2026-0001)


@dataclass
class SearchResults:
    query: Query
    orders: list[WorkOrder] = field(default_factory=list)
    tasks: list[CallbackTask] = field(default_factory=list)
    cases: list[SupervisionCase] = field(default_factory=list)
    # Which groups were cut at GROUP_LIMIT.
    more: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return len(self.orders) + len(self.tasks) + len(self.cases)


def parse_query(raw: object) -> Query:
    """Read what was typed into the box; raise SearchError for a query that cannot be searched."""
    if not isinstance(raw, str):
        raise SearchError("empty")
    # NFKC turns full-width digits and signs (１５１, ＋) into ASCII, as Chinese input methods type them.
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not text:
        raise SearchError("empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchError("too_long")
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise SearchError("control")
    if PHONE_PATTERN.fullmatch(text):
        phone = _phone(text)
        if phone is not None:
            return Query(text=text, phone=phone)
    compact = text.replace(" ", "")
    order_prefix = compact.lower() if ORDER_NO_PATTERN.fullmatch(compact) else None
    letter_no = text.upper() if LETTER_NO_PATTERN.fullmatch(text) else None
    words = text if len(text) >= TEXT_MIN_LENGTH else None
    if order_prefix is None and words is None:
        raise SearchError("too_short")
    return Query(text=text, order_prefix=order_prefix, words=words, letter_no=letter_no)


def _phone(text: str) -> str | None:
    """Return the number in E.164 by intake's rule, or None when it is not a whole mainland number."""
    for candidate in (text, "+" + text if text.startswith("86") else None):
        if candidate is None:
            continue
        try:
            return normalise_phone(candidate)
        except ValueError:
            continue
    return None


def order_prefix_condition(prefix: str, dialect: str) -> ColumnElement[bool]:
    """Match order numbers that begin with `prefix` (lower-cased), answered from ix_work_orders_order_no_key.

    PostgreSQL uses its text_pattern_ops index for LIKE 'prefix%' when the pattern is a literal in the
    statement (a bound parameter hides the prefix from the planner); SQLite compares bytes, and every
    character an order number may hold is below 0x7f, so a range is exactly the prefix match.
    """
    if dialect == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return WorkOrder.order_no_key.like(bindparam("order_prefix", escaped + "%", literal_execute=True))
    return and_(WorkOrder.order_no_key >= prefix, WorkOrder.order_no_key < prefix + "\x7f")


def like_pattern(words: str) -> str:
    """Return a LIKE pattern (escape character backslash) matching any text that contains `words`."""
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _order_visibility(role: str) -> list[ColumnElement[bool]]:
    """Return the conditions on WorkOrder that a role may see."""
    if role == Role.DISCIPLINE:
        referred = exists().where(
            SupervisionCase.order_id == WorkOrder.id, SupervisionCase.referred_to_discipline.is_(True)
        )
        return [referred]
    return []


def find_orders(session: Session, query: Query, role: str) -> tuple[list[WorkOrder], bool]:
    """Return the orders the query finds that the role may see (exact phone, order prefix, then words)."""
    visible = _order_visibility(role)
    limit = GROUP_LIMIT + 1
    found: dict[int, WorkOrder] = {}
    if query.phone is not None:
        for order in session.scalars(
            select(WorkOrder)
            .where(WorkOrder.customer_phone == query.phone, *visible)
            .order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc())
            .limit(limit)
        ):
            found[order.id] = order
        return list(found.values())[:GROUP_LIMIT], len(found) > GROUP_LIMIT
    dialect = session.get_bind().dialect.name
    if query.order_prefix is not None:
        # The exact number first; then the first matches the index gives (no ORDER BY: a short prefix may
        # match most of the table, and sorting all of it to show twenty would be slow).
        exact = session.scalar(
            select(WorkOrder).where(WorkOrder.order_no_key == query.order_prefix, *visible)
        )
        if exact is not None:
            found[exact.id] = exact
        prefixed = session.scalars(
            select(WorkOrder)
            .where(order_prefix_condition(query.order_prefix, dialect), *visible)
            .limit(limit)
        ).all()
        for order in sorted(prefixed, key=lambda order: order.order_no_key):
            found.setdefault(order.id, order)
    exact_number = query.order_prefix is not None and any(
        order.order_no_key == query.order_prefix for order in found.values()
    )
    if query.words is not None and len(found) < limit and not exact_number:
        newest = (
            select(WorkOrder.id)
            .order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc())
            .limit(TEXT_SCAN_LIMIT)
            .scalar_subquery()
        )
        pattern = like_pattern(query.words)
        for order in session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.id.in_(newest),
                or_(
                    WorkOrder.customer_name.ilike(pattern, escape="\\"),
                    WorkOrder.address.ilike(pattern, escape="\\"),
                ),
                *visible,
            )
            .order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc())
            .limit(limit)
        ):
            found.setdefault(order.id, order)
    orders = list(found.values())
    return orders[:GROUP_LIMIT], len(orders) > GROUP_LIMIT


def search(session: Session, query: Query, *, role: str, actor: Actor, now: datetime) -> SearchResults:
    """Find what the query names, as the role may see it; audit a search by a whole phone number."""
    results = SearchResults(query=query)
    results.orders, orders_more = find_orders(session, query, role)
    if orders_more:
        results.more.add("orders")
    order_ids = [order.id for order in results.orders]
    if role in TASK_READERS and order_ids:
        active_first = case(
            (CallbackTask.state.in_([TaskState.OPEN.value, TaskState.CLAIMED.value]), 0), else_=1
        )
        tasks = session.scalars(
            select(CallbackTask)
            .where(CallbackTask.order_id.in_(order_ids))
            .order_by(active_first, CallbackTask.due_by.desc(), CallbackTask.id.desc())
            .limit(GROUP_LIMIT + 1)
        ).all()
        results.tasks = list(tasks[:GROUP_LIMIT])
        if len(tasks) > GROUP_LIMIT:
            results.more.add("tasks")
    if role in CASE_READERS:
        matches: list[ColumnElement[bool]] = []
        if order_ids:
            matches.append(SupervisionCase.order_id.in_(order_ids))
        if query.letter_no is not None:
            matches.append(SupervisionCase.letter_no == query.letter_no)
        if matches:
            conditions = [or_(*matches)]
            if role == Role.DISCIPLINE:
                conditions.append(SupervisionCase.referred_to_discipline.is_(True))
            cases = session.scalars(
                select(SupervisionCase)
                .where(*conditions)
                .order_by(SupervisionCase.opened_at.desc(), SupervisionCase.id.desc())
                .limit(GROUP_LIMIT + 1)
            ).all()
            results.cases = list(cases[:GROUP_LIMIT])
            if len(cases) > GROUP_LIMIT:
                results.more.add("cases")
    if query.phone is not None:
        record(
            session,
            actor,
            now,
            [
                AuditEntry(
                    "search",
                    "search",
                    None,
                    {"kind": "phone", "query": mask_phone(query.phone), "orders": len(results.orders)},
                )
            ],
        )
    return results
