"""Every route × every role (issue 9): who gets in, who is refused, and how.

One row per route of `app.url_map` and method, with the status each role gets. A route added without a row
fails `test_every_route_has_a_row`, so nobody adds a page or an endpoint without deciding who may use it.

The world the rows run in: order REF-1 has an integrity case referred to discipline inspection (纪检) and a
dissatisfied case that is not referred; order PLAIN-1's callback is claimed by `operator` (its holder), so
`other_operator` is an operator who does not hold it; order AUTO-1 had an automated call. Pages are asked
with a signed-in session, the API with the role's bearer token; `anonymous` has neither.
Requests that would change something send a body the route refuses after the role check (a 4xx that is
not 401/403), so every role meets the same world; the few that succeed (release, sign-out) come last.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from callback.audit import Actor
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import validate_order
from callback.models import CaseCategory
from callback.settings import current_settings
from callback.users import create_api_token, create_user
from callback.worklist import claim, record_attempt, start_automated_attempt
from tests.conftest import PASSWORD, TEST_NOW
from tests.factories import order_payload
from tests.telephony.helpers import connected_order

ROLES = ("anonymous", "operator", "other_operator", "supervisor", "discipline", "admin", "integration")
SIGNED_IN = ROLES[1:]
ROLE_OF = {"other_operator": "operator"}


def page(*groups: dict[str, int], **allowed: int) -> dict[str, int]:
    """A page: anonymous visitors are sent to sign in (302); signed-in roles not named are refused (403)."""
    return {"anonymous": 302, **dict.fromkeys(SIGNED_IN, 403), **_merge(groups), **allowed}


def api(*groups: dict[str, int], **allowed: int) -> dict[str, int]:
    """An API endpoint: no token is 401; roles not named are refused (403)."""
    return {"anonymous": 401, **dict.fromkeys(SIGNED_IN, 403), **_merge(groups), **allowed}


def _merge(groups: tuple[dict[str, int], ...]) -> dict[str, int]:
    return {role: status for group in groups for role, status in group.items()}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


STAFF = ("operator", "other_operator", "supervisor", "discipline", "admin")
CALLERS = ("operator", "other_operator", "supervisor", "admin")  # may work callbacks
SUPERVISION = ("supervisor", "admin")


def each(roles: tuple[str, ...], status: int) -> dict[str, int]:
    return dict.fromkeys(roles, status)


@dataclass(frozen=True)
class Row:
    method: str
    rule: str
    expected: dict[str, int]
    # Path parameters other than the world's defaults (see `world`), and the body to send.
    params: dict[str, str] = field(default_factory=dict)
    json: object = None
    form: dict[str, str] | None = None
    note: str = ""


# Path parameters by name, unless a row says otherwise.
DEFAULTS = {
    "order_no": "{referred_order}",
    "case_id": "{referred_case}",
    "task_id": "{held_task}",
    "attempt_id": "{operator_attempt}",
    "ledger": "connect_first",
    "code": "zh_CN",
    "dataset": "orders",
    "fmt": "csv",
    "filename": "app.css",
    "user_id": "{spare_user}",
    "token_id": "{spare_token}",
    "recording_id": "999999",
    "token": "not-the-callback-token",
    "review_id": "999999",
    "entry_id": "999999",
    "attachment_id": "999999",
    "filter_id": "999999",
    "notification_id": "999999",
    "message_id": "999999",
    "number": "+8613900000000",
    "followup_id": "999999",
}

ROWS: list[Row] = [
    # --- sign-in, language, static files -----------------------------------------------------------
    Row("GET", "/login", {**everyone(302), "anonymous": 200}),
    Row("POST", "/login", {**everyone(302), "anonymous": 200}, form={}, note="empty form: asked again"),
    Row("POST", "/language/<code>", everyone(302)),
    Row("GET", "/static/<path:filename>", everyone(200)),
    Row("GET", "/favicon.ico", everyone(200)),
    # --- work orders (pages) -----------------------------------------------------------------------
    Row("GET", "/", page(each(STAFF, 200))),
    Row("GET", "/orders/<order_no>", page(each(STAFF, 200))),
    Row(
        "GET",
        "/orders/<order_no>",
        page(each(STAFF, 200), discipline=404),
        params={"order_no": "{plain_order}"},
        note="no referred case: discipline inspectors may not open it",
    ),
    # --- the operator workspace --------------------------------------------------------------------
    Row("GET", "/operator/", page(each(CALLERS, 200))),
    Row("POST", "/operator/next", page(each(CALLERS, 302)), note="the holder is sent back to the claim"),
    Row("GET", "/operator/tasks/<int:task_id>", page(each(CALLERS, 409), operator=200)),
    Row("POST", "/operator/tasks/<int:task_id>/reveal", page(each(CALLERS, 409), operator=200)),
    Row(
        "POST",
        "/operator/tasks/<int:task_id>/attempts",
        page(each(CALLERS, 409), operator=422),
        form={},
        note="no outcome chosen",
    ),
    Row("GET", "/operator/attempts/<int:attempt_id>", page(operator=200, supervisor=200, admin=200)),
    Row("GET", "/operator/mine", page(each(CALLERS, 200))),
    Row("GET", "/operator/counts", page(each(CALLERS, 200))),
    Row(
        "POST",
        "/operator/tasks/<int:task_id>/claim",
        page(each(CALLERS, 302)),
        note="the holder is sent back to it; others back to their work with a message (not workable)",
    ),
    Row(
        "POST",
        "/operator/tasks/<int:task_id>/sms",
        page(each(CALLERS, 409), operator=302),
        form={},
        note="the customer asked for a message: only on the holder's own claim",
    ),
    Row(
        "POST",
        "/operator/tasks/<int:task_id>/do-not-call",
        page(each(CALLERS, 409), operator=422),
        form={"dnc_note": "\x00"},
        note="a note with a control character: refused, nothing listed",
    ),
    # --- the do-not-call list (supervisors, admins) -------------------------------------------------
    Row("GET", "/do-not-call/", page(supervisor=200, admin=200)),
    Row("POST", "/do-not-call/", page(supervisor=422, admin=422), form={}, note="no number"),
    Row("POST", "/do-not-call/<int:entry_id>/remove", page(supervisor=302, admin=302), form={}),
    Row("GET", "/api/v1/do-not-call", api(supervisor=200, admin=200)),
    Row("POST", "/api/v1/do-not-call", api(supervisor=422, admin=422), json={}),
    Row("DELETE", "/api/v1/do-not-call/<path:number>", api(supervisor=404, admin=404), note="not listed"),
    # --- spot checks of calls (录音抽检) ------------------------------------------------------------
    Row("GET", "/qa/", page(supervisor=200, admin=200)),
    Row("GET", "/qa/mine", page(each(CALLERS, 200))),
    Row("GET", "/qa/reviews/<int:review_id>", page(supervisor=404, admin=404), note="no such review"),
    Row("POST", "/qa/reviews/<int:review_id>", page(supervisor=404, admin=404), form={}),
    Row("GET", "/qa/scorecard", page(supervisor=200, admin=200)),
    Row("POST", "/qa/scorecard", page(supervisor=422, admin=422), form={}, note="nothing to save"),
    Row("GET", "/reports/spot-checks", page(supervisor=200, admin=200)),
    Row("POST", "/twilio/sms-status/<int:followup_id>", everyone(403)),
    Row("POST", "/aliyun/<token>/sms-report", everyone(403), json=[]),
    # --- search everywhere (role-filtered results) ---------------------------------------------------
    Row("GET", "/search", page(each(STAFF, 200))),
    # --- supervision cases (pages) -----------------------------------------------------------------
    Row("GET", "/cases/", page(supervisor=200, discipline=200, admin=200)),
    Row("GET", "/cases/<int:case_id>", page(supervisor=200, discipline=200, admin=200)),
    Row(
        "GET",
        "/cases/<int:case_id>",
        page(supervisor=200, discipline=404, admin=200),
        params={"case_id": "{plain_case}"},
        note="not referred: discipline inspectors may not open it",
    ),
    Row(
        "GET",
        "/cases/<int:case_id>/letter",
        page(supervisor=302, discipline=302, admin=302),
        note="no letter issued yet: back to the case",
    ),
    Row("GET", "/cases/new", page(supervisor=200, admin=200)),
    Row("POST", "/cases/new", page(supervisor=422, admin=422), form={}),
    Row("POST", "/cases/<int:case_id>/transition", page(supervisor=422, admin=422), form={}),
    Row("POST", "/cases/<int:case_id>/assign", page(supervisor=422, admin=422), form={"assignee_id": "x"}),
    Row("POST", "/cases/<int:case_id>/penalties", page(supervisor=409, admin=409), form={}, note="no letter"),
    Row("POST", "/cases/<int:case_id>/referral", page(supervisor=409, admin=409), form={}, note="referred"),
    # --- the case desk: notes, attachments, saved filters, bulk actions (issue 12) -----------------
    Row(
        "POST",
        "/cases/<int:case_id>/notes",
        page(supervisor=302, discipline=302, admin=302),
        form={},
        note="an empty note: back to the case, told; discipline inspectors may note referred cases",
    ),
    Row("POST", "/cases/<int:case_id>/attachments", page(supervisor=302, discipline=302, admin=302), form={}),
    Row(
        "GET",
        "/cases/<int:case_id>/attachments/<int:attachment_id>",
        page(supervisor=404, discipline=404, admin=404),
    ),
    Row(
        "GET",
        "/cases/<int:case_id>/attachments/<int:attachment_id>/thumbnail",
        page(supervisor=404, discipline=404, admin=404),
    ),
    Row("POST", "/cases/bulk", page(supervisor=302, admin=302), form={}, note="nothing ticked: back, told"),
    Row("POST", "/cases/filters", page(supervisor=302, discipline=302, admin=302), form={}),
    Row(
        "POST",
        "/cases/filters/<int:filter_id>/delete",
        page(supervisor=404, discipline=404, admin=404),
        form={},
    ),
    # --- notifications (the bell) and the outbox (admins) ------------------------------------------
    Row("GET", "/notifications/", page(each(STAFF, 200))),
    Row("GET", "/notifications/<int:notification_id>", page(each(STAFF, 404))),
    Row("POST", "/notifications/read", page(each(STAFF, 302)), form={}),
    Row("GET", "/notifications/outbox", page(admin=200)),
    Row("POST", "/notifications/outbox/<int:message_id>/retry", page(admin=302), form={}),
    Row("POST", "/admin/users/<int:user_id>/service-center", page(admin=302), form={}, note="cleared"),
    # --- ledgers and reports (pages) ---------------------------------------------------------------
    Row("GET", "/ledgers/", page(supervisor=200, admin=200)),
    Row("GET", "/ledgers/<ledger>", page(supervisor=200, admin=200)),
    Row(
        "POST", "/ledgers/set", page(supervisor=302, admin=302), form={}, note="refused, back with a message"
    ),
    Row("GET", "/reports/", page(supervisor=200, admin=200)),
    Row("GET", "/reports/charts.json", page(supervisor=200, admin=200)),
    Row("GET", "/reports/connections", page(supervisor=200, admin=200)),
    Row("GET", "/reports/monthly", page(supervisor=200, admin=200)),
    Row("GET", "/reports/monthly.xlsx", page(supervisor=200, admin=200)),
    Row(
        "GET",
        "/reports/rows/<any(orders,tasks,attempts,cases,ledger):dataset>",
        page(supervisor=200, admin=200),
    ),
    Row(
        "GET",
        "/reports/exports/<any(orders,tasks,attempts,cases,ledger):dataset>.<any(csv,xlsx):fmt>",
        page(supervisor=200, admin=200),
    ),
    # --- telephony webhooks: the Twilio signature, not a role, lets a request in -------------------
    Row("POST", "/twilio/voice/<int:attempt_id>", everyone(403), params={"attempt_id": "{auto_attempt}"}),
    Row("POST", "/twilio/gather/<int:attempt_id>", everyone(403), params={"attempt_id": "{auto_attempt}"}),
    Row("POST", "/twilio/status/<int:attempt_id>", everyone(403), params={"attempt_id": "{auto_attempt}"}),
    Row(
        "GET",
        "/twilio/attempts/<int:attempt_id>/transcript",
        page(each(CALLERS, 200)),
        params={"attempt_id": "{auto_attempt}"},
    ),
    # --- API: work orders --------------------------------------------------------------------------
    Row("POST", "/api/v1/work-orders", api(integration=200, admin=200), json=[]),
    Row("PUT", "/api/v1/work-orders/<order_no>", api(integration=200, admin=200), json="{same_order}"),
    Row(
        "GET",
        "/api/v1/work-orders/<order_no>",
        api(integration=200, supervisor=200, discipline=200, admin=200),
    ),
    Row(
        "GET",
        "/api/v1/work-orders/<order_no>",
        api(integration=200, supervisor=200, discipline=404, admin=200),
        params={"order_no": "{plain_order}"},
    ),
    # --- API: callback tasks -----------------------------------------------------------------------
    Row("GET", "/api/v1/tasks", api(each(CALLERS, 200))),
    Row("POST", "/api/v1/tasks/claim", api(each(CALLERS, 204), operator=200), note="the holder gets it back"),
    Row(
        "POST",
        "/api/v1/tasks/<int:task_id>/attempts",
        api(each(CALLERS, 409), operator=422),
        json={},
        note="no disposition",
    ),
    # --- API: cases --------------------------------------------------------------------------------
    Row("GET", "/api/v1/cases", api(supervisor=200, discipline=200, admin=200)),
    Row("POST", "/api/v1/cases", api(supervisor=422, admin=422), json={}),
    Row("GET", "/api/v1/cases/<int:case_id>", api(supervisor=200, discipline=200, admin=200)),
    Row(
        "GET",
        "/api/v1/cases/<int:case_id>",
        api(supervisor=200, discipline=404, admin=200),
        params={"case_id": "{plain_case}"},
    ),
    Row("POST", "/api/v1/cases/<int:case_id>/transitions", api(supervisor=422, admin=422), json={}),
    Row("POST", "/api/v1/cases/<int:case_id>/penalties", api(supervisor=409, admin=409), json={}),
    Row("POST", "/api/v1/cases/<int:case_id>/referral", api(supervisor=409, admin=409), json={}),
    # --- API: reports ------------------------------------------------------------------------------
    Row("GET", "/api/v1/reports/summary", api(supervisor=200, admin=200, integration=200)),
    Row("GET", "/api/v1/reports/summary.xlsx", api(supervisor=200, admin=200, integration=200)),
    # --- health and metrics: no sign-in (metrics are off unless METRICS_ENABLED) ---------------------
    Row("GET", "/healthz", everyone(200)),
    Row("GET", "/metrics", everyone(404)),
    # --- the user's own account, and user administration (admins) -----------------------------------
    Row("GET", "/account/password", page(each(SIGNED_IN, 200))),
    Row("POST", "/account/password", page(each(SIGNED_IN, 422)), form={}, note="nothing filled in"),
    Row("GET", "/admin/", page(admin=200)),
    Row("GET", "/admin/dialers", page(admin=200)),
    Row("GET", "/admin/users/new", page(admin=200)),
    Row("POST", "/admin/users/new", page(admin=422), form={}),
    Row("GET", "/admin/users/<int:user_id>", page(admin=200)),
    Row("POST", "/admin/users/<int:user_id>/role", page(admin=422), form={}),
    Row("POST", "/admin/users/<int:user_id>/password", page(admin=422), form={}),
    Row("POST", "/admin/users/<int:user_id>/tokens", page(admin=201), form={}, note="a new token, once"),
    Row("POST", "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke", page(admin=302), form={}),
    Row("POST", "/admin/users/<int:user_id>/deactivate", page(admin=302), form={}),
    Row("POST", "/admin/users/<int:user_id>/reactivate", page(admin=302), form={}),
    # --- the audit trail (admins, discipline inspectors) --------------------------------------------
    Row("GET", "/audit/", page(admin=200, discipline=200)),
    Row("GET", "/audit/export.csv", page(admin=200, discipline=200)),
    Row("GET", "/api/v1/audit-events", api(admin=200, discipline=200)),
    # --- the API's description and its page for integrators: public, they show only the API's shape -----
    Row("GET", "/api/v1/openapi.yaml", everyone(200)),
    Row("GET", "/api/docs", everyone(200)),
    # --- call recordings: supervisors, admins, discipline (referred orders) listen -----------------
    Row("GET", "/recordings/<int:recording_id>/audio", page(supervisor=404, discipline=404, admin=404)),
    Row(
        "POST",
        "/recordings/attempts/<int:attempt_id>",
        page(operator=302, supervisor=302, admin=302),
        form={},
        note="no file: back to the call with a message; the caller, supervisors and admins may upload",
    ),
    Row("POST", "/twilio/recording/<int:attempt_id>", everyone(403), params={"attempt_id": "{auto_attempt}"}),
    # --- Alibaba Cloud SmartCall callbacks: the token in the path, not a role, lets a request in ----
    Row("POST", "/aliyun/<token>/dialogue", everyone(403), json={}),
    Row("POST", "/aliyun/<token>/voice-report", everyone(403), json=[]),
    Row("POST", "/aliyun/<token>/record-report", everyone(403), json=[]),
    # --- last: the requests that change what the rows above rely on --------------------------------
    Row("POST", "/api/v1/tasks/<int:task_id>/release", api(each(CALLERS, 409), operator=200)),
    Row(
        "POST",
        "/operator/tasks/<int:task_id>/release",
        page(each(CALLERS, 409), operator=302),
        note="claimed again",
    ),
    Row("POST", "/logout", everyone(302)),
]


def route_keys(app: Flask) -> set[tuple[str, str]]:
    """Return (method, rule) for every route the app answers, HEAD and OPTIONS aside."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def missing_rows(app: Flask) -> list[str]:
    """Return "METHOD rule" for every route of the app that has no row."""
    missing = route_keys(app) - {(row.method, row.rule) for row in ROWS}
    return [f"{method} {rule}" for method, rule in sorted(missing, key=lambda key: (key[1], key[0]))]


