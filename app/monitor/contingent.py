"""The contingent: dwellings a corporation agreed to let to outflow in a year, against the
housings realised in contingent dwellings."""

import uuid
from collections import Counter
from collections.abc import Hashable
from typing import Any

from sqlmodel import Session, col, or_, select

from app.access_log.service import AccessContext
from app.database import outside_transaction
from app.monitor.access import Viewer, log_export, viewer_of
from app.monitor.facts import Facts, Housing, listed_groups, load_facts
from app.monitor.models import ContingentAgreement, ContingentAgreementIn, GroupBy
from app.monitor.suppression import Equation
from app.monitor.years import check_cells, group_keys, protected_year
from app.organisations.models import Organisation, OrganisationKind
from app.problems import Forbidden, NotFound, Unprocessable
from app.tables.models import OutflowTable, TableMember
from app.tables.service import reads_table
from app.timeutil import today
from app.versioning import flush, get_checked


def require_corporation_at(
    session: Session, table: OutflowTable, corporation_id: uuid.UUID
) -> None:
    """Raises NotFound (404) unless `corporation_id` is a corporation at the table."""
    corporation = session.get(Organisation, corporation_id)
    if (
        corporation is None
        or corporation.kind != OrganisationKind.housing_corporation.value
        or session.get(TableMember, (table.id, corporation_id)) is None
    ):
        raise NotFound("No such corporation at this table.")


def put_agreement(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    year: int,
    corporation_id: uuid.UUID,
    data: ContingentAgreementIn,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> tuple[ContingentAgreement, bool]:
    """The municipality (or chair) records what a corporation agreed for a year; returns the
    row and whether it was made now. `If-Match` / `If-None-Match` are compared with the
    agreement's ETag (`app.versioning.get_checked`: 412). Recording the figure that stands,
    by the organisation that recorded it, changes nothing (same ETag)."""
    principal = context.principal
    if not reads_table(principal, table):
        raise Forbidden("Municipalities at the table record contingent agreements.")
    require_corporation_at(session, table, corporation_id)
    key = (table.id, corporation_id, year)
    row = get_checked(
        session, ContingentAgreement, key, "contingent agreement", if_match, if_none_match
    )
    created = row is None
    if row is None:
        row = ContingentAgreement(
            table_id=table.id,
            corporation_id=corporation_id,
            year=year,
            agreed=data.agreed,
            updated_by_organisation_id=principal.require_organisation(),
        )
    else:
        row.agreed = data.agreed
        row.updated_by_organisation_id = principal.require_organisation()
    session.add(row)
    flush(session, if_match, "contingent agreement")
    return row, created


def list_agreements(
    session: Session, table: OutflowTable, year: int | None
) -> list[ContingentAgreement]:
    query = select(ContingentAgreement).where(ContingentAgreement.table_id == table.id)
    if year is not None:
        query = query.where(ContingentAgreement.year == year)
    return list(
        session.exec(
            query.order_by(col(ContingentAgreement.year), col(ContingentAgreement.corporation_id))
        )
    )


def visible_agreements(
    session: Session, context: AccessContext, table: OutflowTable, year: int | None
) -> list[ContingentAgreement]:
    """The agreements `list_agreements` gives, as the contingent's figures show them
    (`contingent`): a corporation that may not see the cases reads only its own (what another
    corporation agreed is that corporation's business); the table and care providers read all."""
    rows = list_agreements(session, table, year)
    only = _only_corporation(context, viewer_of(context, table))
    return rows if only is None else [r for r in rows if r.corporation_id == only]


def visible_agreement(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    year: int,
    corporation_id: uuid.UUID,
) -> ContingentAgreement:
    """The one agreement of `corporation_id` in `year` that `visible_agreements` lists to the
    reader; NotFound (404) when there is none, or the reader may not see it (the same answer:
    another corporation's agreement is not told apart from a missing one)."""
    for row in visible_agreements(session, context, table, year):
        if row.corporation_id == corporation_id:
            return row
    raise NotFound(f"No contingent agreement of {year} for corporation {corporation_id}")


def _only_corporation(context: AccessContext, viewer: Viewer | None) -> uuid.UUID | None:
    """The corporation whose contingent row alone the reader sees: its own, for a corporation
    that may not see the cases (`viewer` from `viewer_of`); None: every row."""
    principal = context.principal
    if viewer is None or principal.organisation_kind != OrganisationKind.housing_corporation:
        return None
    return principal.organisation_id


def contingent(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    year: int,
    facts: Facts | None = None,
) -> dict[str, Any]:
    """Contingent agreed against realised (housings in contingent dwellings) per corporation:
    the `MonitorContingent` shape. A corporation that may not see the cases gets its own row
    only; a care provider gets the rows suppressed (knowing its own housings in them).
    `facts`: the table's (`load_facts`), when the caller read them already."""
    viewer = viewer_of(context, table)
    whole = viewer is None
    only = _only_corporation(context, viewer)
    agreed = {a.corporation_id: a.agreed for a in list_agreements(session, table, year)}
    facts = facts if facts is not None else load_facts(session, table.id)
    housings = [h for h in facts.housings if h.contingent and h.housed_on.year == year]
    realised = Counter(h.corporation_id for h in housings)
    # The members, and a corporation that left the table since: its closed files stay as
    # history, so what it agreed and realised in the year still counts. It is listed as the
    # flows by corporation list it, when it housed anyone at the table (in any year): listed
    # only in the years of its contingent housings, a row whose count is hidden said there
    # was at least one.
    members = select(TableMember.organisation_id).where(TableMember.table_id == table.id)
    housed_any = {h.corporation_id for h in facts.housings}
    corporations = session.exec(
        select(Organisation)
        .where(
            or_(
                col(Organisation.id).in_(members),
                col(Organisation.id).in_([*agreed, *housed_any]),
            ),
            Organisation.kind == OrganisationKind.housing_corporation.value,
        )
        .order_by(Organisation.name)
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "corporation_id": c.id,
            "corporation_name": c.name,
            "agreed": agreed.get(c.id),
            "realised": realised.get(c.id, 0),
        }
        for c in corporations
    ]
    if only is not None:
        rows = [r for r in rows if r["corporation_id"] == only]
    hidden: set[Hashable] = set()
    total = sum(r["realised"] for r in rows)
    if viewer is not None and only is None:
        listed = listed_groups(session, table.id, GroupBy.corporation)
        with outside_transaction(session):
            hidden = _protected(facts, viewer, year, rows, total, housings, listed)
    total_realised = None if ("total",) in hidden else total
    out_rows = []
    for r in rows:
        shown = None if ("r", str(r["corporation_id"])) in hidden else r["realised"]
        share = round(shown / r["agreed"], 4) if shown is not None and r["agreed"] else None
        out_rows.append({**r, "realised": shown, "realised_share": share})
    agreed_values = [r["agreed"] for r in rows if r["agreed"] is not None]
    document = {
        "table_id": table.id,
        "year": year,
        "suppression": bool(not whole and only is None),
        "rows": out_rows,
        "total_agreed": sum(agreed_values) if agreed_values else None,
        "total_realised": total_realised,
    }
    log_export(session, context, table)
    return document


