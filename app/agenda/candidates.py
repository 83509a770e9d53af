"""One case's or one dwelling's whole candidate list for a meeting date, page by page: the rest
of what the agenda lists only the best `candidates` of.

Computed from the agenda's own inputs (`app.agenda.inputs.load`) by the engine's
`case_candidates` / `dwelling_candidates`, which rank as the agenda does, so the agenda's list
for the same date and inputs is the first page's head. Who may ask is who sees the list in the
agenda: a case's list the table and the case's own care provider; a dwelling's list (it ranks
cases) the table only. Every case a page names is in the access log.
"""

import hashlib
import uuid
from datetime import date
from typing import Any

from sqlmodel import Session

from app import matching
from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.agenda.document import _components
from app.agenda.inputs import engine_arguments, load, owners_of
from app.agenda.models import AgendaView
from app.agenda.views import reasons_only, view_for
from app.cases.models import Case
from app.database import outside_transaction
from app.problems import Conflict, Forbidden, NotFound, Unprocessable
from app.tables.models import OutflowTable


def _prefix_digest(ids: list[str]) -> bytes:
    """8 bytes that differ (but for a 2^-64 chance) when the list's entries up to a position
    are others or in another order."""
    return hashlib.blake2b("\n".join(ids).encode(), digest_size=8).digest()


def _page(
    ranked: list[Any], key: str, after: uuid.UUID | None, limit: int, scope: str
) -> tuple[list[Any], uuid.UUID | None]:
    """`limit` entries from the position the cursor `after` carries (None: from the first), and
    the next page's cursor when more follow.

    The cursor (16 bytes, the form of every listing's) holds the position (4 bytes), a tag of
    the list it pages (4 bytes: `scope`, the subject and the date) and a digest of the entries
    before the position (8 bytes). A list whose head changed since (an entry left it, came in
    or moved across the position: the next page would skip or repeat one nobody touched) is a
    Conflict; a cursor of another list is Unprocessable."""
    ids = [str(getattr(entry, key)) for entry in ranked]
    tag = hashlib.blake2b(scope.encode(), digest_size=4).digest()
    start = 0
    if after is not None:
        raw = after.bytes
        if raw[4:8] != tag:
            raise Unprocessable(
                "cursor",
                "not a cursor of this list (it pages another case, dwelling or date)",
                "invalid_cursor",
                "query",
            )
        start = int.from_bytes(raw[:4], "big")
        if start > len(ids) or _prefix_digest(ids[:start]) != raw[8:]:
            raise Conflict(
                "The list changed since that page (an entry before the cursor left it, came "
                "in or moved); start again from the first page.",
                code="candidates_changed",
            )
    page = ranked[start : start + limit]
    end = start + len(page)
    if end >= len(ranked):
        return page, None
    return page, uuid.UUID(bytes=end.to_bytes(4, "big") + tag + _prefix_digest(ids[:end]))


