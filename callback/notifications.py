"""Notifications (issue 12): the in-app bell, and messages to a WeCom group robot and by e-mail.

Events are raised by `tick` (and by assigning a case); each has a unique key, so raising it again changes
nothing. External messages go through the outbox (`OutboxMessage`): `deliver_outbox` sends each due message
once, retries failures with backoff (1, 2, 4 … 60 minutes) up to OUTBOX_MAX_ATTEMPTS, and never sends a
message twice: a run that dies while sending leaves the message `failed` for an administrator to retry.

External messages carry the case number, the order number and the category only: no customer name, phone
or address, because the WeCom group and mailboxes are outside the utility's system of record and the
Personal Information Protection Law (PIPL, art. 6 minimum necessary, art. 23 provision to others) asks that
personal information not leave it without need. The bell (inside the app, behind sign-in) may show more.
"""

import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import requests
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.labels import label
from callback.models import (
    ENDED_CASE_STATES,
    CallAttempt,
    CallbackTask,
    CaseState,
    Disposition,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    Role,
    SupervisionCase,
    TaskState,
    User,
    WorkOrder,
)
from callback.settings import Settings

APPOINTMENT_LEAD = timedelta(minutes=10)
DELIVERY_BATCH = 50
# WeCom's documented limit for a markdown message's content, in UTF-8 bytes.
WECOM_MARKDOWN_MAX_BYTES = 4096
ENDED = [state.value for state in ENDED_CASE_STATES]


class DeliveryError(Exception):
    """A message could not be delivered; the text says why, without addresses, keys or personal data."""


@dataclass
class NotifyReport:
    notifications: int = 0
    queued: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def _exists(session: Session, model: type[Notification] | type[OutboxMessage], key: str) -> bool:
    return (session.scalar(select(func.count()).select_from(model).where(model.key == key)) or 0) > 0


def notify(
    session: Session,
    user_id: int,
    kind: str,
    key: str,
    *,
    now: datetime,
    case_id: int | None = None,
    task_id: int | None = None,
    params: dict[str, Any] | None = None,
) -> bool:
    """Raise one in-app notification unless its key was raised before; tell whether it is new."""
    if _exists(session, Notification, key):
        return False
    try:
        with session.begin_nested():
            session.add(
                Notification(
                    user_id=user_id,
                    kind=kind,
                    key=key,
                    case_id=case_id,
                    task_id=task_id,
                    params=params or {},
                    created_at=now,
                )
            )
    except IntegrityError:  # a concurrent tick raised it first
        return False
    return True


def enqueue(
    session: Session, key: str, channel: str, recipient: str | None, subject: str, body: str, *, now: datetime
) -> bool:
    """Put one external message in the outbox unless its key is there already; tell whether it is new."""
    if _exists(session, OutboxMessage, key):
        return False
    try:
        with session.begin_nested():
            session.add(
                OutboxMessage(
                    key=key[:200],
                    channel=channel,
                    recipient=recipient,
                    subject=subject[:200],
                    body=body,
                    status=OutboxStatus.PENDING.value,
                    attempts=0,
                    next_try_at=now,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def _case_params(case: SupervisionCase, order_no: str) -> dict[str, Any]:
    return {"order_no": order_no, "category": case.category, "case_id": case.id}


def notify_assigned(session: Session, case: SupervisionCase, *, now: datetime) -> None:
    """Tell the new assignee of a case (every assignment is its own event)."""
    if case.assignee_id is None:
        return
    order_no = session.scalar(select(WorkOrder.order_no).where(WorkOrder.id == case.order_id)) or ""
    notify(
        session,
        case.assignee_id,
        NotificationKind.CASE_ASSIGNED.value,
        f"case_assigned:{case.id}:{case.assignee_id}:{now.isoformat()}",
        now=now,
        case_id=case.id,
        params=_case_params(case, order_no),
    )


def _supervisors(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.role == Role.SUPERVISOR.value, User.active.is_(True)).order_by(User.id)
        )
    )


def responsible(case: SupervisionCase, centre: str, supervisors: list[User]) -> list[int]:
    """Who hears of a case: its assignee; unassigned, the supervisors of its centre, else all supervisors."""
    if case.assignee_id is not None:
        return [case.assignee_id]
    of_centre = [user.id for user in supervisors if user.service_center == centre]
    return of_centre or [user.id for user in supervisors]


