"""The Twilio provider: places calls with the real `twilio` library against TWILIO_API_BASE."""

import logging
from datetime import datetime, timedelta

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callback.telephony.port import (
    CallOutcomeUnknown,
    CallPlaced,
    CallRejected,
    OutboundCall,
    PlaceResult,
)

log = logging.getLogger(__name__)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
# Twilio error codes that mean the number itself cannot be called.
INVALID_NUMBER_ERRORS = frozenset({13223, 13224, 21211, 21214, 21217, 21401, 21407, 21421, 21614})
# HTTP statuses after which the call certainly does not exist, but the account or request is at fault.
FATAL_HTTP_STATUSES = frozenset({401, 403, 404})
# Twilio error codes of a wrong account or caller id: every call would fail the same way.
FATAL_ERRORS = frozenset({20003, 20404, 21210, 21212, 21606})
# How far before the attempt's start a call found by lookup may have been created (clock skew).
LOOKUP_SLACK = timedelta(minutes=2)


class TwilioProvider:
    """Place calls through Twilio's REST API; statuses and TwiML come back through the webhooks."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str,
        http_client: HttpClient | None = None,
        timeout_seconds: float = 10,
    ) -> None:
        self.client = Client(
            account_sid, auth_token, http_client=http_client or TwilioHttpClient(timeout=timeout_seconds)
        )
        # The Api domain's base URL: a regional edge, or a test double.
        self.client.api.base_url = api_base.rstrip("/")
        self.from_number = from_number

    def place_call(self, call: OutboundCall) -> PlaceResult:
        """Create the call; sort every failure into certainly-not-placed or unknown."""
        try:
            created = self.client.calls.create(
                **_recording_options(call),
                to=call.to,
                from_=self.from_number,
                url=call.voice_url,
                method="POST",
                status_callback=call.status_url,
                status_callback_method="POST",
                status_callback_event=STATUS_EVENTS,
                machine_detection="Enable",
                timeout=call.ring_seconds,
                time_limit=call.time_limit_seconds,
            )
        except TwilioRestException as error:
            return _classify_rest_error(error)
        except (TwilioException, RequestException, OSError) as error:
            # Timeout, connection reset, a body that is not JSON: Twilio may have created the call.
            return CallOutcomeUnknown(f"{type(error).__name__}: {error}")
        if not created.sid:
            return CallOutcomeUnknown("Twilio answered without a call sid")
        return CallPlaced(created.sid)

    def find_call(self, call: OutboundCall, placed_after: datetime) -> str | None:
        """Look up a call to this number from our number created since the attempt began."""
        since = placed_after - LOOKUP_SLACK
        try:
            calls = self.client.calls.list(to=call.to, from_=self.from_number, limit=20)
        except (TwilioException, RequestException, OSError) as error:
            log.warning("looking up the call of attempt %s failed: %s", call.attempt_id, error)
            return None
        for found in calls:
            if found.date_created is not None and found.date_created >= since:
                sid: str = found.sid
                return sid
        return None

    def end_call(self, sid: str) -> None:
        """Hang the call up (update it to `completed`); Twilio then posts its final status callback.

        A call that already ended answers an error (21220): nothing is left to do, so it is only logged.
        """
        try:
            self.client.calls(sid).update(status="completed")
        except (TwilioException, RequestException, OSError) as error:
            log.warning("ending call %s failed: %s", sid, error)

    def run_pending(self) -> None:
        """Do nothing: Twilio runs the call and posts its webhooks."""


def _recording_options(call: OutboundCall) -> dict[str, object]:
    """Record the whole call, one channel per party, and post when the recording is ready."""
    if not call.recording_status_url:
        return {}
    return {
        "record": True,
        "recording_channels": "dual",
        "recording_status_callback": call.recording_status_url,
        "recording_status_callback_method": "POST",
        "recording_status_callback_event": ["completed"],
    }


def _classify_rest_error(error: TwilioRestException) -> PlaceResult:
    """Sort an HTTP error from Twilio: a 4xx means no call was created; a 5xx leaves it unknown."""
    reason = f"Twilio {error.status} error {error.code}: {error.msg}"
    if error.status >= 500:
        return CallOutcomeUnknown(reason)
    if error.code in INVALID_NUMBER_ERRORS:
        return CallRejected(reason, invalid_number=True)
    if error.status in FATAL_HTTP_STATUSES or error.code in FATAL_ERRORS:
        return CallRejected(reason, fatal=True)
    return CallRejected(reason)
