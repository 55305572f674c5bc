"""The telephony port: what the dialer needs from a phone provider, whatever the provider."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutboundCall:
    """One call to place: who to call, and where the provider fetches TwiML and posts statuses."""

    attempt_id: int
    to: str
    voice_url: str
    status_url: str
    ring_seconds: int
    time_limit_seconds: int
    # Where the provider posts "the recording is ready" (None: do not record the call).
    recording_status_url: str | None = None
    # The calling slot the attempt started in (only the simulated customers care: they answer more in some).
    slot: str | None = None


@dataclass(frozen=True)
class CallPlaced:
    """The provider accepted the call; `sid` names it in every later webhook."""

    sid: str


@dataclass(frozen=True)
class CallRejected:
    """The provider certainly did not place the call.

    `invalid_number`: the number itself is wrong (the attempt ends as invalid_number).
    `fatal`: the account or configuration is wrong; the dialer stops rather than fail every task.
    Otherwise (rate limited, a refused request) the attempt is voided and the task tried again later.
    """

    reason: str
    invalid_number: bool = False
    fatal: bool = False


@dataclass(frozen=True)
class CallOutcomeUnknown:
    """The request may or may not have created a call (timeout, connection reset, server error)."""

    reason: str


PlaceResult = CallPlaced | CallRejected | CallOutcomeUnknown


class TelephonyProvider(Protocol):
    """A phone provider the dialer places calls through."""

    name: str

    def place_call(self, call: OutboundCall) -> PlaceResult:
        """Ask the provider to place the call; never raise for the provider's own failures."""
        ...

    def find_call(self, call: OutboundCall, placed_after: datetime) -> str | None:
        """Return the sid of a call to `call.to` created after `placed_after`, if the provider has one."""
        ...

    def end_call(self, sid: str) -> None:
        """Hang up a call in progress; never raise for the provider's own failures."""
        ...

    def run_pending(self) -> None:
        """Let calls placed so far progress (the simulated customer plays them; real providers do nothing)."""
        ...
