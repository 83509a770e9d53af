"""Hypothesis profiles: how many examples the property tests try, chosen by
UITSTROOM_HYPOTHESIS_PROFILE.

- `ci` (default, what the README's test command runs): each test's own budget.
- `dev`: a tenth of it, for a quick run while working.
- `thorough`: ten times it, for a long search now and then.

A test states its budget relative to Hypothesis' default of 100 examples, `examples(300)`; the
profile scales it. No profile has a per-example deadline: a loaded machine must not fail a test.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", settings.get_profile("ci"), max_examples=10)
settings.register_profile("thorough", settings.get_profile("ci"), max_examples=1000)
PROFILE = os.environ.get("UITSTROOM_HYPOTHESIS_PROFILE") or "ci"
settings.load_profile(PROFILE)


def examples(budget: int) -> int:
    """`budget` examples under the `ci` profile, scaled by the loaded profile (at least 1)."""
    return max(1, budget * settings.default.max_examples // 100)