def _protected(
    facts: Facts,
    viewer: Viewer,
    year: int,
    rows: list[dict[str, Any]],
    total: int,
    housings: list[Housing],
    listed: set[str],
) -> set[Hashable]:
    """The realised cells to hide from a care provider: `("r", corporation id)` and
    `("total",)`, protected together with the year's flows table by corporation
    (`app.monitor.years`), whose cells keep the decisions the flows made.

    A corporation's realised count is at most its housed count in the year and the total at
    most the year's housed count; where they are equal (every housing contingent) the reader
    may know it, so the equation takes part, and a realised count never settles a housed
    count the flows hide. A table with more corporations than a year's table can protect
    (`years.check_cells`) gets every realised count hidden. A year after next has no housings
    and no flows (they refuse it): nothing to hide."""
    if year > today().year + 1:
        return set()
    values: dict[Hashable, int | None] = {
        ("r", str(r["corporation_id"])): r["realised"] for r in rows
    }
    values[("total",)] = total
    equations: list[Equation] = [
        [(cell, 1.0) for cell in values if cell != ("total",)] + [(("total",), -1.0)]
    ]
    own = Counter(
        str(h.corporation_id)
        for h in housings
        if viewer.owns_housing(h.care_provider_id, h.corporation_id)
    )
    lower: dict[Hashable, int] = {("r", corporation): n for corporation, n in own.items()}
    lower[("total",)] = sum(own.values())
    # The same groups as the flows by corporation, so the same table.
    keys = group_keys(GroupBy.corporation, facts, listed)
    try:
        check_cells(keys)
    except Unprocessable:
        return set(values)
    flows = protected_year(facts, viewer, GroupBy.corporation, keys, year, set())
    system = flows.system
    for group, cell in [*((g, ("r", g)) for g in keys if g is not None), (None, ("total",))]:
        housed = ("rows", str(year), group, "housed")
        if cell in values and values[cell] == system.values.get(housed):
            equations.append([(cell, 1.0), (housed, -1.0)])
    return set(system.joined(flows.hidden, values, equations, lower))
