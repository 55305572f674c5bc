"""A fake Alibaba Cloud OSS bucket on 127.0.0.1 serving objects by pre-signed URL: VoiceRecordReport links.

A `record_file` is an OSS object URL signed in the query (signature version 1, the form of the documented
example `…/record.wav?Expires=…&OSSAccessKeyId=…&Signature=…`): Signature = base64(HMAC-SHA1(secret,
"GET\\n\\n\\n<Expires>\\n/<bucket>/<object>")). The fake checks it as OSS does: a wrong signature or an
expired link is 403 with OSS's XML error, an unknown object 404; a good one is the object's bytes.
"""

import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

BUCKET = "vms-record"
ACCESS_KEY_ID = "LTAI5tOssFake"
ACCESS_KEY_SECRET = "oss-fake-secret"


def oss_signature(secret: str, expires: int, bucket: str, key: str) -> str:
    string_to_sign = f"GET\n\n\n{expires}\n/{bucket}/{key}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class FakeBucket:
    objects: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    bucket: FakeBucket

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _error(self, status: int, code: str, message: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<BucketName>{BUCKET}</BucketName></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.bucket.requests.append(self.path)
        key = parts.path.lstrip("/")
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        expires = query.get("Expires", "")
        if query.get("OSSAccessKeyId") != ACCESS_KEY_ID or not expires.isdigit():
            self._error(403, "AccessDenied", "Anonymous access is forbidden for this operation.")
            return
        wanted = oss_signature(ACCESS_KEY_SECRET, int(expires), BUCKET, key)
        if not hmac.compare_digest(wanted, query.get("Signature", "")):
            self._error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.")
            return
        if int(expires) < time.time():
            self._error(403, "AccessDenied", "Request has expired.")
            return
        if key not in self.bucket.objects:
            self._error(404, "NoSuchKey", "The specified key does not exist.")
            return
        data = self.bucket.objects[key]
        self.send_response(200)
        self.send_header("Content-Type", "audio/x-wav")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeOss:
    """Run the bucket on 127.0.0.1 in a thread; `signed_url` makes the link a VoiceRecordReport carries."""

    def __init__(self) -> None:
        self.bucket = FakeBucket()
        handler = type("Handler", (_Handler,), {"bucket": self.bucket})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def signed_url(self, key: str, *, valid_seconds: int = 7 * 86400, secret: str = ACCESS_KEY_SECRET) -> str:
        expires = int(time.time()) + valid_seconds
        signature = quote(oss_signature(secret, expires, BUCKET, key), safe="")
        return f"{self.url}/{key}?Expires={expires}&OSSAccessKeyId={ACCESS_KEY_ID}&Signature={signature}"

    def __enter__(self) -> "FakeOss":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
