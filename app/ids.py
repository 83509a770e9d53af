"""Time-ordered UUIDs (version 7, RFC 9562), so ids sort by creation and serve as cursors."""

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """48 bits of Unix milliseconds, then random bits, with version and variant set."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | rand
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return uuid.UUID(int=value)


def uuid7s(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s as `uuid7` makes them, from one read of the random source (a batch of
    1000 rows would otherwise make 1000 system calls). Within one millisecond they are not
    ordered among themselves, as with `uuid7`."""
    millis = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    random = os.urandom(10 * count)
    high = millis << 80 | 0x7 << 76
    ids = []
    for start in range(0, 10 * count, 10):
        rand = int.from_bytes(random[start : start + 10], "big")
        rand = (rand & ~(0xF << 76) & ~(0x3 << 62)) | (0x2 << 62)
        ids.append(uuid.UUID(int=high | rand))
    return ids
