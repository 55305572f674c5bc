"""Message follow-ups: queued after the last failed contact or at the customer's request, sent paced by
`tick` (never in a web request), recorded as an attempt of channel `sms` with its delivery status."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.audit import Actor, AuditEntry, record
from callback.cases import snapshot_json
from callback.errors import ServiceError
from callback.models import (
    FINAL_FOLLOWUP_STATES,
    CallAttempt,
    CallbackTask,
    FollowupReason,
    FollowupState,
    OrderStatus,
    SmsFollowup,
    TaskState,
    WorkOrder,
)
from callback.settings import Settings
from callback.worklist import held_task

if TYPE_CHECKING:
    from callback.messaging.providers import Messenger, SendResult

log = logging.getLogger(__name__)

SMS_CHANNEL = "sms"
BATCH_SIZE = 200
MAINLAND_MOBILE = re.compile(r"\+861[3-9]\d{9}")


class FollowupError(ServiceError):
    """A message cannot be asked for."""


def may_message(session: Session, phone: str, now: datetime) -> bool:
    """Tell whether this number may get a message: the do-not-call seam.

    Every send asks this right before it goes out; the do-not-call list (callback.donotcall) answers here.
    """
    from callback.donotcall import is_listed

    return is_listed(session, phone, now) is None


def message_text(settings: Settings) -> str:
    """Return the text Twilio and the simulation send (Alibaba sends its approved template)."""
    return settings.sms_body.format(
        hotline=settings.service_hotline, sign=settings.sms_sign_name or "供电公司"
    )


def queue_unreachable_followups(session: Session, *, now: datetime, settings: Settings, actor: Actor) -> int:
    """Queue the message of every task whose last failed contact attempt made it unreachable; return how many.

    Only failed contacts count (a wrong or invalid number gets no message), only tasks that became
    unreachable within SMS_FOLLOWUP_WITHIN_HOURS, and only once per task, ever.
    """
    if not settings.sms_followup:
        return 0
    has_followup = exists().where(SmsFollowup.task_id == CallbackTask.id)
    task_ids = session.scalars(
        select(CallbackTask.id)
        .join(WorkOrder, CallbackTask.order_id == WorkOrder.id)
        .where(
            CallbackTask.state == TaskState.UNREACHABLE.value,
            CallbackTask.failed_attempts >= settings.max_attempts,
            CallbackTask.updated_at >= now - settings.sms_followup_within,
            WorkOrder.status != OrderStatus.CANCELLED.value,
            ~has_followup,
        )
        .order_by(CallbackTask.id)
    ).all()
    return sum(
        _queue(session, task_id, FollowupReason.UNREACHABLE, now=now, actor=actor) is not None
        for task_id in task_ids
    )


def request_followup(
    session: Session, task_id: int, user_id: int, *, now: datetime, settings: Settings
) -> SmsFollowup:
    """Queue the message the customer asked for on the call; the operator must hold the task's claim."""
    task = held_task(session, task_id, user_id, now=now)
    if not settings.sms_followup:
        raise FollowupError(409, "sms_disabled", _("Message follow-up is switched off."))
    if session.scalar(select(SmsFollowup.id).where(SmsFollowup.task_id == task.id)) is not None:
        raise FollowupError(
            409, "already_sent", _("This callback's message has already been sent or queued.")
        )
    followup = _queue(
        session,
        task.id,
        FollowupReason.CUSTOMER_REQUEST,
        now=now,
        actor=Actor(user_id=user_id),
        user_id=user_id,
    )
    if followup is None:
        raise FollowupError(
            409, "already_sent", _("This callback's message has already been sent or queued.")
        )
    return followup


def _queue(
    session: Session,
    task_id: int,
    reason: FollowupReason,
    *,
    now: datetime,
    actor: Actor,
    user_id: int | None = None,
) -> SmsFollowup | None:
    followup = SmsFollowup(
        task_id=task_id,
        reason=reason.value,
        state=FollowupState.QUEUED.value,
        requested_at=now,
        requested_by_id=user_id,
    )
    try:
        with session.begin_nested():
            session.add(followup)
            session.flush()
    except IntegrityError:
        return None  # the unique task_id: another process queued it first
    record(
        session,
        actor,
        now,
        [AuditEntry("sms.queued", "sms_followup", followup.id, {"task_id": task_id, "reason": reason.value})],
    )
    return followup


def apply_status(
    session: Session,
    followup: SmsFollowup,
    state: str,
    *,
    now: datetime,
    actor: Actor,
    error: str | None = None,
    message_id: str | None = None,
) -> bool:
    """Move a message to a delivery state from a receipt; a final state never changes. Say if it moved."""
    if followup.state in FINAL_FOLLOWUP_STATES or followup.state == state:
        return False
    if message_id and followup.provider_message_id is None:
        followup.provider_message_id = message_id  # the send's answer was lost; the receipt names it
    previous = followup.state
    followup.state = state
    followup.status_at = now
    if error:
        followup.error = error[:200]
    attempt = session.get(CallAttempt, followup.attempt_id) if followup.attempt_id else None
    if attempt is not None:
        attempt.call_status = state
        if message_id and attempt.provider_call_sid is None:
            attempt.provider_call_sid = message_id
        if state in FINAL_FOLLOWUP_STATES:
            attempt.ended_at = now
    record(
        session,
        actor,
        now,
        [AuditEntry("sms.status", "sms_followup", followup.id, {"from": previous, "to": state})],
    )
    return True


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    refused: int = 0
    outside_hours: bool = False


