"""HTTP routes for the outflow monitor (JSON or CSV) and the contingent agreements."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from app.access_log.deps import AccessContextDep, MonitorContext
from app.db import SessionDep, SessionEndingRoute
from app.fastjson import FastJSONResponse
from app.if_match import IfMatch, IfNoneMatch
from app.monitor import (
    bottlenecks,
    contingent,
    export,
    flows,
    forecast,
    placements,
    sustainment,
)
from app.monitor.deps import (
    ReadableAgreementDep,
    RecordingCorporationDep,
    RecordingTableDep,
)
from app.monitor.models import (
    ContingentAgreementIn,
    ContingentAgreementList,
    ContingentAgreementPublic,
    GroupBy,
    MonitorBottlenecks,
    MonitorContingent,
    MonitorFlows,
    MonitorForecast,
    MonitorPlacements,
    MonitorSustainment,
    OutputFormat,
    Period,
)
from app.problems import problem_responses
from app.rate_limits.deps import limited
from app.rate_limits.service import EndpointClass
from app.schemas import Date, YearDigits
from app.tables.deps import TableDep
from app.tables.models import OutflowTable
from app.timeutil import today
from app.versioning import etag

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/tables", tags=["monitor"])
Start = Annotated[Date | None, Query(description="First day (default: a year before `end`).")]
End = Annotated[Date | None, Query(description="Last day (default: today).")]
YearStart = Annotated[
    Date | None,
    Query(
        description="First day (default: a year before `end`). Organisations that get "
        "suppressed figures read one whole calendar year: the default is 1 January of `end`'s "
        "year, the range widens to that year, and a range over two years is a 400."
    ),
]
Format = Annotated[
    OutputFormat,
    Query(
        description="`json` (default) or `csv` for programs: commas (quoted as RFC 4180 "
        "quotes), decimal points, UTF-8 without a byte-order mark, one header line, `\\n` line "
        "ends; not the semicolons, byte-order mark and decimal commas of the pages' CSVs, which "
        "are for Dutch spreadsheet programs."
    ),
]
Year = Annotated[YearDigits, Path()]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "JSON, or CSV with `format=csv` (empty cell: suppressed or not applicable)",
    }
}


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get(
    "/{table_id}/monitor",
    response_model=MonitorFlows,
    responses={**CSV_RESPONSE, **problem_responses(401, 403, 404, 429)},
    dependencies=limited(EndpointClass.monitor),
)
def get_flows(
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    start: YearStart = None,
    end: End = None,
    period: Period = Period.month,
    group_by: Annotated[
        GroupBy,
        Query(
            alias="groupBy",
            description="Split the figures per `none`, `care_provider`, `corporation` or "
            "`municipality`.",
        ),
    ] = GroupBy.none,
    format: Format = OutputFormat.json,
) -> Response:
    """New ready cases, housings (own and intermediate lease), other exits, backlog and
    waiting days per period and group. Suppressed for viewers who may not see the cases, who
    read one calendar year per answer."""
    document = flows.flows(
        session, context, table, start=start, end=end, period=period, group_by=group_by
    )
    if format == OutputFormat.csv:
        rows: list[dict[str, Any]] = document["rows"] + document["totals"]
        return _csv(export.to_csv(rows, flows.FLOW_COLUMNS), "uitstroom")
    return FastJSONResponse(document)


@router.get(
    "/{table_id}/monitor/sustainment",
    response_model=MonitorSustainment,
    responses=problem_responses(401, 403, 404, 429),
    dependencies=limited(EndpointClass.monitor),
)
def get_sustainment(
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    start: Annotated[
        Date | None,
        Query(
            description="First move-in / record day (default: 3 years before `end`). "
            "Organisations that get suppressed figures read one whole calendar year: the "
            "default is 1 January of `end`'s year, the range widens to that year, and a range "
            "over two years is a 400."
        ),
    ] = None,
    end: End = None,
    period: Period = Period.quarter,
) -> Response:
    """After the move: tenancy sustainment at 6, 12 and 24 months per cohort of move-in,
    transfers realised against planned, and signals per period (README: figures after the
    move). Suppressed for viewers who may not see the cases, who read one calendar year per
    answer."""
    document = sustainment.sustainment(session, context, table, start=start, end=end, period=period)
    return FastJSONResponse(document)


@router.get(
    "/{table_id}/monitor/placements",
    response_model=MonitorPlacements,
    responses={**CSV_RESPONSE, **problem_responses(401, 403, 404, 429)},
    dependencies=limited(EndpointClass.monitor),
)
def get_placements(
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    start: YearStart = None,
    end: End = None,
    format: Format = OutputFormat.json,
) -> Response:
    """Housings per neighbourhood (concentration). Suppressed for viewers who may not see the
    cases, who read one calendar year per answer."""
    document = placements.placements(session, context, table, start=start, end=end)
    if format == OutputFormat.csv:
        columns = ["neighbourhood_code", "municipality_code", "placements"]
        rows = [*document["rows"], {"neighbourhood_code": "total", "placements": document["total"]}]
        return _csv(export.to_csv(rows, columns), "plaatsingen")
    return FastJSONResponse(document)


@router.get(
    "/{table_id}/monitor/contingent/{year}",
    response_model=MonitorContingent,
    responses={**CSV_RESPONSE, **problem_responses(401, 403, 404, 429)},
    dependencies=limited(EndpointClass.monitor),
)
def get_contingent(
    table_id: uuid.UUID,
    year: Year,
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    format: Format = OutputFormat.json,
) -> Response:
    """Contingent agreed and realised per corporation in a year (CSV: a last row `total`)."""
    # `table_id` named here too: a dependency's path parameter alone would follow `year` in
    # the contract. The table a dependency, so a caller not at it is told 404 before the query
    # is judged.
    document = contingent.contingent(session, context, table, year=year)
    if format == OutputFormat.csv:
        columns = ["corporation_id", "corporation_name", "agreed", "realised", "realised_share"]
        total = {
            "corporation_id": "total",
            "agreed": document["total_agreed"],
            "realised": document["total_realised"],
        }
        rows = [*document["rows"], total]
        return _csv(export.to_csv(rows, columns), f"contingent-{year}")
    return FastJSONResponse(document)


def _table_view(table: TableDep, context: AccessContextDep) -> OutflowTable:
    """The table, for the chair and municipalities: 403 for another member before the query
    is judged (it was told which query key to fix first)."""
    bottlenecks.refuse_viewers(context, table)
    return table


@router.get(
    "/{table_id}/monitor/bottlenecks",
    response_model=MonitorBottlenecks,
    responses=problem_responses(401, 403, 404, 429),
    dependencies=limited(EndpointClass.monitor),
)
def get_bottlenecks(
    table: Annotated[OutflowTable, Depends(_table_view)],
    context: AccessContextDep,
    session: SessionDep,
    start: Start = None,
    end: End = None,
) -> Response:
    """Bottleneck reasons as each published agenda of the range showed them."""
    return FastJSONResponse(
        bottlenecks.bottleneck_history(session, context, table, start=start, end=end)
    )


@router.get(
    "/{table_id}/monitor/forecast",
    response_model=MonitorForecast,
    responses=problem_responses(401, 403, 404, 429),
    dependencies=limited(EndpointClass.monitor),
)
def get_forecast(
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    date: Annotated[
        Date | None, Query(description="Forecast from this day (default today).")
    ] = None,
) -> Response:
    """Dwellings needed in the next 12 months, with the method next to the number."""
    return FastJSONResponse(forecast.forecast(session, context, table, on=date or today()))


@router.put(
    "/{table_id}/contingent-agreements/{year}/{corporation_id}",
    response_model=ContingentAgreementPublic,
    responses={
        201: {"description": "The agreement was recorded", "model": ContingentAgreementPublic},
        **problem_responses(401, 403, 404, 412),
    },
)
def put_agreement(
    table_id: uuid.UUID,
    year: Year,
    corporation_id: RecordingCorporationDep,
    table: RecordingTableDep,
    payload: ContingentAgreementIn,
    context: AccessContextDep,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ContingentAgreementPublic:
    """Record the contingent a corporation agreed for a year (municipality or chair): 201 when
    made, 200 when replaced. `If-Match` with the agreement's `version` as ETag (`"2"`) replaces
    only the figure that was read (412 when someone recorded another meanwhile);
    `If-None-Match: *` makes it only when there is none yet."""
    # `table_id` named here too: the contract lists the path's parameters in the order of the
    # signature, a dependency's after the route's own (else `table_id` would follow `year`).
    row, created = contingent.put_agreement(
        session, context, table, year, corporation_id, payload, if_match, if_none_match
    )
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag(row)
    if created:  # the agreement is this PUT's target, read with GET at the same address
        response.headers["Location"] = (
            f"/v1/tables/{table.id}/contingent-agreements/{year}/{row.corporation_id}"
        )
    return ContingentAgreementPublic.model_validate(row, from_attributes=True)


@router.get(
    "/{table_id}/contingent-agreements/{year}/{corporation_id}",
    response_model=ContingentAgreementPublic,
    responses=problem_responses(401, 403, 404),
)
def get_agreement(
    table_id: uuid.UUID,
    year: Year,
    corporation_id: uuid.UUID,
    row: ReadableAgreementDep,
    response: Response,
) -> ContingentAgreementPublic:
    """The contingent a corporation agreed for a year, with the ETag a PUT's `If-Match` takes:
    what a PUT's `Location` names. 404 when none is recorded or the reader may not see it (a
    corporation reads its own only, as in the list)."""
    # The path's parameters named here too, in the path's order, for the contract.
    response.headers["ETag"] = etag(row)
    return ContingentAgreementPublic.model_validate(row, from_attributes=True)


@router.get(
    "/{table_id}/contingent-agreements",
    response_model=ContingentAgreementList,
    responses=problem_responses(401, 403, 404),
)
def list_agreements(
    table: TableDep,
    context: MonitorContext,
    session: SessionDep,
    year: Annotated[YearDigits | None, Query()] = None,
) -> ContingentAgreementList:
    """The table's contingent agreements (a corporation: its own, as in the monitor's
    contingent)."""
    rows = contingent.visible_agreements(session, context, table, year)
    return ContingentAgreementList(
        items=[ContingentAgreementPublic.model_validate(r, from_attributes=True) for r in rows]
    )
