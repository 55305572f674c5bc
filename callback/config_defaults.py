"""The defaults of every configuration key; `instance/config.py` and `CALLBACK_*` variables override them.

Only values live here. `callback.settings` reads the merged configuration, checks it and gives the services
typed `Settings`: defaults here, checked settings there (the file was `config.py`, issue 15).
"""

SQLALCHEMY_DATABASE_URI = "sqlite:///callback.sqlite"
# hide_parameters: a database error's message never carries the row's values (phone numbers) into the logs.
SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True, "hide_parameters": True}

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
# Alibaba Cloud Voice Service (TELEPHONY=aliyun): SmartCall, its dialogue callback and receipts.
ALIYUN_ACCESS_KEY_ID: str | None = None
ALIYUN_ACCESS_KEY_SECRET: str | None = None
ALIYUN_CALLED_SHOW_NUMBER: str | None = None
ALIYUN_VMS_ENDPOINT = "https://dyvmsapi.aliyuncs.com"
# The opening voice: a voice file id from the console, or a TTS variable ($greeting$ says GREETING);
# the first question follows as TTS ($prompt$).
ALIYUN_VOICE_CODE = "$greeting$"
# The ASR model id from the console; unset, SmartCall's Mandarin base model (customer_service_8k).
ALIYUN_ASR_MODEL_ID: str | None = None
# The unguessable token in the callback URLs (/aliyun/<token>/…); at least 16 characters.
ALIYUN_CALLBACK_TOKEN: str | None = None
# SmartCall RecordFlag: record automated calls.
ALIYUN_RECORD = True
# Hosts a VoiceRecordReport's record_file may point to (the recordings are fetched from there): exact host
# names, or suffixes starting with a dot. Anything else is refused, so a forged report cannot make the
# server fetch an arbitrary URL.
ALIYUN_RECORDING_HOSTS = [".aliyuncs.com"]

OFFLINE_TOLERANCE_DAYS = 2
REPEAT_TRIPS_MIN = 2
MAX_ATTEMPTS = 3
LEASE_MINUTES = 15
TASK_MAX_AGE_DAYS = 30
AUTO_KINDS = "completion"
AUTO_MAX_ATTEMPTS = 2
DIALER_CALLS_PER_SECOND = 1

# Automated calls (contract 7).
# A task left `dialing` this long with no word from the call (the dialer died, the call was lost) is
# recovered by `tick`; every webhook of the call extends it, so keep it above the longest survey.
DIAL_TIMEOUT_MINUTES = 15
# How long the customer's phone rings before the call counts as not answered.
DIALER_RING_SECONDS = 30
# How long the dialer waits before looking again when nothing is workable.
DIALER_IDLE_SECONDS = 5
# How long the dialer waits for Twilio to answer "create call" before treating the response as lost.
TWILIO_HTTP_TIMEOUT_SECONDS = 10
# The simulated customer (TELEPHONY=simulated) signs its webhooks with this token; unset, it is derived
# from SECRET_KEY, so the web server and the dialer of one instance agree without configuration.
SIMULATION_AUTH_TOKEN: str | None = None
# How the simulated customers behave, as weights: agree (answers match the system), disagree (they do not),
# no_answer, busy, machine (an answering machine picks up), hang_up (the customer hangs up mid-survey).
SIMULATION_MIX = "agree=45,disagree=20,no_answer=12,busy=8,machine=8,hang_up=7"
# Percent of simulated customers at the phone per CALL_SLOTS slot ("" = slots make no difference).
SIMULATION_SLOT_ANSWER = ""
# Which provider's protocol the simulated customer speaks: twilio, aliyun, or both (alternating calls).
SIMULATION_PROTOCOL = "twilio"
# Seed of the simulated customers' choices (unset: different every run).
SIMULATION_SEED: int | None = None

