"""Local stand-ins that speak the providers' wire formats: a WeCom group robot and an SMTP server."""

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeWeCom:
    """A WeCom group robot: POST /cgi-bin/webhook/send?key=… with a JSON message, answering errcode 0."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    # Answers to give before succeeding: (HTTP status, JSON body) pairs, used up in order.
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@contextmanager
def fake_wecom() -> Iterator[FakeWeCom]:
    state = FakeWeCom()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if state.failures:
                status, answer = state.failures.pop(0)
            else:
                status, answer = 200, {"errcode": 0, "errmsg": "ok"}
                state.received.append(body)
                state.keys.append(self.path.split("key=", 1)[-1])
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test-robot-key"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class FakeSmtp:
    port: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def fake_smtp() -> Iterator[FakeSmtp]:
    """A minimal SMTP server (RFC 5321: EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it is sent."""
    state = FakeSmtp()

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 fake ESMTP")
            sender, recipients = "", []
            while True:
                line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
                if not line:
                    return
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 fake")
                elif verb == "MAIL":
                    sender = line.split(":", 1)[1].strip()
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 go ahead")
                    data = []
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data.append(chunk)
                    state.messages.append(
                        {"from": sender, "to": recipients, "data": b"".join(data).decode("utf-8", "replace")}
                    )
                    sender, recipients = "", []
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.port = server.server_address[1]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
