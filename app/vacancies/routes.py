"""HTTP routes for vacancies."""

from collections import Counter
from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from app.access_log.deps import AccessContextDep, VacanciesContext
from app.auth import CorporationPrincipal, CurrentPrincipal
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import IdempotencyDep
from app.ids import Id
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.rate_limits.deps import limit_caller, limited
from app.rate_limits.service import EndpointClass
from app.registry import service as registry
from app.registry.service import VACANCY_BLOCKING_REASONS
from app.schemas import REFERENCE_PART_PATTERN, ExternalRef, HouseholdSize
from app.timeline.models import Timeline
from app.timeline.service import vacancy_timeline
from app.vacancies import service
from app.vacancies.batch_body import BatchRoute
from app.vacancies.deps import VacancyDep, WithdrawnVacancyDep
from app.vacancies.models import (
    Vacancy,
    VacancyBatch,
    VacancyBatchResult,
    VacancyIn,
    VacancyPage,
    VacancyPublic,
    VacancyStatus,
    vacancy_public_dict,
)
from app.vacancies.service import VacancyFilters, VacancySort
from app.versioning import etag

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/vacancies", tags=["vacancies"])


def _public(vacancy: Vacancy) -> VacancyPublic:
    return VacancyPublic.model_validate(vacancy_public_dict(vacancy))


