"""Run the production stack on this machine for a test: gunicorn with deploy/gunicorn.conf.py, nginx in front.

Everything listens on 127.0.0.1 only, on free ports, with its files in a temporary folder.
"""

import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from callback import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    """Wait until something accepts connections on the port; fail with the log if the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s:\n{log.read_text()}")


def log_lines(log: Path, needle: str, *, more_than: int = 0, seconds: float = 10) -> list[str]:
    """Return the log's lines containing `needle`, once there are more than `more_than` of them.

    Servers log a request after answering it, so the line may come a moment after the response.
    """
    deadline = time.monotonic() + seconds
    while True:
        lines = [line for line in log.read_text().splitlines() if needle in line]
        if len(lines) > more_than or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_gunicorn(folder: Path, port: int, environment: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    """Start gunicorn as production does, with one small worker; return it and its log (stdout + stderr)."""
    log = folder / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "-c", str(DEPLOY / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}",
        "callback:create_app()",
    ]  # fmt: skip
    env = {**os.environ, "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2", **environment}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    wait_for_port(port, process, log)
    return process, log


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a throw-away certificate for 127.0.0.1 with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=30
    )
    return cert, key


def render_nginx_site(
    sample: str, *, https_port: int, http_port: int, upstream_port: int, cert: Path, key: Path, static: Path
) -> str:
    """Turn deploy/nginx/callback.conf into a site on this machine's loopback and free ports."""
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "server_name callback.example.com;": "server_name 127.0.0.1;",
        "/etc/ssl/callback/fullchain.pem": str(cert),
        "/etc/ssl/callback/privkey.pem": str(key),
        "alias /var/lib/callback/static/;": f"alias {static}/;",
    }
    for old, new in replacements.items():
        if old not in sample:
            raise AssertionError(f"the nginx sample no longer contains {old!r}: update the test's rendering")
        sample = sample.replace(old, new)
    return sample


def start_nginx(folder: Path, site: str) -> tuple[subprocess.Popen, Path]:
    """Run nginx in the foreground with its pid, logs and temporary files in `folder`."""
    (folder / "site.conf").write_text(site)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder / "access.log"};
{temp}
    include {folder / "site.conf"};
}}
"""
    )
    base = [NGINX, "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30, check=False)
    if checked.returncode != 0:
        raise AssertionError(f"nginx refuses the rendered sample:\n{checked.stderr}\n{site}")
    log = folder / "error.log"
    process = subprocess.Popen(
        [*base, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return process, log


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Browser:
    """An HTTPS client that keeps cookies, like a browser on one machine (its source address chosen)."""

    port: int
    cafile: Path
    source: str = "127.0.0.1"
    cookies: SimpleCookie = field(default_factory=SimpleCookie)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        context = ssl.create_default_context(cafile=str(self.cafile))
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=context, timeout=30, source_address=(self.source, 0)
        )
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(
                f"{name}={morsel.value}" for name, morsel in self.cookies.items()
            )
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=all_headers)
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", "replace")
            for value in answer.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, text)
        finally:
            connection.close()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)
