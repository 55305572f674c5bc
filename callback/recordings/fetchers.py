"""Getting a recording's audio from the provider that made it, and deleting the provider's copy.

Provider-neutral: a recording row names its provider and a `source_url`; the fetcher of that provider
knows how to read it (Twilio: HTTP basic auth with the account's key against TWILIO_API_BASE; a
provider that hands out pre-signed links, such as Alibaba Cloud's OSS URLs: a plain GET, `HttpFetcher`).
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from callback.models import CallRecording
from callback.recordings.audio import simulated_wav

log = logging.getLogger(__name__)

# A recording larger than this is refused (a 2-hour dual-channel WAV at 8 kHz is about 230 MB).
FETCH_MAX_BYTES = 512 * 1024 * 1024
TWILIO_RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
TWILIO_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SIMULATED_SCHEME = "simulated"


class FetchError(Exception):
    """The audio could not be had this time (network, HTTP status, not audio); worth trying again."""


@dataclass(frozen=True)
class FetchedAudio:
    data: bytes
    content_type: str | None


class RecordingFetcher(Protocol):
    """Read a provider's recording, and delete the provider's copy."""

    # Whether `delete_at_provider` really deletes (DELETE_PROVIDER_RECORDINGS asks only such fetchers).
    deletes_provider_copy: bool

    def fetch(self, recording: CallRecording) -> FetchedAudio:
        """Return the audio of the recording; raise FetchError when it cannot be had now."""
        ...

    def delete_at_provider(self, recording: CallRecording) -> None:
        """Delete the provider's copy (one already gone is fine); raise FetchError on failure."""
        ...


def _read_capped(response: requests.Response) -> bytes:
    chunks = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > FETCH_MAX_BYTES:
            raise FetchError(f"the recording is larger than {FETCH_MAX_BYTES // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


class HttpFetcher:
    """GET the source URL as it is (a pre-signed link); the provider's copy is left to its own retention."""

    deletes_provider_copy = False

    def __init__(self, *, timeout_seconds: float = 30, session: requests.Session | None = None) -> None:
        self.timeout = timeout_seconds
        self.session = session or requests.Session()

    def _get(self, url: str, auth: tuple[str, str] | None = None) -> FetchedAudio:
        try:
            with self.session.get(url, auth=auth, timeout=self.timeout, stream=True) as response:
                if response.status_code != 200:
                    raise FetchError(f"HTTP {response.status_code} from the provider")
                data = _read_capped(response)
                content_type = response.headers.get("Content-Type")
        except RequestException as error:
            raise FetchError(f"{type(error).__name__}: {error}") from None
        return FetchedAudio(data, content_type)

    def fetch(self, recording: CallRecording) -> FetchedAudio:
        if not recording.source_url:
            raise FetchError("the recording has no source URL")
        return self._get(recording.source_url)

    def delete_at_provider(self, recording: CallRecording) -> None:
        """Do nothing: such a provider's links expire by themselves."""


def twilio_media_url(api_base: str, account_sid: str, recording_sid: str) -> str:
    """Return the URL of a Twilio recording's WAV under the API base (a regional edge or a test double)."""
    if not TWILIO_ACCOUNT_SID.match(account_sid) or not TWILIO_RECORDING_SID.match(recording_sid):
        raise ValueError("not a Twilio account and recording sid")
    return f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Recordings/{recording_sid}.wav"


class TwilioFetcher(HttpFetcher):
    """Twilio's recordings: the media with the account's credentials, deletion through the twilio library."""

    deletes_provider_copy = True

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str,
        timeout_seconds: float = 30,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(timeout_seconds=timeout_seconds, session=session)
        self.auth = (account_sid, auth_token)
        self.api_base = api_base.rstrip("/")
        self.client = Client(account_sid, auth_token)
        self.client.api.base_url = self.api_base

    def fetch(self, recording: CallRecording) -> FetchedAudio:
        url = recording.source_url or ""
        # Our credentials go to our own API base only, whatever a row says.
        if not url.startswith(self.api_base + "/"):
            raise FetchError("the recording's URL is not under TWILIO_API_BASE")
        return self._get(url, auth=self.auth)

    def delete_at_provider(self, recording: CallRecording) -> None:
        sid = recording.provider_recording_id or ""
        try:
            self.client.recordings(sid).delete()
        except TwilioRestException as error:
            if error.status == 404:
                return  # already gone
            raise FetchError(f"Twilio {error.status} error {error.code}: {error.msg}") from None
        except (TwilioException, RequestException, OSError) as error:
            raise FetchError(f"{type(error).__name__}: {error}") from None


def simulated_source_url(recording_sid: str, seconds: int) -> str:
    """Return the source of a simulated recording: the simulation makes its audio on demand."""
    return f"{SIMULATED_SCHEME}:{recording_sid}?seconds={seconds}"


class SimulatedFetcher:
    """The simulated provider's recordings: a small real WAV per call, made when fetched."""

    deletes_provider_copy = False

    def fetch(self, recording: CallRecording) -> FetchedAudio:
        source = urlsplit(recording.source_url or "")
        if source.scheme != SIMULATED_SCHEME:
            raise FetchError("not a simulated recording")
        seconds = parse_qs(source.query).get("seconds", ["5"])[0]
        length = min(max(int(seconds) if seconds.isdigit() else 5, 1), 20)
        return FetchedAudio(simulated_wav(length, seed=source.path), "audio/wav")

    def delete_at_provider(self, recording: CallRecording) -> None:
        """Nothing to delete: the simulation keeps no copy."""


def make_fetchers(config: Mapping[str, Any]) -> dict[str, RecordingFetcher]:
    """Return a fetcher for each provider whose recordings this instance may hold."""
    fetchers: dict[str, RecordingFetcher] = {
        "simulated": SimulatedFetcher(),
        # Alibaba Cloud's VoiceRecordReport gives a pre-signed OSS link (valid 7 days): no credentials, so
        # always present, and recordings noted before a switch of TELEPHONY are still fetched.
        "aliyun": HttpFetcher(),
    }
    if config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"):
        fetchers["twilio"] = TwilioFetcher(
            account_sid=str(config["TWILIO_ACCOUNT_SID"]),
            auth_token=str(config["TWILIO_AUTH_TOKEN"]),
            api_base=str(config.get("TWILIO_API_BASE") or "https://api.twilio.com"),
        )
    return fetchers
