"""Rates that mean what they say (issue 13): AAPOR's set, intervals, MIN_SAMPLE, the utility's rates."""

from datetime import date, timedelta

import pytest

from callback.audit import Actor
from callback.donotcall import Listing, add
from callback.extensions import db
from callback.models import DoNotCallReason, DoNotCallSource, WorkOrder
from callback.reports.filters import ReportFilter
from callback.reports.summary import summary
from callback.worklist import claim_next, record_attempt
from tests.conftest import TEST_NOW

NOVEMBER = ReportFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))


@pytest.fixture
def call(app, settings, make_user):
    """Claim each workable intake task at `now` and record the outcome given for its order."""
    operator = make_user("caller", "operator")

    def make_calls(outcomes: dict[str, tuple[str, dict]], now=TEST_NOW) -> None:
        while (task := claim_next(db.session, operator.id, now=now, settings=settings)) is not None:
            order_no = db.session.get(WorkOrder, task.order_id).order_no
            disposition, answers = outcomes[order_no]
            record_attempt(
                db.session,
                task.id,
                operator.id,
                disposition=disposition,
                answers=answers or None,
                callback_at=None,
                note=None,
                now=now,
                settings=settings,
            )
            db.session.commit()

    return make_calls


def test_the_summary_carries_aapor_rates_intervals_and_the_utility_rates(add_orders, call, settings):
    add_orders(
        *({"order_no": f"R-{n}"} for n in range(1, 6)),
        {"order_no": "R-6", "customer_phone": "13900139006", "service_center": "城北供电服务中心"},
    )
    add(
        db.session,
        Listing("+8613900139006", DoNotCallReason.CUSTOMER_ASKED, None, None),
        source=DoNotCallSource.SUPERVISOR,
        actor=Actor(source="test"),
        now=TEST_NOW,
    )
    db.session.commit()
    call(
        {
            "R-1": ("completed", {"progress": "none", "satisfaction": 5}),
            "R-2": ("completed", {"progress": "none", "satisfaction": 4}),
            "R-3": ("no_answer", {}),
            "R-4": ("refused", {}),
            "R-5": ("wrong_number", {}),
        }
    )
    figures = summary(db.session, NOVEMBER, settings, TEST_NOW)
    # The listed R-6 was never called: its task ended as do_not_call and counts as a refusal (2.112).
    assert figures["aapor"]["counts"] == {"I": 2, "P": 0, "R": 2, "NC": 1, "O": 0, "UH": 0, "UO": 0, "NE": 1}
    rates = figures["aapor"]["rates"]
    assert rates["RR1"] == {"value": 0.4, "n": 5, "ci95": [0.118, 0.769], "indicative": True}
    assert rates["COOP1"]["value"] == 0.5 and rates["CON1"]["value"] == 0.8
    assert figures["aapor"]["e"] == round(5 / 6, 3)  # estimated: 5 eligible of 6 known
    assert figures["min_sample"] == 30
    # The existing figures keep their form, and gain their sample size and interval beside them.
    assert figures["callbacks"]["response_rate_rr1"] == 0.4
    assert figures["intervals"]["callbacks.response_rate_rr1"]["n"] == 5
    assert figures["intervals"]["callbacks.satisfied_share"] == {
        "value": 1.0, "n": 2, "ci95": [0.342, 1.0], "indicative": True,
    }  # fmt: skip
    utility = figures["utility"]
    # 回访率: 2 of the 6 tasks due have a completed callback; 满意率 2 of 2; 回访及时率 2 of 2 (same day).
    assert (utility["callback_rate"]["numerator"], utility["callback_rate"]["n"]) == (2, 6)
    assert utility["callback_rate"]["value"] == 0.333
    assert (utility["satisfaction_rate"]["value"], utility["satisfaction_rate"]["n"]) == (1.0, 2)
    assert (utility["timely_rate"]["value"], utility["timely_rate"]["n"]) == (1.0, 2)
    centres = {(row["service_center"], row["month"]): row for row in utility["by_center_month"]}
    assert set(centres) == {("城关供电服务中心", "2026-11"), ("城北供电服务中心", "2026-11")}
    assert centres["城北供电服务中心", "2026-11"]["callback_rate"]["n"] == 1
    assert centres["城关供电服务中心", "2026-11"]["callback_rate"]["numerator"] == 2


@pytest.mark.parametrize("value", ["often", 1.5, -0.1, True])
def test_a_bad_aapor_e_or_min_sample_stops_the_app_with_a_clear_message(tmp_path, monkeypatch, value):
    from tests.conftest import make_app

    with pytest.raises(SystemExit, match="AAPOR_E must be 'estimated' or a number from 0 to 1"):
        make_app(tmp_path, monkeypatch, AAPOR_E=value)
    with pytest.raises(SystemExit, match="MIN_SAMPLE"):
        make_app(tmp_path, monkeypatch, MIN_SAMPLE=0)


def test_a_callback_made_after_the_window_is_not_timely(add_orders, call, settings):
    add_orders({"order_no": "L-1"})
    call({"L-1": ("completed", {"progress": "none", "satisfaction": 3})}, now=TEST_NOW + timedelta(days=5))
    utility = summary(db.session, NOVEMBER, settings, TEST_NOW + timedelta(days=5))["utility"]
    assert (utility["callback_rate"]["value"], utility["timely_rate"]["value"]) == (1.0, 0.0)
    assert utility["satisfaction_rate"] == {
        "value": 0.0, "n": 1, "ci95": [0.0, 0.793], "indicative": True, "numerator": 0,
    }  # fmt: skip


def test_min_sample_and_aapor_e_come_from_the_configuration(tmp_path, monkeypatch):
    from tests.conftest import fresh_schema, make_app

    app = make_app(tmp_path, monkeypatch, MIN_SAMPLE=1, AAPOR_E=0.5)
    with app.app_context():
        fresh_schema(app)
        from callback.settings import current_settings

        figures = summary(db.session, NOVEMBER, current_settings(), TEST_NOW)
        assert figures["min_sample"] == 1
        assert figures["aapor"]["e"] == 0.5 and figures["aapor"]["e_estimated"] is False
        db.session.remove()
        db.engine.dispose()
