"""Work-order pages: the list with filters, and one order with its timeline and tasks."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, or_, select

from callback.clock import utcnow
from callback.extensions import db
from callback.models import CallbackTask, OrderStatus, Role, WorkOrder
from callback.text import without_control_characters
from callback.web.auth import roles_required
from callback.web.history import history_rows
from callback.web.paging import page_within
from callback.web.visibility import restrict_orders

bp = Blueprint("orders", __name__)
PER_PAGE = 50
ORDER_VIEWERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.DISCIPLINE)


@bp.get("/")
@roles_required(*ORDER_VIEWERS)
def index() -> str:
    """List work orders, newest first, with their tasks; filter by status, centre or a search term.

    Discipline inspectors see only the orders that have a case referred to them.
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
        like = f"%{term}%"
        query = query.where(or_(WorkOrder.order_no.ilike(like), WorkOrder.customer_name.ilike(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, pages = page_within(total, PER_PAGE)
    orders = db.session.scalars(
        query.order_by(WorkOrder.accepted_at.desc(), WorkOrder.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    centers = db.session.scalars(
        restrict_orders(select(WorkOrder.service_center), current_user.role)
        .distinct()
        .order_by(WorkOrder.service_center)
    ).all()
    return render_template(
        "orders/index.html",
        orders=orders,
        total=total,
        page=page,
        pages=pages,
        statuses=[s.value for s in OrderStatus],
        centers=centers,
        filters={"status": status, "service_center": center, "q": term},
    )


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
