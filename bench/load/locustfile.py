"""A working day's traffic for `make load` (issue 14): operators, the integration and supervisors at once.

- OperatorUser (50): signs in through the login form (CSRF), then loops: the queue page, 下一个回访 (claim),
  the call screen, talks (think time), saves the questionnaire, reads the result, pauses.
- IntegrationUser (5): the marketing system pushing orders with `PUT /api/v1/work-orders/<no>` (a bearer
  token), 2 a second each (10/s together, as long as a push answers within half a second); one push in five
  moves a seeded order to "connected".
- SupervisorUser (3): the case list, a case, the dashboard and its chart data, the order list.

The dialers are separate processes (`flask dialer`), started by bench/load/run_load.py. Settings come from the
environment run_load.py sets: LOAD_PASSWORD, LOAD_TOKEN, LOAD_OPERATORS, LOAD_SUPERVISORS,
LOAD_INTEGRATION_USERS, LOAD_SEEDED_ORDERS,
LOAD_THINK_SCALE (1 = the think times below; a CI-safe walk uses 0).
"""

import itertools
import os
import random
import re
import threading
from datetime import UTC, datetime, timedelta

import gevent
from common import PASSWORD, SHANGHAI, operator_name, order_payload, supervisor_name
from locust import HttpUser, between, constant_pacing, task

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
TASK_URL = re.compile(r"^(?:https?://[^/]+)?/operator/tasks/(\d+)$")
RESULT_URL = re.compile(r"^(?:https?://[^/]+)?/operator/attempts/(\d+)$")
CASE_LINK = re.compile(r'href="(/cases/\d+)"')
THINK_SCALE = float(os.environ.get("LOAD_THINK_SCALE", "1"))

_numbers = itertools.count(1)
_numbers_lock = threading.Lock()
_names = {"operator": itertools.count(1), "supervisor": itertools.count(1)}


def _next(kind: str) -> int:
    with _numbers_lock:
        return next(_names[kind])


def think(low: float, high: float) -> float:
    return random.uniform(low, high) * THINK_SCALE


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise ValueError("no csrf_token on the page")
    return match.group(1) or match.group(2)


def call_form(csrf: str) -> dict[str, str]:
    """The questionnaire as an operator saves it: mostly a finished survey, some failed calls."""
    roll = random.random()
    if roll < 0.15:
        return {"csrf_token": csrf, "disposition": "no_answer", "note": ""}
    if roll < 0.22:
        return {"csrf_token": csrf, "disposition": "busy", "note": ""}
    # The seeded orders were accepted yesterday (Beijing); the integration's today: both within tolerance.
    applied_on = (datetime.now(SHANGHAI) - timedelta(days=1)).date().isoformat()
    return {
        "csrf_token": csrf,
        "disposition": "completed",
        "answers-is_applicant": "true",
        "answers-applied_on": applied_on,
        "answers-progress": "surveyed",
        "answers-trips": "1",
        "answers-extra_documents": "false",
        "answers-fee_requested": "false",
        "answers-integrity": "false",
        # One customer in six is dissatisfied: a finding and a supervision case for the supervisors.
        "answers-satisfaction": "2" if random.random() < 1 / 6 else "5",
        "answers-comment": "",
        "callback_at": "",
        "note": "负荷测试",
    }


