"""Ids are UUIDv7 (RFC 9562) and sort by creation: lists ordered by id (a case's transitions, a
person's changes, webhook events and their deliveries, cursors) show rows made in one request in
the order they were made, also within one millisecond."""

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from app.ids import unlinked_uuid7s, uuid7, uuid7_after, uuid7s


def test_ids_made_one_after_another_sort_in_that_order_within_a_millisecond():
    ids = [uuid7() for _ in range(20_000)]  # many per millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_batch_of_ids_sorts_in_its_own_order_and_after_the_ids_before_it():
    before = uuid7()
    batch = uuid7s(1000)
    after = uuid7()
    assert [before, *batch, after] == sorted([before, *batch, after])
    assert len(set(batch)) == 1000


def test_ids_from_several_threads_are_unique_and_each_threads_own_are_ordered():
    made: dict[int, list[uuid.UUID]] = {}

    def make(n: int) -> None:
        made[n] = [uuid7() for _ in range(5000)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in made.values() for i in ids]
    assert len(set(every)) == len(every)
    assert all(ids == sorted(ids) for ids in made.values())


def test_an_id_made_after_another_processes_id_of_the_same_millisecond_sorts_after_it():
    # Another server's decision, committed just before this one took the proposal's lock, in
    # the same millisecond but with higher random bits than this process would draw.
    theirs = uuid.UUID(int=uuid7().int | ((1 << 62) - 1))
    ours = uuid7_after(theirs)
    assert ours > theirs and ours.version == 7 and ours.variant == uuid.RFC_4122
    assert uuid7() > ours  # this process counts on from it
    assert uuid7_after(None) > ours


def test_an_id_is_a_version_7_uuid_holding_the_time_it_was_made():
    start = time.time_ns() // 1_000_000
    made = uuid7()
    # Not before now; later only when an earlier id of this process was (a clock set back).
    assert made.int >> 80 >= start
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in uuid7s(50))


def test_ids_keep_their_order_when_the_clock_is_set_back():
    with time_machine.travel(datetime(2031, 3, 1, tzinfo=UTC), tick=False):
        ahead = uuid7()
    assert uuid7() > ahead  # an NTP step back does not sort new rows before older ones


def test_unlinked_ids_are_of_the_moment_after_the_ids_before_and_none_counts_on_from_another():
    moment = datetime.now(UTC) + timedelta(days=1)
    before = uuid7()
    ids = unlinked_uuid7s(1000, moment)
    after = uuid7()
    assert len(set(ids)) == 1000
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert all(before < i < after for i in ids)
    # The moment's millisecond, or (when this process made ids later than it) the last one's.
    millis = max(int(moment.timestamp() * 1000), before.int >> 80)
    assert {i.int >> 80 for i in ids} <= {millis, millis + 1}
    randoms = sorted((i.int >> 64 & 0xFFF) << 62 | i.int & ((1 << 62) - 1) for i in ids)
    # Counted on, neighbours lie at most 2**32 apart; with random bits each, two of 1000 lie
    # within 2**33 by a chance of about 2**-21.
    assert min(b - a for a, b in itertools.pairwise(randoms)) > 2**33


def test_a_later_call_of_unlinked_ids_in_one_millisecond_does_not_tell_how_many_the_last_made(
    monkeypatch,
):
    """One answer's access-log entries are written by a call each (the agenda page's cases, then
    its live proposals, then its actions; a webhook's organisations one by one), all in one
    millisecond. Each call started just after the greatest id of the one before, the greatest of
    as many random draws as that call made ids: a care provider whose case is in both calls read
    off how far its second entry lies from the millisecond's start how many cases the first
    wrote (one or few: the first lies low, about half the window or less; many: near its end).
    Each call now takes the window after the one before, whatever it drew in it."""
    import app.ids

    moment = datetime(2026, 1, 5, 9, tzinfo=UTC)
    start = int(moment.timestamp() * 1000) << 74
    window = 1 << 72
    for made in [1] * 40 + [1000]:
        monkeypatch.setattr(app.ids, "_last", 0)  # the moment's millisecond is a fresh one
        unlinked_uuid7s(made, moment)
        [later] = unlinked_uuid7s(1, moment)
        random = (later.int >> 64 & 0xFFF) << 62 | later.int & ((1 << 62) - 1)
        assert window <= ((later.int >> 80) << 74 | random) - start < 2 * window, made
