"""AAPOR Standard Definitions (10th edition, 2023) outcome rates and the 95 % Wilson interval: pure functions.

Counts are of final dispositions, one per case (here: per callback task):
I complete interview, P partial, R refusal and break-off, NC non-contact, O other (eligible, not
interviewed), UH / UO unknown eligibility (household / other), NE not eligible. `e` is the estimated share of
the unknown-eligibility cases that are eligible.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal quantile of 0.975

RATE_NAMES = (
    "RR1", "RR2", "RR3", "RR4", "RR5", "RR6",
    "COOP1", "COOP2", "COOP3", "COOP4",
    "REF1", "REF2", "REF3",
    "CON1", "CON2", "CON3",
)  # fmt: skip


@dataclass(frozen=True)
class Dispositions:
    """Final disposition counts in AAPOR's groups."""

    I: int = 0  # noqa: E741  (AAPOR's own name)
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741
    UH: int = 0
    UO: int = 0
    NE: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> "Dispositions":
        """Build from a mapping of group name to count (missing groups are 0)."""
        return cls(**{name: int(counts.get(name, 0)) for name in cls.__dataclass_fields__})


def estimated_e(d: Dispositions) -> float:
    """Estimate e by proportional allocation: the eligible share among the cases whose eligibility is known.

    e = (I + P + R + NC + O) / (I + P + R + NC + O + NE); 1.0 when nothing is known yet.
    """
    eligible = d.I + d.P + d.R + d.NC + d.O
    known = eligible + d.NE
    return eligible / known if known else 1.0


@dataclass(frozen=True)
class Fraction:
    """A rate as numerator over denominator (the denominator is the rate's sample size)."""

    numerator: float
    denominator: float

    @property
    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0


def rates(d: Dispositions, e: float) -> dict[str, Fraction]:
    """Return every response, cooperation, refusal and contact rate of the Standard Definitions."""
    interviews = d.I + d.P
    unknown = d.UH + d.UO
    base = interviews + (d.R + d.NC + d.O)
    contacted = interviews + d.R + d.O
    return {
        "RR1": Fraction(d.I, base + unknown),
        "RR2": Fraction(interviews, base + unknown),
        "RR3": Fraction(d.I, base + e * unknown),
        "RR4": Fraction(interviews, base + e * unknown),
        "RR5": Fraction(d.I, base),
        "RR6": Fraction(interviews, base),
        "COOP1": Fraction(d.I, interviews + d.R + d.O),
        "COOP2": Fraction(interviews, interviews + d.R + d.O),
        "COOP3": Fraction(d.I, interviews + d.R),
        "COOP4": Fraction(interviews, interviews + d.R),
        "REF1": Fraction(d.R, base + unknown),
        "REF2": Fraction(d.R, base + e * unknown),
        "REF3": Fraction(d.R, base),
        "CON1": Fraction(contacted, contacted + d.NC + unknown),
        "CON2": Fraction(contacted, contacted + d.NC + e * unknown),
        "CON3": Fraction(contacted, contacted + d.NC),
    }


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (95 % by default); (0.0, 1.0) when n is 0.

    Unlike the normal approximation it stays inside [0, 1] and is honest at 0 % and 100 %:
    10 of 10 gives [0.722, 1.0].
    """
    if n <= 0:
        return 0.0, 1.0
    p = min(max(successes / n, 0.0), 1.0)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    if successes <= 0:
        low = 0.0
    if successes >= n:
        high = 1.0
    return low, high


def _round(value: float, places: int) -> float:
    return float(f"{value:.{places}f}") if math.isfinite(value) else 0.0


def estimate(successes: float, n: float, *, min_sample: int, places: int = 3) -> dict[str, object]:
    """Describe a share with its sample size, 95 % Wilson interval and whether it is only indicative."""
    low, high = wilson_interval(successes, n)
    return {
        "value": _round(successes / n, places) if n else 0.0,
        "n": int(n) if float(n).is_integer() else _round(n, 2),
        "ci95": [_round(low, places), _round(high, places)],
        "indicative": n < min_sample,
    }


def aapor_figures(d: Dispositions, e: float | None, *, min_sample: int) -> dict[str, object]:
    """Return the counts, the e used, and every rate with its sample size and interval."""
    used_e = estimated_e(d) if e is None else e
    return {
        "counts": {name: getattr(d, name) for name in Dispositions.__dataclass_fields__},
        "e": _round(used_e, 3),
        "e_estimated": e is None,
        "rates": {
            name: estimate(f.numerator, f.denominator, min_sample=min_sample)
            for name, f in rates(d, used_e).items()
        },
    }
