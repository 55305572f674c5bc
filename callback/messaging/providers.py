"""Message providers: Twilio Messaging and Alibaba Cloud SMS through their own SDKs, and a simulated one.

Each sends one templated, one-way text and sorts every failure into "certainly not sent" (MessageRejected)
or "may have been sent" (MessageUnknown): a message whose answer was lost is never sent again blindly.
"""

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

log = logging.getLogger(__name__)

# Twilio MessageStatus → our state; anything else (accepted, queued, sending, sent, scheduled) is `sent`.
TWILIO_DELIVERED = frozenset({"delivered", "read"})
TWILIO_FAILED = frozenset({"undelivered", "failed", "canceled"})


@dataclass(frozen=True)
class OutboundMessage:
    followup_id: int
    to: str  # E.164
    body: str  # what Twilio and the simulation send
    template_param: dict[str, str]  # what Alibaba fills its approved template with
    status_url: str  # where Twilio posts the delivery status


@dataclass(frozen=True)
class MessageSent:
    message_id: str
    state: str = "sent"  # "delivered" when the provider already knows (the simulation)


@dataclass(frozen=True)
class MessageRejected:
    reason: str


@dataclass(frozen=True)
class MessageUnknown:
    reason: str


SendResult = MessageSent | MessageRejected | MessageUnknown


class Messenger(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendResult:
        """Send one message; never raise for the provider's own failures."""
        ...


def twilio_state(status: str | None) -> str:
    """Map a Twilio MessageStatus to a follow-up state."""
    if status in TWILIO_DELIVERED:
        return "delivered"
    if status in TWILIO_FAILED:
        return "failed"
    return "sent"


class TwilioMessenger:
    """Twilio Messaging: `messages.create` with a status callback under /twilio/."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str,
        timeout_seconds: float = 10,
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout_seconds))
        self.client.api.base_url = api_base.rstrip("/")
        self.from_number = from_number

    def send(self, message: OutboundMessage) -> SendResult:
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            created = self.client.messages.create(
                to=message.to, from_=self.from_number, body=message.body, status_callback=message.status_url
            )
        except TwilioRestException as error:
            reason = f"Twilio {error.status} error {error.code}: {error.msg}"
            return MessageUnknown(reason) if error.status >= 500 else MessageRejected(reason)
        except (TwilioException, RequestException, OSError) as error:
            return MessageUnknown(f"{type(error).__name__}: {error}")
        if not created.sid:
            return MessageUnknown("Twilio answered without a message sid")
        return MessageSent(created.sid, twilio_state(created.status))


class AliyunSmsMessenger:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25 SendSms): an approved template and signature; receipts come
    back by the SmsReport HTTP push to /aliyun/<token>/sms-report."""

    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str,
        sign_name: str,
        template_code: str,
        timeout_seconds: float = 10,
    ) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models as open_api_models
        from darabonba.runtime import RuntimeOptions

        from callback.telephony.aliyun_provider import endpoint_parts

        protocol, host = endpoint_parts(endpoint)
        self.client = Client(
            open_api_models.Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                endpoint=host,
                protocol=protocol,
                read_timeout=int(timeout_seconds * 1000),
                connect_timeout=int(timeout_seconds * 1000),
            )
        )
        self.sign_name = sign_name
        self.template_code = template_code
        # No automatic retries inside the SDK: a retried SendSms could send a second message.
        self.runtime = RuntimeOptions(autoretry=False, max_attempts=0)

    def send(self, message: OutboundMessage) -> SendResult:
        from alibabacloud_dysmsapi20170525 import models as sms_models
        from darabonba.exceptions import ResponseException

        request = sms_models.SendSmsRequest(
            phone_numbers=message.to.removeprefix("+86"),
            sign_name=self.sign_name,
            template_code=self.template_code,
            template_param=json.dumps(message.template_param, ensure_ascii=False),
            out_id=str(message.followup_id),
        )
        try:
            response = self.client.send_sms_with_options(request, self.runtime)
        except ResponseException as error:
            status = getattr(error, "status_code", None)
            reason = f"Alibaba Cloud {status or ''} {error.code}: {error.message}"
            return MessageUnknown(reason) if status is not None and status >= 500 else MessageRejected(reason)
        except Exception as error:  # timeouts, resets: the SDK wraps them in many types
            return MessageUnknown(f"{type(error).__name__}: {error}")
        body = response.body
        if body is None:
            return MessageUnknown("SendSms answered without a body")
        if body.code != "OK":
            return MessageRejected(f"Alibaba Cloud {body.code}: {body.message}")
        if not body.biz_id:
            return MessageUnknown("SendSms answered OK without a BizId")
        return MessageSent(body.biz_id)


class SimulatedMessenger:
    """The simulation: every message to a mainland mobile is delivered at once (`make run` shows it)."""

    name = "simulated"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        log.info("simulated message %s sent", message.followup_id)
        return MessageSent(f"SMsim{message.followup_id:010d}", "delivered")


def make_messenger(app: Flask) -> Messenger:
    """Return the messenger SMS_PROVIDER (or TELEPHONY) names, configured from the app."""
    settings = app.extensions["callback.settings"]
    config = app.config
    timeout = float(config.get("TWILIO_HTTP_TIMEOUT_SECONDS") or 10)
    if settings.sms_provider == "twilio":
        return TwilioMessenger(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            from_number=config["TWILIO_FROM"],
            api_base=config["TWILIO_API_BASE"],
            timeout_seconds=timeout,
        )
    if settings.sms_provider == "aliyun":
        return AliyunSmsMessenger(
            access_key_id=config["ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=config["ALIYUN_ACCESS_KEY_SECRET"],
            endpoint=config.get("ALIYUN_SMS_ENDPOINT") or "https://dysmsapi.aliyuncs.com",
            sign_name=settings.sms_sign_name,
            template_code=settings.sms_template_code,
            timeout_seconds=timeout,
        )
    return SimulatedMessenger()