def _answer(
    subject: tuple[str, str],
    entry: matching.CaseCandidates | matching.DwellingCandidates,
    partner: str,
    on: date,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[list[Any], dict[str, Any]]:
    """The page of `entry`'s list and the answer about it (`partner`: the key of the listed
    ids, `vacancy_id` or `case_id`; the engine calls a vacancy a dwelling)."""
    engine_key = "dwelling_id" if partner == "vacancy_id" else partner
    scope = f"{subject[0]}:{subject[1]}:{on.isoformat()}"
    page, last = _page(entry.candidates, engine_key, after, limit, scope)
    items = [
        {partner: getattr(c, engine_key), "score": c.score, "components": _components(c.components)}
        for c in page
    ]
    answer = {
        subject[0]: subject[1],
        "date": on.isoformat(),
        "feasible_count": entry.feasible_count,
        "excluded_counts": entry.excluded_counts,
        "items": items,
        "next_cursor_id": last,
    }
    return page, answer


def case_list_view(context: AccessContext, table: OutflowTable) -> AgendaView:
    """The caller's view of the table, if it may read a case's candidate list at all: Forbidden
    for a corporation (the list ranks a case's options: case detail). The route asks it as a
    dependency too, before its query is judged."""
    view = view_for(context, table)
    if view == AgendaView.housing_corporation:
        raise Forbidden("A case's candidate list is case detail; ask the table's chair.")
    return view


NOT_ON_AGENDA = "No such case on this agenda (see why-not for the reason)."


def refuse_others_case(
    session: Session, context: AccessContext, table: OutflowTable, case_id: uuid.UUID
) -> None:
    """NotFound for a care provider asking for the list of a case that is not its own (or
    none), as for a case not on the agenda; asked by the route as a dependency, before its
    query (the date) is judged: another provider's case answered 400 to a query key the route
    does not take, and 404 only without it."""
    if view_for(context, table) == AgendaView.care_provider:
        case = session.get(Case, case_id)
        if case is None or case.care_provider_id != context.principal.organisation_id:
            raise NotFound(NOT_ON_AGENDA)


def refuse_vacancy_list(context: AccessContext, table: OutflowTable) -> None:
    """Forbidden unless the caller reads the table's view (a care provider's and a
    corporation's agendas show no dwelling's ranking of cases); asked by the route too."""
    if view_for(context, table) != AgendaView.table:
        raise Forbidden("A dwelling's candidate list ranks cases; it is for the table's chair.")


def case_candidates(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    case_id: uuid.UUID,
    on: date,
    after: uuid.UUID | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the dwellings open to `case_id` on the agenda of `on`, best first:
    {case_id, date, feasible_count, excluded_counts, items: [{vacancy_id, score, components}],
    next_cursor_id (uuid or None)}; for a care provider `excluded_reasons` (the codes, most
    excluding first) in place of `excluded_counts` (`app.agenda.views.reasons_only`: the
    counts gave away the dwellings taking part).

    Raises Forbidden for a corporation (the list ranks a case's options: case detail), NotFound
    when the case is not on the agenda of `on` (not at the table, not ready or not open; why-not
    says which) or, for a care provider, not its own (the same answer), Conflict when `after` is
    in the list or the list changed before it.
    """
    view = case_list_view(context, table)
    loaded = load(session, table, on)
    owner = owners_of(loaded.inputs)["cases"].get(str(case_id))
    me = str(context.principal.organisation_id)
    if owner is None or (view == AgendaView.care_provider and owner != me):
        raise NotFound(NOT_ON_AGENDA)
    cases, dwellings, policy, limits, on_date, usage = engine_arguments(loaded.inputs, loaded.usage)
    case = next(c for c in cases if c.id == str(case_id))
    with outside_transaction(session):
        entry = matching.case_candidates(
            case, dwellings, policy, limits, on_date, usage, loaded.inputs.declines
        )
    _, answer = _answer(("case_id", entry.case_id), entry, "vacancy_id", on, after, limit)
    access_log.record(session, context, AccessAction.agenda, [(case_id, table.id)])
    return answer if view == AgendaView.table else reasons_only(answer)


def vacancy_candidates(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    vacancy_id: uuid.UUID,
    on: date,
    after: uuid.UUID | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the cases `vacancy_id` is open to on the agenda of `on`, best first:
    {vacancy_id, date, feasible_count, excluded_counts, items: [{case_id, score, components}],
    next_cursor_id}.

    Raises Forbidden unless the caller reads the table's view (a care provider's and a
    corporation's agendas show no dwelling's ranking of cases), NotFound when the dwelling is
    not on the agenda of `on`, Conflict when the list changed before the cursor.
    """
    refuse_vacancy_list(context, table)
    loaded = load(session, table, on)
    if str(vacancy_id) not in owners_of(loaded.inputs)["vacancies"]:
        raise NotFound("No such vacancy on this agenda (see why-not for the reason).")
    cases, dwellings, policy, limits, on_date, usage = engine_arguments(loaded.inputs, loaded.usage)
    dwelling = next(d for d in dwellings if d.id == str(vacancy_id))
    with outside_transaction(session):
        entry = matching.dwelling_candidates(
            dwelling, cases, policy, limits, on_date, usage, loaded.inputs.declines
        )
    page, answer = _answer(("vacancy_id", entry.dwelling_id), entry, "case_id", on, after, limit)
    shown = sorted(uuid.UUID(c.case_id) for c in page)
    access_log.record(session, context, AccessAction.agenda, [(c, table.id) for c in shown])
    return answer
