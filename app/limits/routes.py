"""HTTP routes for the yearly limits."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.auth import CurrentPrincipal, OperatorPrincipal
from app.db import SessionDep, SessionEndingRoute
from app.if_match import IfMatch, IfNoneMatch
from app.limits import service
from app.limits.models import YearLimitsFields, YearLimitsList, YearLimitsPublic
from app.problems import NotFound, problem_responses
from app.schemas import YearDigits
from app.timeutil import today
from app.versioning import etag

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/limits", tags=["limits"])
Year = Annotated[YearDigits, Path(description="Calendar year")]


@router.get("", response_model=YearLimitsList, responses=problem_responses(401))
def list_limits(principal: CurrentPrincipal, session: SessionDep) -> YearLimitsList:
    """The legal limits of every year known, and the years up to next year that have none."""
    return YearLimitsList(
        items=[service.limits_public(r) for r in service.list_limits(session)],
        missing_years=service.missing_years(session, through=today().year + 1),
    )


@router.get("/{year}", response_model=YearLimitsPublic, responses=problem_responses(401, 404))
def get_limits(
    year: Year, principal: CurrentPrincipal, session: SessionDep, response: Response
) -> YearLimitsPublic:
    """The legal limits of one year (404 for a year without its own, even when agendas in it
    fall back to an earlier year's), with its ETag for `If-Match` on PUT."""
    row = service.get_limits(session, year)
    if row is None:
        raise NotFound(f"No limits for {year}; the operator adds them with PUT /v1/limits/{year}.")
    response.headers["ETag"] = etag(row)
    return service.limits_public(row)


@router.put(
    "/{year}",
    response_model=YearLimitsPublic,
    responses={
        201: {"description": "The year's limits were added", "model": YearLimitsPublic},
        **problem_responses(401, 403, 412),
    },
)
def put_limits(
    year: Year,
    payload: YearLimitsFields,
    principal: OperatorPrincipal,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> YearLimitsPublic:
    """Add (201) or replace (200) a year's limits (operator); agendas of that year use them.
    `If-Match` with the ETag of `GET /v1/limits/{year}` replaces only the figures that were
    read (412 when another operator changed them meanwhile); `If-None-Match: *` adds them only
    when the year has none yet.

    `daeb_rent_limit` may also come as the deprecated `liberalisation_limit` (both only when
    equal); the deprecated `pension_age` is refused unless it matches the AOW table."""
    row, created = service.put_limits(session, year, payload, if_match, if_none_match)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(row)
    if created:
        response.headers["Location"] = f"/v1/limits/{row.year}"
    return service.limits_public(row)


@router.delete("/{year}", status_code=204, responses=problem_responses(401, 403, 404, 409, 412))
def delete_limits(
    year: Year, principal: OperatorPrincipal, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """Remove a year the operator added (a typo, say): agendas in it fall back to the latest
    earlier year's again. 409 `shipped_limits` for a year that comes with the service (correct
    it with PUT); with `If-Match`, 412 when the year changed since that ETag was read."""
    service.delete_limits(session, year, if_match)
    return Response(status_code=204)
