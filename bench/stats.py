"""Small statistics and number formatting for the table."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0..1) of the values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


def ratio(ours: float, theirs: float) -> str:
    """ "0.62x" style: ours over theirs (below 1 means ours is smaller or faster)."""
    if not theirs or math.isnan(ours) or math.isnan(theirs):
        return "n/a"
    return f"{ours / theirs:.2f}x"


def seconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} s"


def milliseconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 1000:.0f} ms"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.2f} MB"


def dollars(value: float) -> str:
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def count(value: float) -> str:
    return "n/a" if math.isnan(value) else (f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}")
