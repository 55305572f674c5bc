"""Default configuration; ``instance/config.py`` and ``CALLBACK_*`` variables override it."""

SQLALCHEMY_DATABASE_URI = "sqlite:///callback.sqlite"
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

TIMEZONE = "Asia/Shanghai"
CALLING_HOURS = "08:00-20:00"
# Dates the holidays package may not know yet (the State Council publishes each year's schedule late).
EXTRA_HOLIDAYS: list[str] = []
EXTRA_WORKDAYS: list[str] = []

TELEPHONY = "simulated"
TWILIO_ACCOUNT_SID: str | None = None
TWILIO_AUTH_TOKEN: str | None = None
TWILIO_FROM: str | None = None
TWILIO_API_BASE = "https://api.twilio.com"
PUBLIC_BASE_URL: str | None = None

OFFLINE_TOLERANCE_DAYS = 2
REPEAT_TRIPS_MIN = 2
MAX_ATTEMPTS = 3
LEASE_MINUTES = 15
TASK_MAX_AGE_DAYS = 30
AUTO_KINDS = "completion"
AUTO_MAX_ATTEMPTS = 2
DIALER_CALLS_PER_SECOND = 1

# How long a failed contact waits before the task is workable again, per disposition (minutes).
RETRY_DELAY_MINUTES = {"busy": 30, "no_answer": 120, "voicemail": 180}

# Task windows in working days (contract 4.2).
INTAKE_WINDOW_WORKDAYS = 1
COMPLETION_WINDOW_WORKDAYS = 2

# A supervision case should be closed within this many working days of opening.
CASE_SLA_WORKDAYS = 10
# The issuing unit printed on 业务监督意见书, and the prefix of their numbers.
LETTER_ISSUER = "国网某某供电公司营销服务监督室"
LETTER_PREFIX = "JD"

API_MAX_BATCH = 1000
MAX_CONTENT_LENGTH = 16 * 1024 * 1024

BABEL_DEFAULT_LOCALE = "zh_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = ["zh_CN", "en"]

WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