class SignedInUser(HttpUser):
    abstract = True
    username = ""

    def sign_in(self) -> None:
        page = self.client.get("/login", name="/login (form)")
        token = csrf_token(page.text)
        with self.client.post(
            "/login",
            data={
                "username": self.username,
                "password": os.environ.get("LOAD_PASSWORD", PASSWORD),
                "csrf_token": token,
            },
            allow_redirects=False,
            name="/login (sign in)",
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
                response.failure(f"sign-in refused for {self.username}: {response.status_code}")


class OperatorUser(SignedInUser):
    fixed_count = int(os.environ.get("LOAD_OPERATORS", "50"))
    # A pause between calls (wrap-up); the conversation itself is the think time inside the task.
    wait_time = between(2 * THINK_SCALE, 6 * THINK_SCALE)

    def on_start(self) -> None:
        self.username = operator_name(_next("operator"))
        self.sign_in()
        self.csrf = ""

    @task
    def one_callback(self) -> None:
        queue = self.client.get("/operator/", name="/operator/ (queue)")
        if queue.status_code != 200:
            return
        self.csrf = csrf_token(queue.text)
        with self.client.post(
            "/operator/next",
            data={"csrf_token": self.csrf},
            allow_redirects=False,
            name="/operator/next (claim)",
            catch_response=True,
        ) as claimed:
            match = TASK_URL.match(claimed.headers.get("Location", ""))
            if claimed.status_code != 302 or match is None:
                claimed.failure(
                    f"no callback claimed: {claimed.status_code} {claimed.headers.get('Location')}"
                )
                return
        task_id = match.group(1)
        screen = self.client.get(f"/operator/tasks/{task_id}", name="/operator/tasks/[id] (call screen)")
        if screen.status_code != 200:
            return
        form = call_form(csrf_token(screen.text))
        # The conversation: about two minutes in life, shortened so 10 minutes hold many calls.
        gevent.sleep(think(8, 20))
        with self.client.post(
            f"/operator/tasks/{task_id}/attempts",
            data=form,
            allow_redirects=False,
            name="/operator/tasks/[id]/attempts (save)",
            catch_response=True,
        ) as saved:
            result = RESULT_URL.match(saved.headers.get("Location", ""))
            if saved.status_code != 302 or result is None:
                saved.failure(f"call not saved: {saved.status_code}")
                return
        self.client.get(f"/operator/attempts/{result.group(1)}", name="/operator/attempts/[id] (result)")


class IntegrationUser(HttpUser):
    fixed_count = int(os.environ.get("LOAD_INTEGRATION_USERS", "5"))
    # 10 orders/s together: each user starts a push every fixed_count / 10 s (several users, so one slow
    # answer does not hold the whole feed back).
    wait_time = constant_pacing(fixed_count / 10 * THINK_SCALE)
    seeded = int(os.environ.get("LOAD_SEEDED_ORDERS", "20000"))

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {os.environ.get('LOAD_TOKEN', '')}"}

    @task
    def push_order(self) -> None:
        with _numbers_lock:
            number = next(_numbers)
        now = datetime.now(UTC)
        if number % 5 == 0 and self.seeded:
            # A seeded order still waiting for its intake call gets connected: an update, a completion task.
            index = random.randrange(self.seeded)
            payload = order_payload(f"LOAD-S{index:07d}", index, now - timedelta(days=1), connected=True)
            name = "/api/v1/work-orders/[no] (update)"
        else:
            index = 10_000_000 + number
            payload = order_payload(f"LOAD-I{number:07d}", index, now - timedelta(minutes=5))
            name = "/api/v1/work-orders/[no] (new)"
        with self.client.put(
            f"/api/v1/work-orders/{payload['order_no']}",
            json=payload,
            headers=self.headers,
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")


class SupervisorUser(SignedInUser):
    fixed_count = int(os.environ.get("LOAD_SUPERVISORS", "3"))
    wait_time = between(5 * THINK_SCALE, 15 * THINK_SCALE)

    def on_start(self) -> None:
        self.username = supervisor_name(_next("supervisor"))
        self.sign_in()

    @task(3)
    def cases(self) -> None:
        page = self.client.get("/cases/", name="/cases/ (list)")
        links = CASE_LINK.findall(page.text) if page.status_code == 200 else []
        if links:
            self.client.get(random.choice(links[:20]), name="/cases/[id]")

    @task(2)
    def dashboard(self) -> None:
        # The page carries its charts' data (since session 4): a browser asks for nothing more.
        self.client.get("/reports/", name="/reports/ (dashboard)")

    @task(1)
    def orders(self) -> None:
        self.client.get("/", name="/ (order list)")
