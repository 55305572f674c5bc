"""A local stand-in for Twilio's REST API on 127.0.0.1: calls, recording media, recording deletion.

It speaks the documented wire format the twilio library and the recording fetcher use: form-encoded
POST /2010-04-01/Accounts/{AccountSid}/Calls.json answered with the call's JSON; GET of
/Recordings/{RecordingSid}.wav answered with the WAV under HTTP basic auth; DELETE of
/Recordings/{RecordingSid}.json answered 204 (404 for an unknown recording).
"""

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "fake-twilio-token"
CALLS = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Calls\.json$")
MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Recordings/(RE\w{32})\.(wav|mp3)$")
RESOURCE = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Recordings/(RE\w{32})\.json$")


class FakeTwilio:
    """The server's state: calls created, recordings it holds, failures to play, requests seen."""

    def __init__(self) -> None:
        self.calls: list[dict[str, list[str]]] = []
        self.recordings: dict[str, bytes] = {}
        self.deleted: list[str] = []
        self.media_requests: list[str] = []
        self.fail_media = 0  # answer this many media requests with 500 first
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> "FakeTwilio":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

            def _authorised(self) -> bool:
                expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {expected}"

            def _send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, code: int, message: str) -> None:
                body = {"code": code, "message": message, "status": status}
                self._send(status, json.dumps(body).encode())

            def do_POST(self) -> None:
                if not self._authorised():
                    return self._error(401, 20003, "Authenticate")
                if not CALLS.match(self.path):
                    return self._error(404, 20404, "Not found")
                length = int(self.headers.get("Content-Length") or 0)
                fake.calls.append(parse_qs(self.rfile.read(length).decode()))
                sid = "CA" + uuid.uuid4().hex
                created = {"sid": sid, "status": "queued", "date_created": "Fri, 27 Nov 2026 02:00:05 +0000"}
                self._send(201, json.dumps(created).encode())

            def do_GET(self) -> None:
                match = MEDIA.match(self.path)
                if not match:
                    return self._error(404, 20404, "Not found")
                fake.media_requests.append(self.path)
                if not self._authorised():
                    return self._error(401, 20003, "Authenticate")
                if fake.fail_media > 0:
                    fake.fail_media -= 1
                    return self._error(500, 20500, "Internal Server Error")
                audio = fake.recordings.get(match.group(2))
                if audio is None:
                    return self._error(404, 20404, "The requested resource was not found")
                self._send(200, audio, "audio/x-wav")

            def do_DELETE(self) -> None:
                if not self._authorised():
                    return self._error(401, 20003, "Authenticate")
                match = RESOURCE.match(self.path)
                if not match or match.group(2) not in fake.recordings:
                    return self._error(404, 20404, "The requested resource was not found")
                fake.deleted.append(match.group(2))
                self._send(204)

        return Handler
