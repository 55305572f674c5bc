"""AAPOR Standard Definitions rates and the Wilson interval: pure functions against hand-computed figures."""

import pytest

from callback.reports.aapor import Dispositions, aapor_figures, estimate, estimated_e, rates, wilson_interval


def test_the_issue_example_100_completes_and_20_non_contacts():
    computed = rates(Dispositions(I=100, NC=20), e=1.0)
    assert round(computed["RR1"].value, 3) == 0.833
    assert round(computed["CON1"].value, 3) == 0.833
    assert computed["COOP1"].value == 1.0
    assert computed["REF1"].value == 0.0


# I=40 P=10 R=20 NC=15 O=5 UH=8 UO=2 NE=10, e=0.5; each value worked out by hand from the 2023 formulas.
RICH = Dispositions(I=40, P=10, R=20, NC=15, O=5, UH=8, UO=2, NE=10)


@pytest.mark.parametrize(
    ("name", "numerator", "denominator"),
    [
        ("RR1", 40, 100),  # I / ((I+P) + (R+NC+O) + (UH+UO)) = 40 / (50 + 40 + 10)
        ("RR2", 50, 100),
        ("RR3", 40, 95),  # … + e(UH+UO) = 50 + 40 + 5
        ("RR4", 50, 95),
        ("RR5", 40, 90),
        ("RR6", 50, 90),
        ("COOP1", 40, 75),  # I / ((I+P) + R + O)
        ("COOP2", 50, 75),
        ("COOP3", 40, 70),  # I / ((I+P) + R)
        ("COOP4", 50, 70),
        ("REF1", 20, 100),
        ("REF2", 20, 95),
        ("REF3", 20, 90),
        ("CON1", 75, 100),  # ((I+P) + R + O) / ((I+P) + R + O + NC + (UH+UO))
        ("CON2", 75, 95),
        ("CON3", 75, 90),
    ],
)
def test_every_rate_of_the_standard_definitions(name, numerator, denominator):
    rate = rates(RICH, e=0.5)[name]
    assert (rate.numerator, rate.denominator) == (numerator, denominator)
    assert rate.value == pytest.approx(numerator / denominator)


def test_e_estimated_by_proportional_allocation():
    assert estimated_e(RICH) == pytest.approx(90 / 100)  # eligible 90 of the 100 of known eligibility
    assert estimated_e(Dispositions(UH=5)) == 1.0  # nothing known yet: assume all eligible
    figures = aapor_figures(RICH, None, min_sample=30)
    assert figures["e"] == 0.9 and figures["e_estimated"] is True
    assert figures["rates"]["RR3"]["value"] == round(40 / 99, 3)
    assert aapor_figures(RICH, 0.5, min_sample=30)["rates"]["RR3"]["n"] == 95


def test_no_cases_give_zero_rates_not_errors():
    assert all(rate.value == 0.0 for rate in rates(Dispositions(), e=1.0).values())


def test_wilson_interval_of_10_of_10_satisfied():
    low, high = wilson_interval(10, 10)
    assert (round(low, 3), high) == (0.722, 1.0)
    assert estimate(10, 10, min_sample=30) == {
        "value": 1.0,
        "n": 10,
        "ci95": [0.722, 1.0],
        "indicative": True,
    }


def test_wilson_interval_known_values_and_edges():
    low, high = wilson_interval(50, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    assert wilson_interval(0, 10)[0] == 0.0 and round(wilson_interval(0, 10)[1], 3) == 0.278
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert estimate(30, 30, min_sample=30)["indicative"] is False
    assert estimate(29, 29, min_sample=30)["indicative"] is True
