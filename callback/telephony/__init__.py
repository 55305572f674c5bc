"""Telephony: the provider port, the Twilio, Alibaba Cloud and simulated providers, the IVR, the dialer.

The domain (worklist, findings, cases) never imports `twilio` or Alibaba's SDK; only this package and the
webhooks do.
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
    if app.config["TELEPHONY"] == "aliyun":
        from callback.telephony.aliyun_provider import AliyunCallSettings, AliyunProvider
        from callback.telephony.ivr import next_question
        from callback.telephony.script import GREETING, RECORDING_NOTICE

        first = next_question(None, {})
        record = bool(app.config.get("ALIYUN_RECORD", True))
        assert first is not None and first.ivr_prompt_zh is not None  # noqa: S101  (the questionnaire)
        return AliyunProvider(
            access_key_id=app.config["ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=app.config["ALIYUN_ACCESS_KEY_SECRET"],
            endpoint=app.config["ALIYUN_VMS_ENDPOINT"],
            call_settings=AliyunCallSettings(
                called_show_number=app.config["ALIYUN_CALLED_SHOW_NUMBER"],
                voice_code=app.config["ALIYUN_VOICE_CODE"],
                asr_model_id=app.config.get("ALIYUN_ASR_MODEL_ID"),
                record=record,
            ),
            first_prompt=first.ivr_prompt_zh,
            # A recorded call says so before anything else, as the Twilio IVR does.
            greeting=RECORDING_NOTICE + GREETING if record else GREETING,
            timeout_seconds=float(app.config.get("TWILIO_HTTP_TIMEOUT_SECONDS") or 10),
        )
    from callback.telephony.simulated import SimulatedProvider

    return SimulatedProvider(
        app,
        settings.simulation_mix,
        seed=app.config.get("SIMULATION_SEED"),
        protocol=app.config.get("SIMULATION_PROTOCOL") or "twilio",
        slot_answer=settings.simulation_slot_answer,
    )
