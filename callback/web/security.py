"""Response headers every answer carries, cookie flags, and the trusted reverse proxies.

A short after_request rather than Flask-Talisman: Talisman's defaults (redirect to HTTPS, Secure session
cookie, its own CSP) fight a plain-HTTP intranet install and the test client, and overriding them leaves
these few fixed headers, which are easier to read here.
"""

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from callback.settings import Settings

# Only our own files. No inline script anywhere (page scripts live in static/*.js); style attributes
# are not allowed either (ECharts draws on canvas; Bootstrap and ECharts set styles through the CSSOM,
# which CSP does not restrict). Bootstrap's CSS draws some icons as data: SVG images.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Put the security headers on every response; keep anything but static files out of every cache."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Pages, API answers and exports carry personal data: no browser or proxy may keep them.
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Trust the configured proxies, set the cookie flags and the remember-me lifetime, add the headers."""
    if settings.trusted_proxies > 0:
        # X-Forwarded-For and -Proto as set by that many proxies, so request.remote_addr (the audit
        # trail's address, the sign-in limits) is the client's and url_for(_external) keeps https.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    # A remember-me cookie never outlives the session's absolute lifetime (checked server-side as well).
    app.config["REMEMBER_COOKIE_DURATION"] = settings.session_max
    app.after_request(add_security_headers)
