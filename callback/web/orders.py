"""Work-order pages: the list with filters, and one order with its timeline and tasks."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, func, or_, select

from callback.clock import utcnow
from callback.extensions import db
from callback.models import CallbackTask, OrderStatus, Role, WorkOrder
from callback.search import TEXT_SCAN_LIMIT, like_pattern, order_prefix_condition
from callback.text import without_control_characters
from callback.web.auth import roles_required
from callback.web.history import history_rows
from callback.web.index_walk import distinct_values
from callback.web.paging import paginate
from callback.web.visibility import restrict_orders

bp = Blueprint("orders", __name__)
PER_PAGE = 50
# The list counts its orders up to this many; beyond, it says "10,000+" (counting a million rows is slow).
COUNT_CAP = 10_000
ORDER_VIEWERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)


@bp.get("/")
@roles_required(*ORDER_VIEWERS)
def index() -> str:
    """List work orders, newest first, with their tasks; filter by status, centre or a search term.

    Discipline inspectors see only the orders that have a case referred to them. At a million orders the
    count stops at COUNT_CAP ("more than 10,000", docs/operator.md) and the search is answered from an index.
    """
    query = restrict_orders(select(WorkOrder), current_user.role)
    status = request.args.get("status") or None
    if status in {s.value for s in OrderStatus}:
        query = query.where(WorkOrder.status == status)
    center = request.args.get("service_center") or None
    if center:
        query = query.where(WorkOrder.service_center == center)
    term = without_control_characters(request.args.get("q") or "").strip()  # NUL breaks PostgreSQL
    if term:
        query = query.where(_search_condition(term))
    first_rows = query.with_only_columns(WorkOrder.id).limit(COUNT_CAP + 1).subquery()
    counted = db.session.scalar(select(func.count()).select_from(first_rows))
    capped = (counted or 0) > COUNT_CAP
    total = min(counted or 0, COUNT_CAP)
    shown = paginate(
        query.order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc()), total=total, per_page=PER_PAGE
    )
    return render_template(
        "orders/index.html",
        orders=shown.items,
        total=total,
        capped=capped,
        page=shown.page,
        pages=shown.pages,
        statuses=[s.value for s in OrderStatus],
        centers=_service_centers(),
        filters={"status": status, "service_center": center, "q": term},
    )


def _search_condition(term: str) -> ColumnElement[bool]:
    """Match orders whose number or customer name contains `term`, case-insensitively.

    PostgreSQL answers the substring from the trigram index ix_work_orders_search_trgm over every order.
    SQLite has no such index: there the substring is looked for among the newest TEXT_SCAN_LIMIT orders (as
    the top bar's search does), and an order number anywhere is still found by its prefix (indexed).
    """
    pattern = like_pattern(term)
    contains = or_(
        WorkOrder.order_no.ilike(pattern, escape="\\"), WorkOrder.customer_name.ilike(pattern, escape="\\")
    )
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return contains
    newest = (
        select(WorkOrder.id)
        .order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc())
        .limit(TEXT_SCAN_LIMIT)
        .scalar_subquery()
    )
    return or_(
        order_prefix_condition(term.lower(), dialect),
        and_(WorkOrder.id.in_(newest), contains),
    )


def _service_centers() -> list[str]:
    """Return the service centres of the orders the user may see, in order.

    For every role but discipline this walks ix_work_orders_service_center from one centre to the next
    (callback.web.index_walk: one index seek per centre) instead of reading a million index entries.
    """
    if current_user.role == Role.DISCIPLINE:
        return list(
            db.session.scalars(
                restrict_orders(select(WorkOrder.service_center), current_user.role)
                .distinct()
                .order_by(WorkOrder.service_center)
            )
        )
    return distinct_values(WorkOrder.service_center)


@bp.get("/orders/<order_no>")
@roles_required(*ORDER_VIEWERS)
def detail(order_no: str) -> str:
    """Show one order: its facts, its stage timeline and its callback tasks (404 if the user may not)."""
    order = db.session.scalar(
        restrict_orders(select(WorkOrder), current_user.role).where(WorkOrder.order_no == order_no)
    )
    if order is None:
        abort(404)
    tasks = db.session.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).all()
    return render_template(
        "orders/detail.html", order=order, tasks=tasks, history=history_rows(order), now=utcnow()
    )