def category_label(category: str) -> str:
    """Return the category's Chinese label for an external message."""
    with force_locale("zh_CN"):
        return label("case_category", category)


def _case_link(case_id: int) -> str:
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/cases/{case_id}" if base else f"/cases/{case_id}"


def _external(
    session: Session,
    settings: Settings,
    key: str,
    subject: str,
    lines: list[str],
    *,
    emails: Iterable[str],
    now: datetime,
) -> int:
    """Queue one message to the WeCom group (when configured) and to each address (when SMTP is)."""
    queued = 0
    body = "\n".join(lines)
    if settings.wecom_webhook_url:
        queued += enqueue(session, f"{key}:wecom", "wecom", None, subject, body, now=now)
    if settings.smtp is not None:
        for address in emails:
            queued += enqueue(session, f"{key}:email:{address}", "email", address, subject, body, now=now)
    return queued


def raise_due_notifications(session: Session, *, now: datetime, settings: Settings) -> NotifyReport:
    """Raise what has come due by `now`: overdue cases up the ladder, rectification deadlines, appointments,
    the daily digest. Running it twice raises nothing the second time."""
    report = NotifyReport()
    supervisors = _supervisors(session)
    heads = dict(settings.centre_head_emails)
    today = now.astimezone(settings.tz).date()

    def count(kind: str, new: bool) -> None:
        if new:
            report.notifications += 1
            report.kinds[kind] = report.kinds.get(kind, 0) + 1

    overdue = session.execute(
        select(SupervisionCase, WorkOrder.order_no, WorkOrder.service_center)
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .where(SupervisionCase.state.not_in(ENDED), SupervisionCase.due_at < now)
        .order_by(SupervisionCase.id)
    ).all()
    for case, order_no, centre in overdue:
        days = max((today - case.due_at.astimezone(settings.tz).date()).days, 0)
        label_zh = category_label(case.category)
        for threshold, rung in settings.escalation_ladder:
            if days < threshold:
                continue
            if rung == "assignee":
                for user_id in responsible(case, centre, supervisors):
                    new = notify(
                        session,
                        user_id,
                        NotificationKind.CASE_OVERDUE.value,
                        f"case_overdue:{case.id}:{user_id}:{case.due_at.isoformat()}",
                        now=now,
                        case_id=case.id,
                        params={**_case_params(case, order_no), "days": days},
                    )
                    count(NotificationKind.CASE_OVERDUE.value, new)
                continue
            emails = [heads[centre]] if rung == "centre_head" and centre in heads else []
            if rung == "supervision_office":
                emails = list(settings.supervision_office_emails)
            rung_zh = {"centre_head": "供电服务中心负责人", "supervision_office": "营销服务监督室"}[rung]
            report.queued += _external(
                session,
                settings,
                f"escalation:{case.id}:{case.due_at.date().isoformat()}:{rung}",
                f"监督案件超期升级（{rung_zh}）：案件 #{case.id}",
                [
                    f"## 监督案件超期 {days} 天，升级至{rung_zh}",
                    f"> 案件：#{case.id}",
                    f"> 工单编号：{order_no}",
                    f"> 类别：{label_zh}",
                    f"[打开案件]({_case_link(case.id)})",
                ],
                emails=emails,
                now=now,
            )

    letters = session.execute(
        select(SupervisionCase, WorkOrder.order_no, WorkOrder.service_center)
        .join(WorkOrder, SupervisionCase.order_id == WorkOrder.id)
        .where(SupervisionCase.state == CaseState.LETTER_ISSUED.value)
        .order_by(SupervisionCase.id)
    ).all()
    for case, order_no, centre in letters:
        deadline = rectification_deadline(case, settings)
        if deadline is None or deadline >= today:
            continue
        for user_id in responsible(case, centre, supervisors):
            new = notify(
                session,
                user_id,
                NotificationKind.RECTIFICATION_OVERDUE.value,
                f"rectification_overdue:{case.id}:{user_id}:{deadline.isoformat()}",
                now=now,
                case_id=case.id,
                params={**_case_params(case, order_no), "deadline": deadline.isoformat()},
            )
            count(NotificationKind.RECTIFICATION_OVERDUE.value, new)
        report.queued += _external(
            session,
            settings,
            f"rectification:{case.id}:{deadline.isoformat()}",
            f"整改期限已过：案件 #{case.id}",
            [
                "## 业务监督意见书整改期限已过",
                f"> 案件：#{case.id}　意见书：{case.letter_no or '—'}",
                f"> 工单编号：{order_no}",
                f"> 类别：{category_label(case.category)}",
                f"> 整改期限：{deadline.isoformat()}",
                f"[打开案件]({_case_link(case.id)})",
            ],
            emails=[heads[centre]] if centre in heads else [],
            now=now,
        )

    for task, order_no, operator_id in _appointments_due(session, now):
        new = notify(
            session,
            operator_id,
            NotificationKind.APPOINTMENT_DUE.value,
            f"appointment_due:{task.id}:{task.not_before.isoformat()}",
            now=now,
            task_id=task.id,
            params={"order_no": order_no, "at": task.not_before.isoformat(), "task_id": task.id},
        )
        count(NotificationKind.APPOINTMENT_DUE.value, new)

    if now.astimezone(settings.tz).hour >= settings.digest_hour:
        report.queued += _digest(session, settings, now=now)
    return report


