"""TwiML builders for the IVR: pure functions from what to say and where to send keys to an XML string."""

from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

from callback.survey import Keypad
from callback.telephony.script import (
    CLOSING,
    GREETING,
    INVALID_ENTRY,
    NO_ENTRY,
    NOT_UNDERSTOOD,
    RECORDING_NOTICE,
)

__all__ = [
    "CLOSING",
    "GREETING",
    "INVALID_ENTRY",
    "NOT_UNDERSTOOD",
    "NO_ENTRY",
    "RECORDING_NOTICE",
    "ask",
    "goodbye",
    "hang_up",
]

# Mandarin text-to-speech: Amazon Polly's Zhiyu voice through Twilio's <Say>.
VOICE = "Polly.Zhiyu"
LANGUAGE = "cmn-CN"
# Seconds Twilio waits for the first (and each next) key before it posts an empty answer.
GATHER_TIMEOUT_SECONDS = 8

# Speech recognition of the customer's answers (Gather input="dtmf speech"): Mandarin, simplified Chinese.
SPEECH_LANGUAGE = "cmn-Hans-CN"


def _say(target: VoiceResponse, text: str) -> None:
    target.say(text, voice=VOICE, language=LANGUAGE)


def ask(
    prompt: str,
    keypad: Keypad,
    action_url: str,
    *,
    preamble: str | None = None,
    notice: str | None = None,
    hints: Sequence[str] = (),
) -> str:
    """Return TwiML that says `notice` and `preamble`, then asks `prompt` inside a <Gather> to `action_url`.

    The notice (本次通话将被录音) is its own <Say>, before anything else, outside the Gather: it cannot be
    skipped by answering.

    The prompt is inside the Gather so a caller may answer before it ends, with keys or by voice (Twilio
    posts Digits or SpeechResult; `hints` are the phrases the recogniser should expect); an empty answer
    (timeout) is posted too (actionOnEmptyResult), so the IVR re-asks instead of falling off the end.
    """
    response = VoiceResponse()
    if notice:
        _say(response, notice)
    if preamble:
        _say(response, preamble)
    gather = response.gather(
        action=action_url,
        method="POST",
        input="dtmf speech",
        language=SPEECH_LANGUAGE,
        speech_timeout="auto",
        hints=", ".join(hints) if hints else None,
        num_digits=keypad.num_digits,
        finish_on_key=keypad.finish_on_key,
        timeout=GATHER_TIMEOUT_SECONDS,
        action_on_empty_result=True,
    )
    _say(gather, prompt)
    return str(response)


def goodbye(text: str = CLOSING) -> str:
    """Return TwiML that says the closing message and hangs up."""
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return str(response)


def hang_up() -> str:
    """Return TwiML that hangs up at once (an answering machine took the call)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
