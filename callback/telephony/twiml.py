"""TwiML builders for the IVR: pure functions from what to say and where to send keys to an XML string.

Twilio's builder (an ElementTree per answer) is only run once per distinct question, try and preamble: `ask`
keeps each rendering with a placeholder for the action URL, the one part that differs between calls, and
puts the call's URL, XML-escaped, in its place.
"""

from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape

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
    "render_ask",
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


# Stands for the action URL in the kept renderings: a URL, so the builder treats it as it treats the real one.
_ACTION = "https://action.invalid/placeholder"


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
    rendered = _rendered_ask(prompt, keypad, preamble, notice, tuple(hints))
    return rendered.replace(_ACTION, escape(action_url, {'"': "&quot;"}), 1)


# The IVR's questions, tries and preambles make a few dozen distinct renderings.
@lru_cache(maxsize=512)
def _rendered_ask(
    prompt: str, keypad: Keypad, preamble: str | None, notice: str | None, hints: tuple[str, ...]
) -> str:
    """Render `ask` with the placeholder action URL (once per distinct set of arguments)."""
    return render_ask(prompt, keypad, _ACTION, preamble=preamble, notice=notice, hints=hints)


def render_ask(
    prompt: str,
    keypad: Keypad,
    action_url: str,
    *,
    preamble: str | None = None,
    notice: str | None = None,
    hints: Sequence[str] = (),
) -> str:
    """Render `ask`'s TwiML with Twilio's builder, every time (what `ask` keeps and the tests compare)."""
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


@lru_cache(maxsize=16)
def goodbye(text: str = CLOSING) -> str:
    """Return TwiML that says the closing message and hangs up."""
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return str(response)


@lru_cache(maxsize=1)
def hang_up() -> str:
    """Return TwiML that hangs up at once (an answering machine took the call)."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