@router.post(
    "",
    status_code=201,
    response_model=VacancyPublic,
    responses={
        200: {"description": "Existing dwelling updated (or unchanged), or an idempotent replay"},
        **problem_responses(401, 403, 409, 412),
    },
)
def upsert_vacancy(
    payload: VacancyIn,
    principal: CorporationPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Offer or update one dwelling by `external_ref` (corporations): 201 new, 200 known. A
    let dwelling stays let, unless pushed with a later `available_from` (its next vacancy:
    then it is offered again). With `If-Match` (the ETag of a GET) the update is refused with
    412 when the dwelling changed meanwhile, or does not exist; `If-None-Match: *` offers it
    only when the corporation has no dwelling with that reference yet (412 otherwise)."""
    if replay := idempotency.replay(session, principal, payload):
        return replay
    [outcome] = service.upsert_vacancies(
        session, principal, [payload], batch=False, if_match=if_match, if_none_match=if_none_match
    )
    vacancy = service.get_vacancy(session, principal, outcome.id)
    status = 201 if outcome.outcome == "created" else 200
    headers = {"Location": f"/v1/vacancies/{vacancy.id}", "ETag": etag(vacancy)}
    return idempotency.respond(_public(vacancy), status, headers)


def upsert_vacancies(
    payload: VacancyBatch,
    principal: CorporationPrincipal,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Offer or update up to 1000 dwellings at once; one invalid item rejects the whole batch."""
    if idempotency.key:
        payload = _fingerprinted(payload)
    if replay := idempotency.replay(session, principal, payload):
        return replay
    outcomes = service.upsert_vacancies(session, principal, payload.items, batch=True)
    counts = Counter(o.outcome for o in outcomes)
    # The outcomes are read as they are (`from_attributes`), not copied into models one by one.
    result = VacancyBatchResult.model_validate(
        {k: counts[k] for k in ("created", "updated", "unchanged")} | {"items": outcomes},
        from_attributes=True,
    )
    return idempotency.respond(result, 200)


def _fingerprinted(batch: VacancyBatch) -> VacancyBatch:
    """The batch as its `Idempotency-Key` is fingerprinted: every item as the dwelling it
    validates to (the model's fields in the model's order, defaults filled in), so a retry
    that sends the same dwellings with their fields in another order, or a default written
    out, replays. A valid batch arrives validated already (`app.vacancies.batch_body`); an
    item left as sent is invalid, the batch is refused, and its claim is rolled back with it.

    Until 2026-12 the fingerprint was of the items as sent: a batch record written before
    then answers every retry of its batch with 422 (safe: nothing runs twice) until it expires
    (`UITSTROOM_IDEMPOTENCY_TTL_HOURS`)."""
    items: list[Any] = []
    for item in batch.items:
        if isinstance(item, dict):
            with suppress(ValidationError):
                item = VacancyIn.model_validate(item)
        items.append(item)
    return VacancyBatch.model_construct(items=items)


router.add_api_route(
    "/batch",
    upsert_vacancies,
    methods=["POST"],
    response_model=VacancyBatchResult,
    responses=problem_responses(401, 403, 409, 413, 429),
    dependencies=limited(EndpointClass.batch),
    route_class_override=BatchRoute,  # the body parsed and validated in one pass when valid
)


@router.get("", response_model=VacancyPage, responses=problem_responses(401, 403, 429))
def list_vacancies(
    context: VacanciesContext,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    table_id: Annotated[
        Id | None,
        Query(alias="tableId", description="Only dwellings in this table's municipalities."),
    ] = None,
    status: VacancyStatus | None = None,
    external_ref: Annotated[
        ExternalRef | None,
        Query(alias="externalRef", description="Only the dwelling with this own reference."),
    ] = None,
    organisation_id: Annotated[
        Id | None,
        Query(alias="organisationId", description="Only this corporation's dwellings."),
    ] = None,
    household_size: Annotated[
        HouseholdSize | None,
        Query(
            alias="householdSize",
            description="Only dwellings with the rooms the table's policy gives a household "
            "of this size.",
        ),
    ] = None,
    blocking_reason: Annotated[
        str | None,
        Query(
            alias="blockingReason",
            pattern=f"^({'|'.join(VACANCY_BLOCKING_REASONS)})$",
            description="Only dwellings this reason blocks on their table's next meeting date: "
            "a why-not status code, or a rule that excludes a case from a dwelling no case "
            "fits.",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=REFERENCE_PART_PATTERN,
            description="Part of the corporation's own reference (case-sensitive, as the "
            "reference is a key: `ABC-1` and `abc-1` are two dwellings).",
        ),
    ] = None,
    sort: Annotated[
        VacancySort | None,
        Query(description="`-waitingTime`: earliest available first; `waitingTime`: latest first."),
    ] = None,
) -> VacancyPage:
    """Dwellings the caller may see (a corporation: its own; the chair and municipalities: the
    table's), in the order first offered unless sorted; filtered by a blocking reason it
    costs an agenda token (the filter evaluates the whole table)."""
    principal = context.principal
    if blocking_reason is not None:
        limit_caller(session, settings, principal, EndpointClass.agenda)
    filters = VacancyFilters(
        table_id=table_id,
        status=status,
        external_ref=external_ref,
        corporation_id=organisation_id,
        reference=reference,
        room_ranges=(
            None
            if household_size is None
            else registry.room_ranges(session, principal, household_size, table_id)
        ),
        vacancy_ids=(
            None
            if blocking_reason is None
            else registry.vacancies_blocked_by(session, principal, blocking_reason, table_id)
        ),
        sort=sort,
    )
    reverse = None if sort is None else sort == service.VacancySort.waiting_time
    page.check_order(reverse)
    rows = service.list_vacancies(
        session, principal, filters, after=page.after, limit=page.fetch, after_key=page.after_key
    )
    rows, next_cursor = page.cut(rows, None if sort is None else service.sort_date, bool(reverse))
    return VacancyPage(items=[_public(v) for v in rows], next_cursor=next_cursor)


@router.get(
    "/{vacancy_id}", response_model=VacancyPublic, responses=problem_responses(401, 403, 404)
)
def get_vacancy(
    vacancy: VacancyDep, principal: CurrentPrincipal, session: SessionDep, response: Response
) -> VacancyPublic:
    """One dwelling."""
    response.headers["ETag"] = etag(vacancy)
    return _public(vacancy)


@router.delete(
    "/{vacancy_id}", status_code=204, responses=problem_responses(401, 403, 404, 409, 412)
)
def withdraw_vacancy(
    vacancy: WithdrawnVacancyDep,
    context: AccessContextDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    """Withdraw a dwelling that is no longer on offer (its open proposals end); pushing it again
    re-offers it. With `If-Match`, 412 when the dwelling changed since that ETag was read."""
    service.withdraw_vacancy(session, context, vacancy, if_match)
    return Response(status_code=204)


@router.get(
    "/{vacancy_id}/timeline",
    response_model=Timeline,
    responses=problem_responses(401, 403, 404),
)
def get_timeline(vacancy: VacancyDep, context: AccessContextDep, session: SessionDep) -> Timeline:
    """Every proposal and decision concerning the dwelling (each case named is logged)."""
    return Timeline.model_validate({"items": vacancy_timeline(session, context, vacancy)})
