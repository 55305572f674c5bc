"""A fake Twilio Messaging API on 127.0.0.1: the documented Messages resource, HTTP Basic auth, form body.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with To, From (or MessagingServiceSid) and Body
answers 201 with the message resource (sid SM…, status queued); a wrong account or secret is 401 with
Twilio's error JSON (code 20003); a missing parameter 400 (code 21604 / 21603 / 21602).
"""

import base64
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from tests.fake_http import FakeServer, JsonHandler


@dataclass
class FakeMessaging:
    account_sid: str
    auth_token: str
    messages: list[dict[str, str]] = field(default_factory=list)
    # What the next create does: "ok", "error500", "lose" (create, then drop the connection), or a
    # Twilio error code to refuse with (400).
    next_create: list[str] = field(default_factory=list)


class _Handler(JsonHandler):
    service: FakeMessaging

    def _error(self, status: int, code: int, message: str) -> None:
        self._answer(status, {"code": code, "message": message, "more_info": "", "status": status})

    def do_POST(self) -> None:
        form = dict(parse_qsl(self.read_body().decode(), keep_blank_values=True))
        expected = (
            "Basic "
            + base64.b64encode(f"{self.service.account_sid}:{self.service.auth_token}".encode()).decode()
        )
        if self.headers.get("Authorization") != expected:
            self._error(401, 20003, "Authenticate")
            return
        if self.path != f"/2010-04-01/Accounts/{self.service.account_sid}/Messages.json":
            self._error(404, 20404, "The requested resource was not found")
            return
        for name, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(name):
                self._error(400, code, f"A '{name}' parameter is required.")
                return
        behaviour = self.service.next_create.pop(0) if self.service.next_create else "ok"
        if behaviour == "error500":
            self._error(500, 20500, "Internal Server Error")
            return
        if behaviour not in ("ok", "lose"):
            self._error(400, int(behaviour), "refused by the fake as the test asked")
            return
        sid = f"SM{len(self.service.messages):032x}"
        self.service.messages.append({"sid": sid, **form})
        if behaviour == "lose":
            self.drop_connection()
            return
        self._answer(
            201,
            {
                "sid": sid,
                "account_sid": self.service.account_sid,
                "to": form["To"],
                "from": form["From"],
                "body": form["Body"],
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.service.account_sid}/Messages/{sid}.json",
            },
        )


class FakeTwilioServer(FakeServer[FakeMessaging]):
    """Run the fake on 127.0.0.1 in a thread; `url` is what TWILIO_API_BASE is set to."""

    handler = _Handler
