"""What an audio file is (by its magic bytes, then parsed by mutagen), and the simulation's WAV."""

import io
import math
import random
import struct
import wave
from dataclasses import dataclass

from mutagen import MutagenError
from mutagen.mp3 import MP3
from mutagen.wave import WAVE

WAV = "audio/wav"
MP3_TYPE = "audio/mpeg"
# File name endings of each type, for the storage key.
EXTENSIONS = {WAV: ".wav", MP3_TYPE: ".mp3"}


class NotAudio(ValueError):
    """The bytes are not a WAV or MP3 recording."""


@dataclass(frozen=True)
class AudioInfo:
    content_type: str
    duration_seconds: float | None
    channels: int | None


def sniff(data: bytes) -> str | None:
    """Return the content type the magic bytes announce (WAV or MP3), or None."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data[:3] == b"ID3":
        return MP3_TYPE
    # An MP3 without a tag starts with a frame header: 11 sync bits, then a version and layer that exist.
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x18 != 0x08:
        return MP3_TYPE
    return None


def inspect_audio(data: bytes) -> AudioInfo:
    """Return the type, duration and channels of a WAV or MP3; raise NotAudio for anything else."""
    content_type = sniff(data)
    if content_type is None:
        raise NotAudio("not a WAV or MP3 file")
    parser = WAVE if content_type == WAV else MP3
    try:
        info = parser(io.BytesIO(data)).info
    except (MutagenError, ValueError, EOFError, struct.error) as error:
        raise NotAudio(f"the {EXTENSIONS[content_type][1:].upper()} data cannot be read: {error}") from None
    if info is None:
        raise NotAudio(f"the {EXTENSIONS[content_type][1:].upper()} data has no stream information")
    duration = float(info.length) if info.length else None
    return AudioInfo(content_type, round(duration, 2) if duration else None, int(info.channels) or None)


def simulated_wav(seconds: float, *, seed: str, channels: int = 2, rate: int = 8000) -> bytes:
    """Return a small real WAV (16-bit PCM, telephone rate): two voices taking turns, one per channel.

    The simulated provider's recordings: playable in a browser, different per call (seeded by `seed`).
    """
    rng = random.Random(seed)  # noqa: S311  (a simulation, not security)
    frames = int(seconds * rate)
    pitches = [rng.uniform(180, 260), rng.uniform(110, 160)]  # the IVR's voice, the customer's
    turn = rate * 2  # each side speaks for two seconds in turn
    samples = bytearray()
    for index in range(frames):
        speaking = (index // turn) % 2
        for channel in range(channels):
            active = channel == speaking or channels == 1
            value = math.sin(2 * math.pi * pitches[speaking] * index / rate) if active else 0.0
            samples += struct.pack("<h", int(value * 6000))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()