# Call recordings (issue 11). Where the audio files are kept: a directory (a volume in production);
# unset, <instance>/recordings. Each file is stored with its SHA-256; the storage is one small interface
# (callback.recordings.storage), so an object store can take its place.
RECORDINGS_PATH: str | None = None
# Delete the provider's copy (Twilio's) once ours is stored and hashed, so the audio lives in one place.
DELETE_PROVIDER_RECORDINGS = False
# The largest recording staff may upload for an operator's call (WAV or MP3), in megabytes.
RECORDING_MAX_MB = 20

# An appointment (call back later) comes back first to the operator who booked it: for this many minutes
# from the appointed time only they can claim it, then anyone (issue 12). 0: anyone at once.
APPOINTMENT_OWNER_MINUTES = 30
# Message follow-up (issue 13): one templated, one-way SMS per task, after the last failed contact attempt
# (the task became unreachable) or when the customer asks for it on the call. Off: nothing is sent.
SMS_FOLLOWUP = True
# Who sends it: simulated, twilio (Twilio Messaging, TWILIO_* keys) or aliyun (Alibaba Cloud SMS, the
# ALIYUN_ACCESS_KEY_* keys); unset, the same as TELEPHONY.
SMS_PROVIDER: str | None = None
# The most messages sent per second, all tick processes together (a separate rate from the dialer's).
SMS_PER_SECOND = 1
# Only tasks that became unreachable within this many hours get the message (not last year's history).
SMS_FOLLOWUP_WITHIN_HOURS = 48
# The service hotline the message invites the customer to call.
SERVICE_HOTLINE = "95598"
# Alibaba Cloud SMS: the approved template's code (its text takes the variable ${hotline}), the approved
# signature (签名), and the endpoint (a host or a URL, like ALIYUN_VMS_ENDPOINT).
SMS_TEMPLATE_CODE: str | None = None
SMS_SIGN_NAME: str | None = None
ALIYUN_SMS_ENDPOINT = "https://dysmsapi.aliyuncs.com"
# The text sent by Twilio and by the simulation: {hotline} and {sign} are filled in. No links: carriers in
# mainland China block messages with a URL, so a URL here (or in the hotline) stops the app at start-up.
SMS_TWILIO_BODY = (
    "【{sign}】您好，我们就您的用电申请多次致电回访未能接通。如有疑问或意见，请致电服务热线{hotline}。"
)
# Spot checks (录音抽检): calls drawn per operator and ISO week by `tick` for a supervisor's review.
QA_SAMPLE_PER_OPERATOR = 5

# How long a failed contact waits before the task is workable again, per disposition (minutes).
RETRY_DELAY_MINUTES = {"busy": 30, "no_answer": 120, "voicemail": 180}
# Retries rotate through these slots (docs/operator.md); "" keeps the fixed RETRY_DELAY_MINUTES alone.
CALL_SLOTS = (
    "weekday_morning=workday 08:00-12:00,weekday_afternoon=workday 12:00-17:00,"
    "weekday_evening=workday 17:00-20:00,weekend=offday 08:00-20:00"
)

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

