"""HTTP routes for case files."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session

from app.access_log.deps import AccessContextDep, CaseFilesContext
from app.access_log.models import AccessAction, AccessLogPage
from app.access_log.routes import entries_page
from app.access_log.service import AccessContext
from app.auth import CareProviderPrincipal
from app.cases import service
from app.cases.deps import (
    CaseHistoryDep,
    CaseReadDep,
    CaseTimelineDep,
    OwnCaseDep,
    ProviderCaseDep,
)
from app.cases.models import (
    Case,
    CaseCreate,
    CasePage,
    CasePublic,
    CaseRow,
    CaseSaved,
    CaseStatus,
    CaseTransitionPage,
    CaseUpdate,
    Facility,
    case_public,
)
from app.cases.service import CaseFilters, CaseSort
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep
from app.ids import Id
from app.if_match import IfMatch, IfNoneMatch
from app.pagination import PageDep
from app.problems import problem_responses
from app.rate_limits.deps import limit_caller
from app.rate_limits.service import EndpointClass
from app.registry import intake
from app.registry import service as registry
from app.registry.service import CASE_BLOCKING_REASONS
from app.schemas import EXTERNAL_REF_PATTERN, REFERENCE_PART_PATTERN, HouseholdSize
from app.timeline.models import Timeline
from app.timeline.service import case_timeline

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/cases", tags=["cases"])


def _shown(case: Case | CaseRow, reader: uuid.UUID) -> tuple[CasePublic, str]:
    """The case as `reader` reads it (`case_public`), and that read's ETag (`case_etag`)."""
    public = case_public(case, reader)
    return public, service.case_etag(case, public)


def _saved(
    session: Session, context: AccessContext, case: Case | CaseRow
) -> tuple[CaseSaved, dict[str, str]]:
    """The case with the table-policy rules it fails on its own (`app.registry.intake`), for its
    care provider (the earlier case it names logged as read), and the ETag its read answers."""
    service.log_earlier_cases_shown(session, context, [case])
    warnings = intake.own_rule_failures(session, case)
    public, tag = _shown(case, case.care_provider_id)
    return CaseSaved.model_validate({**dict(public), "warnings": warnings}), {"ETag": tag}


