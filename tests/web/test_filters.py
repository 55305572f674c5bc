"""The display helpers pages share: local time, labels in the current language."""

from datetime import UTC, datetime

from flask import Flask
from flask_babel import force_locale

from callback.labels import LABELS, label
from callback.web.filters import localtime


def test_localtime_shows_utc_in_the_configured_zone(app: Flask) -> None:
    with app.test_request_context():
        assert localtime(datetime(2026, 11, 23, 1, 30, tzinfo=UTC)) == "2026-11-23 09:30"
        assert localtime(datetime(2026, 12, 31, 16, 5, tzinfo=UTC)) == "2027-01-01 00:05"
        assert localtime(None) == ""


def test_every_label_has_chinese_and_english(app: Flask) -> None:
    with app.test_request_context():
        for kind, values in LABELS.items():
            for value in values:
                with force_locale("zh_CN"):
                    chinese = label(kind, value)
                with force_locale("en"):
                    english = label(kind, value)
                assert chinese != english, (kind, value)
                assert any("\u4e00" <= char <= "\u9fff" for char in chinese), (kind, value, chinese)


def test_same_english_word_translates_by_context(app: Flask) -> None:
    with app.test_request_context(), force_locale("zh_CN"):
        assert label("status", "cancelled") == "撤销"
        assert label("task_state", "cancelled") == "已取消"
        assert label("ledger", "connect_first") == "先接入后改造"
        assert label("status", "something_new") == "something_new"
        assert label("ledger", None) == ""