# Sessions and sign-in (issue 9). A signed-in session ends after this many minutes without a request,
# and in any case this many hours after signing in ("stay signed in" included: it only survives closing
# the browser within these limits).
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12
# After this many failed sign-ins for one username within LOGIN_LOCKOUT_MINUTES, that username cannot
# sign in (429) until the window has passed, even with the right password.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_MINUTES = 15
# The same for one client address, over all usernames (and for bad API tokens): higher, because a
# call-centre floor often reaches the server through one address.
LOGIN_MAX_FAILURES_PER_ADDRESS = 30
# How passwords are hashed (werkzeug's method string): scrypt at werkzeug's cost. The test suite sets a
# cheap one ("pbkdf2:sha256:1") so that signing in thousands of test users costs nothing; never lower it
# in production. Stored hashes carry their own method, so changing it only affects new passwords.
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105  (a hash method, not a password)
# How many reverse proxies in front of the app set X-Forwarded-For / X-Forwarded-Proto; 0 = none
# (then those headers are ignored, as a client could forge them).
TRUSTED_PROXIES = 0
# Cookies: HttpOnly and SameSite=Lax for both; Secure as well when PREFERRED_URL_SCHEME = "https"
# (set it when users reach the app over TLS, e.g. behind the utility's reverse proxy).
PREFERRED_URL_SCHEME = "http"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
# Retention (issue 9): purge-personal-data de-identifies orders finished more than this many days ago
# (its --older-than-days overrides it). None: the command needs --older-than-days.
RETENTION_DAYS: int | None = None
# Seeing what it does (docs/observability.md).
# Level of the log lines on stderr: DEBUG, INFO, WARNING, ERROR or CRITICAL.
LOG_LEVEL = "INFO"
# text: one readable line each; json: one JSON object a line, for a log collector.
LOG_FORMAT = "text"
# Serve GET /metrics (Prometheus text format, no sign-in: keep it on the intranet). Off: /metrics is 404.
METRICS_ENABLED = False
# Seconds a client is told to wait (Retry-After) when the database cannot be reached.
DATABASE_RETRY_AFTER_SECONDS = 30
# Folder of the built static files (content-hashed names, gzip and brotli copies), served by WhiteNoise with
# a year's Cache-Control. Unset (development, tests): Flask serves static/ as it is. Built at start-up when
# missing or out of date, or ahead of time with `flask --app callback collect-static`.
STATIC_BUILD_PATH: str | None = None

# Rates that mean what they say (issue 13): figures from fewer responses than this are marked indicative;
# AAPOR's e (the eligible share of cases of unknown eligibility) is "estimated" (proportional allocation
# from the cases whose eligibility is known) or a number from 0 to 1.
MIN_SAMPLE = 30
AAPOR_E: str | float = "estimated"

# The case desk (issue 12). Where case attachments (site photos, scanned rectification reports) are kept:
# a directory; unset, <instance>/attachments.
ATTACHMENTS_PATH: str | None = None
# The largest attachment staff may upload (JPEG, PNG or PDF), in megabytes.
ATTACHMENT_MAX_MB = 10
# Rectification deadline of a supervision letter when the supervisor gives none: working days after issue.
RECTIFICATION_DAYS = 10

# Notifications (issue 12). A WeCom (企业微信) group robot's webhook address
# (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…); unset, nothing goes to WeCom.
WECOM_WEBHOOK_URL: str | None = None
# The SMTP server for e-mail (daily digest, escalations); unset, no e-mail is sent.
SMTP_HOST: str | None = None
# Its port: 25 or 587 (STARTTLS), 465 (implicit TLS).
SMTP_PORT = 25
# The sender address of the product's e-mail.
SMTP_FROM: str | None = None
# Sign in to the SMTP server with this user and password (unset: no sign-in).
SMTP_USERNAME: str | None = None
# The password of SMTP_USERNAME (prefer the CALLBACK_SMTP_PASSWORD environment variable).
SMTP_PASSWORD: str | None = None
# How to secure the SMTP connection: none, starttls or ssl.
SMTP_SECURITY = "none"
# The supervision office's addresses: the supervisors' daily digest and the ladder's last rung.
SUPERVISION_OFFICE_EMAILS: list[str] = []
# Each service centre's head: {"城东供电服务中心": "head@example.com"}; the ladder's middle rung.
CENTRE_HEAD_EMAILS: dict[str, str] = {}
# Overdue cases climb this ladder: "days overdue:rung", rungs assignee, centre_head, supervision_office.
ESCALATION_LADDER = "0:assignee,3:centre_head,7:supervision_office"
# The local hour from which `tick` sends the day's digest (once a day).
DIGEST_HOUR = 8
# A message that fails this many times is given up (shown as failed on the outbox page).
OUTBOX_MAX_ATTEMPTS = 8
# How long one delivery (WeCom or SMTP) may take before it counts as failed.
NOTIFY_TIMEOUT_SECONDS = 10