def rectification_deadline(case: SupervisionCase, settings: Settings) -> Any:
    """Return the local date by which a letter's rectification is due (the letter's own, else the default)."""
    if case.letter_deadline is not None:
        return case.letter_deadline
    if case.letter_issued_at is None:
        return None
    moment = settings.calendar.add_workdays(case.letter_issued_at, settings.rectification_days, settings.tz)
    return moment.astimezone(settings.tz).date()


def _appointments_due(session: Session, now: datetime) -> list[tuple[CallbackTask, str, int]]:
    """Return open appointments starting within the next 10 minutes, with the operator who booked each."""
    tasks = session.execute(
        select(CallbackTask, WorkOrder.order_no)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(
            CallbackTask.state == TaskState.OPEN.value,
            CallbackTask.not_before > now,
            CallbackTask.not_before <= now + APPOINTMENT_LEAD,
        )
    ).all()
    found = []
    for task, order_no in tasks:
        booked = session.scalar(
            select(CallAttempt).where(CallAttempt.task_id == task.id).order_by(CallAttempt.id.desc()).limit(1)
        )
        if (
            booked is not None
            and booked.disposition == Disposition.CALLBACK_REQUESTED.value
            and booked.operator_id is not None
        ):
            found.append((task, order_no, booked.operator_id))
    return found


def _digest(session: Session, settings: Settings, *, now: datetime) -> int:
    """Queue the supervisors' daily digest (counts only) once per local day."""
    day = now.astimezone(settings.tz).date()
    active = SupervisionCase.state.not_in(ENDED)
    open_count = session.scalar(select(func.count()).where(active)) or 0
    overdue = session.scalar(select(func.count()).where(active, SupervisionCase.due_at < now)) or 0
    since = now - timedelta(days=1)
    opened = session.scalar(select(func.count()).where(SupervisionCase.opened_at >= since)) or 0
    letters = (
        session.scalar(select(func.count()).where(SupervisionCase.state == CaseState.LETTER_ISSUED.value))
        or 0
    )
    return _external(
        session,
        settings,
        f"digest:{day.isoformat()}",
        f"监督案件日报 {day.isoformat()}",
        [
            f"## 监督案件日报 {day.isoformat()}",
            f"> 在办案件：{open_count}",
            f'> 其中超期：<font color="warning">{overdue}</font>',
            f"> 近 24 小时新开：{opened}",
            f"> 意见书待整改：{letters}",
        ],
        emails=settings.supervision_office_emails,
        now=now,
    )


# Delivery ---------------------------------------------------------------------------------------------


