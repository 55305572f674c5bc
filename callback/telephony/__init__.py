"""Telephony: the provider port, the Twilio and simulated providers, the IVR's TwiML, and the dialer.

The domain (worklist, findings, cases) never imports `twilio`; only this package and the webhooks do.
"""

from flask import Flask

from callback.telephony.port import TelephonyProvider


def make_provider(app: Flask) -> TelephonyProvider:
    """Return the provider TELEPHONY names, configured from the app."""
    settings = app.extensions["callback.settings"]
    if app.config["TELEPHONY"] == "twilio":
        from callback.telephony.twilio_provider import TwilioProvider

        return TwilioProvider(
            account_sid=app.config["TWILIO_ACCOUNT_SID"],
            auth_token=app.config["TWILIO_AUTH_TOKEN"],
            from_number=app.config["TWILIO_FROM"],
            api_base=app.config["TWILIO_API_BASE"],
            timeout_seconds=float(app.config.get("TWILIO_HTTP_TIMEOUT_SECONDS") or 10),
        )
    from callback.telephony.simulated import SimulatedProvider

    return SimulatedProvider(app, settings.simulation_mix, seed=app.config.get("SIMULATION_SEED"))
