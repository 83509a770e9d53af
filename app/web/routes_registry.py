# Size: the case and dwelling lists and pages read one standing (engine evaluation) and one
# set of filters; split the two pages apart when either grows.
"""The registry pages: the lists of cases (`/dossiers`) and dwellings (`/woningen`) with their
filters, and the page of one case and one dwelling.

The lists are the API's lists (`GET /v1/cases`, `GET /v1/vacancies`: the same services, the same
visibility and access log). A case page shows what the viewer may see of the file: the table
(chair, municipalities) and the case's own care provider the whole file; a corporation only the
five-field profile of a case proposed for one of its dwellings (`proposals.case_profile`, as on
the proposal page). Where a case or dwelling stands on the table's next meeting date comes from
the matching engine (`app.registry.standing`), never from rules of the page's own.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.actions import service as actions_service
from app.actions.models import Action, ActionStatus, is_overdue
from app.agenda import views as agenda_views
from app.agenda.models import AgendaView
from app.areas import service as areas_service
from app.cases import service as cases_service
from app.cases.models import CLOSED_STATUSES, Case, CaseStatus, Facility, case_public_dict
from app.cursors import check_order, decode_keyed_cursor, paginate
from app.db import SessionDep
from app.limits.service import fallback_of
from app.meetings.models import Meeting
from app.organisations.models import OrganisationKind
from app.organisations.service import list_organisations
from app.problems import NotFound, ProblemError
from app.proposals import service as proposals_service
from app.proposals.models import OPEN_PROPOSAL, Proposal
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.registry import service as registry
from app.registry.standing import Standing, TableStanding, case_standing, dwelling_standing
from app.tables import service as tables_service
from app.tables.models import OutflowTable
from app.timeline.service import case_timeline, vacancy_timeline
from app.timeutil import local_date, today
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy, VacancyStatus
from app.vacancies.service import VacancyFilters, VacancySort
from app.web import aftercare as aftercare_page
from app.web import labels
from app.web.core import Web, WebDep, WebRoute, render
from app.web.deps import (
    PageVacancyDep,
    case_pages_open,
    corporation_proposals_clause,
    reads_case,
    vacancy_pages_open,
)
from app.web.formatting import case_code
from app.web.forms import mark_wrong_values, organisation_names
from app.web.query_values import (
    NEXT_PAGE,
    PAGE_ID,
    WRONG_VALUES,
    QueryValues,
    WrongQueryValue,
    one_of,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 50
MAX_ROWS = 1000


def _choice(value: str | None, allowed: Any, label: str, holds: str) -> Any:
    """A filter value from the form: empty is no filter; anything not offered is a 400 that
    names the form's `label` and what it `holds`."""
    if value is None or value == "":
        return None
    try:
        return allowed(value)
    except ValueError as exc:
        raise WrongQueryValue(label, holds) from exc


def _listed(group: str, codes: Iterable[Any]) -> str:
    """What a select of codes may hold, by the Dutch labels its options show."""
    return one_of(labels.label(group, getattr(code, "value", code)) for code in codes)


