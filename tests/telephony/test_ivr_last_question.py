"""The IVR takes an answer only to the question it put last (issue 9): other gathers change nothing."""

from datetime import date

from sqlalchemy import select

from callback.extensions import db
from callback.models import CallAttempt
from tests.telephony.helpers import parse_twiml

SID = "CA" + "4" * 32


def asked(response) -> tuple[str, str] | None:
    """Return (question, try) of the <Gather> a TwiML answer puts, or None."""
    gather = parse_twiml(response.get_data(as_text=True)).find("Gather")
    if gather is None:
        return None
    query = gather.get("action", "").split("?", 1)[1]
    values = dict(part.split("=", 1) for part in query.split("&"))
    return values["q"], values["try"]


def answers(attempt_id: int) -> dict:
    db.session.expire_all()
    return db.session.scalars(select(CallAttempt).where(CallAttempt.id == attempt_id)).one().answer_map()


def gather(twilio_post, attempt_id: int, question: str, try_number: int, digits: str):
    return twilio_post(
        f"/twilio/gather/{attempt_id}?q={question}&try={try_number}", {"CallSid": SID, "Digits": digits}
    )


def test_an_answer_to_a_question_not_yet_asked_is_ignored_and_the_last_one_is_asked_again(
    start_call, twilio_post
):
    attempt = start_call()
    first = twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    assert asked(first) == ("is_applicant", "1")
    # A forged or confused request answers "integrity: yes" before the IVR ever asked it.
    skipped = gather(twilio_post, attempt.id, "integrity", 1, "1")
    assert skipped.status_code == 200
    assert asked(skipped) == ("is_applicant", "1")
    assert answers(attempt.id) == {}
    # The real answer to the question asked is taken.
    taken = gather(twilio_post, attempt.id, "is_applicant", 1, "1")
    assert asked(taken) == ("applied_on", "1")
    assert answers(attempt.id) == {"is_applicant": True}


def test_an_answer_to_an_earlier_question_changes_nothing(start_call, twilio_post):
    attempt = start_call()
    twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    gather(twilio_post, attempt.id, "is_applicant", 1, "1")
    replayed = gather(twilio_post, attempt.id, "is_applicant", 1, "2")
    assert asked(replayed) == ("applied_on", "1")
    assert answers(attempt.id) == {"is_applicant": True}


def test_an_old_try_of_the_current_question_is_ignored(start_call, twilio_post):
    attempt = start_call()
    twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    again = gather(twilio_post, attempt.id, "is_applicant", 1, "7")  # invalid: asked again, try 2
    assert asked(again) == ("is_applicant", "2")
    stale = gather(twilio_post, attempt.id, "is_applicant", 1, "1")  # the first try, replayed
    assert asked(stale) == ("is_applicant", "2")
    assert answers(attempt.id) == {}
    assert asked(gather(twilio_post, attempt.id, "is_applicant", 2, "1")) == ("applied_on", "1")


def test_a_gather_before_the_call_was_answered_hangs_up(start_call, twilio_post):
    attempt = start_call()
    response = gather(twilio_post, attempt.id, "is_applicant", 1, "1")
    assert parse_twiml(response.get_data(as_text=True)).find("Hangup") is not None
    assert answers(attempt.id) == {}


def test_a_date_keyed_in_becomes_the_orders_stated_application_date(start_call, twilio_post):
    attempt = start_call()
    twilio_post(f"/twilio/voice/{attempt.id}", {"CallSid": SID, "AnsweredBy": "human"})
    gather(twilio_post, attempt.id, "is_applicant", 1, "1")
    gather(twilio_post, attempt.id, "applied_on", 1, "1115")
    stated = answers(attempt.id)["applied_on"]
    order = db.session.scalars(select(CallAttempt).where(CallAttempt.id == attempt.id)).one().task.order
    assert order.stated_applied_on == date.fromisoformat(stated)
