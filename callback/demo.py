"""Realistic demo data, made through the same services the marketing system's orders go through."""

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.cases import add_penalty, open_case_by_hand, transition
from callback.intake.service import upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.models import AuditEvent, User, WorkOrder
from callback.qa import draw_weekly_samples, iso_week
from callback.settings import Settings
from callback.tick import run_tick
from callback.users import create_user
from callback.workdays import CallingHours
from callback.worklist import claim_next, record_attempt

DEMO_SOURCE = "seed-demo"  # the audit trail's source of everything seed-demo creates
DEMO_PASSWORD = "callback-demo"  # noqa: S105  (the published demo login, printed by make run)
DEMO_USERS = (
    ("operator", "operator"),
    ("operator2", "operator"),
    ("supervisor", "supervisor"),
    ("discipline", "discipline"),
    ("admin", "admin"),
)
SERVICE_CENTERS = ("城关供电服务中心", "开发区供电服务中心", "东城供电服务中心")
ACCOUNT_MANAGERS = ("王磊", "李娜", "张伟", "刘洋", "陈静", "赵强")
SHOP_KINDS = ("五金店", "餐馆", "超市", "理发店", "面馆", "汽修厂", "茶叶店", "快递站", "印刷厂", "服装店")
SHOP_NAMES = ("宏达", "顺发", "鑫源", "福满", "佳佳", "老街", "金穗", "同心", "阳光", "惠民", "德润", "万家")
MOBILE_PREFIXES = ("138", "139", "135", "150", "151", "158", "186", "187", "189")
STREETS = ("人民路", "建设路", "解放大街", "新华路", "工业园一路", "滨河路")
STAGE_MIX = (
    ("accepted", 14),
    ("surveyed", 10),
    ("construction", 8),
    ("connected", 16),
    ("archived", 8),
    ("cancelled", 4),
)


@dataclass
class DemoReport:
    users_created: list[str]
    orders: int
    cases: int


def demo_orders(
    now: datetime, settings: Settings, count: int = 120, seed: int = 20261127
) -> list[dict[str, Any]]:
    """Make orders in every stage, with and without engineering, on each ledger, over the last weeks."""
    rng = random.Random(seed)  # noqa: S311  (demo data, not security)
    stages = [stage for stage, weight in STAGE_MIX for _ in range(weight)]
    orders = []
    for number in range(1, count + 1):
        status = rng.choice(stages)
        # A cancelled order stopped after acceptance or survey.
        reached = rng.choice(["accepted", "surveyed"]) if status == "cancelled" else status
        has_engineering = rng.random() < 0.45
        accepted = min(
            _office_hours(now - timedelta(days=rng.uniform(0.5, 24)), rng, settings), now - timedelta(hours=1)
        )
        limit_days = 15 if has_engineering else 5
        due = settings.calendar.add_workdays(accepted, limit_days, settings.tz)
        times = {"accepted_at": accepted}
        moment = accepted
        for stage in _stages_reached(reached, has_engineering):
            moment = min(moment + timedelta(hours=rng.uniform(4, 60 if has_engineering else 30)), now)
            times[f"{stage}_at"] = moment
        if status == "cancelled":
            times["cancelled_at"] = min(moment + timedelta(hours=rng.uniform(2, 48)), now)
        ledger = rng.choices([None, "connect_first", "in_transit", "pre_advanced"], [70, 10, 10, 10])[0]
        orders.append(
            {
                "order_no": f"DEMO-{now:%Y}-{number:04d}",
                "customer_name": rng.choice(SHOP_NAMES) + rng.choice(SHOP_KINDS),
                "customer_phone": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                "address": f"{rng.choice(STREETS)} {rng.randrange(1, 300)} 号",
                "customer_type": rng.choices(["small_micro", "residential", "other"], [80, 15, 5])[0],
                "service_center": rng.choice(SERVICE_CENTERS),
                "account_manager": rng.choice(ACCOUNT_MANAGERS),
                "has_engineering": has_engineering,
                "ledger": ledger,
                "status": status,
                "due_at": max(due, times["accepted_at"]),
                **times,
            }
        )
    return orders


