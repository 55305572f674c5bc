"""Jinja filters and globals the pages share: local times, masked phones, enum labels."""

from datetime import UTC, datetime

from flask import Flask
from flask_babel import get_locale

from callback.formatting import mask_phone
from callback.labels import choices, label
from callback.settings import current_settings

LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def localtime(value: datetime | None, fmt: str = LOCAL_FORMAT) -> str:
    """Show a UTC datetime in the app's TIMEZONE as "YYYY-MM-DD HH:MM"; nothing for None."""
    if value is None:
        return ""
    if value.tzinfo is None:  # the database layer gives aware UTC; be safe with a stray naive value
        value = value.replace(tzinfo=UTC)
    return value.astimezone(current_settings().tz).strftime(fmt)


def label_filter(value: str | None, kind: str) -> str:
    """Show an enum value's label: `{{ order.status|label('status') }}`."""
    return label(kind, value)


def html_lang() -> str:
    """Return the current language as a BCP 47 tag for `<html lang>`: zh-CN or en."""
    locale = get_locale()
    if locale is None:
        return "zh-CN"
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def init_app(app: Flask) -> None:
    """Register the filters and globals with the app's Jinja environment."""
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_filter(label_filter, "label")
    app.add_template_global(label, "label")
    app.add_template_global(choices, "label_choices")
    app.add_template_global(html_lang, "html_lang")
