"""The agenda a page at a time: the proposals, the open items and the summaries come whole on
every page, the sections with an entry per case or per dwelling a page of `limit` entries at a
time (a big city's 3,000 cases and 1,000 dwellings were 4.7 of its 5.4 MB).

- Per case, in the order of `candidates_by_case` (every ready case of the view): the page's
  `limit` cases give `candidates_by_case`, and of them those in `left_unhoused` and
  `bottlenecks.blocked_cases` (each section keeps its own order).
- Per dwelling, in the order of `candidates_by_vacancy`: the page's `limit` dwellings give
  `candidates_by_vacancy` and, of them, `vacancies_without_candidates`.
- `vacancies` (the dwellings' summaries) holds those the page mentions.

Page n holds the n-th `limit` entries of both orders; `next_cursor` is given while either has
more. The cursor (16 bytes, the size of the ids the other listings' cursors carry, so it has
their form, `app.cursors.CURSOR_PATTERN`) holds:
- the next entry's position (4 bytes);
- a tag of what it pages (4 bytes): the table or meeting, the date, the view, the caller's
  organisation and `candidates`; a cursor of another agenda is a 400 (`invalid_cursor`);
- a fingerprint of the caller's whole view (8 bytes), refused with 409 `agenda_changed` when the
  view reads otherwise now. A later page is computed afresh, and the engine gives the same
  document for the same inputs, so the pages of one cursor chain cover each case and dwelling
  once. The fingerprint is of the view, not of the table's inputs: an edit the caller cannot
  see (another provider's case, for a corporation any case file) neither refuses its cursor
  nor shows in it, so the cursor tells no one when someone else changed something.

Cut after the view (`app.agenda.views.restrict`), whose summary counts the whole view, and
before the access log, which then holds the cases the page shows.
"""

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json

from app.agenda.models import AgendaView
from app.cursors import encode_cursor
from app.problems import Conflict, Unprocessable

DEFAULT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class AgendaPage:
    """Which page of an agenda is asked for: `limit` entries per paged section (1-1000) from
    the position the cursor `after` carries (None: the first page)."""

    limit: int
    after: uuid.UUID | None = None


def _digest(data: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size).digest()


def view_fingerprint(
    document: dict[str, Any], encoded: Mapping[str, tuple[object, bytes]] | None = None
) -> bytes:
    """8 bytes that differ (but for a 2^-64 chance) when a view's document reads otherwise,
    leaving out when it was generated. The same in every process (no salted `hash()`), so a
    cursor one server process made is checked by another.

    `encoded`: field -> (value, its JSON) for values encoded already, used where the document
    holds that very value. The digest is of the same bytes either way: a dict's JSON is its
    fields' JSON joined (pydantic-core writes no spaces)."""
    content = {k: v for k, v in document.items() if k != "generated_at"}
    if not encoded:
        return _digest(to_json(content), 8)
    parts = []
    for key, value in content.items():
        known = encoded.get(key)
        text = known[1] if known is not None and known[0] is value else to_json(value)
        parts.append(to_json(key) + b":" + text)
    return _digest(b"{" + b",".join(parts) + b"}", 8)


def _position(after: uuid.UUID | None, tag: bytes, fingerprint: bytes) -> int:
    if after is None:
        return 0
    raw = after.bytes
    if raw[4:8] != tag:
        raise Unprocessable(
            "cursor",
            "not a cursor of this agenda (it pages another table, meeting, date, view or "
            "number of candidates)",
            "invalid_cursor",
            "query",
        )
    if raw[8:] != fingerprint:
        raise Conflict(
            "The agenda's inputs changed since that page (a case, dwelling, decline, action or "
            "the policy); start again from the first page.",
            code="agenda_changed",
        )
    return int.from_bytes(raw[:4], "big")


def _cursor(position: int, tag: bytes, fingerprint: bytes) -> str:
    return encode_cursor(uuid.UUID(bytes=position.to_bytes(4, "big") + tag + fingerprint))


