"""TwiML builders for the IVR: pure functions from what to say and where to send keys to an XML string."""

from twilio.twiml.voice_response import VoiceResponse

from callback.survey import Keypad

# Mandarin text-to-speech: Amazon Polly's Zhiyu voice through Twilio's <Say>.
VOICE = "Polly.Zhiyu"
LANGUAGE = "cmn-CN"
# Seconds Twilio waits for the first (and each next) key before it posts an empty answer.
GATHER_TIMEOUT_SECONDS = 8

# Said first on every automated call: the call is recorded (dual channel) as evidence.
RECORDING_NOTICE = "本次通话将被录音。"
GREETING = (
    "您好，这里是供电公司用电业务回访。"
    "关于您近期办理的用电申请，想占用您一分钟时间，请用电话按键回答几个问题。"
)
INVALID_ENTRY = "对不起，您的输入无效。"
NO_ENTRY = "对不起，没有收到您的按键。"
CLOSING = "问题已经问完，感谢您对供电服务工作的支持，再见。"


def _say(target: VoiceResponse, text: str) -> None:
    target.say(text, voice=VOICE, language=LANGUAGE)


def ask(
    prompt: str,
    keypad: Keypad,
    action_url: str,
    *,
    preamble: str | None = None,
    notice: str | None = None,
) -> str:
    """Return TwiML that says `notice` and `preamble`, then asks `prompt` in a <Gather> to `action_url`.

    The notice (本次通话将被录音) is its own <Say>, before anything else, outside the Gather: it cannot be
    skipped by pressing a key.

    The prompt is inside the Gather so a caller may answer before it ends; an empty answer (timeout)
    is posted too (actionOnEmptyResult), so the IVR re-asks instead of falling off the end of the document.
    """
    response = VoiceResponse()
    if notice:
        _say(response, notice)
    if preamble:
        _say(response, preamble)
    gather = response.gather(
        action=action_url,
        method="POST",
        input="dtmf",
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
