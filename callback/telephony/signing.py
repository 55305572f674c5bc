"""Webhook URLs and X-Twilio-Signature: built and checked against PUBLIC_BASE_URL, never the request's host.

Behind a TLS-terminating proxy the app sees http://10.0.0.5:8000/…, while Twilio signed https://public/…;
rebuilding the URL from PUBLIC_BASE_URL + path + query makes the check right in both places.
"""

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator, get_signature_algorithm

from callback.settings import SIMULATION_PUBLIC_BASE_URL

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
WEBHOOK_PREFIX = "/twilio"


def voice_path(attempt_id: int) -> str:
    """Return the path Twilio fetches the call's first TwiML from, once the customer answers."""
    return f"{WEBHOOK_PREFIX}/voice/{attempt_id}"


def status_path(attempt_id: int) -> str:
    """Return the path of the call's status callbacks; the attempt id in it ties a call to its attempt."""
    return f"{WEBHOOK_PREFIX}/status/{attempt_id}"


def recording_path(attempt_id: int) -> str:
    """Return the path of the call's recording status callback (the recording is ready)."""
    return f"{WEBHOOK_PREFIX}/recording/{attempt_id}"


def gather_path(attempt_id: int, question: str, try_number: int) -> str:
    """Return the path that receives the keypad answer to one question (try 1, 2 or 3)."""
    return f"{WEBHOOK_PREFIX}/gather/{attempt_id}?" + urlencode({"q": question, "try": try_number})


def public_base_url(config: Mapping[str, Any]) -> str:
    """Return the origin Twilio calls back (the simulated customer uses a local default)."""
    base = config.get("PUBLIC_BASE_URL") or SIMULATION_PUBLIC_BASE_URL
    return str(base).rstrip("/")


def public_url(config: Mapping[str, Any], path: str) -> str:
    """Return the absolute URL of a webhook path as the outside world sees it."""
    return public_base_url(config) + path


def webhook_auth_token(config: Mapping[str, Any]) -> str:
    """Return the secret webhooks are signed with: the Twilio auth token, or the simulation's."""
    if config.get("TELEPHONY") == "twilio":
        return str(config["TWILIO_AUTH_TOKEN"])
    if config.get("SIMULATION_AUTH_TOKEN"):
        return str(config["SIMULATION_AUTH_TOKEN"])
    # Derived from the instance's secret, so the web server and the dialer agree without configuration.
    return hmac.new(str(config["SECRET_KEY"]).encode(), b"simulated-twilio", hashlib.sha256).hexdigest()


def signature(config: Mapping[str, Any], url: str, params: Mapping[str, Any]) -> str:
    """Return the X-Twilio-Signature Twilio would send for a POST of `params` to `url`."""
    computed: str = RequestValidator(webhook_auth_token(config)).compute_signature(url, params)
    return computed


def is_signed(
    config: Mapping[str, Any],
    path: str,
    query_string: str,
    params: Mapping[str, Any],
    given: str | None,
    signature_settings: str | None = None,
) -> bool:
    """Tell whether a webhook request carries a valid signature for PUBLIC_BASE_URL + path + query."""
    if not given:
        return False
    url = public_url(config, path) + (f"?{query_string}" if query_string else "")
    validator = RequestValidator(webhook_auth_token(config))
    valid: bool = validator.validate(url, params, given, get_signature_algorithm(signature_settings))
    return valid