def _office_hours(moment: datetime, rng: random.Random, settings: Settings) -> datetime:
    """Move a moment to a random time between 08:30 and 17:30 local on its day: service centres' hours."""
    local = moment.astimezone(settings.tz)
    minutes = rng.randrange(8 * 60 + 30, 17 * 60 + 30)
    return local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0).astimezone(UTC)


def _stages_reached(status: str, has_engineering: bool) -> list[str]:
    """List the stages after acceptance an order has passed through to reach `status`."""
    stages = ["surveyed", "construction", "connected", "archived"]
    if not has_engineering and status != "construction":
        stages.remove("construction")  # no external works: straight from survey to the meter
    return [] if status == "accepted" else stages[: stages.index(status) + 1]


def seed_demo(session: Session, *, now: datetime, settings: Settings) -> DemoReport:
    """Create the demo users and orders; existing users are kept."""
    created_users = []
    for username, role in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, username, role, DEMO_PASSWORD, now=now, actor=Actor(source=DEMO_SOURCE))
            created_users.append(username)
    actor = Actor(source=DEMO_SOURCE)
    valid = [validate_order(raw, settings.tz, now) for raw in demo_orders(now, settings)]
    orders = [item for item in valid if isinstance(item, ValidOrder)]
    upsert_orders(session, orders, now=now, settings=settings, actor=actor)
    run_tick(session, now=now, settings=settings, actor=actor)
    cases = _demo_calls_and_cases(session, now=now, settings=settings)
    # The spot checks (录音抽检) of the demo's own calls, so /qa/ has something to review at once.
    draw_weekly_samples(
        session, now=now, settings=settings, actor=actor, week=iso_week(now.astimezone(settings.tz).date())
    )
    return DemoReport(users_created=created_users, orders=len(orders), cases=cases)


# What the demo's first operator calls hear: the customer's story, as answers to the questionnaire.
DEMO_STORIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("agrees", {"is_applicant": True, "trips": 1, "extra_documents": False, "satisfaction": 5}),
    ("offline", {"is_applicant": True, "trips": 2, "extra_documents": True, "satisfaction": 2}),
    ("agrees", {"is_applicant": True, "trips": 0, "fee_requested": False, "satisfaction": 4}),
    ("offline", {"is_applicant": True, "trips": 1, "satisfaction": 3, "comment": "资料月初就交到营业厅了"}),
    ("agrees", {"is_applicant": False, "trips": 1, "satisfaction": 4, "comment": "是我爱人办的"}),
    ("agrees", {"is_applicant": True, "trips": 3, "integrity": False, "satisfaction": 1}),
)


