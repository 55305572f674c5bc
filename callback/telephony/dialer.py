"""The dialer: claims automated tasks, records each attempt, then places the call at the shared pace.

Several dialers may run on several machines against one PostgreSQL: the worklist's claim gives each task to
one of them, the pacing row spaces their calls, and an attempt is recorded (task `dialing`) before the
provider is asked, so a lost response is looked up, never dialled again blindly.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callback.audit import channel as audit_channel
from callback.models import AuditChannel, CallAttempt, CallbackTask, Disposition, TaskChannel, TaskState
from callback.observability.database_errors import first_line
from callback.settings import Settings
from callback.telephony import heartbeat
from callback.telephony.pacing import CallPacer
from callback.telephony.port import (
    CallOutcomeUnknown,
    CallPlaced,
    CallRejected,
    OutboundCall,
    PlaceResult,
    TelephonyProvider,
)
from callback.telephony.signing import public_url, recording_path, status_path, voice_path
from callback.worklist import (
    DIALER_ACTOR,
    calls_to_end,
    finish_automated_attempt,
    start_automated_attempt,
    void_automated_attempt,
    workable_condition,
)
from callback.worklist.donotcall import stop_attempt_if_listed

log = logging.getLogger(__name__)

# Twilio's name for a call whose create response never arrived and that lookup has not found yet.
UNKNOWN_STATUS = "unknown"
# A call with no callback for this long has ended (dialogue turns come every few seconds; silence is
# reported after MuteTime): a provider that can look calls up is asked what became of it.
SILENT_AFTER = timedelta(minutes=5)


class DialerStopped(Exception):
    """The provider refused the account or configuration; dialing on would fail every task."""


@dataclass
class PassReport:
    placed: int = 0
    rejected: int = 0
    lost: int = 0
    recovered_by_lookup: int = 0
    ended: int = 0


class Dialer:
    """One dialer process's work: passes over the workable automated tasks."""

    def __init__(
        self,
        session: Session,
        provider: TelephonyProvider,
        pacer: CallPacer,
        settings: Settings,
        config: dict[str, Any],
        clock: Callable[[], datetime],
        after_pass: Callable[[datetime], object] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.session = session
        self.provider = provider
        self.pacer = pacer
        self.settings = settings
        self.config = config
        self.clock = clock
        # Work done after each pass, such as fetching the calls' recordings.
        self.after_pass = after_pass
        self.stop = threading.Event()
        # The heartbeat's name (host:pid unless given), and the attempts whose calls this dialer placed
        # and that have not ended yet (its calls in flight).
        self.name = name or heartbeat.default_dialer_name()
        self.started_at = clock()
        self.in_flight: set[int] = set()

    def outbound_call(self, attempt: CallAttempt, phone: str) -> OutboundCall:
        """Describe the call of an attempt for the provider, with its webhook URLs."""
        return OutboundCall(
            attempt_id=attempt.id,
            to=phone,
            voice_url=public_url(self.config, voice_path(attempt.id)),
            status_url=public_url(self.config, status_path(attempt.id)),
            ring_seconds=self.settings.ring_seconds,
            time_limit_seconds=int(self.settings.dial_timeout.total_seconds()),
            recording_status_url=public_url(self.config, recording_path(attempt.id)),
            slot=attempt.slot,
        )

    def workable_count(self, now: datetime) -> int:
        """Count the automated tasks workable now (none outside calling hours)."""
        if not self.settings.calling_hours.contains(now, self.settings.tz):
            return 0
        return (
            self.session.scalar(
                select(func.count())
                .select_from(CallbackTask)
                .where(*workable_condition(now, TaskChannel.AUTO))
            )
            or 0
        )

    def run_pass(self) -> PassReport:
        """End calls of cancelled orders, look up lost calls, then call each workable task once at most."""
        with audit_channel(AuditChannel.DIALER):  # events of the pass are the dialer's (webhooks: their own)
            return self._run_pass()

    def _run_pass(self) -> PassReport:
        report = PassReport()
        self.end_cancelled_calls(report)
        self.look_up_lost_calls(report)
        self.ask_about_silent_calls(report)
        budget = self.workable_count(self.clock())
        self.session.commit()
        for _ in range(budget):
            if self.stop.is_set() or not self.workable_count(self.clock()):
                break
            self.session.commit()  # hold no transaction while waiting for the slot
            self.pacer.wait_for_slot()
            if not self.dial_next(report):
                break
            self.beat()
        self.session.commit()
        if self.after_pass is not None:
            self.after_pass(self.clock())
        self.beat()
        busy = report.placed or report.rejected or report.lost or report.recovered_by_lookup
        log.log(
            logging.INFO if busy else logging.DEBUG,
            "dialer pass: %d placed, %d refused, %d lost, %d found again, %d in flight",
            report.placed,
            report.rejected,
            report.lost,
            report.recovered_by_lookup,
            len(self.in_flight),
        )
        return report

    def beat(self) -> None:
        """Write this dialer's heartbeat: alive now, with its calls in flight."""
        self.in_flight = heartbeat.calls_still_in_flight(self.session, self.in_flight)
        heartbeat.beat(
            self.session,
            self.name,
            started_at=self.started_at,
            now=self.clock(),
            calls_in_flight=len(self.in_flight),
        )
        self.session.commit()

    def dial_next(self, report: PassReport) -> bool:
        """Claim one task, record its attempt, place its call; False when nothing was left to claim."""
        now = self.clock()
        attempt = start_automated_attempt(self.session, now=now, settings=self.settings)
        if attempt is None:
            self.session.commit()
            return False
        if stop_attempt_if_listed(self.session, attempt, now=now, actor=DIALER_ACTOR):  # issue 13
            self.session.commit()
            return True
        call = self.outbound_call(attempt, attempt.task.order.customer_phone)
        self.session.commit()  # the attempt exists before the provider hears of the call
        result = self.provider.place_call(call)
        log.info(
            "attempt %s (task %s): provider answered %s", attempt.id, attempt.task_id, type(result).__name__
        )
        self.in_flight.add(attempt.id)
        self.record_result(attempt.id, call, result, report, started_at=now)
        self.session.commit()
        self.provider.run_pending()
        if isinstance(result, CallRejected) and result.fatal:
            raise DialerStopped(result.reason)
        return True

    def record_result(
        self,
        attempt_id: int,
        call: OutboundCall,
        result: PlaceResult,
        report: PassReport,
        *,
        started_at: datetime,
    ) -> None:
        """Record what the provider said about a call it was asked to place."""
        now = self.clock()
        if isinstance(result, CallPlaced):
            self._adopt_sid(attempt_id, result.sid, status="queued")
            report.placed += 1
            return
        if isinstance(result, CallOutcomeUnknown):
            log.warning("attempt %s: the call's creation response was lost (%s)", attempt_id, result.reason)
            sid = self.provider.find_call(call, started_at)
            if sid is not None:
                self._adopt_sid(attempt_id, sid, status="queued")
                report.recovered_by_lookup += 1
            else:
                self._adopt_sid(attempt_id, None, status=UNKNOWN_STATUS)
                report.lost += 1
            return
        report.rejected += 1
        attempt = self.session.get(CallAttempt, attempt_id, with_for_update=True, populate_existing=True)
        if attempt is None or attempt.disposition is not None:
            return
        log.warning("attempt %s: the provider refused the call: %s", attempt_id, result.reason)
        if result.invalid_number:
            finish_automated_attempt(
                self.session,
                attempt,
                Disposition.INVALID_NUMBER,
                note=result.reason[:2000],
                now=now,
                settings=self.settings,
            )
        else:
            void_automated_attempt(self.session, attempt, reason=result.reason[:500], now=now)

    def _adopt_sid(self, attempt_id: int, sid: str | None, *, status: str) -> None:
        """Store the call's sid and first status, unless a webhook got there first."""
        if sid is not None:
            self.session.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.provider_call_sid.is_(None))
                .values(provider_call_sid=sid)
                .execution_options(synchronize_session=False)
            )
        self.session.execute(
            update(CallAttempt)
            .where(CallAttempt.id == attempt_id, CallAttempt.call_status.is_(None))
            .values(call_status=status)
            .execution_options(synchronize_session=False)
        )

    def end_cancelled_calls(self, report: PassReport) -> None:
        """Ask the provider to hang up calls still under way whose order was cancelled meanwhile.

        Asked again each pass until the call's final status callback gives the attempt its outcome;
        ending a call that has just ended is harmless.
        """
        ending = calls_to_end(self.session, now=self.clock(), settings=self.settings)
        self.session.commit()  # hold no transaction while the provider answers
        for attempt_id, sid in ending:
            log.info("attempt %s: the order was cancelled during the call; ending call %s", attempt_id, sid)
            self.provider.end_call(sid)
            report.ended += 1

    def look_up_lost_calls(self, report: PassReport) -> None:
        """Ask the provider again about calls whose creation response was lost; adopt those it knows."""
        lost = self.session.execute(
            select(CallAttempt.id, CallAttempt.started_at, CallAttempt.task_id).where(
                CallAttempt.channel == TaskChannel.AUTO.value,
                CallAttempt.disposition.is_(None),
                CallAttempt.provider_call_sid.is_(None),
                CallAttempt.call_status == UNKNOWN_STATUS,
            )
        ).all()
        for attempt_id, started_at, task_id in lost:
            task = self.session.get(CallbackTask, task_id)
            assert task is not None  # noqa: S101  (foreign key)
            attempt = self.session.get(CallAttempt, attempt_id)
            assert attempt is not None  # noqa: S101
            sid = self.provider.find_call(self.outbound_call(attempt, task.order.customer_phone), started_at)
            if sid is not None:
                self._adopt_sid(attempt_id, sid, status="queued")
                report.recovered_by_lookup += 1
        self.session.commit()

    def ask_about_silent_calls(self, report: PassReport) -> None:
        """Ask a provider that can look calls up (SmartCall: QueryCallDetailByCallId) about silent calls.

        A call with no callback for SILENT_AFTER has ended; if its receipt was lost, the platform's record of
        it ends the attempt as the receipt would have, instead of `tick` guessing after DIAL_TIMEOUT_MINUTES.
        """
        detail_of = getattr(self.provider, "call_detail", None)
        if detail_of is None:
            return
        from callback.telephony import aliyun_dialogue, ivr

        now = self.clock()
        silent = self.session.execute(
            select(CallAttempt.id, CallAttempt.provider_call_sid, CallAttempt.started_at)
            .join(CallbackTask, CallbackTask.id == CallAttempt.task_id)
            .where(
                CallAttempt.channel == TaskChannel.AUTO.value,
                CallAttempt.disposition.is_(None),
                CallAttempt.provider_call_sid.is_not(None),
                CallbackTask.state == TaskState.DIALING.value,
                CallbackTask.lease_expires_at <= now + self.settings.dial_timeout - SILENT_AFTER,
            )
        ).all()
        self.session.commit()
        for attempt_id, sid, started_at in silent:
            if sid is None:
                continue  # never: the query asks for attempts with a sid
            detail = detail_of(sid, started_at)
            if not detail or not detail.get("state"):
                continue
            attempt = ivr.lock_attempt(self.session, attempt_id)
            if attempt is None or attempt.disposition is not None:
                self.session.rollback()
                continue
            receipt = aliyun_dialogue.receipt_from_detail(sid, attempt_id, detail)
            aliyun_dialogue.on_voice_report(self.session, attempt, receipt, now=now, settings=self.settings)
            self.session.commit()
            report.recovered_by_lookup += 1

    def run_forever(self, stop: threading.Event) -> None:
        """Make passes until `stop` is set, resting DIALER_IDLE_SECONDS when a pass placed nothing."""
        self.stop = stop
        while not stop.is_set():
            try:
                report = self.run_pass()
            except DialerStopped:
                raise
            except SQLAlchemyError as error:
                # The database is restarting or unreachable: say so in one line and try again.
                log.warning(
                    "dialer pass failed, the database cannot be reached (%s: %s); retrying in %gs",
                    type(error).__name__,
                    first_line(error),
                    self.settings.dialer_idle_seconds,
                )
                self._rollback()
                report = PassReport()
            except Exception:
                # A network hiccup or a bug in one pass must not end the dialer; the next pass retries.
                log.exception("dialer pass failed; retrying after a pause")
                self._rollback()
                report = PassReport()
            if report.placed == 0:
                stop.wait(self.settings.dialer_idle_seconds)
        self._forget()

    def _rollback(self) -> None:
        try:
            self.session.rollback()
        except SQLAlchemyError:
            log.debug("rollback after a failed pass failed too", exc_info=True)

    def _forget(self) -> None:
        """Remove this dialer's heartbeat on a clean stop (a dead dialer's stays, ageing, on the page)."""
        try:
            heartbeat.forget(self.session, self.name)
            self.session.commit()
        except SQLAlchemyError:
            self._rollback()

