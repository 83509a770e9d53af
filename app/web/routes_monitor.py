"""The monitor page (Zicht op uitstroom): the table's figures from the monitor service, drawn as
inline SVG charts with the same numbers in tables. The service decides what the person's
organisation may see (suppressed cells come back empty) and logs every export."""

import uuid
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.responses import Response

from app.db import SessionDep
from app.monitor import bottlenecks, contingent, forecast, sustainment
from app.monitor import flows as monitor_flows
from app.monitor.access import can_see_cases, check_range
from app.monitor.facts import load_facts
from app.monitor.models import GroupBy, Period
from app.problems import ProblemError
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.schemas import Date
from app.tables import service as tables_service
from app.tables.models import OutflowTable
from app.timeutil import today
from app.web import charts, labels
from app.web import sustainment as sustainment_page
from app.web.charts import Series
from app.web.core import Web, WebDep, WebRoute, render
from app.web.export import sections_csv
from app.web.formatting import dutch_date, number
from app.web.forms import invalid_fields, mark_fields, problem_message, unfilled
from app.web.query_values import DATE_RULE, GIVEN_TWICE, WRONG_VALUES, one_of, wrong_value

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SHORT_MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
PERIODS = {"month": "Maand", "quarter": "Kwartaal", "year": "Jaar"}
# A cohort's period with its article: "kwartaal" and "jaar" are het-words ("dezelfde kwartaal").
SAME_PERIOD = {"month": "dezelfde maand", "quarter": "hetzelfde kwartaal", "year": "hetzelfde jaar"}
GROUPINGS = {
    "none": "Geen (hele tafel)",
    "care_provider": "Zorgaanbieder",
    "corporation": "Woningcorporatie",
    "municipality": "Gemeente van de woning",
}

# The fields of the page's form, by their labels there (`title`) and what they may hold
# (`description`): the error page of a wrong value names both (`app.web.core`).
From = Annotated[Date | None, Query(title="Van", description=DATE_RULE)]
Until = Annotated[Date | None, Query(title="Tot en met", description=DATE_RULE)]
# The page reads its own days, so that one that is no date, or one given more than once (each
# value kept: FastAPI would take the last), is named beside its field.
FromAsTyped = Annotated[list[str] | None, Query(title="Van", description=DATE_RULE)]
UntilAsTyped = Annotated[list[str] | None, Query(title="Tot en met", description=DATE_RULE)]
PeriodField = Annotated[Period, Query(title="Per", description=one_of(PERIODS.values()))]
Grouping = Annotated[
    GroupBy, Query(title="Uitsplitsen naar", description=one_of(GROUPINGS.values()))
]
Year = Annotated[
    int | None,
    Query(
        ge=2000,
        le=2100,
        title="Contingentjaar",
        description="Een jaartal van 2000 tot en met 2100.",
    ),
]
DAY: TypeAdapter[date | None] = TypeAdapter(Date | None)
DAY_LABELS = {"van": "van", "tot": "tot en met"}
INPUTS = {"start": ("van", "Van"), "end": ("tot", "Tot en met")}
"""The form's days by the names the monitor's services refuse them under (`invalidParams`):
their input's id and label, to say the refusal beside the field (`mark_fields`)."""
DAY_NAMES = {"van": "start", "tot": "end"}
"""The form's days (their keys in the address) by those names."""


def period_label(label: str) -> str:
    """`2026-01` -> `jan 2026`, `2026-Q1` -> `K1 2026`, `2026` stays, `total` -> `totaal`."""
    if label == "total":
        return "totaal"
    if "-Q" in label:
        year, quarter = label.split("-Q")
        return f"K{quarter} {year}"
    if "-" in label:
        year, month = label.split("-")
        return f"{SHORT_MONTHS[int(month) - 1]} {year}"
    return label


def default_start(end: date) -> date:
    """The first day of the month eleven months back: twelve months including this one."""
    month = end.month - 11
    year = end.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def cell(value: Any, decimals: int = 0) -> str:
    """A figure as the API gives it: a count whole, a median of an even number of waits (a
    half) with its decimal, not rounded half to even as `number` would."""
    if isinstance(value, float) and decimals == 0 and not value.is_integer():
        decimals = 1
    return "–" if value is None else number(value, decimals)  # noqa: RUF001


def _days(
    typed: dict[str, list[str] | None],
) -> tuple[dict[str, date | None], dict[str, str], list[str]]:
    """The days as typed (YYYY-MM-DD); those that are no date as typed, by field; and the fields
    the address gives more than once (the API refuses a repeated key). Both are left out of the
    days, so they take their defaults."""
    days: dict[str, date | None] = {}
    wrong, twice = {}, []
    for name, values in typed.items():
        if values is not None and len(values) > 1:
            days[name] = None
            twice.append(name)
            continue
        value = values[0] if values else None
        try:
            days[name] = DAY.validate_python(value)
        except ValidationError:
            days[name] = None
            wrong[name] = value or ""
    return days, wrong, twice


