"""The order of a timeline's entries depends on the entries alone, never on the order the
database happened to return them in."""

import random
import uuid
from datetime import UTC, datetime

from app.timeline.service import _entry, _sorted


def test_entries_of_one_kind_at_one_instant_come_in_the_same_order_whatever_the_reading():
    published = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a publication's proposals share it
    entries = [
        _entry(published, "proposed", None, proposal_id=uuid.uuid4(), vacancy_id=uuid.uuid4())
        for _ in range(6)
    ]
    entries.append(_entry(published, "status_changed", None, to_status="ready"))

    readings = []
    for seed in range(5):
        shuffled = list(entries)
        random.Random(seed).shuffle(shuffled)
        readings.append(_sorted(shuffled))

    assert all(reading == readings[0] for reading in readings)
    assert readings[0][0]["kind"] == "status_changed"
