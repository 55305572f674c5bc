"""The simulated provider: no real call; a simulated customer plays the provider's callbacks in-process.

SIMULATION_PROTOCOL=twilio (the default) posts Twilio's signed webhooks; =aliyun posts Alibaba Cloud
SmartCall's dialogue callbacks (answers by voice) and receipts under /aliyun/<token>/.

The customer answers the IVR through the same URLs, with the same parameters and X-Twilio-Signature as
Twilio would send, so `TELEPHONY=simulated` runs the whole path (dialer, webhooks, IVR, findings, cases)
on one machine with no account. SIMULATION_MIX decides how each customer behaves, and
SIMULATION_SLOT_ANSWER how many customers are at the phone in each calling slot (CALL_SLOTS).
"""

import json
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
from callback.recordings.fetchers import simulated_source_url
from callback.survey import QUESTIONS_BY_CODE, Question, answer_from_keypad
from callback.telephony.aliyun_dialogue import callback_token
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


# What a simulated customer's behaviour comes to, as the IVR records it (bench/bench_slots.py reads this).
OUTCOME_DISPOSITIONS = {
    "agree": "completed",
    "disagree": "completed",
    "hang_up": "partial",
    "no_answer": "no_answer",
    "busy": "busy",
    "machine": "voicemail",
}


def at_the_phone(customer: str, slot: str | None, slot_answer: Mapping[str, int]) -> bool:
    """Tell whether a customer is at the phone in a slot: a habit of theirs, the same at every call.

    SIMULATION_SLOT_ANSWER gives the share of customers at the phone per slot; who they are is drawn once
    per (customer, slot), so one who is never reachable in the morning stays so, as in life.
    """
    share = slot_answer.get(slot) if slot else None
    if share is None:
        return True
    habit = random.Random(f"{customer}|{slot}")  # noqa: S311  (a simulation, not security)
    return habit.random() * 100 < share


def simulated_outcome(
    rng: random.Random,
    mix: Sequence[tuple[str, int]],
    slot_answer: Mapping[str, int],
    slot: str | None,
    customer: str = "",
) -> str:
    """Pick how a customer called in `slot` behaves: no answer when away from the phone, else by
    SIMULATION_MIX's weights (the slot's odds draw nothing from `rng`: old seeds replay alike).
    """
    if not at_the_phone(customer, slot, slot_answer):
        return "no_answer"
    names = [name for name, _ in mix]
    weights = [weight for _, weight in mix]
    return rng.choices(names, weights)[0]


