"""Display helpers shared by pages and the API."""


def mask_phone(e164: str | None) -> str | None:
    """Hide the middle of a phone number: +8613812345678 → +86138****5678."""
    if not e164:
        return e164
    if len(e164) <= 8:
        return e164[:2] + "*" * (len(e164) - 2)
    return e164[:6] + "****" + e164[-4:]