def _opened(
    session: Session, web: Web, table_id: uuid.UUID, van: date | None, tot: date | None
) -> tuple[OutflowTable, date, date]:
    """The table (404 outside it) and the range asked for (default: the twelve months up to
    today), after the person's monitor rate limit."""
    limit_person(session, web.settings, web.person, EndpointClass.monitor)
    table = tables_service.get_table(session, web.principal, table_id)
    end = tot or today()
    return table, van or default_start(end), end


@router.get("/tafels/{table_id}/monitor")
def monitor_page(
    request: Request,
    table_id: uuid.UUID,
    session: SessionDep,
    web: WebDep,
    van: FromAsTyped = None,
    tot: UntilAsTyped = None,
    periode: PeriodField = Period.month,
    indeling: Grouping = GroupBy.none,
    jaar: Year = None,
) -> HTMLResponse:
    days, wrong, twice = _days({"van": van, "tot": tot})
    table, start, end = _opened(session, web, table_id, days["van"], days["tot"])
    year = jaar or end.year
    context = {
        "title": "Monitor: zicht op uitstroom",
        "table": table,
        "start": start,
        "end": end,
        "period": periode.value,
        "grouping": indeling.value,
        "year": year,
        "periods": PERIODS,
        "same_period": SAME_PERIOD,
        "groupings": GROUPINGS,
        "cell": cell,
        "period_label": period_label,
        "twice": {name: wrong_value(INPUTS[DAY_NAMES[name]][1], GIVEN_TWICE) for name in twice},
    }
    if wrong or twice:
        # The form keeps what was typed (escaped by the template) and leaves a day given twice
        # empty, each field saying its error; the summary links to them.
        said = [(DAY_NAMES[n], "geen datum") for n in wrong]
        mark_fields(request, said + [(DAY_NAMES[n], GIVEN_TWICE) for n in twice], INPUTS)
        error = unfilled((DAY_LABELS[n] for n in wrong), dates=True) if wrong else WRONG_VALUES
        shown = {**context, "error": error, "typed": wrong, "date_rule": DATE_RULE}
        return render(request, "monitor.html", shown, 400)
    try:
        # Every viewer's range runs forward, also where the figures are then read for the
        # year of its end (a restricted viewer's): a backward one showed that year unasked.
        check_range(start, end)
        context |= _figures(session, web, table, start, end, periode, indeling, year)
    except ProblemError as exc:
        if exc.status != 400:
            raise
        # Said beside the field the service names too (an end before the start: Tot en met).
        mark_fields(request, invalid_fields(exc), INPUTS)
        return render(request, "monitor.html", {**context, "error": problem_message(exc)}, 400)
    return render(request, "monitor.html", context)