@router.post(
    "",
    status_code=201,
    response_model=CaseSaved,
    responses={
        **REPLAY_RESPONSE,
        **problem_responses(401, 403, 409),
    },
)
def create_case(
    payload: CaseCreate,
    _care_provider: CareProviderPrincipal,
    context: AccessContextDep,
    session: SessionDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Register a client's case file (care providers). A known `external_ref` answers 409 (a
    closed case's too, unless `previous_case_id` names that case: a client who returns). The
    answer names the table-policy rules the case fails on its own (`warnings`): it is stored,
    but cannot be matched until they are met."""

    def reread(case_id: uuid.UUID) -> tuple[CaseSaved, dict[str, str]]:
        # A replay shows the case as it is now, read (and logged) like any read: the
        # idempotency record keeps no copy of the case file.
        case = service.get_case(session, context, case_id, AccessAction.read)
        return _saved(session, context, case)

    if replay := idempotency.replay(session, context.principal, payload, reread):
        return replay
    try:
        case = service.create_case(session, context, payload)
    except service.DuplicateCase as duplicate:
        service.record_duplicate_read(session, context, duplicate)
        raise
    saved, headers = _saved(session, context, case)
    headers["Location"] = f"/v1/cases/{case.id}"
    return idempotency.respond(saved, 201, headers, resource_id=case.id)


@router.get("", response_model=CasePage, responses=problem_responses(401, 403, 429))
def list_cases(
    context: CaseFilesContext,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    table_id: Annotated[
        Id | None, Query(alias="tableId", description="Only cases at this table.")
    ] = None,
    status: CaseStatus | None = None,
    external_ref: Annotated[
        str | None,
        Query(
            alias="externalRef",
            pattern=f"{EXTERNAL_REF_PATTERN}|^anonymised:[0-9a-f]{{32}}$",
            description="Only the cases with this own reference: one, or a returning "
            "client's closed and open cases (or, once anonymised, the reference retention "
            "gave it: `anonymised:` and the case id in hex).",
        ),
    ] = None,
    organisation_id: Annotated[
        Id | None,
        Query(alias="organisationId", description="Only this care provider's cases."),
    ] = None,
    facility: Facility | None = None,
    household_size: Annotated[
        HouseholdSize | None,
        Query(alias="householdSize", description="Adults + children."),
    ] = None,
    blocking_reason: Annotated[
        str | None,
        Query(
            alias="blockingReason",
            pattern=f"^({'|'.join(CASE_BLOCKING_REASONS)})$",
            description="Only cases this reason blocks on their table's next meeting date "
            "(first meeting on or after today, else today): a why-not status code, or a rule "
            "that excludes a dwelling from a case no dwelling fits.",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=REFERENCE_PART_PATTERN,
            description="Part of the care provider's own reference (case-sensitive, as the "
            "reference is a key: `ABC-1` and `abc-1` are two cases).",
        ),
    ] = None,
    sort: Annotated[
        CaseSort | None,
        Query(description="`-waitingTime`: longest waiting first; `waitingTime`: shortest."),
    ] = None,
) -> CasePage:
    """Cases the caller may see (the chair and municipalities: the table's; a care provider: its
    own), in order of registration unless sorted; each case listed is in the access log.
    Filtered by a blocking reason it costs an agenda token (the filter evaluates the whole
    table)."""
    ids = None
    if blocking_reason is not None:
        limit_caller(session, settings, context.principal, EndpointClass.agenda)
        ids = registry.cases_blocked_by(session, context, blocking_reason, table_id)
    filters = CaseFilters(
        table_id=table_id,
        status=status,
        external_ref=external_ref,
        care_provider_id=organisation_id,
        facility=facility,
        household_size=household_size,
        reference=reference,
        case_ids=ids,
        sort=sort,
    )
    reverse = None if sort is None else sort == service.CaseSort.waiting_time
    page.check_order(reverse)
    rows = service.list_cases(
        session, context, filters, after=page.after, limit=page.limit, after_key=page.after_key
    )
    rows, next_cursor = page.cut(rows, None if sort is None else service.sort_date, bool(reverse))
    reader = context.principal.require_organisation()
    service.log_earlier_cases_shown(session, context, rows)
    return CasePage(items=[case_public(c, reader) for c in rows], next_cursor=next_cursor)


@router.get("/{case_id}", response_model=CasePublic, responses=problem_responses(401, 403, 404))
def get_case(
    case: CaseReadDep, context: AccessContextDep, session: SessionDep, response: Response
) -> CasePublic:
    """One case file. Its ETag is the version and a digest of what it shows (`status` counts
    from today: `ready` once `ready_since` is reached, `on_hold` while parked); `PATCH` takes
    it in `If-Match` as well as the version's."""
    service.log_earlier_cases_shown(session, context, [case])
    public, response.headers["ETag"] = _shown(case, context.principal.require_organisation())
    return public


@router.patch(
    "/{case_id}",
    response_model=CaseSaved,
    responses=problem_responses(401, 403, 404, 409, 412),
)
def update_case(
    case: OwnCaseDep,
    payload: CaseUpdate,  # type: ignore[valid-type]  # a class partial_model() builds at import
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> CaseSaved:
    """Update a case file (merge patch), or put it on hold, resume or withdraw it. The answer
    names the table-policy rules the case fails on its own (`warnings`). `If-Match`: the
    version's ETag or the ETag the case's read answered (412 for a copy that no longer reads
    so); the answer's ETag is the one its read answers."""
    case = service.update_case(
        session, context, case, payload, if_match, if_none_match=if_none_match
    )
    saved, headers = _saved(session, context, case)
    response.headers.update(headers)
    return saved


@router.get(
    "/{case_id}/transitions",
    response_model=CaseTransitionPage,
    responses=problem_responses(401, 403, 404),
)
def list_transitions(
    case: CaseHistoryDep,
    context: AccessContextDep,
    session: SessionDep,
    page: PageDep,
) -> CaseTransitionPage:
    """The status history of a case: every transition with time and actor."""
    rows = service.list_transitions(session, case, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    viewer = context.principal.organisation_id
    items = [service.transition_public(r, viewer) for r in rows]
    return CaseTransitionPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}/timeline", response_model=Timeline, responses=problem_responses(401, 403, 404)
)
def get_timeline(case: CaseTimelineDep, context: AccessContextDep, session: SessionDep) -> Timeline:
    """Everything that happened to the case: status changes, proposals, decisions, actions."""
    return Timeline.model_validate({"items": case_timeline(session, context, case)})


@router.get(
    "/{case_id}/access-log",
    response_model=AccessLogPage,
    responses=problem_responses(401, 403, 404),
)
def read_case_access_log(
    case: ProviderCaseDep, session: SessionDep, page: PageDep
) -> AccessLogPage:
    """Who accessed this case file, when and how, oldest first, at every table it sat at:
    for its care provider, who answers to the client for it (a client may ask who saw the
    file: AVG art. 15, NEN 7513). Other organisations' entries name the organisation, not its
    key or person. The chair reads its own table's (`/v1/tables/{id}/access-log`).
    Not itself logged, as the table's log is not."""
    return entries_page(session, page, table_id=None, case_id=case.id, reader=case.care_provider_id)