def send_wecom(url: str, subject: str, body: str, timeout: float) -> None:
    """POST a markdown message to a WeCom group robot; errcode 0 is success (developer.work.weixin.qq.com
    /document/path/91770)."""
    content = body.encode("utf-8")[:WECOM_MARKDOWN_MAX_BYTES].decode("utf-8", errors="ignore")
    try:
        response = requests.post(
            url, json={"msgtype": "markdown", "markdown": {"content": content}}, timeout=timeout
        )
    except requests.RequestException as error:
        # The exception's text names the URL, whose `key` is the robot's secret: keep only its kind.
        raise DeliveryError(f"WeCom unreachable ({type(error).__name__})") from None
    if response.status_code != 200:
        raise DeliveryError(f"WeCom answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryError("WeCom answered something that is not JSON") from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        message = str(answer.get("errmsg", ""))[:100] if isinstance(answer, dict) else ""
        raise DeliveryError(f"WeCom errcode {code}: {message}")


def send_email(settings: Settings, recipient: str, subject: str, body: str, timeout: float) -> None:
    """Send one plain-text e-mail through SMTP_HOST."""
    smtp = settings.smtp
    if smtp is None:
        raise DeliveryError("SMTP is not configured")
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        code = getattr(error, "smtp_code", None)
        raise DeliveryError(f"SMTP failed ({type(error).__name__}{f' {code}' if code else ''})") from None


Sender = Callable[[OutboxMessage], None]


def default_sender(settings: Settings) -> Sender:
    """Return the function that delivers a message over its channel."""

    def send(message: OutboxMessage) -> None:
        timeout = settings.notify_timeout_seconds
        if message.channel == "wecom":
            if not settings.wecom_webhook_url:
                raise DeliveryError("WECOM_WEBHOOK_URL is not configured")
            send_wecom(settings.wecom_webhook_url, message.subject, message.body, timeout)
        elif message.channel == "email" and message.recipient:
            send_email(settings, message.recipient, message.subject, message.body, timeout)
        else:
            raise DeliveryError(f"unknown channel {message.channel!r}")

    return send


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 … minutes after each failure, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def deliver_outbox(
    session: Session, *, now: datetime, settings: Settings, send: Sender | None = None
) -> DeliveryReport:
    """Send the due messages of the outbox, each at most once; commits after each step (a job, like `tick`'s
    recording fetch), so a message is marked `sending` before it leaves and `sent` right after."""
    send = send or default_sender(settings)
    report = DeliveryReport()
    stale = now - timedelta(seconds=settings.notify_timeout_seconds * 3 + 60)
    interrupted = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.next_try_at < stale)
        .values(
            status=OutboxStatus.FAILED.value,
            last_error="interrupted while sending; not resent, so it is never delivered twice",
        )
        .execution_options(synchronize_session=False)
    )
    report.interrupted = interrupted.rowcount or 0  # type: ignore[attr-defined]
    session.commit()
    due = session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_try_at <= now)
        .order_by(OutboxMessage.next_try_at, OutboxMessage.id)
        .limit(DELIVERY_BATCH)
    ).all()
    for message_id in due:
        taken = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.SENDING.value, next_try_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another tick took it
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        assert message is not None  # noqa: S101  (just taken under our own update)
        message.attempts += 1
        try:
            send(message)
        except DeliveryError as error:
            message.last_error = str(error)[:500]
            if message.attempts >= settings.outbox_max_attempts:
                message.status = OutboxStatus.FAILED.value
                report.failed += 1
            else:
                message.status = OutboxStatus.PENDING.value
                message.next_try_at = now + backoff(message.attempts)
                report.retrying += 1
        else:
            message.status = OutboxStatus.SENT.value
            message.sent_at = now
            message.last_error = None
            report.sent += 1
        session.commit()
    return report


def retry_message(session: Session, message_id: int, *, now: datetime, actor: Actor) -> OutboxMessage | None:
    """Send a failed message again at the next delivery run (an administrator's decision)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.FAILED.value:
        return None
    message.status = OutboxStatus.PENDING.value
    message.next_try_at = now
    record(session, actor, now, [AuditEntry("outbox.retry", "outbox_message", message.id, {})])
    return message


def unread_count(session: Session, user_id: int) -> int:
    """Count the user's unread notifications."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user_id: int, *, now: datetime, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (these ids, or all); return how many changed."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    result = session.execute(query.values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0  # type: ignore[attr-defined]