def _reason(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise WrongQueryValue("Blokkade", _listed("reason", allowed))
    return value


def _size(value: str | None, label: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 12:
        raise WrongQueryValue(label, "Een getal van 1 tot en met 12.")
    return int(value)


REFERENCE_PART = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""Part of a reference: a reference's own characters (`app.schemas.REFERENCE_CHARACTERS`) and
the `:` of an anonymised one (`anonymised:` and the case id in hex), as many as a reference
holds at most (the API's `?reference=` refuses a longer one too)."""
REFERENCE_HOLDS = (
    "Hoogstens 64 tekens: letters zonder accent, cijfers, punt, streepje (-), liggend streepje "
    "(_) of dubbele punt; een referentie bevat geen spatie."
)


def _reference(value: str | None, label: str) -> str | None:
    """Part of a reference to search for: empty is no filter. Spaces around it (a reference
    copied with them) are left out; a value that no reference can hold (longer than 64
    characters, or a space or other character inside) is a 400 naming the field, as
    `?reference=` is in the API: cut to 64 or searched as given it found nothing without a
    word. A control character is named as such (a NUL byte cut SQLite's LIKE pattern short,
    so every row was listed, and PostgreSQL refuses it: a 500)."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isprintable():
        raise WrongQueryValue(label, "Tekst zonder stuurtekens (zoals een tab of regeleinde).")
    if REFERENCE_PART.fullmatch(value) is None:
        raise WrongQueryValue(label, REFERENCE_HOLDS)
    return value


def _cursor(
    value: str | None, reverse: bool | None, *, any_order: bool = False
) -> tuple[uuid.UUID | None, date | None]:
    """The last row of the previous page and, for a sorted list, its date then; a 400 for a
    cursor of another order than the list's (`reverse`: latest first, None: unsorted), as the
    API; with `any_order` (the list's order is unknown) only for one that is no cursor."""
    try:
        decoded = decode_keyed_cursor(value or None)
        if not any_order:
            check_order(decoded, reverse)
    except ProblemError as exc:
        raise WrongQueryValue("Volgende pagina", NEXT_PAGE) from exc
    return (None, None) if decoded is None else (decoded.after, decoded.key)


def _after(
    values: QueryValues, given: dict[str, str], sort: Any, reverse: bool | None
) -> tuple[uuid.UUID | None, date | None]:
    """The next page's cursor (`na`) as `_cursor` reads it, in the order of the list's `sort`;
    with a wrong sort (named already) in any order."""
    any_order = bool(given.get("sortering")) and sort is None
    return values.read(_cursor, given.get("na"), reverse, any_order=any_order) or (None, None)


def _organisations(session: Session, web: Web, kind: OrganisationKind) -> list[Any]:
    rows = list_organisations(session, web.principal, after=None, limit=MAX_ROWS)
    return sorted((o for o in rows if o.kind == kind), key=lambda o: o.name)


def _tables(session: Session, web: Web) -> list[OutflowTable]:
    return sorted(
        tables_service.list_tables(session, web.principal, after=None, limit=MAX_ROWS),
        key=lambda t: t.name,
    )


def _query_without(request: Request, *names: str) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in names and v]
    from urllib.parse import urlencode

    return urlencode(kept)


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The filter form's values as given (for the form) and as parsed (for the service)."""

    given: dict[str, str]
    table_id: uuid.UUID | None
    organisation_id: uuid.UUID | None


def _common(values: QueryValues) -> ListFilters:
    """The filters both lists share: the table and the organisation (its label on the list's
    form, its kind in lower case in what it may hold)."""
    given, organisation = values.given, values.labels["organisatie"]
    read_id = PAGE_ID.validate_python  # its ValidationError is a ValueError, as `_choice` wants
    table_id = values.read(
        _choice, given.get("tafel"), read_id, "Tafel", "Kies een tafel uit de lijst."
    )
    holds = f"Kies een {organisation.lower()} uit de lijst."
    organisation_id = values.read(_choice, given.get("organisatie"), read_id, organisation, holds)
    return ListFilters(given, table_id, organisation_id)


def _list_fields(organisation: str, size: str, reference: str) -> dict[str, str]:
    """The fields of a list's filter form by key, as the form labels them (`organisation`,
    `size`, `reference`: the labels that differ per list), with its next page's cursor."""
    return {
        "referentie": reference,
        "tafel": "Tafel",
        "status": "Status",
        "organisatie": organisation,
        "blokkade": "Blokkade",
        "huishouden": size,
        "sortering": "Volgorde",
        "na": "Volgende pagina",
    }


CASE_FIELDS = _list_fields("Zorgaanbieder", "Huishoudgrootte", "Referentie (of een deel ervan)") | {
    "voorziening": "Voorziening"
}
VACANCY_FIELDS = _list_fields(
    "Corporatie",
    "Past bij huishoudgrootte",
    "Referentie van de corporatie (of een deel ervan)",
)


def _standings(session: Session, cases: list[Case]) -> dict[uuid.UUID, tuple[OutflowTable, Any]]:
    """The table of the page's cases and their standing there, per table: the engine evaluates
    only these rows (a page of PAGE_SIZE cases against the table's dwellings), not the whole
    table per view. Every case's table, also one its care provider has left since (its closed
    cases there stay its own)."""
    shown: dict[uuid.UUID, list[str]] = {}
    for case in cases:
        shown.setdefault(case.table_id, []).append(str(case.id))
    rows = session.exec(select(OutflowTable).where(col(OutflowTable.id).in_(sorted(shown))))
    return {t.id: (t, registry.standing_for(session, t, only_cases=shown[t.id])) for t in rows}


def _visible_case(web: Web, table: OutflowTable) -> Any:
    view = agenda_views.view_for(web.access(), table)
    me = web.organisation.id

    def visible(_case: Any, provider: Any = None) -> bool:
        return view == AgendaView.table or (provider is not None and provider == me)

    return visible


def _as_seen(web: Web, table: OutflowTable, standing: Standing) -> Standing:
    """`standing` as the viewer may read it: outside the table's view without the partners
    each reason excludes (`Standing.without_counts`)."""
    if agenda_views.view_for(web.access(), table) == AgendaView.table:
        return standing
    return standing.without_counts()


# --- the lists -----------------------------------------------------------------------------


@router.get("/dossiers")
def case_list(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    if web.organisation.kind == OrganisationKind.housing_corporation:
        # A corporation sees cases only through proposals for its dwellings (the proposal page).
        return render(
            request,
            "cases.html",
            {"title": "Dossiers", "corporation": True, "rows": [], "filters": {}},
        )
    values = QueryValues(request.query_params, CASE_FIELDS)
    common = _common(values)
    given = common.given
    reason = values.read(_reason, given.get("blokkade"), registry.CASE_BLOCKING_REASONS)
    status = values.read(
        _choice, given.get("status"), CaseStatus, "Status", _listed("case_status", CaseStatus)
    )
    facility = values.read(
        _choice, given.get("voorziening"), Facility, "Voorziening", _listed("facility", Facility)
    )
    size = values.read(_size, given.get("huishouden"), CASE_FIELDS["huishouden"])
    reference = values.read(_reference, given.get("referentie"), CASE_FIELDS["referentie"])
    sort = values.read(
        _choice,
        given.get("sortering"),
        cases_service.CaseSort,
        "Volgorde",
        one_of(labels.CASE_SORTS.values()),
    )
    reverse = None if sort is None else sort == cases_service.CaseSort.waiting_time
    after, after_key = _after(values, given, sort, reverse)
    if values.wrong:
        form = _case_form(session, web)
        shown = [*SHOWN_ALWAYS, "voorziening", *_shown_choices(form, not form["is_provider"])]
        return _wrong_values(request, "cases.html", values, form, shown)
    context = web.access()
    ids = None
    if reason is not None:
        limit_person(session, web.settings, web.person, EndpointClass.agenda)
        ids = registry.cases_blocked_by(session, context, reason, common.table_id)
    filters = cases_service.CaseFilters(
        table_id=common.table_id,
        status=status,
        care_provider_id=common.organisation_id,
        facility=facility,
        household_size=size,
        reference=reference,
        case_ids=ids,
        sort=sort,
    )
    cases = cases_service.list_cases(
        session, context, filters, after=after, limit=PAGE_SIZE, after_key=after_key
    )
    key = None if filters.sort is None else cases_service.sort_date
    cases, next_cursor = paginate(cases, PAGE_SIZE, key, bool(reverse))
    standings = _standings(session, cases)
    visible = {t.id: _visible_case(web, t) for t, _ in standings.values()}
    rows = []
    for case in cases:
        table, at_table = standings[case.table_id]
        standing = _as_seen(web, table, case_standing(session, at_table, case, visible[table.id]))
        rows.append(
            {
                "case": case,
                "public": case_public_dict(case),
                "waiting_days": _waiting_days(case),
                "ready_in": _ready_in(case),
                "standing": standing,
            }
        )
    return render(
        request,
        "cases.html",
        {
            "rows": rows,
            "filters": given,
            **_case_form(session, web),
            "names": organisation_names(session, web, [c.care_provider_id for c in cases]),
            "limits_fallback": next(
                (f for _, st in standings.values() if (f := _limits_fallback(st))), None
            ),
            "next_query": _next_query(request, next_cursor),
        },
    )


def _case_form(session: Session, web: Web) -> dict[str, Any]:
    """What the case list's filter form offers."""
    return {
        "title": "Dossiers",
        "corporation": False,
        "tables": _tables(session, web),
        "providers": _organisations(session, web, OrganisationKind.care_provider),
        "statuses": list(CaseStatus),
        "facilities": list(Facility),
        "reasons": registry.CASE_BLOCKING_REASONS,
        "is_provider": web.organisation.kind == OrganisationKind.care_provider,
    }


def _vacancy_form(session: Session, web: Web) -> dict[str, Any]:
    """What the dwelling list's filter form offers."""
    return {
        "title": "Woningen",
        "tables": _tables(session, web),
        "corporations": _organisations(session, web, OrganisationKind.housing_corporation),
        "statuses": list(VacancyStatus),
        "reasons": registry.VACANCY_BLOCKING_REASONS,
    }


SHOWN_ALWAYS = ("referentie", "status", "blokkade", "huishouden", "sortering")
"""The fields of both lists' filter forms every person's form shows (by key: its input's id)."""


def _shown_choices(form: dict[str, Any], organisations: bool) -> list[str]:
    """The choices a list's form shows only to some: Tafel with more than one table to choose
    from, the organisation where the person may choose one (`organisations`)."""
    return ["tafel"] * (len(form["tables"]) > 1) + ["organisatie"] * organisations


def _wrong_values(
    request: Request,
    template: str,
    values: QueryValues,
    form: dict[str, Any],
    inputs: list[str],
) -> HTMLResponse:
    """The list's page with its filter form as sent, each wrong value of the address beside its
    field of the form (`inputs`: the keys the person's form shows) and, in its error summary,
    linked to it (one item per field), no rows: the error page named them without the form, so
    a person had to find the list again and choose every filter anew; then the summary alone
    named them, far from the field to correct."""
    context = {
        **form,
        "rows": [],
        "filters": values.given,
        "names": {},
        "error": WRONG_VALUES,
        "wrong_values": mark_wrong_values(request, values, inputs),
    }
    return render(request, template, context, 400)


def _next_query(request: Request, next_cursor: str | None) -> str | None:
    if next_cursor is None:
        return None
    rest = _query_without(request, "na", "melding")
    return f"{rest}&na={next_cursor}" if rest else f"na={next_cursor}"


@router.get("/woningen")
def vacancy_list(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    values = QueryValues(request.query_params, VACANCY_FIELDS)
    common = _common(values)
    given = common.given
    principal = web.principal
    reason = values.read(_reason, given.get("blokkade"), registry.VACANCY_BLOCKING_REASONS)
    size = values.read(_size, given.get("huishouden"), VACANCY_FIELDS["huishouden"])
    status = values.read(
        _choice,
        given.get("status"),
        VacancyStatus,
        "Status",
        _listed("vacancy_status", VacancyStatus),
    )
    reference = values.read(_reference, given.get("referentie"), VACANCY_FIELDS["referentie"])
    sort = values.read(
        _choice,
        given.get("sortering"),
        VacancySort,
        "Volgorde",
        one_of(labels.VACANCY_SORTS.values()),
    )
    reverse = None if sort is None else sort == VacancySort.waiting_time
    after, after_key = _after(values, given, sort, reverse)
    if values.wrong:
        form = _vacancy_form(session, web)
        own = web.organisation.kind == OrganisationKind.housing_corporation
        shown = [*SHOWN_ALWAYS, *_shown_choices(form, not own)]
        return _wrong_values(request, "vacancies.html", values, form, shown)
    if reason is not None:
        limit_person(session, web.settings, web.person, EndpointClass.agenda)
    filters = VacancyFilters(
        table_id=common.table_id,
        status=status,
        corporation_id=common.organisation_id,
        reference=reference,
        room_ranges=(
            None
            if size is None
            else registry.room_ranges(session, principal, size, common.table_id)
        ),
        vacancy_ids=(
            None
            if reason is None
            else registry.vacancies_blocked_by(session, principal, reason, common.table_id)
        ),
        sort=sort,
    )
    vacancies = vacancies_service.list_vacancies(
        session, principal, filters, after=after, limit=PAGE_SIZE + 1, after_key=after_key
    )
    key = None if filters.sort is None else vacancies_service.sort_date
    vacancies, next_cursor = paginate(vacancies, PAGE_SIZE, key, bool(reverse))
    areas = areas_service.names_for(
        session,
        [v.address_neighbourhood_code for v in vacancies]
        + [v.address_municipality_code for v in vacancies],
        {v.table_id for v in vacancies},
    )
    return render(
        request,
        "vacancies.html",
        {
            "rows": [
                {
                    "vacancy": v,
                    "waiting_days": _vacancy_waiting_days(v),
                    "available_in": _vacancy_available_in(v),
                }
                for v in vacancies
            ],
            "filters": given,
            **_vacancy_form(session, web),
            "names": organisation_names(session, web, [v.corporation_id for v in vacancies]),
            "areas": areas,
            "next_query": _next_query(request, next_cursor),
        },
    )


# --- one case ------------------------------------------------------------------------------


def _corporation_case(session: Session, web: Web, case_id: uuid.UUID) -> HTMLResponse | None:
    """The five-field profile of a case proposed for one of the corporation's dwellings, with
    those proposals; None (404) for any other case."""
    proposals = list(
        session.exec(
            select(Proposal)
            .where(corporation_proposals_clause(web, case_id))
            .order_by(col(Proposal.id))
        )
    )
    if not proposals:
        return None
    context = web.access()
    # The list names the case and its proposals, open or closed: an access to the file.
    proposals_service.log_shown(session, context, proposals, AccessAction.proposal)
    # Only while a proposal is open (at most one per case): a closed one shows no profile.
    still_open = [
        p
        for p in proposals
        if proposals_service.profile_visible(session, context, p, "corporation")
    ]
    profile = None
    if still_open:
        profile = proposals_service.case_profile(session, context, still_open[0], "corporation")
    vacancies = {
        v.id: v
        for v in session.exec(
            select(Vacancy).where(col(Vacancy.id).in_([p.vacancy_id for p in proposals]))
        )
    }
    return render(
        web.request,
        "case.html",
        {
            "title": f"Dossier {case_code(case_id)}",
            "corporation": True,
            "case_id": case_id,
            "profile": profile,
            "proposals": proposals,
            "vacancies": vacancies,
            "aftercare": aftercare_page.case_section(session, web, case_id),
        },
    )


def _open_proposal(session: Session, clause: Any) -> Proposal | None:
    return session.exec(
        select(Proposal).where(clause, col(Proposal.status).in_(OPEN_PROPOSAL))
    ).first()


def _linked_cases_shown(session: Session, web: Web, case: Case) -> uuid.UUID | None:
    """For the case's care provider: the case that follows it (a returning client), if any,
    with a read logged of it and of the case it follows, as the page names both."""
    if case.care_provider_id != web.organisation.id:
        return None
    follower = cases_service.follower_of(session, case.id)
    linked = [i for i in (follower, case.previous_case_id) if i is not None]
    cases_service.log_cases_named(session, web.access(), linked)
    return follower


@router.get("/dossiers/{case_id}")
def case_page(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    # A corporation that chairs the case's table reads the whole file, as through the API
    # (its agenda linked every case here, and each was a 404); any other only the profile.
    corporation = web.organisation.kind == OrganisationKind.housing_corporation
    if corporation and not reads_case(session, web, case_id):
        page = _corporation_case(session, web, case_id)
        if page is None:
            raise NotFound("No such case.")
        return page
    context = web.access()
    case = cases_service.get_case(session, context, case_id, AccessAction.read)
    table = session.get(OutflowTable, case.table_id)
    assert table is not None
    standing = registry.standing_for(session, table, only_cases=[str(case.id)])
    position = _as_seen(
        web, table, case_standing(session, standing, case, _visible_case(web, table))
    )
    dwellings = _dwellings(session, [d for d, _ in position.candidates])
    proposal = _open_proposal(session, col(Proposal.case_id) == case.id)
    if proposal is not None:
        dwellings |= _dwellings(session, [str(proposal.vacancy_id)])
    open_actions = select(Action).where(
        Action.case_id == case.id, Action.status == ActionStatus.open
    )
    if case.care_provider_id != web.organisation.id:
        # As the timeline: a case moved on shows the new table none of the earlier table's.
        readable = tables_service.reader_table_ids(web.principal)
        open_actions = open_actions.where(col(Action.table_id).in_(readable))
    actions = list(session.exec(open_actions.order_by(col(Action.due_date))))
    actions_service.log_shown(session, context, table, actions)
    entries = _holds_while_parked(case_timeline(session, context, case))
    dwellings |= _dwellings(session, [str(e["vacancy_id"]) for e in entries if "vacancy_id" in e])
    # A proposal 'in de vergadering' named no meeting: which one, is its date.
    meeting_ids = [
        e["meeting_id"] for e in entries if e["kind"] == "proposed" and e.get("meeting_id")
    ]
    meeting_dates = {
        str(m.id): m.date
        for m in session.exec(select(Meeting).where(col(Meeting.id).in_(meeting_ids)))
    }
    public = case_public_dict(case)
    # A parking after a decline, while it lasts and the case is open: a withdrawn case kept
    # its date and read 'Afgemeld (aangehouden tot <date>)', as if it came back then.
    parked_until = case.parked_until if case.status not in CLOSED_STATUSES else None
    parked_until = parked_until if parked_until and parked_until > today() else None
    codes = [*case.areas_preferred, *case.areas_excluded]
    codes += [d.address_neighbourhood_code for d in dwellings.values()]
    return render(
        request,
        "case.html",
        {
            "title": f"Dossier {case_code(case.id)}",
            "corporation": False,
            "case_id": case.id,
            "case": case,
            "public": public,
            "table": table,
            "on": standing.on,
            "meeting_on": _meeting_on(session, table.id, standing.on),
            "limits_fallback": _limits_fallback(standing),
            "standing": position,
            "dwellings": dwellings,
            # Linked where the dwelling's page opens: not by kind, for a care provider that
            # chairs the table opens its dwellings (and was shown none of them as a link).
            "linked_dwellings": {str(i) for i in vacancy_pages_open(session, web, dwellings)},
            "proposal": proposal,
            "actions": actions,
            "overdue_ids": {a.id for a in actions if is_overdue(a.status, a.due_date, today())},
            "entries": entries,
            "meeting_dates": meeting_dates,
            "names": organisation_names(
                session,
                web,
                [case.care_provider_id, *(a.owner_organisation_id for a in actions)]
                + [e.get("owner_organisation_id") for e in entries]
                + [e["actor_organisation_id"] for e in entries],
            ),
            "areas": areas_service.names_for(session, codes, {table.id}),
            "own_case": case.care_provider_id == web.organisation.id,
            "follower_id": _linked_cases_shown(session, web, case),
            "waiting_days": _waiting_days(case),
            "ready_in": _ready_in(case),
            "proposal_days": (
                None if proposal is None else (today() - local_date(proposal.updated_at)).days
            ),
            "today": today(),
            # A parking after a decline, while it lasts (a past one said 'aangehouden tot' a
            # day gone by); `held_while_parked`: put on hold besides, which outlasts the date.
            "parked_until": parked_until,
            "held_while_parked": parked_until is not None and case.status == CaseStatus.on_hold,
            "aftercare": aftercare_page.case_section(session, web, case.id),
        },
    )


def _holds_while_parked(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark `while_parked` the holds put on a case parked after a decline. Parked, its status
    is Aangehouden already, so the hold is recorded Aangehouden -> Aangehouden with its reason,
    as a held case's new reason is: the timeline read as if a reason had changed. A hold
    (always with a reason) keeps the case held; a release, a hold lifted or any other change
    (no reason, or another status) does not."""
    held = False
    for entry in entries:  # oldest first
        if entry["kind"] != "status_changed":
            continue
        holds = entry["to_status"] == CaseStatus.on_hold and entry["reason"] is not None
        if holds and entry["from_status"] == CaseStatus.on_hold and not held:
            entry["while_parked"] = True
        held = holds
    return entries


def _dwellings(session: Session, ids: list[str]) -> dict[str, Vacancy]:
    """Dwellings by id, for their labels (the corporation's reference) and summaries."""
    if not ids:
        return {}
    wanted = [uuid.UUID(i) for i in ids]
    return {str(v.id): v for v in session.exec(select(Vacancy).where(col(Vacancy.id).in_(wanted)))}


def _waiting_days(case: Case) -> int:
    """Days from ready to the day the case was housed or withdrawn, else to today."""
    return max(0, (min(case.exit_date or today(), today()) - case.ready_since).days)


def _days_ahead(day: date, on_offer: bool) -> int | None:
    """Days until `day` when it lies ahead, for a case or dwelling still on offer, else None.
    A case's ready date and a dwelling's available date: a list that said it had waited
    0 days, a page 'vanaf <that day> (0 dagen)', say 'over N dagen' instead."""
    if not on_offer or day <= today():
        return None
    return (day - today()).days


def _ready_in(case: Case) -> int | None:
    """Days until an open case's ready date when that lies ahead, else None, for its row in
    the list and its page."""
    return _days_ahead(case.ready_since, case.status not in CLOSED_STATUSES)


def _limits_fallback(standing: TableStanding) -> dict[str, Any] | None:
    """What the agenda of the standing's date says when its year has no legal limits of its
    own (`limits_fallback`): the page counts and ranks with those same figures."""
    fallback = fallback_of(standing.on.year, standing.limits_year)
    return None if fallback is None else fallback.model_dump()


def _meeting_on(session: Session, table_id: uuid.UUID, on: date) -> Meeting | None:
    """The table's meeting on `on` (the standing's date: its next meeting's, else today)."""
    return session.exec(
        select(Meeting).where(Meeting.table_id == table_id, Meeting.date == on)
    ).first()


# --- one dwelling --------------------------------------------------------------------------


@router.get("/woningen/{vacancy_id}")
def vacancy_page(
    request: Request, session: SessionDep, web: WebDep, vacancy: PageVacancyDep
) -> HTMLResponse:
    context = web.access()
    table = session.get(OutflowTable, vacancy.table_id)
    assert table is not None
    table_view = agenda_views.view_for(context, table) == AgendaView.table
    standing = registry.standing_for(session, table, only_dwellings=[str(vacancy.id)])
    position = dwelling_standing(session, standing, vacancy, _visible_case(web, table))
    position = position if table_view else position.without_counts()
    candidates = position.candidates if table_view else []
    if candidates:
        # The candidates name cases: each one shown is an access to its file.
        access_log.record(
            session,
            context,
            AccessAction.list,
            [(uuid.UUID(c), table.id) for c, _ in candidates],
        )
    proposal = _open_proposal(session, col(Proposal.vacancy_id) == vacancy.id)
    entries = vacancy_timeline(session, context, vacancy)
    # A case is linked where its page opens for the viewer (a corporation its own proposals'
    # cases, whose profile it may read: they were plain text), a plain code elsewhere.
    named = [c for c, _ in candidates] + [e.get("case_id") for e in entries]
    named += [proposal.case_id] if proposal is not None else []
    areas = areas_service.names_for(
        session,
        [vacancy.address_municipality_code, vacancy.address_neighbourhood_code],
        {table.id},
    )
    return render(
        request,
        "vacancy.html",
        {
            "title": f"Woning {vacancy.external_ref}",
            "vacancy": vacancy,
            "table": table,
            "on": standing.on,
            "meeting_on": _meeting_on(session, table.id, standing.on),
            "limits_fallback": _limits_fallback(standing),
            "standing": position,
            "table_view": table_view,
            "candidates": candidates,
            "proposal": proposal,
            "entries": entries,
            "names": organisation_names(
                session,
                web,
                [vacancy.corporation_id, *(e["actor_organisation_id"] for e in entries)],
            ),
            "areas": areas,
            "waiting_days": _vacancy_waiting_days(vacancy),
            "available_in": _vacancy_available_in(vacancy),
            "linked_cases": {str(i) for i in case_pages_open(session, web, named)},
        },
    )


def _vacancy_waiting_days(vacancy: Vacancy) -> int | None:
    """Days the dwelling has been available, while it is on offer (available or proposed);
    None once let or withdrawn: it waits no longer, and the day it was let is a client's
    move-in day, which not every reader of the list may see. 0 while it comes available only
    later (`_vacancy_available_in` says when)."""
    if vacancy.status not in tables_service.OPEN_DWELLINGS:
        return None
    return max(0, (today() - vacancy.available_from).days)


def _vacancy_available_in(vacancy: Vacancy) -> int | None:
    """Days until a dwelling on offer comes available, when that lies ahead, else None: its
    page said 'Beschikbaar vanaf <a later day> (0 dagen)', as a case's said of a ready date."""
    return _days_ahead(vacancy.available_from, vacancy.status in tables_service.OPEN_DWELLINGS)