def test_every_route_has_a_row(app):
    missing = missing_rows(app)
    assert not missing, "routes without a row in ROWS (decide who may use them): " + ", ".join(missing)
    unknown = {(row.method, row.rule) for row in ROWS} - route_keys(app)
    assert not unknown, f"rows for routes that do not exist: {sorted(unknown)}"
    assert all(set(row.expected) == set(ROLES) for row in ROWS)


def test_a_route_added_without_a_row_is_named(app):
    app.add_url_rule("/secret-report/<int:year>", "secret_report", lambda year: "", methods=["GET", "POST"])
    assert missing_rows(app) == ["GET /secret-report/<int:year>", "POST /secret-report/<int:year>"]


@dataclass
class World:
    app: Flask
    values: dict[str, str]
    clients: dict[str, FlaskClient]
    tokens: dict[str, dict[str, str]]
    before: dict[str, Callable[[], None]]


def build_world(app: Flask) -> World:
    """Store the orders, cases, claim and calls the rows' path parameters name; sign every role in."""
    settings = current_settings()
    now = datetime.now(UTC)
    users = {
        role: create_user(db.session, role, ROLE_OF.get(role, role), PASSWORD, now=now) for role in SIGNED_IN
    }
    db.session.commit()
    actor = Actor(source="test")
    referred = order_payload("REF-1")
    # AUTO-1 was accepted long ago: it has only its completion callback, which the dialer makes.
    automated = connected_order("AUTO-1", accepted_at="2026-10-01T09:00:00", due_at="2026-10-11T17:00:00")
    items = [validate_order(body, settings.tz, TEST_NOW) for body in (referred, automated)]
    upsert_orders(db.session, items, now=TEST_NOW, settings=settings, actor=actor)
    db.session.commit()
    holder = users["operator"].id
    first = claim(db.session, holder, now=TEST_NOW, settings=settings).task
    assert first is not None and first.order.order_no == "REF-1"
    outcome = record_attempt(
        db.session,
        first.id,
        holder,
        disposition="partial",
        answers={"integrity": True, "satisfaction": 1},
        callback_at=None,
        note=None,
        now=TEST_NOW,
        settings=settings,
    )
    db.session.commit()
    cases = {case.category: case for case in outcome.cases_opened}
    assert cases[CaseCategory.INTEGRITY].referred_to_discipline
    assert not cases[CaseCategory.DISSATISFIED].referred_to_discipline
    auto = start_automated_attempt(db.session, now=TEST_NOW, settings=settings)
    assert auto is not None
    db.session.commit()
    upsert_orders(
        db.session,
        [validate_order(order_payload("PLAIN-1"), settings.tz, TEST_NOW)],
        now=TEST_NOW,
        settings=settings,
        actor=actor,
    )
    db.session.commit()
    held = claim(db.session, holder, now=TEST_NOW, settings=settings).task
    assert held is not None and held.order.order_no == "PLAIN-1"
    db.session.commit()
    values = {
        "referred_order": "REF-1",
        "plain_order": "PLAIN-1",
        "referred_case": str(cases[CaseCategory.INTEGRITY].id),
        "plain_case": str(cases[CaseCategory.DISSATISFIED].id),
        "held_task": str(held.id),
        "operator_attempt": str(outcome.attempt.id),
        "auto_attempt": str(auto.id),
    }
    spare = create_user(db.session, "spare", "operator", PASSWORD, now=now)
    spare_token = create_api_token(db.session, spare, now=now)
    db.session.commit()
    values["spare_user"] = str(spare.id)
    values["spare_token"] = str(spare.tokens[0].id)
    assert spare_token
    clients = {role: app.test_client() for role in ROLES}
    for role in SIGNED_IN:
        with app.app_context():
            response = clients[role].post("/login", data={"username": role, "password": PASSWORD})
        assert response.status_code == 302
    tokens = {"anonymous": {}}
    for role in SIGNED_IN:
        tokens[role] = {"Authorization": f"Bearer {create_api_token(db.session, users[role], now=now)}"}
    db.session.commit()

    def hold_again() -> None:
        claim(db.session, holder, now=TEST_NOW, settings=settings)
        db.session.commit()

    return World(app, values, clients, tokens, {"/operator/tasks/<int:task_id>/release": hold_again})


