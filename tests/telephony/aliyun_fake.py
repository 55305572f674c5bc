"""A fake Alibaba Cloud Voice Service (dyvmsapi) on 127.0.0.1 speaking the documented wire format.

It checks what the real endpoint checks before doing anything: the RPC action and version headers, the
ACS3-HMAC-SHA256 signature (V3 signature: canonical request of method, path, sorted RFC 3986 query,
the signed headers and the payload hash, signed with the AccessKey secret), a fresh signature nonce, and
each action's required parameters. Then it answers as the API reference documents: SmartCall
`{"Code": "OK", "CallId": …, "RequestId": …}`, QueryCallDetailByCallId `{"Code": "OK", "Data": "<json>"}`,
CancelCall `{"Code": "OK", "Status": true}`; refusals as `{"Code": …, "Message": …, "RequestId": …}`.
"""

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from tests.fake_http import FakeServer, JsonHandler

VERSION = "2017-05-25"
REQUIRED = {
    "SmartCall": ("CalledShowNumber", "CalledNumber", "VoiceCode"),
    "QueryCallDetailByCallId": ("CallId", "ProdId", "QueryDate"),
    "CancelCall": ("CallId",),
    # Short Message Service (dysmsapi, the same API version): the message follow-up.
    "SendSms": ("PhoneNumbers", "SignName", "TemplateCode"),
}
MUST_SIGN = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)


def _encode(value: str) -> str:
    """RFC 3986 percent-encoding, as the signature documentation specifies (space %20, * %2A, ~ kept)."""
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(query: list[tuple[str, str]]) -> str:
    """Return the canonical query string: encoded names and values, sorted by name, name=value joined by &."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query, key=lambda item: _encode(item[0])))


def expected_signature(
    secret: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    signed: list[str],
) -> str:
    """Return the hex ACS3-HMAC-SHA256 signature of a request, per Alibaba Cloud's V3 signature document."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
    canonical_request = "\n".join(
        [
            method,
            path or "/",
            canonical_query(query),
            canonical_headers,
            ";".join(signed),
            headers.get("x-acs-content-sha256", ""),
        ]
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode()).hexdigest()
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeCall:
    call_id: str
    params: dict[str, str]
    # What QueryCallDetailByCallId answers about it (set by the test); cancelled by CancelCall.
    detail: dict[str, Any] | None = None
    cancelled: bool = False


@dataclass
class FakeVoiceService:
    """The fake's state: the keys it accepts, the calls it placed, what it was asked, what to do next."""

    access_key_id: str
    access_key_secret: str
    calls: list[FakeCall] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    # The next SmartCall: "ok", "lose" (create the call, then drop the connection), or a Code to refuse with.
    next_smart_call: list[str] = field(default_factory=list)
    # SendSms: the messages sent, and what the next SendSms does ("ok" or a Code to refuse with).
    messages: list[dict[str, str]] = field(default_factory=list)
    next_send_sms: list[str] = field(default_factory=list)

    def call(self, call_id: str) -> FakeCall:
        return next(call for call in self.calls if call.call_id == call_id)


class _Handler(JsonHandler):
    service: FakeVoiceService
    content_type = "application/json;charset=utf-8"
    ensure_ascii = False

    def _refuse(self, status: int, code: str, message: str) -> None:
        self.service.refusals.append(code)
        self._answer(status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()})

    def do_POST(self) -> None:
        payload = self.read_body()
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        action = headers.get("x-acs-action", "")
        if action not in REQUIRED or headers.get("x-acs-version") != VERSION:
            self._refuse(404, "InvalidAction.NotFound", f"Specified api {action!r} is not found.")
            return
        authorization = headers.get("authorization", "")
        scheme, _, fields_text = authorization.partition(" ")
        fields = dict(item.split("=", 1) for item in fields_text.split(",") if "=" in item)
        signed = fields.get("SignedHeaders", "").split(";")
        if scheme != "ACS3-HMAC-SHA256" or any(name not in signed for name in MUST_SIGN):
            self._refuse(400, "IncompleteSignature", "The request signature does not conform to standards.")
            return
        if fields.get("Credential") != self.service.access_key_id:
            self._refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            return
        if hashlib.sha256(payload).hexdigest() != headers.get("x-acs-content-sha256"):
            self._refuse(400, "IncompleteSignature", "The payload hash does not match.")
            return
        wanted = expected_signature(
            self.service.access_key_secret, "POST", parts.path, query, headers, sorted(signed)
        )
        if not hmac.compare_digest(wanted, fields.get("Signature", "")):
            self._refuse(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
            return
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self.service.nonces:
            self._refuse(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            return
        self.service.nonces.add(nonce)
        params = dict(query) | dict(parse_qsl(payload.decode(), keep_blank_values=True))
        missing = [name for name in REQUIRED[action] if not params.get(name)]
        if missing:
            self._refuse(
                400, "MissingParameter", f"The input parameter {missing[0]} that is mandatory is missing."
            )
            return
        self.service.requests.append({"action": action, "params": params})
        getattr(self, f"_{action}")(params)

    def _SmartCall(self, params: dict[str, str]) -> None:
        behaviour = self.service.next_smart_call.pop(0) if self.service.next_smart_call else "ok"
        if behaviour not in ("ok", "lose"):
            self._refuse(200, behaviour, "refused by the fake as the test asked")
            return
        call_id = f"{116000000000 + len(self.service.calls)}^{102800000000 + len(self.service.calls)}"
        self.service.calls.append(FakeCall(call_id, params))
        if behaviour == "lose":
            self.drop_connection()  # the call exists; its response never arrives
            return
        self._answer(200, {"Code": "OK", "Message": "OK", "CallId": call_id, "RequestId": str(uuid.uuid4())})

    def _QueryCallDetailByCallId(self, params: dict[str, str]) -> None:
        found = [call for call in self.service.calls if call.call_id == params["CallId"]]
        data = json.dumps(found[0].detail, ensure_ascii=False) if found and found[0].detail else None
        self._answer(200, {"Code": "OK", "Message": "OK", "Data": data, "RequestId": str(uuid.uuid4())})

    def _SendSms(self, params: dict[str, str]) -> None:
        behaviour = self.service.next_send_sms.pop(0) if self.service.next_send_sms else "ok"
        if behaviour != "ok":
            self._refuse(200, behaviour, "refused by the fake as the test asked")
            return
        try:
            json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            self._refuse(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            return
        biz_id = f"{900000000000000 + len(self.service.messages)}^0"
        self.service.messages.append({"BizId": biz_id, **params})
        self._answer(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())})

    def _CancelCall(self, params: dict[str, str]) -> None:
        found = [call for call in self.service.calls if call.call_id == params["CallId"]]
        for call in found:
            call.cancelled = True
        self._answer(
            200, {"Code": "OK", "Message": "OK", "Status": bool(found), "RequestId": str(uuid.uuid4())}
        )


class FakeVoiceServer(FakeServer[FakeVoiceService]):
    """Run the fake on 127.0.0.1 in a thread; `url` is what ALIYUN_VMS_ENDPOINT is set to."""

    handler = _Handler
