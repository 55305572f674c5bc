"""The Twilio provider through the real `twilio` library, with a fake HttpClient capturing its requests."""

import json
from datetime import UTC, datetime

import pytest
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.response import Response

from callback.telephony.port import CallOutcomeUnknown, CallPlaced, CallRejected, OutboundCall
from callback.telephony.twilio_provider import TwilioProvider

ACCOUNT = "AC" + "a" * 32
API_BASE = "https://api.test-double.example"
CALL = OutboundCall(
    attempt_id=7,
    to="+8613800138000",
    voice_url="https://callback.example.com/twilio/voice/7",
    status_url="https://callback.example.com/twilio/status/7",
    ring_seconds=30,
    time_limit_seconds=900,
)


class FakeHttpClient(HttpClient):
    """Capture the library's requests and answer them from a script."""

    def __init__(self, *answers: Response | Exception) -> None:
        super().__init__(logger=None, is_async=False)  # type: ignore[arg-type]
        self.answers = list(answers)
        self.requests: list[dict] = []

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "uri": uri, "params": params, "data": data, "auth": auth})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def call_json(sid: str = "CA" + "b" * 32, created: str = "Fri, 27 Nov 2026 02:00:05 +0000") -> Response:
    return Response(201, json.dumps({"sid": sid, "status": "queued", "date_created": created}))


def provider(http: FakeHttpClient) -> TwilioProvider:
    return TwilioProvider(
        account_sid=ACCOUNT,
        auth_token="secret",
        from_number="+861012345678",
        api_base=API_BASE,
        http_client=http,
    )


def test_a_call_is_created_against_the_api_base_with_callbacks_and_machine_detection():
    http = FakeHttpClient(call_json())
    result = provider(http).place_call(CALL)
    assert result == CallPlaced("CA" + "b" * 32)
    sent = http.requests[0]
    assert sent["method"] == "POST"
    assert sent["uri"] == f"{API_BASE}/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert sent["auth"] == (ACCOUNT, "secret")
    data = sent["data"]
    assert data["To"] == CALL.to and data["From"] == "+861012345678"
    assert data["Url"] == CALL.voice_url and data["Method"] == "POST"
    assert data["StatusCallback"] == CALL.status_url
    assert data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert data["MachineDetection"] == "Enable"
    assert data["Timeout"] == 30


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (TwilioException("read timed out"), CallOutcomeUnknown),
        (ConnectionResetError("connection reset by peer"), CallOutcomeUnknown),
        (Response(503, json.dumps({"code": 20500, "message": "Internal"})), CallOutcomeUnknown),
    ],
)
def test_a_lost_or_ambiguous_response_is_unknown_not_a_failure(answer, kind):
    assert isinstance(provider(FakeHttpClient(answer)).place_call(CALL), kind)


def test_refusals_say_whether_the_number_or_the_account_is_wrong():
    invalid = Response(
        400, json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
    )
    auth = Response(401, json.dumps({"code": 20003, "message": "Authenticate", "status": 401}))
    limited = Response(429, json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429}))
    bad_number = provider(FakeHttpClient(invalid)).place_call(CALL)
    assert isinstance(bad_number, CallRejected) and bad_number.invalid_number and not bad_number.fatal
    assert "21211" in bad_number.reason
    assert provider(FakeHttpClient(auth)).place_call(CALL).fatal
    refused = provider(FakeHttpClient(limited)).place_call(CALL)
    assert isinstance(refused, CallRejected) and not refused.fatal and not refused.invalid_number


def test_a_lost_call_is_found_by_listing_calls_to_the_number():
    listing = {
        "calls": [
            {"sid": "CA" + "c" * 32, "date_created": "Fri, 27 Nov 2026 01:00:00 +0000"},  # an older call
            {"sid": "CA" + "d" * 32, "date_created": "Fri, 27 Nov 2026 02:00:03 +0000"},
        ],
        "meta": {"next_page_url": None, "key": "calls"},
    }
    http = FakeHttpClient(Response(200, json.dumps(listing)))
    found = provider(http).find_call(CALL, datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    assert found == "CA" + "d" * 32
    assert http.requests[0]["method"] == "GET"
    assert http.requests[0]["params"]["To"] == CALL.to


def test_end_call_updates_the_call_to_completed():
    sid = "CA" + "e" * 32
    http = FakeHttpClient(Response(200, json.dumps({"sid": sid, "status": "completed"})))
    assert provider(http).end_call(sid) is None
    sent = http.requests[0]
    assert sent["method"] == "POST"
    assert sent["uri"] == f"{API_BASE}/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json"
    assert sent["data"]["Status"] == "completed"


@pytest.mark.parametrize(
    "answer",
    [
        Response(400, json.dumps({"code": 21220, "message": "Call is not in-progress", "status": 400})),
        Response(503, json.dumps({"code": 20500, "message": "Internal"})),
        TwilioException("read timed out"),
        ConnectionResetError("connection reset by peer"),
    ],
)
def test_end_call_never_raises_for_the_providers_failures(answer):
    provider(FakeHttpClient(answer)).end_call("CA" + "e" * 32)