class SimulatedProvider:
    """Queue calls, then play each with a simulated customer when the dialer says so (`run_pending`)."""

    name = "simulated"

    def __init__(
        self,
        app: Flask,
        mix: Sequence[tuple[str, int]],
        seed: int | None = None,
        protocol: str = "twilio",
        slot_answer: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.protocol = protocol
        self.mix = list(mix)
        self.slot_answer = dict(slot_answer)
        self.rng = random.Random(seed)  # noqa: S311  (a simulation, not security)
        self.pending: list[tuple[OutboundCall, str, str]] = []
        self.played: list[tuple[OutboundCall, str, str]] = []
        self.ended: set[str] = set()

    def choose_outcome(self, slot: str | None = None, customer: str = "") -> str:
        """Pick how the next customer behaves, by their habit in the slot and SIMULATION_MIX."""
        return simulated_outcome(self.rng, self.mix, self.slot_answer, slot, customer)

    def protocol_of(self, call: OutboundCall) -> str:
        """Return the protocol a call is played in; `both` alternates Twilio and SmartCall by attempt."""
        if self.protocol == "both":
            return "aliyun" if call.attempt_id % 2 == 0 else "twilio"
        return self.protocol

    def place_call(self, call: OutboundCall) -> PlaceResult:
        """Accept the call at once and queue it for its simulated customer."""
        if self.protocol_of(call) == "aliyun":
            number = uuid.uuid4().int
            sid = f"{number % 10**12:012d}^{number // 10**12 % 10**12:012d}"  # SmartCall's CallId
        else:
            sid = "CA" + uuid.uuid4().hex
        self.pending.append((call, sid, self.choose_outcome(call.slot, call.to)))
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
            customer = AliyunSimulatedCustomer if self.protocol_of(call) == "aliyun" else SimulatedCustomer
            customer(self.app, call, sid, outcome, self.rng, ended=self.ended).play()
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
        duration = 20 + 8 * answered
        self.status("completed", CallDuration=str(duration), AnsweredBy=answered_by)
        self.recording_ready(duration)

    def recording_ready(self, seconds: int) -> None:
        """Post the recording status callback Twilio sends once an answered call's recording is ready."""
        if not self.call.recording_status_url:
            return
        recording_sid = "RE" + uuid.uuid4().hex
        self.post(
            self.call.recording_status_url,
            self.params(
                RecordingSid=recording_sid,
                RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{SIMULATED_ACCOUNT_SID}"
                f"/Recordings/{recording_sid}",
                RecordingStatus="completed",
                RecordingDuration=str(seconds),
                RecordingChannels="2",
                RecordingSource="OutboundAPI",
                RecordingStartTime="",
            ),
        )

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


class AliyunSimulatedCustomer(SimulatedCustomer):
    """One customer on an Alibaba Cloud SmartCall: answers by voice (sometimes keys) through /aliyun/.

    Posts what the platform posts: the dialogue callback with the recogniser's words (or a key) for the
    call_id, echoing each reply's dynamic_id, then the VoiceReport receipt when the call ends, and for an
    answered call the VoiceRecordReport of its recording.
    """

    def __init__(
        self,
        app: Flask,
        call: OutboundCall,
        sid: str,
        outcome: str,
        rng: random.Random,
        ended: Container[str] = frozenset(),
    ) -> None:
        super().__init__(app, call, sid, outcome, rng, ended)
        self.token = callback_token(app.config)

    def post_json(self, kind: str, body: Any) -> dict[str, Any]:
        response = self.client.post(f"/aliyun/{self.token}/{kind}", json=body)
        return response.get_json(silent=True) or {}

    def report(self, smart_status: str, status_code: str, duration: int) -> None:
        """Send the call's VoiceReport (呼叫记录) receipt."""
        self.post_json(
            "voice-report",
            [
                {
                    "call_id": self.sid,
                    "out_id": str(self.call.attempt_id),
                    "status_code": status_code,
                    "smart_status_code": smart_status,
                    "duration": str(duration),
                    "callee": self.call.to.removeprefix("+86"),
                    "hangup_direction": "用户",
                }
            ],
        )

    def say(self, dynamic: str, words: str = "", keys: str = "") -> dict[str, Any]:
        """Post one dialogue turn, as the platform does after the customer spoke or pressed a key."""
        content: dict[str, Any] = {"dynamic_id": dynamic}
        if keys:
            content_type, content["dtmf"] = "dtmf", keys
        elif words:
            content_type, content["words"] = "normal", words
        else:
            content_type = "mute"
        response = self.client.post(
            f"/aliyun/{self.token}/dialogue",
            data={
                "call_id": self.sid,
                "timestamp": str(int(datetime.now().timestamp() * 1000)),
                "content_type": content_type,
                "content": json.dumps(content, ensure_ascii=False),
            },
        )
        return (response.get_json(silent=True) or {}).get("data") or {}

    def play(self) -> None:
        """Live through the call: maybe answer, answer each question put, hang up; then the receipt."""
        if self.outcome == "busy":
            self.report("USER_BUSY", "200002", 0)
            return
        if self.outcome == "no_answer":
            self.report("NO_ANSWER", "200003", 0)
            return
        if self.outcome == "machine":
            self.report("INTELLIGENT_ANSWER", "200000", 12)
            return
        spoken = self.planned_words()
        keys = self.planned_answers()
        data = {"action": "play", "dynamic_id": f"a{self.call.attempt_id}"}
        question = ivr_first_question()
        answered = 0
        while data.get("action") == "play" and question is not None:
            if self.hung_up() or (self.outcome == "hang_up" and answered >= HANG_UP_AFTER_ANSWERS):
                break
            dynamic = str(data.get("dynamic_id") or "")
            parts = dynamic.split(".")
            code, try_number = (parts[1], int(parts[2])) if len(parts) == 3 else (question, 1)
            if try_number == 1 and self.rng.random() < WRONG_KEY_SHARE:
                data = self.say(dynamic, words="啊？你说什么")  # not understood: asked again
                continue
            if self.rng.random() < KEYS_SHARE:
                data = self.say(dynamic, keys=keys.get(code, ""))
            else:
                data = self.say(dynamic, words=spoken.get(code, ""))
            answered += 1
        duration = 20 + 8 * answered
        self.report("ANSWERED", "200000", duration)
        self.record_report(duration)

    def record_report(self, seconds: int) -> None:
        """Send the VoiceRecordReport (录音记录) of an answered call, as the platform does once recorded.

        Its record_file is the simulation's own source (`simulated:<call_id>`), which the simulated
        provider's fetcher turns into a small real WAV: no Alibaba link to download.
        """
        if not self.call.recording_status_url:
            return  # not recorded
        self.post_json(
            "record-report",
            [
                {
                    "call_id": self.sid,
                    "out_id": str(self.call.attempt_id),
                    "status_code": "200000",
                    "smart_status_code": "ANSWERED",
                    "duration": str(seconds),
                    "record_file": simulated_source_url(self.sid, seconds),
                    "record_begin_time": datetime.now(self.tz).strftime("%Y-%m-%d %H:%M:%S"),
                }
            ],
        )

    def planned_words(self) -> dict[str, str]:
        """Return what this customer says per question: the planned keys' answers, in everyday Mandarin."""
        today = datetime.now(self.tz).date()
        words = {}
        for code, key in self.planned_answers().items():
            question = QUESTIONS_BY_CODE[code]
            value = answer_from_keypad(question, key, today)
            if value is not None:
                words[code] = spoken_answer(question, value)
        return words


# How often a simulated SmartCall customer presses a key instead of speaking.
KEYS_SHARE = 0.1


def ivr_first_question() -> str | None:
    """Return the code of the question SmartCall's opening puts (the IVR's first)."""
    from callback.telephony.ivr import next_question

    first = next_question(None, {})
    return first.code if first is not None else None


def _chinese(number: int) -> str:
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    tens, ones = divmod(number, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def spoken_answer(question: Question, value: Any) -> str:
    """Return how a customer would say an answer in Mandarin (the simulated customer's words)."""
    if question.type == "boolean":
        return "是的" if value else "没有"
    choice = question.choice_for(value)
    if choice is not None:
        return choice.spoken[0] if choice.spoken else choice.zh.split("/")[0]
    if question.type == "integer":
        return "一趟也没跑" if value == 0 else ("两" if value == 2 else _chinese(int(value))) + "趟"
    if question.type == "date":
        day = date.fromisoformat(str(value))
        return f"{_chinese(day.month)}月{_chinese(day.day)}号"
    return str(value)
