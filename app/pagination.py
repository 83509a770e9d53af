"""Keyset paging of the API's listings: the `limit` and `cursor` query parameters every listing
takes, and the page cut from what its service fetched, with `next_cursor` for the next page.

At the HTTP edge (a FastAPI dependency); the services take `after` (the last id of the previous
page) and a row count, and stay FastAPI-free.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from app.schemas import (
    CURSOR_PATTERN,
    Limit,
    check_order,
    decode_cursor,
    decode_keyed_cursor,
    paginate,
)

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

    @property
    def after(self) -> uuid.UUID | None:
        """The id the page starts after (None: the first page). Raises Unprocessable (400,
        `invalid_cursor`) for a cursor this API did not give out."""
        return decode_cursor(self.cursor)

    @property
    def after_key(self) -> date | None:
        """The date a sorted list's cursor carries (the last row's place in the order when the
        page was cut); None for no cursor or one without a date. Raises as `after` does."""
        decoded = decode_keyed_cursor(self.cursor)
        return None if decoded is None else decoded.key

    def check_order(self, reverse: bool | None) -> None:
        """400 `invalid_cursor` unless the cursor pages the order asked (`reverse`: latest
        first; None: unsorted); see `schemas.check_order`."""
        check_order(decode_keyed_cursor(self.cursor), reverse)

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
        return page, next_cursor


def page_request(limit: Limit = 100, cursor: Cursor = None) -> PageRequest:
    return PageRequest(limit, cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]
