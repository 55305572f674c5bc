"""The simulated provider: no real call; a simulated customer plays Twilio's signed webhooks in-process.

The customer answers the IVR through the same URLs, with the same parameters and X-Twilio-Signature as
Twilio would send, so `TELEPHONY=simulated` runs the whole path (dialer, webhooks, IVR, findings, cases)
on one machine with no account. SIMULATION_MIX decides how each customer behaves.
"""

import random
import uuid
from collections.abc import Container, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.extensions import db
from callback.models import CallAttempt
from callback.telephony.port import CallPlaced, OutboundCall, PlaceResult
from callback.telephony.signing import SIGNATURE_HEADER, public_base_url, signature

SIMULATED_ACCOUNT_SID = "AC" + "0" * 32
SIMULATED_FROM = "+861000000000"
# The customer stays on the line for this many answers before hanging up (outcome hang_up).
HANG_UP_AFTER_ANSWERS = 2
# How often a customer first presses a wrong key, so the IVR's re-asking shows in the demo.
WRONG_KEY_SHARE = 0.15
PROGRESS_KEY = {
    "accepted": "1",
    "surveyed": "2",
    "construction": "3",
    "connected": "4",
    "archived": "4",
    "cancelled": "1",
}


class SimulatedProvider:
    """Queue calls, then play each with a simulated customer when the dialer says so (`run_pending`)."""

    name = "simulated"

    def __init__(self, app: Flask, mix: Sequence[tuple[str, int]], seed: int | None = None) -> None:
        self.app = app
        self.mix = list(mix)
        self.rng = random.Random(seed)  # noqa: S311  (a simulation, not security)
        self.pending: list[tuple[OutboundCall, str, str]] = []
        self.played: list[tuple[OutboundCall, str, str]] = []
        self.ended: set[str] = set()

    def choose_outcome(self) -> str:
        """Pick how the next customer behaves, by SIMULATION_MIX's weights."""
        names = [name for name, _ in self.mix]
        weights = [weight for _, weight in self.mix]
        return self.rng.choices(names, weights)[0]

    def place_call(self, call: OutboundCall) -> PlaceResult:
        """Accept the call at once and queue it for its simulated customer."""
        sid = "CA" + uuid.uuid4().hex
        self.pending.append((call, sid, self.choose_outcome()))
        return CallPlaced(sid)

    def find_call(self, call: OutboundCall, placed_after: datetime) -> str | None:
        """Find nothing: a simulated call whose creation failed never existed."""
        return None

    def end_call(self, sid: str) -> None:
        """Hang up: a call not yet played ends unanswered (`canceled`); one being played stops at once."""
        self.ended.add(sid)
        for queued in [entry for entry in self.pending if entry[1] == sid]:
            self.pending.remove(queued)
            call, _sid, outcome = queued
            SimulatedCustomer(self.app, call, sid, outcome, self.rng).status("canceled")
            self.played.append(queued)

    def run_pending(self) -> None:
        """Play every queued call through the webhooks, one after the other."""
        while self.pending:
            call, sid, outcome = self.pending.pop(0)
            SimulatedCustomer(self.app, call, sid, outcome, self.rng, ended=self.ended).play()
            self.played.append((call, sid, outcome))