def _figures(
    session: Session,
    web: Web,
    table: OutflowTable,
    start: date,
    end: date,
    period: Period,
    grouping: GroupBy,
    year: int,
) -> dict[str, Any]:
    access = web.access()
    # Organisations that get suppressed figures read the flows one calendar year at a time:
    # the year of the range's end (the captions say which).
    first = start if can_see_cases(access, table) else None
    # The table's cases and housings, read once for every figure on the page (on the biggest
    # tables a read takes a few hundred ms).
    facts = load_facts(session, table.id)
    flows_by = partial(
        monitor_flows.flows,
        session,
        access,
        table,
        start=first,
        end=end,
        period=period.value,
        facts=facts,
    )
    flows = flows_by(group_by="none")
    grouped = flows_by(group_by=grouping) if grouping != GroupBy.none else None
    # The page reads the range the flows answered (a whole year for those viewers), so its
    # heading, form and sections all say the same range.
    outlook = forecast.forecast(session, access, table, on=end, facts=facts)
    start, end = flows["start"], flows["end"]
    # The bottleneck history counts the whole table per meeting: the chair's and
    # municipalities' only (`bottleneck_history`); the others' page leaves the section out.
    history = (
        bottlenecks.bottleneck_history(session, access, table, start=start, end=end)
        if first is not None
        else None
    )
    agreed = contingent.contingent(session, access, table, year=year, facts=facts)
    after = sustainment.sustainment(
        session, access, table, start=first, end=end, period=period, facts=facts
    )
    rows = [r for r in flows["rows"] if r["group"] is None]
    labels_ = [period_label(r["period"]) for r in rows]
    span = f"{dutch_date(flows['start'])} tot en met {dutch_date(flows['end'])}"
    histogram = flows["waiting_days_histogram"]
    latest = history["meetings"][-1] if history and history["meetings"] else None
    reasons = sorted(
        (latest or {"blocked_only_by": {}})["blocked_only_by"].items(),
        key=lambda item: (-(item[1] or 0), item[0]),
    )
    return {
        "start": start,
        "end": end,
        "flows": flows,
        "rows": rows,
        "totals": [r for r in flows["totals"] if r["group"] is None],
        "grouped": grouped,
        "history": history,
        "latest": latest,
        "reasons": reasons,
        "contingent": agreed,
        "forecast": outlook,
        "after": after,
        "after_sections": sustainment_page.sections(after, period_label),
        "backlog_chart": charts.line_chart(
            "Wachtlijst aan het eind van elke periode",
            f"Aantal dossiers dat klaar is voor uitstroom en nog wacht, per "
            f"{PERIODS[period.value].lower()}, {span}.",
            labels_,
            [Series("Wachtlijst", [r["backlog_end"] for r in rows])],
        ),
        "flow_chart": charts.bar_chart(
            "Instroom en uitstroom per periode",
            f"Per {PERIODS[period.value].lower()}: nieuw klaar voor uitstroom, gehuisvest en "
            f"andere uitstroom, {span}.",
            labels_,
            [
                Series("Nieuw klaar", [r["new_ready"] for r in rows]),
                Series("Gehuisvest", [r["housed"] for r in rows]),
                Series("Andere uitstroom", [r["other_exits"] for r in rows]),
            ],
        ),
        "waiting_chart": charts.bar_chart(
            "Wachttijd tot huisvesting",
            f"Aantal gehuisveste dossiers per wachttijd in dagen (van klaar voor uitstroom tot "
            f"verhuizing), {span}.",
            [f"{b['bucket']} dagen" for b in histogram],
            [Series("Gehuisvest", [b["count"] for b in histogram])],
        ),
        "reason_chart": charts.horizontal_bars(
            "Knelpunten in de laatste gepubliceerde agenda",
            # Per reason the cases a dwelling would fit if that reason alone were waived: a case
            # with several such dwellings counts under several reasons, so the bars may add up
            # to more than the cases without a dwelling (18 against 17 read as a miscount).
            "Per reden het aantal dossiers zonder passende woning dat er een zou hebben als "
            "alleen die reden wegviel"
            + (f", agenda van {dutch_date(latest['date'])}" if latest else "")
            + ". Een dossier kan bij meer dan één reden meetellen, dus samen kunnen de aantallen "
            "hoger zijn dan het aantal dossiers zonder passende woning.",
            [(labels.label("reason", code), n) for code, n in reasons if n != 0],
        )
        if any(n != 0 for _, n in reasons)
        else None,
        "contingent_chart": charts.horizontal_bars(
            f"Contingent {year}: gerealiseerd tegen afgesproken",
            f"Per woningcorporatie het aantal in {year} gehuisveste dossiers in "
            "contingentwoningen (gevulde balk) tegen de afspraak (omlijnde balk).",
            [(r["corporation_name"], r["realised"]) for r in agreed["rows"]],
            targets=[r["agreed"] for r in agreed["rows"]],
        )
        if agreed["rows"]
        else None,
    }


@router.get("/tafels/{table_id}/monitor/nazorg.csv")
def sustainment_csv(
    table_id: uuid.UUID,
    session: SessionDep,
    web: WebDep,
    van: From = None,
    tot: Until = None,
    periode: PeriodField = Period.month,
) -> Response:
    """The figures after the move of the page's range and period as CSV (semicolons, a byte
    order mark): the same cells as the page, suppressed ones empty. The monitor service writes
    the export to the access log (`monitor_export`), as every monitor answer."""
    table, start, end = _opened(session, web, table_id, van, tot)
    check_range(start, end)
    access = web.access()
    # As on the page: organisations that get suppressed figures read the year of the range's end.
    first = start if can_see_cases(access, table) else None
    document = sustainment.sustainment(session, access, table, start=first, end=end, period=periode)
    start, end = document["start"], document["end"]
    head = [
        ("nazorg", "tafel", table.name),
        ("nazorg", "van", start.isoformat()),
        ("nazorg", "tot_en_met", end.isoformat()),
        ("nazorg", "geteld_op", document["as_of"].isoformat()),
        ("nazorg", "per", PERIODS[periode.value].lower()),
        (
            "nazorg",
            "afgeschermd",
            "ja: een lege cel is afgeschermd" if document["suppression"] else "nee",
        ),
    ]
    content = sections_csv(head, sustainment_page.sections(document, str, blank=""), False)
    name = f"nazorg-{start.isoformat()}-{end.isoformat()}"
    return Response(
        content.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
