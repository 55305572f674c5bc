"""Twilio webhooks: TwiML for the IVR and call status callbacks (issue 5)."""

from flask import Blueprint

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
