"""The checked settings: the merged configuration (defaults in config_defaults.py), checked once at start-up
and passed to services as a typed `Settings`."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from callback.call_slots import CallSlot, parse_call_slots
from callback.models.task import TaskKind
from callback.workdays import CallingHours, WorkCalendar, parse_dates

SIMULATED_OUTCOMES = ("agree", "disagree", "no_answer", "busy", "machine", "hang_up")
SIMULATION_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
ALIYUN_REQUIRED = (
    "ALIYUN_ACCESS_KEY_ID",
    "ALIYUN_ACCESS_KEY_SECRET",
    "ALIYUN_CALLED_SHOW_NUMBER",
    "ALIYUN_VMS_ENDPOINT",
    "ALIYUN_VOICE_CODE",
    "ALIYUN_CALLBACK_TOKEN",
)


class ConfigError(RuntimeError):
    """The configuration cannot run the product; the message lists every problem."""


@dataclass(frozen=True)
class Settings:
    tz: ZoneInfo
    calling_hours: CallingHours
    calendar: WorkCalendar
    offline_tolerance_days: int
    repeat_trips_min: int
    max_attempts: int
    lease_minutes: int
    task_max_age_days: int
    auto_kinds: frozenset[str]
    auto_max_attempts: int
    dialer_calls_per_second: float
    intake_window_workdays: int
    completion_window_workdays: int
    api_max_batch: int
    telephony: str
    retry_delays: dict[str, timedelta]
    case_sla_workdays: int
    letter_issuer: str
    letter_prefix: str
    # Automated calls; defaults keep Settings(...) built by hand in tests working.
    dial_timeout: timedelta = timedelta(minutes=15)
    ring_seconds: int = 30
    dialer_idle_seconds: float = 5.0
    simulation_mix: tuple[tuple[str, int], ...] = (("agree", 1),)
    # Share (percent) of simulated customers at the phone in each calling slot; a slot left out: all of them.
    simulation_slot_answer: tuple[tuple[str, int], ...] = ()
    # CALL_SLOTS: the retry rotation; empty (the default of hand-built Settings) keeps the fixed delays.
    call_slots: tuple[CallSlot, ...] = ()
    # Call recordings: the directory (empty: <instance>/recordings), provider deletion, upload limit.
    recordings_path: str = ""
    delete_provider_recordings: bool = False
    recording_max_bytes: int = 20 * 1024 * 1024
    # Sessions and sign-in (issue 9).
    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    login_max_failures: int = 5
    login_lockout: timedelta = timedelta(minutes=15)
    login_max_failures_per_address: int = 30
    password_hash_method: str = "scrypt"  # noqa: S105  (a hash method, not a password)
    trusted_proxies: int = 0
    # Days after an order finished before purge-personal-data de-identifies it; None: only when asked.
    retention_days: int | None = None
    # An appointment comes back to the operator who booked it alone for this long, then to anyone.
    appointment_owner_minutes: int = 30
    # Message follow-up and spot checks (issue 13).
    sms_followup: bool = True
    sms_provider: str = "simulated"
    sms_per_second: float = 1.0
    sms_followup_within: timedelta = timedelta(hours=48)
    service_hotline: str = "95598"
    sms_sign_name: str = ""
    sms_template_code: str = ""
    sms_body: str = "{hotline}"
    qa_sample_per_operator: int = 5
    # Rates (issue 13): the sample below which a figure is indicative; AAPOR's e, None when estimated.
    min_sample: int = 30
    aapor_e: float | None = None
    # The case desk and notifications (issue 12).
    attachments_path: str = ""
    attachment_max_bytes: int = 10 * 1024 * 1024
    rectification_days: int = 10
    wecom_webhook_url: str = ""
    smtp: "SmtpSettings | None" = None
    supervision_office_emails: tuple[str, ...] = ()
    centre_head_emails: tuple[tuple[str, str], ...] = ()
    escalation_ladder: tuple[tuple[int, str], ...] = ((0, "assignee"),)
    digest_hour: int = 8
    outbox_max_attempts: int = 8
    notify_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    security: str  # none, starttls, ssl


ESCALATION_RUNGS = ("assignee", "centre_head", "supervision_office")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _ladder(value: Any, problems: list[str]) -> tuple[tuple[int, str], ...]:
    """Read ESCALATION_LADDER: "0:assignee,3:centre_head,7:supervision_office" or a list of pairs."""
    message = (
        "ESCALATION_LADDER must be 'days:rung' pairs with rungs among "
        + ", ".join(ESCALATION_RUNGS)
        + ", e.g. '0:assignee,3:centre_head,7:supervision_office'"
    )
    try:
        if isinstance(value, list | tuple):
            pairs = [(int(days), str(rung)) for days, rung in value]
        else:
            pairs = [
                (int(days), rung.strip())
                for days, rung in (item.split(":", 1) for item in str(value).split(",") if item.strip())
            ]
    except (TypeError, ValueError):
        problems.append(message)
        return ((0, "assignee"),)
    rungs = [rung for _, rung in pairs]
    if (
        not pairs
        or any(rung not in ESCALATION_RUNGS for rung in rungs)
        or len(set(rungs)) != len(rungs)
        or any(days < 0 for days, _ in pairs)
    ):
        problems.append(message)
        return ((0, "assignee"),)
    return tuple(sorted(pairs))


def _emails(config: Mapping[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = config.get(key) or []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    emails = tuple(str(item).strip() for item in items if str(item).strip())
    bad = [email for email in emails if not EMAIL_PATTERN.match(email)]
    if bad:
        problems.append(f"{key} must list e-mail addresses, got {bad!r}")
    return emails


def _notification_settings(config: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """Check the keys of the case desk and notifications (issue 12)."""
    wecom = config.get("WECOM_WEBHOOK_URL") or ""
    if wecom and not (isinstance(wecom, str) and wecom.startswith(("https://", "http://"))):
        problems.append(f"WECOM_WEBHOOK_URL must be an http(s) address, got {wecom!r}")
        wecom = ""
    smtp = None
    if config.get("SMTP_HOST"):
        security = str(config.get("SMTP_SECURITY") or "none")
        if security not in ("none", "starttls", "ssl"):
            problems.append(f"SMTP_SECURITY must be none, starttls or ssl, got {security!r}")
        sender = str(config.get("SMTP_FROM") or "")
        if not EMAIL_PATTERN.match(sender):
            problems.append(f"SMTP_HOST is set, so SMTP_FROM must be an e-mail address, got {sender!r}")
        smtp = SmtpSettings(
            host=str(config["SMTP_HOST"]),
            port=_int(config, "SMTP_PORT", problems, minimum=1),
            sender=sender,
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            security=security,
        )
    heads = config.get("CENTRE_HEAD_EMAILS") or {}
    if not isinstance(heads, Mapping) or any(
        not isinstance(address, str) or not EMAIL_PATTERN.match(address) for address in heads.values()
    ):
        problems.append("CENTRE_HEAD_EMAILS must map service centre names to e-mail addresses")
        heads = {}
    hour = _int(config, "DIGEST_HOUR", problems)
    if hour > 23:
        problems.append(f"DIGEST_HOUR must be an hour 0-23, got {hour!r}")
    attachments_path = config.get("ATTACHMENTS_PATH") or ""
    if not isinstance(attachments_path, str):
        problems.append(f"ATTACHMENTS_PATH must be a directory path, got {attachments_path!r}")
        attachments_path = ""
    try:
        timeout = float(config.get("NOTIFY_TIMEOUT_SECONDS"))  # type: ignore[arg-type]
        if not timeout > 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("NOTIFY_TIMEOUT_SECONDS must be a number above 0")
        timeout = 10.0
    return {
        "attachments_path": attachments_path,
        "attachment_max_bytes": _int(config, "ATTACHMENT_MAX_MB", problems, minimum=1) * 1024 * 1024,
        "rectification_days": _int(config, "RECTIFICATION_DAYS", problems, minimum=1),
        "wecom_webhook_url": wecom,
        "smtp": smtp,
        "supervision_office_emails": _emails(config, "SUPERVISION_OFFICE_EMAILS", problems),
        "centre_head_emails": tuple(sorted((str(k), str(v)) for k, v in heads.items())),
        "escalation_ladder": _ladder(config.get("ESCALATION_LADDER"), problems),
        "digest_hour": hour,
        "outbox_max_attempts": _int(config, "OUTBOX_MAX_ATTEMPTS", problems, minimum=1),
        "notify_timeout_seconds": timeout,
    }


def _int(config: Mapping[str, Any], key: str, problems: list[str], minimum: int = 0) -> int:
    value = config.get(key)
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        problems.append(f"{key} must be a whole number, got {value!r}")
        return minimum
    if (isinstance(value, float) and value != number) or number < minimum:
        problems.append(f"{key} must be a whole number of at least {minimum}, got {value!r}")
    return number


# werkzeug's methods: scrypt[:n:r:p] or pbkdf2[:hash[:iterations]].
_PASSWORD_HASH_METHOD = re.compile(r"scrypt(:\d+:\d+:\d+)?|pbkdf2(:sha(256|512)(:\d+)?)?")


def _password_hash_method(value: Any, problems: list[str]) -> str:
    if not isinstance(value, str) or not _PASSWORD_HASH_METHOD.fullmatch(value):
        problems.append(
            f"PASSWORD_HASH_METHOD must be scrypt[:n:r:p] or pbkdf2[:sha256[:iterations]], got {value!r}"
        )
        return "scrypt"
    return value


def _kinds(value: Any, problems: list[str]) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    kinds = frozenset(str(item).strip() for item in items if str(item).strip())
    unknown = kinds - {kind.value for kind in TaskKind}
    if unknown:
        problems.append(
            f"AUTO_KINDS has unknown task kinds {sorted(unknown)}; use intake, due_date, completion"
        )
    return kinds


def _retry_delays(value: Any, problems: list[str]) -> dict[str, timedelta]:
    failed = ("busy", "no_answer", "voicemail")
    if not isinstance(value, Mapping) or set(value) != set(failed):
        problems.append(f"RETRY_DELAY_MINUTES must give minutes for each of {', '.join(failed)}")
        return {name: timedelta(hours=1) for name in failed}
    delays = {}
    for name in failed:
        minutes = value[name]
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
            problems.append(f"RETRY_DELAY_MINUTES[{name!r}] must be a number of minutes ≥ 0")
            minutes = 60
        delays[name] = timedelta(minutes=minutes)
    return delays


def _call_slots(value: Any, problems: list[str]) -> tuple[CallSlot, ...]:
    try:
        return parse_call_slots(value)
    except ValueError as error:
        problems.append(
            f"CALL_SLOTS: {error} (e.g. 'weekday_morning=workday 08:00-12:00,weekend=offday 08:00-20:00'; "
            "empty for fixed retry delays)"
        )
        return ()


def _simulation_slot_answer(
    value: Any, slots: tuple[CallSlot, ...], problems: list[str]
) -> tuple[tuple[str, int], ...]:
    """Read SIMULATION_SLOT_ANSWER: "weekday_evening=85,weekend=70" or a mapping; percent per slot."""
    names = [slot.name for slot in slots]
    message = (
        "SIMULATION_SLOT_ANSWER must give whole percentages 0-100 to slots of CALL_SLOTS ("
        + (", ".join(names) or "none configured")
        + "), e.g. 'weekday_morning=40,weekday_evening=85'"
    )
    if value in (None, ""):
        return ()
    pairs: list[tuple[Any, ...]]
    try:
        if isinstance(value, Mapping):
            pairs = [(str(name), value[name]) for name in value]
        else:
            pairs = [tuple(item.split("=", 1)) for item in str(value).split(",") if item.strip()]
        shares = tuple((str(name).strip(), int(str(share).strip())) for name, share in pairs)
    except (TypeError, ValueError):
        problems.append(message)
        return ()
    given = [name for name, _ in shares]
    if (
        any(name not in names for name in given)
        or len(set(given)) != len(given)
        or any(not 0 <= share <= 100 for _, share in shares)
    ):
        problems.append(message)
        return ()
    return shares


def _simulation_mix(value: Any, problems: list[str]) -> tuple[tuple[str, int], ...]:
    """Read SIMULATION_MIX: "agree=45,busy=8,…" or a mapping of outcome to weight."""
    message = (
        "SIMULATION_MIX must give whole-number weights to outcomes among "
        + ", ".join(SIMULATED_OUTCOMES)
        + ", e.g. 'agree=45,no_answer=10'"
    )
    pairs: list[tuple[Any, ...]]
    try:
        if isinstance(value, Mapping):
            pairs = [(str(name), value[name]) for name in value]
        else:
            pairs = [tuple(item.split("=", 1)) for item in str(value).split(",") if item.strip()]
        mix = tuple((str(name).strip(), int(str(weight).strip())) for name, weight in pairs)
    except (TypeError, ValueError):
        problems.append(message)
        return (("agree", 1),)
    names = [name for name, _ in mix]
    if (
        not mix
        or any(name not in SIMULATED_OUTCOMES for name in names)
        or len(set(names)) != len(names)
        or any(weight < 0 for _, weight in mix)
        or sum(weight for _, weight in mix) == 0
    ):
        problems.append(message)
        return (("agree", 1),)
    return mix


URL_PATTERN = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(com|cn|net|org|gov|top|xyz|info|cc|io)\b)", re.IGNORECASE
)


def has_url(text: str) -> bool:
    """Tell whether a message text carries a link (carriers in mainland China block those)."""
    return URL_PATTERN.search(text) is not None


def _sms_settings(config: Mapping[str, Any], telephony: str, problems: list[str]) -> dict[str, Any]:
    """Check the message follow-up keys (issue 13); return the Settings fields they give."""
    enabled = config.get("SMS_FOLLOWUP", True)
    if not isinstance(enabled, bool):
        problems.append(f"SMS_FOLLOWUP must be true or false, got {enabled!r}")
    provider = str(config.get("SMS_PROVIDER") or telephony)
    if provider not in ("simulated", "twilio", "aliyun"):
        problems.append(f"SMS_PROVIDER must be simulated, twilio or aliyun, got {provider!r}")
    try:
        per_second = float(config.get("SMS_PER_SECOND", 1))
        if not per_second > 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("SMS_PER_SECOND must be a number above 0")
        per_second = 1.0
    hotline = str(config.get("SERVICE_HOTLINE") or "")
    if not re.fullmatch(r"[0-9][0-9-]{2,19}", hotline):
        problems.append(f"SERVICE_HOTLINE must be a phone number such as 95598, got {hotline!r}")
    sign = str(config.get("SMS_SIGN_NAME") or "")
    template = str(config.get("SMS_TEMPLATE_CODE") or "")
    body = str(config.get("SMS_TWILIO_BODY") or "")
    if enabled is True and provider == "aliyun":
        missing = [
            key
            for key in (
                "SMS_TEMPLATE_CODE",
                "SMS_SIGN_NAME",
                "ALIYUN_ACCESS_KEY_ID",
                "ALIYUN_ACCESS_KEY_SECRET",
            )
            if not config.get(key)
        ]
        if missing:
            problems.append("SMS_PROVIDER=aliyun needs " + ", ".join(missing))
        if not config.get("ALIYUN_CALLBACK_TOKEN"):
            problems.append("SMS_PROVIDER=aliyun needs ALIYUN_CALLBACK_TOKEN (the SmsReport receipt URL)")
    if enabled is True and provider == "twilio":
        missing = [
            key
            for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "PUBLIC_BASE_URL")
            if not config.get(key)
        ]
        if missing:
            problems.append("SMS_PROVIDER=twilio needs " + ", ".join(missing))
    try:
        text = body.format(hotline=hotline, sign=sign or "供电公司")
    except (KeyError, IndexError, ValueError):
        problems.append("SMS_TWILIO_BODY may only use the placeholders {hotline} and {sign}")
        text = body
    if "{hotline}" not in body:
        problems.append("SMS_TWILIO_BODY must invite the customer to call the hotline: put {hotline} in it")
    if len(text) > 300:
        problems.append("SMS_TWILIO_BODY must be at most 300 characters once filled in")
    for key, value in (("SMS_TWILIO_BODY", text), ("SERVICE_HOTLINE", hotline), ("SMS_SIGN_NAME", sign)):
        if has_url(value):
            problems.append(f"{key} must not carry a link: carriers in mainland China block such messages")
    return {
        "sms_followup": enabled is True,
        "sms_provider": provider,
        "sms_per_second": per_second,
        "sms_followup_within": timedelta(
            hours=_int(config, "SMS_FOLLOWUP_WITHIN_HOURS", problems, minimum=1)
        ),
        "service_hotline": hotline,
        "sms_sign_name": sign,
        "sms_template_code": template,
        "sms_body": body,
        "qa_sample_per_operator": _int(config, "QA_SAMPLE_PER_OPERATOR", problems, minimum=1),
    }


def _aapor_e(value: Any, problems: list[str]) -> float | None:
    """Read AAPOR_E: "estimated" (None) or a number from 0 to 1."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "estimated")):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0.0 <= number <= 1.0:
        problems.append(f"AAPOR_E must be 'estimated' or a number from 0 to 1, got {value!r}")
        return None
    return number