def path_of(row: Row, values: dict[str, str]) -> str:
    params = {**DEFAULTS, **row.params}

    def fill(match: re.Match[str]) -> str:
        return params[match.group(1)].format(**values)

    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", fill, row.rule)


def send(world: World, row: Row, role: str) -> int:
    # Each request in an app context of its own: the test's context would carry one request's signed-in
    # user (flask.g) over to the next client's request.
    with world.app.app_context():
        return _send(world, row, role)


def _send(world: World, row: Row, role: str) -> int:
    client = world.clients[role]
    path = path_of(row, world.values)
    if row.rule.startswith("/api/"):
        body = row.json
        if body == "{same_order}":
            body = order_payload(world.values["referred_order"])
        kwargs = {"headers": world.tokens[role]} | ({"json": body} if body is not None else {})
    elif row.form is not None:
        kwargs = {"data": row.form}
    else:
        kwargs = {}
    response = client.open(path, method=row.method, **kwargs)
    response.close()  # streamed files (exports, workbooks, static) are closed at once
    return response.status_code


# The holder's own requests go last in each row: the ones that succeed change the world.
ORDER = ("anonymous", "other_operator", "supervisor", "discipline", "admin", "integration", "operator")


def test_every_route_answers_each_role_as_the_table_says(app):
    world = build_world(app)
    wrong = []
    for row in ROWS:
        if row.rule in world.before:
            world.before[row.rule]()
        for role in ORDER:
            got = send(world, row, role)
            if got != row.expected[role]:
                wrong.append(
                    f"{row.method} {path_of(row, world.values)} as {role}: "
                    f"{got}, expected {row.expected[role]}"
                )
    assert not wrong, "\n".join(wrong)
