"""The published year (DESIGN.md, "The problem") as stored events, built through the real services.

148 small and micro enterprise connections in 2022: 67 with external works at exactly 4.88 days on average,
81 without at exactly 2.83 (3.76 overall), none after its due date; 21 supervision letters issued in the
year; 9 penalties worth 1,590 yuan. Around them, events that must not count: connections and a letter just
outside the year, and a residential connection inside it.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from callback.audit import Actor
from callback.cases import add_penalty, open_case_by_hand, transition
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.settings import Settings
from tests.factories import order_payload

YEAR = 2022
ACTOR = Actor(source="published-year")
# Intake runs "today": long after 2022, so no callback task is due about these orders (TASK_MAX_AGE_DAYS).
INTAKE_NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
WITH_ENGINEERING, WITHOUT_ENGINEERING = 67, 81
WITH_SECONDS, WITHOUT_SECONDS = 421_632, 244_512  # 4.88 and 2.83 days
CENTERS = ("城关供电服务中心", "开发区供电服务中心", "东城供电服务中心")
LETTERS = {
    "offline_circulation": 2,
    "meter_not_notified": 4,
    "repeat_trips": 1,
    "nonstandard_acceptance": 1,
    "cabinet_door_open": 1,
    "one_certificate": 1,
    # The other 11, in categories the published report lists only as "…".
    "dissatisfied": 4,
    "irregular_fee": 2,
    "false_completion": 2,
    "other": 3,
}
PENALTY_YUAN = (200, 200, 150, 150, 200, 100, 300, 190, 100)  # 9 person-times, 1,590 yuan
EXPECTED = {
    "count": 148,
    "avg_days": 3.76,
    "overtime": 0,
    "with_engineering": {"count": 67, "share": 0.453, "avg_days": 4.88},
    "without_engineering": {"count": 81, "share": 0.547, "avg_days": 2.83},
    "letters_issued": 21,
    "person_times": 9,
    "amount_yuan": 1590,
}


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _durations(count: int, mean_seconds: int) -> list[int]:
    """Spread durations around the mean in pairs that cancel out, so the mean is exact."""
    spread = [(n % 5 + 1) * 3600 for n in range(count // 2)]
    durations = [mean_seconds + s for s in spread] + [mean_seconds - s for s in spread]
    return durations + [mean_seconds] * (count % 2)


def _connected_order(
    order_no: str, accepted: datetime, seconds: int, *, has_engineering: bool, center: str, **changes: object
) -> dict[str, object]:
    connected = accepted + timedelta(seconds=seconds)
    return order_payload(
        order_no,
        customer_name=f"小微企业{order_no[-4:]}",
        service_center=center,
        has_engineering=has_engineering,
        status="connected",
        accepted_at=_local(accepted),
        surveyed_at=_local(accepted + timedelta(hours=2)),
        connected_at=_local(connected),
        due_at=_local(accepted + timedelta(days=20 if has_engineering else 10)),
        **changes,
    )


def published_year_orders() -> list[dict[str, object]]:
    """Return the year's 148 connections and the three that must not count, as API orders (local times)."""
    plan = [(True, s) for s in _durations(WITH_ENGINEERING, WITH_SECONDS)] + [
        (False, s) for s in _durations(WITHOUT_ENGINEERING, WITHOUT_SECONDS)
    ]
    orders = []
    for n, (has_engineering, seconds) in enumerate(plan, start=1):
        accepted = datetime(YEAR, 1, 3, 9, 0) + timedelta(days=2 * n, minutes=7 * (n % 40))
        orders.append(
            _connected_order(
                f"GD-{YEAR}-{n:04d}",
                accepted,
                seconds,
                has_engineering=has_engineering,
                center=CENTERS[n % len(CENTERS)],
            )
        )
    # Connected half an hour before the year began, and half an hour after it ended (local time).
    orders.append(
        _connected_order(
            "GD-2021-9999",
            datetime(2021, 12, 29, 23, 30),
            2 * 86400,
            has_engineering=False,
            center=CENTERS[0],
        )
    )
    orders.append(
        _connected_order(
            "GD-2023-0001", datetime(2022, 12, 29, 0, 30), 3 * 86400, has_engineering=True, center=CENTERS[0]
        )
    )
    # A residential connection inside the year: the report counts small and micro enterprises.
    orders.append(
        _connected_order(
            "GD-2022-R001",
            datetime(2022, 6, 1, 9, 0),
            30 * 86400,
            has_engineering=True,
            center=CENTERS[0],
            customer_type="residential",
        )
    )
    return orders


def build_published_year(session: Session, settings: Settings) -> None:
    """Store the published year: orders through intake, cases through the case workflow."""
    items = [validate_order(raw, settings.tz, INTAKE_NOW) for raw in published_year_orders()]
    assert all(not isinstance(item, list) for item in items), items
    upsert_orders(session, items, now=INTAKE_NOW, settings=settings, actor=ACTOR)

    tz: ZoneInfo = settings.tz
    categories = [category for category, count in LETTERS.items() for _ in range(count)]
    for n, category in enumerate(categories, start=1):
        opened = datetime(YEAR, 1 + (n - 1) // 2, 10, 10, 0, tzinfo=tz)
        case = open_case_by_hand(
            session,
            order_no=f"GD-{YEAR}-{n:04d}",
            category=category,
            description="回访发现问题",
            now=opened,
            settings=settings,
            actor=ACTOR,
        )
        for step, state in enumerate(("investigating", "letter_issued"), start=1):
            transition(
                session,
                case.id,
                to=state,
                note="核实",
                now=opened + timedelta(days=step),
                settings=settings,
                actor=ACTOR,
            )
        if n <= len(PENALTY_YUAN):
            add_penalty(
                session,
                case.id,
                person=f"员工{n}",
                amount_yuan=PENALTY_YUAN[n - 1],
                reason="考核",
                now=opened + timedelta(days=3),
                actor=ACTOR,
            )
    # A letter and a penalty of late December 2021 (local), stored on the order connected before the year.
    opened = datetime(2021, 12, 30, 9, 0, tzinfo=tz)
    case = open_case_by_hand(
        session,
        order_no="GD-2021-9999",
        category="offline_circulation",
        description="线外流转",
        now=opened,
        settings=settings,
        actor=ACTOR,
    )
    transition(session, case.id, to="investigating", note="核实", now=opened, settings=settings, actor=ACTOR)
    transition(
        session,
        case.id,
        to="letter_issued",
        note="下发",
        now=datetime(2021, 12, 31, 23, 0, tzinfo=tz),
        settings=settings,
        actor=ACTOR,
    )
    add_penalty(
        session,
        case.id,
        person="员工0",
        amount_yuan=500,
        reason="考核",
        now=datetime(2021, 12, 31, 23, 30, tzinfo=tz),
        actor=ACTOR,
    )