class SimulatedCustomer:
    """One customer who picks up (or not) and answers the IVR as `outcome` says."""

    def __init__(
        self,
        app: Flask,
        call: OutboundCall,
        sid: str,
        outcome: str,
        rng: random.Random,
        ended: Container[str] = frozenset(),
    ) -> None:
        self.app = app
        self.ended = ended
        self.call = call
        self.sid = sid
        self.outcome = outcome
        self.rng = rng
        self.client = app.test_client()
        self.base = public_base_url(app.config)
        self.sequence = 0
        self.tz = app.extensions["callback.settings"].tz

    def hung_up(self) -> bool:
        """Tell whether the provider was told to end this call (SimulatedProvider.end_call)."""
        return self.sid in self.ended

    def params(self, **extra: str) -> dict[str, str]:
        """Return the parameters Twilio sends with every webhook of this call."""
        return {
            "CallSid": self.sid,
            "AccountSid": SIMULATED_ACCOUNT_SID,
            "From": str(self.app.config.get("TWILIO_FROM") or SIMULATED_FROM),
            "To": self.call.to,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def post(self, url: str, params: Mapping[str, str]) -> str:
        """POST a signed webhook to the app, as Twilio would, and return the body of the answer."""
        path = url[len(self.base) :] if url.startswith(self.base) else urlsplit(url).path
        response = self.client.post(
            path, data=dict(params), headers={SIGNATURE_HEADER: signature(self.app.config, url, params)}
        )
        return response.get_data(as_text=True)

    def status(self, call_status: str, **extra: str) -> None:
        """Send one status callback."""
        self.sequence += 1
        self.post(
            self.call.status_url,
            self.params(
                CallStatus=call_status,
                SequenceNumber=str(self.sequence),
                CallbackSource="call-progress-events",
                **extra,
            ),
        )

    def play(self) -> None:
        """Live through the call: ring, maybe answer, answer the questions, hang up."""
        self.status("initiated")
        if self.outcome == "busy":
            self.status("busy")
            return
        self.status("ringing")
        if self.outcome == "no_answer":
            self.status("no-answer")
            return
        answered_by = "machine_end_beep" if self.outcome == "machine" else "human"
        self.status("in-progress", AnsweredBy=answered_by)
        document = self.post(
            self.call.voice_url, self.params(CallStatus="in-progress", AnsweredBy=answered_by)
        )
        planned = self.planned_answers()
        answered = 0
        while (gather := _gather(document)) is not None:
            if self.hung_up() or (self.outcome == "hang_up" and answered >= HANG_UP_AFTER_ANSWERS):
                break
            action = gather.get("action", "")
            query = parse_qs(urlsplit(action).query)
            question, try_number = query.get("q", [""])[0], int(query.get("try", ["1"])[0])
            digits = planned.get(question, "")
            if try_number == 1 and self.rng.random() < WRONG_KEY_SHARE:
                digits = "9" if question != "trips" else ""  # a wrong key, or silence
            extra = {"Digits": digits, "FinishedOnKey": ""} if digits else {}
            document = self.post(action, self.params(CallStatus="in-progress", **extra))
            answered += 1 if digits == planned.get(question) else 0
        self.status("completed", CallDuration=str(20 + 8 * answered), AnsweredBy=answered_by)

    def planned_answers(self) -> dict[str, str]:
        """Return the keys this customer presses per question: the order's facts, or a different story."""
        facts = self.order_facts()
        status = str(facts.get("status") or "accepted")
        accepted = _local_date(facts.get("accepted_at"), self.tz) or date.today()
        powered = _local_date(facts.get("connected_at") or facts.get("archived_at"), self.tz)
        if self.outcome == "disagree":
            progress = "3" if powered is not None else "4"
            return {
                "is_applicant": "1",
                "applied_on": _mmdd(accepted - timedelta(days=12)),
                "progress": progress,
                "connected_on": _mmdd(accepted - timedelta(days=3)),
                "meter_notified": "2",
                "trips": "3",
                "extra_documents": self.rng.choice(["1", "2"]),
                "fee_requested": "2",
                "integrity": "2",
                "satisfaction": "2",
            }
        return {
            "is_applicant": "1",
            "applied_on": _mmdd(accepted),
            "progress": PROGRESS_KEY.get(status, "1"),
            "connected_on": _mmdd(powered or accepted),
            "meter_notified": "1",
            "trips": self.rng.choice(["0", "1"]),
            "extra_documents": "2",
            "fee_requested": "2",
            "integrity": "2",
            "satisfaction": self.rng.choice(["4", "5"]),
        }

    def order_facts(self) -> dict[str, Any]:
        """Return the order as the system recorded it when the call began (the customer lived it)."""
        with self.app.app_context(), Session(db.engine) as session:
            snapshot = session.scalar(
                select(CallAttempt.order_snapshot).where(CallAttempt.id == self.call.attempt_id)
            )
        return dict(snapshot or {})


def _gather(document: str) -> ElementTree.Element | None:
    """Return the <Gather> of a TwiML document, or None when the IVR says goodbye or hangs up."""
    try:
        root = ElementTree.fromstring(document)  # noqa: S314  (our own app's TwiML)
    except ElementTree.ParseError:
        return None
    return root.find("Gather")


def _local_date(value: Any, tz: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).astimezone(tz).date()
    except ValueError:
        return None


def _mmdd(day: date) -> str:
    return f"{day.month:02d}{day.day:02d}"
