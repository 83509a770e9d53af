"""The API's and the pages' list cursors: what a `next_cursor` carries and how it is read.

A cursor is URL-safe base64 without padding of the last row's id (16 bytes), for a sorted list
with the date that row had in its order (4 more bytes). `app.pagination` ties an API cursor to
its list by a tag after these bytes. Pure: no FastAPI, no database.
"""

import base64
import binascii
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

from app.problems import PATTERN_CODES, PATTERN_REASONS, Unprocessable

REVERSED = 1 << 31
"""The flag a sorted list's cursor sets on its date (an ordinal: below 2**22) for the reversed
order (`waitingTime`, latest first), so that it pages on only in the order it was cut in."""

CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}([A-Za-z0-9_-]{5}|[A-Za-z0-9_-]{8}|[A-Za-z0-9_-]{13})?$"
PATTERN_REASONS[CURSOR_PATTERN] = (
    "Should be a `next_cursor` this API gave out (22, 27, 30 or 35 characters: A-Z a-z 0-9 - _)"
)
PATTERN_CODES[CURSOR_PATTERN] = "invalid_cursor"


class CursorPosition(NamedTuple):
    """Where a cursor says the next page starts: after the row `after`, and for a sorted list
    at the date `key` it had, in the order `reverse` (latest first) or not."""

    after: uuid.UUID
    key: date | None
    reverse: bool


def encode_cursor(last_id: uuid.UUID, key: date | None = None, *, reverse: bool = False) -> str:
    """The last row's id (16 bytes, 22 characters); a sorted list adds the date the row had in
    its order when the page was cut (4 more bytes, 27 characters), so that the next page starts
    there even when that row's date changes or it leaves the caller's view in between, with the
    order's direction (`reverse`: latest first)."""
    if key is None:
        return cursor_text(last_id.bytes)
    stamp = key.toordinal() | (REVERSED if reverse else 0)
    return cursor_text(last_id.bytes + stamp.to_bytes(4, "big"))


def cursor_text(raw: bytes) -> str:
    """`raw` as a cursor's characters: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSOR_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")
"""The characters `cursor_text` writes. Python's base64 skips others (`!`, `.`, `=` inside)
and raised a ValueError, no binascii.Error, for a non-ASCII one: a page's `na` (no pattern
checks it, as the API's `cursor` has) answered a 500 for `é` and paged on for `!`."""


def cursor_bytes(cursor: str) -> bytes:
    """The bytes a cursor's characters spell. Raises Unprocessable (400, `invalid_cursor`) for
    characters that are no base64 of whole bytes, or that `cursor_text` does not write."""
    if CURSOR_CHARACTERS.fullmatch(cursor) is None:
        raise _not_ours()
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except binascii.Error as exc:
        raise _not_ours() from exc


def position(raw: bytes) -> CursorPosition:
    """What `encode_cursor` put in a cursor's bytes (16: an id; 20: an id and a dated place).
    Raises Unprocessable (400, `invalid_cursor`) for bytes it did not write."""
    try:
        if len(raw) != 20:
            return CursorPosition(uuid.UUID(bytes=raw), None, False)
        stamp = int.from_bytes(raw[16:], "big")
        key = date.fromordinal(stamp & ~REVERSED)
        return CursorPosition(uuid.UUID(bytes=raw[:16]), key, bool(stamp & REVERSED))
    except (ValueError, OverflowError) as exc:
        raise _not_ours() from exc


def decode_keyed_cursor(cursor: str | None) -> CursorPosition | None:
    """What `encode_cursor` put in a cursor; None for no cursor. Raises Unprocessable (400,
    `invalid_cursor`) for a cursor this API did not give out."""
    return None if cursor is None else position(cursor_bytes(cursor))


def check_order(
    place: CursorPosition | None, reverse: bool | None, *, dateless_unsorted: bool = False
) -> None:
    """400 `invalid_cursor` for a sorted list's cursor sent without its sort (`reverse` None)
    or with the other one: it paged by id from the wrong row, or on in the wrong order, with a
    200. A cursor without a date (from before cursors carried one) pages any order, unless
    `dateless_unsorted` (it is known to be of an unsorted list: it is newer than the dates)."""
    if place is None or (place.key is not None and place.reverse == reverse):
        return
    if place.key is None and (reverse is None or not dateless_unsorted):
        return
    raise Unprocessable(
        "cursor",
        "a cursor of a list sorted otherwise: send the sort its first page was asked with",
        "invalid_cursor",
        "query",
    )


def paginate(
    rows: list[Any], limit: int, key: Callable[[Any], date] | None = None, reverse: bool = False
) -> tuple[list[Any], str | None]:
    """Services fetch `limit + 1` rows; the extra one only tells whether a next page exists.
    `key`: a sorted list's date of a row, carried in the cursor (`encode_cursor`) with the
    order (`reverse`: latest first)."""
    if len(rows) > limit:
        rows = rows[:limit]
        last = None if key is None else key(rows[-1])
        return rows, encode_cursor(rows[-1].id, last, reverse=reverse)
    return rows, None


def _not_ours() -> Unprocessable:
    return Unprocessable("cursor", "not a cursor from this API", "invalid_cursor", "query")
