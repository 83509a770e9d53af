"""Keyset paging of the API's listings: the `limit` and `cursor` query parameters every listing
takes, and the page cut from what its service fetched, with `next_cursor` for the next page.

At the HTTP edge (a FastAPI dependency); the services take `after` (the last id of the previous
page) and a row count, and stay FastAPI-free.

Every cursor given out is tied to its list here, in one place: it ends in a tag of the list
(`list_tag`: the route and its path's ids), and a cursor with another list's tag is refused
(400 `invalid_cursor`). A dwellings list's cursor sent to the cases list paged the cases from
that dwelling's id, with a 200. A cursor without a tag (as given out before cursors had one)
still pages any list, as before.
"""

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request

from app.cursors import (
    CURSOR_PATTERN,
    CursorPosition,
    check_order,
    cursor_bytes,
    cursor_text,
    paginate,
    position,
)
from app.problems import Unprocessable
from app.schemas import Limit

T = TypeVar("T")

Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN, description="From `next_cursor`.")]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One listing request's page: `limit` items (1-1000) after the `cursor` it was given.

    The cursor is decoded when the route asks for `after`, so a route that answers 404 for the
    object it lists under still does so before a malformed cursor's 400, as it did before paging
    was a dependency."""

    limit: int
    cursor: str | None
    tag: bytes = b""
    """The list's tag (`list_tag`) its cursors carry; empty: cursors without one."""

    @property
    def place(self) -> CursorPosition | None:
        """Where the cursor says the page starts (None: the first page). Raises Unprocessable
        (400, `invalid_cursor`) for a cursor of another list, or that this API did not give
        out. A cursor without a tag (given out before they had one) pages any list."""
        if self.cursor is None:
            return None
        raw = cursor_bytes(self.cursor)
        if len(raw) in TAGGED:
            if raw[-TAG_BYTES:] != self.tag:
                raise Unprocessable(
                    "cursor",
                    "not a cursor of this list: it pages another list, or this one under other ids",
                    "invalid_cursor",
                    "query",
                )
            raw = raw[:-TAG_BYTES]
        return position(raw)

    def tie(self, cursor: str | None) -> str | None:
        """`cursor` (`encode_cursor`'s form) tied to this page's list; None stays None."""
        return None if cursor is None else cursor_text(cursor_bytes(cursor) + self.tag)

    def tied(self, document: dict[str, Any]) -> dict[str, Any]:
        """A page whose `next_cursor` (`encode_cursor`'s form) is tied to this list."""
        if "next_cursor" not in document:
            return document
        return document | {"next_cursor": self.tie(document["next_cursor"])}

    @property
    def after(self) -> uuid.UUID | None:
        """The id the page starts after (None: the first page). Raises Unprocessable (400,
        `invalid_cursor`) for a cursor this API did not give out, or of another list."""
        place = self.place
        return None if place is None else place.after

    @property
    def after_key(self) -> date | None:
        """The date a sorted list's cursor carries (the last row's place in the order when the
        page was cut); None for no cursor or one without a date. Raises as `after` does."""
        place = self.place
        return None if place is None else place.key

    def check_order(self, reverse: bool | None) -> None:
        """400 `invalid_cursor` unless the cursor pages the order asked (`reverse`: latest
        first; None: unsorted); see `cursors.check_order`. A tagged cursor without a date is
        an unsorted list's (tags are newer than a sorted cursor's date): sent with a sort, it
        placed the page at its last row's date now, a 200 that skipped files."""
        tagged = self.cursor is not None and len(cursor_bytes(self.cursor)) in TAGGED
        check_order(self.place, reverse, dateless_unsorted=tagged)

    @property
    def fetch(self) -> int:
        """How many rows to ask the service for: one more than the page, to see whether a next
        page exists."""
        return self.limit + 1

    def cut(
        self, rows: Sequence[T], key: Callable[[T], date] | None = None, reverse: bool = False
    ) -> tuple[list[T], str | None]:
        """The page's rows (at most `limit`) and the cursor of the next page (None: the last);
        `key`: a sorted list's date of a row, which the cursor carries with the order
        (`reverse`: latest first)."""
        page, next_cursor = paginate(list(rows), self.limit, key, reverse)
        return page, self.tie(next_cursor)


TAG_BYTES = 6
"""A list's tag in its cursors: 6 bytes, so that a tagged cursor (22 or 26 bytes) is told from
one without (16 or 20) by its length, and two lists share a tag by chance once in 2**48."""

TAGGED = (16 + TAG_BYTES, 20 + TAG_BYTES)


def list_tag(request: Request) -> bytes:
    """The tag of the list `request` pages: its route's path and the ids in its path (the cases
    of one table are another list than those of another). The same in every server process
    (no salt), as a cursor one gave out is read by another. An id is taken as the UUID it
    spells, in any spelling the API accepts."""
    route: Any = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    ids = sorted((name, _canonical(value)) for name, value in request.path_params.items())
    return hashlib.blake2b(repr((path, ids)).encode(), digest_size=TAG_BYTES).digest()


def _canonical(value: Any) -> Any:
    """A path id as the API reads it: a UUID in upper case is the same object, so the same
    list, as in its canonical spelling."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return value


def page_request(request: Request, limit: Limit = 100, cursor: Cursor = None) -> PageRequest:
    return PageRequest(limit, cursor, list_tag(request))


PageDep = Annotated[PageRequest, Depends(page_request)]
