"""The HTTP plumbing the providers' fakes share: a quiet JSON handler and a server on a free 127.0.0.1 port.

A fake is a handler class (its `service` attribute holds the fake's state) and a `FakeServer` subclass
naming it; the test sets the provider's base URL to `server.url`. Each server binds port 0, so fakes in
parallel test workers never collide.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

Service = TypeVar("Service")


class JsonHandler(BaseHTTPRequestHandler):
    """Answer JSON; `content_type` and `ensure_ascii` follow the provider imitated."""

    content_type: ClassVar[str] = "application/json"
    ensure_ascii: ClassVar[bool] = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=self.ensure_ascii).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop_connection(self) -> None:
        """Close without answering: the request took effect but its response never arrives."""
        self.close_connection = True
        self.connection.shutdown(2)


class FakeServer(Generic[Service]):
    """Run `handler` on 127.0.0.1 in a thread with `service` as its state; a context manager."""

    handler: ClassVar[type[JsonHandler]]

    def __init__(self, service: Service) -> None:
        handler = type("Handler", (self.handler,), {"service": service})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.service = service
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