class FollowupSender:
    """Send the queued messages one by one, each in a paced slot, committing around every send.

    The attempt is stored (state `unknown`) before the provider hears of the message, so a crash or a lost
    answer leaves a trace and the message is never sent twice.
    """

    def __init__(
        self,
        session: Session,
        messenger: "Messenger",
        *,
        settings: Settings,
        status_url: Callable[[int], str],
        wait_for_slot: Callable[[], object],
        actor: Actor,
    ) -> None:
        self.session = session
        self.messenger = messenger
        self.settings = settings
        self.status_url = status_url
        self.wait_for_slot = wait_for_slot
        self.actor = actor

    def run(self, now: datetime) -> SendReport:
        report = SendReport()
        if not self.settings.sms_followup:
            return report
        if not self.settings.calling_hours.contains(now, self.settings.tz):
            report.outside_hours = True  # nobody gets a text at night: the next tick in hours sends it
            return report
        ids = self.session.scalars(
            select(SmsFollowup.id)
            .where(SmsFollowup.state == FollowupState.QUEUED.value)
            .order_by(SmsFollowup.id)
            .limit(BATCH_SIZE)
        ).all()
        for followup_id in ids:
            self._send_one(followup_id, now, report)
        return report

    def _locked(self, followup_id: int) -> SmsFollowup | None:
        followup = self.session.get(SmsFollowup, followup_id, with_for_update=True, populate_existing=True)
        return followup if followup is not None and followup.state == FollowupState.QUEUED.value else None

    def _send_one(self, followup_id: int, now: datetime, report: SendReport) -> None:
        session = self.session
        followup = self._locked(followup_id)
        if followup is None:
            session.commit()
            return
        task = session.get(CallbackTask, followup.task_id)
        assert task is not None  # noqa: S101  (foreign key)
        phone = task.order.customer_phone
        if not may_message(session, phone, now):
            followup.state = FollowupState.REFUSED.value
            followup.status_at = now
            record(
                session,
                self.actor,
                now,
                [AuditEntry("sms.refused", "sms_followup", followup.id, {"reason": "do_not_call"})],
            )
            session.commit()
            report.refused += 1
            return
        session.commit()  # hold no transaction while waiting for the slot
        self.wait_for_slot()
        followup = self._locked(followup_id)
        if followup is None:  # another tick took it meanwhile
            session.commit()
            return
        attempt = CallAttempt(
            task_id=task.id,
            channel=SMS_CHANNEL,
            operator_id=None,
            started_at=now,
            order_snapshot=snapshot_json(task.order),
            call_status=FollowupState.UNKNOWN.value,
            transcript=[],
        )
        session.add(attempt)
        session.flush()
        body = message_text(self.settings)
        followup.attempt_id = attempt.id
        followup.state = FollowupState.UNKNOWN.value
        followup.provider = self.messenger.name
        followup.body = body
        followup.sent_at = now
        session.commit()
        result: SendResult | None
        if not MAINLAND_MOBILE.fullmatch(phone):
            result = None
        else:
            from callback.messaging.providers import OutboundMessage

            result = self.messenger.send(
                OutboundMessage(
                    followup_id=followup.id,
                    to=phone,
                    body=body,
                    template_param={"hotline": self.settings.service_hotline},
                    status_url=self.status_url(followup.id),
                )
            )
        self._record_result(followup_id, attempt.id, result, now, report)
        session.commit()

    def _record_result(
        self,
        followup_id: int,
        attempt_id: int,
        result: "SendResult | None",
        now: datetime,
        report: SendReport,
    ) -> None:
        from callback.messaging.providers import MessageRejected, MessageSent

        session = self.session
        followup = session.get(SmsFollowup, followup_id, with_for_update=True, populate_existing=True)
        attempt = session.get(CallAttempt, attempt_id)
        assert followup is not None and attempt is not None  # noqa: S101  (just stored)
        if isinstance(result, MessageSent):
            if followup.provider_message_id is None:
                followup.provider_message_id = result.message_id
                attempt.provider_call_sid = result.message_id
            if followup.state == FollowupState.UNKNOWN.value:  # a receipt may have come first
                followup.state = FollowupState.SENT.value
                attempt.call_status = FollowupState.SENT.value
            record(
                session,
                self.actor,
                now,
                [AuditEntry("sms.sent", "sms_followup", followup.id, {"attempt_id": attempt.id})],
            )
            if result.state != FollowupState.SENT.value:
                apply_status(session, followup, result.state, now=now, actor=self.actor)
            report.sent += 1
            return
        if result is None or isinstance(result, MessageRejected):
            reason = "not a mainland mobile number" if result is None else result.reason
            followup.state = FollowupState.FAILED.value
            followup.error = reason[:200]
            followup.status_at = now
            attempt.call_status = FollowupState.FAILED.value
            attempt.ended_at = now
            attempt.note = reason[:200]
            record(
                session,
                self.actor,
                now,
                [AuditEntry("sms.failed", "sms_followup", followup.id, {"reason": reason[:200]})],
            )
            log.warning("message follow-up %s was not sent: %s", followup.id, reason)
            report.failed += 1
            return
        followup.error = result.reason[:200]
        log.warning("message follow-up %s: the provider's answer was lost: %s", followup.id, result.reason)
        report.unknown += 1