def mentioned_vacancies(document: dict[str, Any]) -> set[str]:
    """The dwellings a view's document names, whose summaries it carries in `vacancies`. The
    table's view also names the dwellings of `passed_over`, of the moves in `displaced` and of
    the cases in `also_housed`."""
    mentioned = {str(p["vacancy_id"]) for p in document["proposals"]}
    mentioned |= {
        str(c["vacancy_id"])
        for e in document.get("candidates_by_case", [])
        for c in e["candidates"]
    }
    mentioned |= {str(e["vacancy_id"]) for e in document.get("candidates_by_vacancy", [])}
    mentioned |= {str(v["vacancy_id"]) for v in document.get("vacancies_without_candidates", [])}
    table = document["view"] == AgendaView.table.value
    for entry in document.get("left_unhoused", []):
        mentioned.add(str(entry["vacancy_id"]))
        mentioned |= {str(c["vacancy_id"]) for c in entry["displaced"]}
        if table:
            mentioned |= {str(c["moves_to_vacancy_id"]) for c in entry["displaced"]}
            mentioned |= {str(c["vacancy_id"]) for c in entry.get("also_housed", [])}
    if table:
        for proposal in document["proposals"]:
            for other in proposal["passed_over"] or []:
                mentioned.add(str(other["received_vacancy_id"]))
                mentioned.add(str(other.get("alternative_vacancy_id")))
    mentioned.discard("None")
    return mentioned


def cut(
    document: dict[str, Any],
    page: AgendaPage,
    scope: str,
    encoded: Mapping[str, tuple[object, bytes]] | None = None,
) -> dict[str, Any]:
    """`page` of a view's document (a new dict; the input is kept), with `page` (limit and the
    sections' totals) and `next_cursor`. `scope` names what is paged (the live agenda of a
    table and date, or a meeting's; the view, the caller's organisation and `candidates`).
    Raises Unprocessable (400 `invalid_cursor`) for a cursor of another scope, and Conflict
    (409 `agenda_changed`) for one made when the view read otherwise. `encoded`: see
    `view_fingerprint`."""
    tag = _digest(scope.encode(), 4)
    fingerprint = view_fingerprint(document, encoded)
    start = _position(page.after, tag, fingerprint)
    end = start + page.limit
    by_case = document.get("candidates_by_case")
    by_vacancy = document.get("candidates_by_vacancy")
    out = dict(document)
    totals: dict[str, int | None] = dict.fromkeys(PAGED_TOTALS)
    longest = 0
    if by_case is not None:
        cases = {str(e["case_id"]) for e in by_case[start:end]}
        out["candidates_by_case"] = by_case[start:end]
        totals["cases_total"] = len(by_case)
        longest = len(by_case)
        if "left_unhoused" in document:
            unhoused = document["left_unhoused"]
            out["left_unhoused"] = [u for u in unhoused if str(u["case_id"]) in cases]
            totals["left_unhoused_total"] = len(unhoused)
        bottlenecks = document.get("bottlenecks")
        if bottlenecks is not None:
            blocked = bottlenecks["blocked_cases"]
            out["bottlenecks"] = {
                **bottlenecks,
                "blocked_cases": [b for b in blocked if str(b["case_id"]) in cases],
            }
            totals["blocked_cases_total"] = len(blocked)
        elif "bottlenecks" in document:
            totals["blocked_cases_total"] = 0
    if by_vacancy is not None:
        dwellings = {str(e["vacancy_id"]) for e in by_vacancy[start:end]}
        out["candidates_by_vacancy"] = by_vacancy[start:end]
        totals["vacancies_total"] = len(by_vacancy)
        longest = max(longest, len(by_vacancy))
        without = document.get("vacancies_without_candidates", [])
        out["vacancies_without_candidates"] = [
            v for v in without if str(v["vacancy_id"]) in dwellings
        ]
        totals["vacancies_without_candidates_total"] = len(without)
    mentioned = mentioned_vacancies(out)
    out["vacancies"] = [v for v in document["vacancies"] if v["id"] in mentioned]
    out["page"] = {"limit": page.limit, **totals}
    out["next_cursor"] = _cursor(end, tag, fingerprint) if end < longest else None
    return out


PAGED_TOTALS = (
    "cases_total",
    "left_unhoused_total",
    "blocked_cases_total",
    "vacancies_total",
    "vacancies_without_candidates_total",
)
