"""One small table's facts, written out in full, for the tests that digest them in other
processes: a child imports this module and `app.monitor.facts` only (one second), not the
test modules and their harness (the app, the test client: five seconds and more)."""

import uuid
from datetime import date

from app.monitor.facts import CaseFacts, Facts, Housing


def fixed_facts() -> Facts:
    provider, corporation = uuid.UUID(int=1), uuid.UUID(int=2)
    cases = [
        CaseFacts(uuid.UUID(int=10), provider, date(2025, 3, 1), date(2025, 9, 1), "housed", None),
        CaseFacts(uuid.UUID(int=11), provider, date(2025, 4, 1), None, "registered", None),
    ]
    housing = Housing(
        uuid.UUID(int=10), provider, corporation, "GM0344", "BU03440101", date(2025, 9, 1),
        "own_lease", True, 184,
    )  # fmt: skip
    return Facts(cases, [housing])
