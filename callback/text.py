"""Free text typed by people or sent by systems: what no stored text may hold."""

import re

# NUL and the other C0 controls but tab, line feed and carriage return: PostgreSQL refuses NUL in text,
# and none of them belongs in a name, an address or a note.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    """Tell whether the text holds a control character that must not be stored."""
    return _CONTROL_CHARACTERS.search(text) is not None


def without_control_characters(text: str) -> str:
    """Return the text with those characters dropped: for search terms, which are read, never stored."""
    return _CONTROL_CHARACTERS.sub("", text)