def _demo_calls_and_cases(session: Session, *, now: datetime, settings: Settings) -> int:
    """Record a few operator calls through the worklist, so findings open cases; move some cases along."""
    operator = session.scalar(select(User).where(User.username == "operator"))
    supervisor = session.scalar(select(User).where(User.username == "supervisor"))
    if operator is None or supervisor is None:
        return 0
    opened = []
    always = replace(settings, calling_hours=CallingHours.parse("00:00-24:00"))
    for story, answers in DEMO_STORIES:
        task = claim_next(session, operator.id, now=now, settings=always)
        if task is None:
            break
        order = task.order
        told = dict(answers)
        told["progress"] = _progress_of(order.status)
        if story == "offline":
            accepted_on = order.accepted_at.astimezone(settings.tz).date()
            told["applied_on"] = (accepted_on - timedelta(days=12)).isoformat()
        if told["progress"] == "connected":
            told["meter_notified"] = story == "agrees"
        outcome = record_attempt(
            session,
            task.id,
            operator.id,
            disposition="completed",
            answers=told,
            callback_at=None,
            note=None,
            now=now,
            settings=always,
        )
        opened.extend(outcome.cases_opened)
    actor = Actor(user_id=supervisor.id)
    if opened:
        transition(
            session,
            opened[0].id,
            to="investigating",
            note="调取系统流程记录核实",
            now=now,
            settings=settings,
            actor=actor,
        )
    if len(opened) > 1:
        case = opened[1]
        transition(
            session, case.id, to="investigating", note="约谈客户经理", now=now, settings=settings, actor=actor
        )
        transition(
            session,
            case.id,
            to="letter_issued",
            note=None,
            requirements="立即整改，按规定时限办结，杜绝同类问题再次发生。",
            now=now,
            settings=settings,
            actor=actor,
        )
        add_penalty(
            session,
            case.id,
            person=case.order.account_manager or "客户经理",
            amount_yuan=200,
            reason="业扩服务不规范，经核实属实",
            now=now,
            actor=actor,
        )
    door = session.scalar(select(WorkOrder).where(WorkOrder.status == "connected").order_by(WorkOrder.id))
    if door is not None:
        door_case = open_case_by_hand(
            session,
            order_no=door.order_no,
            category="cabinet_door_open",
            description="现场检查发现计量箱柜门未关闭、未加锁",
            now=now,
            settings=settings,
            actor=actor,
        )
        opened.append(door_case)
    return len(opened)


def _progress_of(status: str) -> str:
    """Say what a truthful customer would say of the site's progress for a system status."""
    return {"accepted": "none", "surveyed": "surveyed", "construction": "construction"}.get(
        status, "connected"
    )


def has_orders(session: Session) -> bool:
    """Tell whether the database holds any order."""
    return (session.scalar(select(func.count()).select_from(WorkOrder)) or 0) > 0


def attach_demo_recordings(session: Session, store: Any, *, now: datetime) -> int:
    """Attach a recording (a small simulated WAV) to each demo operator call behind a case, as if uploaded.

    The automated calls of `make run` get theirs from the simulated provider, but only within calling hours;
    these let the case pages play a recording at any hour.
    """
    from callback.models import CallAttempt, CallRecording, Finding
    from callback.recordings import attach_upload
    from callback.recordings.audio import simulated_wav

    attempts = session.scalars(
        select(CallAttempt)
        .where(
            CallAttempt.channel == "operator",
            CallAttempt.id.in_(select(Finding.attempt_id).where(Finding.case_id.is_not(None))),
            ~CallAttempt.id.in_(select(CallRecording.attempt_id)),
        )
        .order_by(CallAttempt.id)
    ).all()
    for attempt in attempts:
        operator = session.get(User, attempt.operator_id)
        if operator is None:
            continue
        attach_upload(
            session,
            attempt,
            simulated_wav(8, seed=f"demo-{attempt.id}", channels=2),
            f"demo-call-{attempt.id}.wav",
            uploader=operator,
            store=store,
            max_bytes=10 * 1024 * 1024,
            now=now,
        )
    return len(attempts)


def _created_by_demo(entity_type: str, action: str) -> Any:
    return select(AuditEvent.entity_id).where(
        AuditEvent.entity_type == entity_type,
        AuditEvent.action == action,
        AuditEvent.source == DEMO_SOURCE,
        AuditEvent.entity_id.is_not(None),
    )


def foreign_data(session: Session) -> dict[str, int]:
    """Count the orders and users that seed-demo did not create (a real installation's data)."""
    orders = session.scalar(
        select(func.count())
        .select_from(WorkOrder)
        .where(WorkOrder.id.not_in(_created_by_demo("work_order", "order.created")))
    )
    users = session.scalar(
        select(func.count()).select_from(User).where(User.id.not_in(_created_by_demo("user", "user.created")))
    )
    return {"orders": orders or 0, "users": users or 0}
