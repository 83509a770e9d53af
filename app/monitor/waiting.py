"""Waiting days from ready to housed: median, 90th percentile (nearest rank), histogram."""

import math

HISTOGRAM = ((0, 90), (91, 180), (181, 365), (366, 730), (731, None))


def percentile(values: list[int], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or
    below it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)])


def median(values: list[int]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None for none."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def histogram(waiting_days: list[int]) -> list[dict]:
    """Housings per waiting-time bucket (`0-90`, ..., `731+` days)."""
    return [
        {
            "bucket": f"{low}-{high}" if high is not None else f"{low}+",
            "min_days": low,
            "max_days": high,
            "count": sum(low <= w and (high is None or w <= high) for w in waiting_days),
        }
        for low, high in HISTOGRAM
    ]
