"""The Alibaba Cloud Voice Service (语音服务) provider: SmartCall through Alibaba's own SDK.

Calls are placed with `SmartCall` (dyvmsapi 2017-05-25) against ALIYUN_VMS_ENDPOINT; the conversation then
runs through the SmartCall HTTP callback (智能外呼回调, web/aliyun_hooks.py) and the call ends with the
VoiceReport receipt (呼叫记录回执). `OutId` and `DynamicId` carry our attempt id, so a call whose SmartCall
response was lost is adopted from its first callback or receipt: never dialled again blindly.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_dyvmsapi20170525 import models as vms_models
from alibabacloud_dyvmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from darabonba.exceptions import ResponseException
from darabonba.runtime import RuntimeOptions

from callback.telephony.port import (
    CallOutcomeUnknown,
    CallPlaced,
    CallRejected,
    OutboundCall,
    PlaceResult,
)

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://dyvmsapi.aliyuncs.com"
# QueryCallDetailByCallId's product id of 智能外呼 (intelligent outbound calls).
SMART_CALL_PROD_ID = 11030000180001
# Alibaba's `Code` values after which the number itself cannot be called.
INVALID_NUMBER_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.INVALID_CALLED_NUMBER",
        "isv.CALLED_NUMBER_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }
)
# Codes of a wrong account, key, signature or caller number: every call would fail the same way.
FATAL_CODES = frozenset(
    {
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "Forbidden.RAM",
        "isp.RAM_PERMISSION_DENY",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.CALLED_SHOW_NUMBER_ILLEGAL",
        "isv.DISPLAY_NUMBER_ILLEGAL",
        "isv.VOICE_FILE_ILLEGAL",
        "isv.TTS_TEMPLATE_ILLEGAL",
        "isv.OUT_OF_SERVICE",
        "isv.AMOUNT_NOT_ENOUGH",
    }
)
# Characters the SmartCall callback refuses in what it carries (SmartCall's 接口说明).
FORBIDDEN_CHARACTERS = str.maketrans("", "", '@=:"$\\{}^*¥')


@dataclass(frozen=True)
class AliyunCallSettings:
    """What every SmartCall of this deployment carries besides the number."""

    called_show_number: str
    voice_code: str
    asr_model_id: str | None = None
    record: bool = True
    mute_time_ms: int = 10000
    pause_time_ms: int = 800


def endpoint_parts(endpoint: str) -> tuple[str, str]:
    """Return (protocol, host[:port]) of ALIYUN_VMS_ENDPOINT (`https://dyvmsapi.aliyuncs.com` or a host)."""
    if "://" not in endpoint:
        return "https", endpoint.strip("/")
    parts = urlsplit(endpoint)
    return parts.scheme.lower(), parts.netloc


def dynamic_id(attempt_id: int, question: str | None = None, try_number: int = 1) -> str:
    """Return the DynamicId a SmartCall callback carries back: the attempt, the question put and its try."""
    return f"a{attempt_id}" if question is None else f"a{attempt_id}.{question}.{try_number}"


def parse_dynamic_id(value: str | None) -> tuple[int, str | None, int] | None:
    """Return (attempt id, question or None, try) from a DynamicId this app set, or None."""
    if not value or not value.startswith("a"):
        return None
    head, _, rest = value[1:].partition(".")
    if not head.isdigit() or len(head) > 15:
        return None
    if not rest:
        return int(head), None, 1
    question, _, try_text = rest.rpartition(".")
    if not question or not try_text.isdigit() or len(try_text) > 2:
        return None
    return int(head), question, int(try_text)


def speakable(text: str) -> str:
    """Return text without the characters the SmartCall platform refuses."""
    return text.translate(FORBIDDEN_CHARACTERS)


def smart_call_request(call: OutboundCall, first_prompt: str, greeting: str, cfg: AliyunCallSettings) -> Any:
    """Build the SmartCall request of a call: the opening voice, then the first question as TTS. Pure."""
    voice_code = cfg.voice_code if "$prompt$" in cfg.voice_code else f"{cfg.voice_code},$prompt$"
    return vms_models.SmartCallRequest(
        called_show_number=cfg.called_show_number,
        called_number=call.to.removeprefix("+86"),
        voice_code=voice_code,
        voice_code_param=json.dumps(
            {"greeting": speakable(greeting), "prompt": speakable(first_prompt)}, ensure_ascii=False
        ),
        out_id=str(call.attempt_id),
        dynamic_id=dynamic_id(call.attempt_id),
        record_flag=cfg.record,
        asr_model_id=cfg.asr_model_id or None,
        asr_base_id=None if cfg.asr_model_id else "customer_service_8k",
        action_code_break=True,
        mute_time=cfg.mute_time_ms,
        pause_time=cfg.pause_time_ms,
        session_timeout=call.time_limit_seconds,
    )


class AliyunProvider:
    """Place SmartCalls; the dialogue and the call's end come back through the /aliyun/ callbacks."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str,
        call_settings: AliyunCallSettings,
        first_prompt: str,
        greeting: str,
        timeout_seconds: float = 10,
    ) -> None:
        protocol, host = endpoint_parts(endpoint or DEFAULT_ENDPOINT)
        config = open_api_models.Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=host,
            protocol=protocol,
            read_timeout=int(timeout_seconds * 1000),
            connect_timeout=int(timeout_seconds * 1000),
        )
        self.client = Client(config)
        self.call_settings = call_settings
        self.first_prompt = first_prompt
        self.greeting = greeting
        # No automatic retries inside the SDK: a retried SmartCall could place a second call.
        self.runtime = RuntimeOptions(autoretry=False, max_attempts=0)

    def place_call(self, call: OutboundCall) -> PlaceResult:
        """Ask SmartCall to place the call; sort every failure into certainly-not-placed or unknown."""
        request = smart_call_request(call, self.first_prompt, self.greeting, self.call_settings)
        try:
            response = self.client.smart_call_with_options(request, self.runtime)
        except ResponseException as error:
            return _classify(error.code, error.message, getattr(error, "status_code", None))
        except Exception as error:  # timeouts, resets: the SDK wraps them in many types
            return CallOutcomeUnknown(f"{type(error).__name__}: {error}")
        body = response.body
        if body is None:
            return CallOutcomeUnknown("SmartCall answered without a body")
        if body.code != "OK":
            return _classify(body.code, body.message, response.status_code)
        if not body.call_id:
            return CallOutcomeUnknown("SmartCall answered OK without a CallId")
        return CallPlaced(body.call_id)

    def find_call(self, call: OutboundCall, placed_after: datetime) -> str | None:
        """Find nothing: SmartCall has no lookup by number; the call is adopted from its callbacks.

        Its first dialogue callback (DynamicId) and its VoiceReport (out_id) both name our attempt, so the
        attempt stays `unknown` (never redialled) until one of them arrives, or `tick` ends it.
        """
        return None

    def call_detail(self, call_id: str, placed_at: datetime) -> dict[str, Any] | None:
        """Return QueryCallDetailByCallId's record of a call (its `Data`), or None if not (yet) known."""
        request = vms_models.QueryCallDetailByCallIdRequest(
            call_id=call_id, prod_id=SMART_CALL_PROD_ID, query_date=int(placed_at.timestamp() * 1000)
        )
        try:
            response = self.client.query_call_detail_by_call_id_with_options(request, self.runtime)
        except Exception as error:  # a lookup never fails the caller
            log.warning("QueryCallDetailByCallId failed: %s", type(error).__name__)
            return None
        body = response.body
        if body is None or body.code != "OK" or not body.data:
            return None
        try:
            data = json.loads(body.data)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def end_call(self, sid: str) -> None:
        """Hang up a call in progress (CancelCall); never raise for the provider's own failures.

        The dialogue callback also answers `hangup` at the call's next turn once its order is cancelled, so
        the call ends even when CancelCall cannot reach it.
        """
        try:
            response = self.client.cancel_call_with_options(
                vms_models.CancelCallRequest(call_id=sid), self.runtime
            )
        except Exception as error:  # never raise for the provider's own failures
            log.warning("CancelCall failed: %s", type(error).__name__)
            return
        if response.body is None or response.body.code != "OK":
            log.warning("CancelCall refused: %s", response.body.code if response.body else "no body")

    def run_pending(self) -> None:
        """Do nothing: the platform runs the call and posts its callbacks."""


def _classify(code: str | None, message: str | None, status: int | None) -> PlaceResult:
    reason = f"Alibaba Cloud {status or ''} {code}: {message}".replace("  ", " ")
    if status is not None and status >= 500:
        return CallOutcomeUnknown(reason)
    if code in INVALID_NUMBER_CODES:
        return CallRejected(reason, invalid_number=True)
    if code in FATAL_CODES or status in (401, 403, 404):
        return CallRejected(reason, fatal=True)
    if code is None:
        return CallOutcomeUnknown(reason)
    return CallRejected(reason)