def load_settings(config: Mapping[str, Any]) -> Settings:
    """Check the configuration and return the settings, or raise ConfigError naming every problem."""
    problems: list[str] = []
    try:
        tz = ZoneInfo(str(config.get("TIMEZONE")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"TIMEZONE {config.get('TIMEZONE')!r} is not an IANA time zone such as Asia/Shanghai")
        tz = ZoneInfo("Asia/Shanghai")
    try:
        calling_hours = CallingHours.parse(str(config.get("CALLING_HOURS")))
    except ValueError as error:
        problems.append(f"CALLING_HOURS: {error}")
        calling_hours = CallingHours.parse("00:00-24:00")
    try:
        calendar = WorkCalendar(
            extra_holidays=parse_dates(config.get("EXTRA_HOLIDAYS") or []),
            extra_workdays=parse_dates(config.get("EXTRA_WORKDAYS") or []),
        )
    except ValueError as error:
        problems.append(f"EXTRA_HOLIDAYS / EXTRA_WORKDAYS: {error}")
        calendar = WorkCalendar()
    try:
        calls_per_second = float(config.get("DIALER_CALLS_PER_SECOND"))  # type: ignore[arg-type]
        if not calls_per_second > 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("DIALER_CALLS_PER_SECOND must be a number above 0")
        calls_per_second = 1.0

    telephony = str(config.get("TELEPHONY"))
    if telephony not in ("simulated", "twilio", "aliyun"):
        problems.append(f"TELEPHONY must be simulated, twilio or aliyun, got {telephony!r}")
    if telephony == "aliyun":
        missing = [key for key in ALIYUN_REQUIRED if not config.get(key)]
        if missing:
            problems.append("TELEPHONY=aliyun needs " + ", ".join(missing))
    token = config.get("ALIYUN_CALLBACK_TOKEN")
    if token and not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", str(token)):
        problems.append("ALIYUN_CALLBACK_TOKEN must be 16 to 128 of A-Z a-z 0-9 - _ (it goes in a URL)")
    recording_hosts = config.get("ALIYUN_RECORDING_HOSTS")
    if not isinstance(recording_hosts, list | tuple) or not all(
        isinstance(host, str) and host.strip(".") for host in recording_hosts
    ):
        problems.append(
            "ALIYUN_RECORDING_HOSTS must be a list of host names or .suffixes, got " + repr(recording_hosts)
        )
    protocol = config.get("SIMULATION_PROTOCOL") or "twilio"
    if protocol not in ("twilio", "aliyun", "both"):
        problems.append(f"SIMULATION_PROTOCOL must be twilio, aliyun or both, got {protocol!r}")
    if telephony == "twilio":
        missing = [
            key
            for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "PUBLIC_BASE_URL")
            if not config.get(key)
        ]
        if missing:
            problems.append("TELEPHONY=twilio needs " + ", ".join(missing))
    public_base_url = config.get("PUBLIC_BASE_URL")
    if public_base_url and not str(public_base_url).startswith(("https://", "http://")):
        problems.append(
            f"PUBLIC_BASE_URL must be an origin such as https://callback.example.com, got {public_base_url!r}"
        )
    try:
        idle_seconds = float(config.get("DIALER_IDLE_SECONDS"))  # type: ignore[arg-type]
        if not idle_seconds > 0:
            raise ValueError
    except (TypeError, ValueError):
        problems.append("DIALER_IDLE_SECONDS must be a number above 0")
        idle_seconds = 5.0

    delete_provider_recordings = config.get("DELETE_PROVIDER_RECORDINGS", False)
    if not isinstance(delete_provider_recordings, bool):
        problems.append(
            f"DELETE_PROVIDER_RECORDINGS must be true or false, got {delete_provider_recordings!r}"
        )
    recordings_path = config.get("RECORDINGS_PATH") or ""
    if not isinstance(recordings_path, str):
        problems.append(f"RECORDINGS_PATH must be a directory path, got {recordings_path!r}")
        recordings_path = ""
    retention_days = None
    if config.get("RETENTION_DAYS") not in (None, ""):
        retention_days = _int(config, "RETENTION_DAYS", problems, minimum=1)
    if str(config.get("LOG_LEVEL", "INFO")).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        problems.append(
            f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {config.get('LOG_LEVEL')!r}"
        )
    if str(config.get("LOG_FORMAT", "text")).lower() not in ("text", "json"):
        problems.append(f"LOG_FORMAT must be text or json, got {config.get('LOG_FORMAT')!r}")
    _int(config, "DATABASE_RETRY_AFTER_SECONDS", problems, minimum=1)

    sms = _sms_settings(config, telephony, problems)
    call_slots = _call_slots(config.get("CALL_SLOTS"), problems)

    aapor_e = _aapor_e(config.get("AAPOR_E", "estimated"), problems)

    settings = Settings(
        **sms,
        tz=tz,
        calling_hours=calling_hours,
        calendar=calendar,
        offline_tolerance_days=_int(config, "OFFLINE_TOLERANCE_DAYS", problems),
        repeat_trips_min=_int(config, "REPEAT_TRIPS_MIN", problems, minimum=1),
        max_attempts=_int(config, "MAX_ATTEMPTS", problems, minimum=1),
        lease_minutes=_int(config, "LEASE_MINUTES", problems, minimum=1),
        task_max_age_days=_int(config, "TASK_MAX_AGE_DAYS", problems),
        auto_kinds=_kinds(config.get("AUTO_KINDS"), problems),
        auto_max_attempts=_int(config, "AUTO_MAX_ATTEMPTS", problems),
        dialer_calls_per_second=calls_per_second,
        intake_window_workdays=_int(config, "INTAKE_WINDOW_WORKDAYS", problems, minimum=1),
        completion_window_workdays=_int(config, "COMPLETION_WINDOW_WORKDAYS", problems, minimum=1),
        api_max_batch=_int(config, "API_MAX_BATCH", problems, minimum=1),
        telephony=telephony,
        retry_delays=_retry_delays(config.get("RETRY_DELAY_MINUTES"), problems),
        case_sla_workdays=_int(config, "CASE_SLA_WORKDAYS", problems, minimum=1),
        letter_issuer=str(config.get("LETTER_ISSUER") or ""),
        letter_prefix=str(config.get("LETTER_PREFIX") or "JD"),
        dial_timeout=timedelta(minutes=_int(config, "DIAL_TIMEOUT_MINUTES", problems, minimum=1)),
        ring_seconds=_int(config, "DIALER_RING_SECONDS", problems, minimum=5),
        dialer_idle_seconds=idle_seconds,
        simulation_mix=_simulation_mix(config.get("SIMULATION_MIX"), problems),
        simulation_slot_answer=_simulation_slot_answer(
            config.get("SIMULATION_SLOT_ANSWER"), call_slots, problems
        ),
        call_slots=call_slots,
        recordings_path=recordings_path,
        delete_provider_recordings=delete_provider_recordings is True,
        recording_max_bytes=_int(config, "RECORDING_MAX_MB", problems, minimum=1) * 1024 * 1024,
        session_idle=timedelta(minutes=_int(config, "SESSION_IDLE_MINUTES", problems, minimum=1)),
        session_max=timedelta(hours=_int(config, "SESSION_MAX_HOURS", problems, minimum=1)),
        login_max_failures=_int(config, "LOGIN_MAX_FAILURES", problems, minimum=1),
        login_lockout=timedelta(minutes=_int(config, "LOGIN_LOCKOUT_MINUTES", problems, minimum=1)),
        login_max_failures_per_address=_int(config, "LOGIN_MAX_FAILURES_PER_ADDRESS", problems, minimum=1),
        password_hash_method=_password_hash_method(config.get("PASSWORD_HASH_METHOD"), problems),
        trusted_proxies=_int(config, "TRUSTED_PROXIES", problems),
        retention_days=retention_days,
        appointment_owner_minutes=_int(config, "APPOINTMENT_OWNER_MINUTES", problems),
        min_sample=_int(config, "MIN_SAMPLE", problems, minimum=1) if "MIN_SAMPLE" in config else 30,
        aapor_e=aapor_e,
        **_notification_settings(config, problems),
    )
    if str(config.get("PREFERRED_URL_SCHEME")) not in ("http", "https"):
        problems.append(
            f"PREFERRED_URL_SCHEME must be http or https, got {config.get('PREFERRED_URL_SCHEME')!r}"
        )
    if problems:
        raise ConfigError("invalid configuration:\n  - " + "\n  - ".join(problems))
    return settings


def current_settings() -> Settings:
    """Return the settings of the running app."""
    settings: Settings = current_app.extensions["callback.settings"]
    return settings
