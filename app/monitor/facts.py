"""The facts every figure is computed from, read in one pass over the table's cases: per case its
ready date and how it left, per housing its move-in date, dwelling and lease form.

One case row gives both the entry (`ready_since`) and the exit (`exit_date`: the move-in of a
housed case, the exit of a withdrawn one), so the figures add up by construction: a case leaves
the backlog exactly when it is counted as housed or as an other exit, and a case that left
before its ready date enters no figure at all. The API keeps those dates in order
(app/cases/dates.py); here that order is relied on, not repaired.
"""

import hashlib
import pickle
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from app.cases.models import Case, CaseStatus
from app.monitor.models import GroupBy
from app.organisations.models import Organisation, OrganisationKind
from app.proposals.models import Proposal, ProposalStatus
from app.tables.models import TableMember, TableMunicipality
from app.timeutil import today


@dataclass(frozen=True, slots=True)
class Housing:
    case_id: uuid.UUID
    care_provider_id: uuid.UUID
    corporation_id: uuid.UUID
    municipality_code: str
    neighbourhood_code: str
    housed_on: date
    lease_form: str | None
    contingent: bool
    waiting_days: int


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """`exit_date` is set only for a case that left: housed, or withdrawn."""

    id: uuid.UUID
    care_provider_id: uuid.UUID
    ready_since: date
    exit_date: date | None
    status: str
    status_reason: str | None


@dataclass(frozen=True, slots=True)
class Facts:
    cases: list[CaseFacts]  # the cases that enter the figures
    housings: list[Housing]  # the housings among them
    # `facts_digest`, computed on first use: a request asks it of one Facts once per year table
    # it reads (the forecast and placements several), 20 ms each on the biggest table.
    _digest: str | None = field(default=None, init=False, repr=False, compare=False)


def load_facts(session: Session, table_id: uuid.UUID) -> Facts:
    """The table's cases that enter the figures, and their housings, as they stand today: a case
    whose `ready_since` is after today enters no figure yet (its move-in and exit cannot be
    after today either: the API refuses dates in the future).

    Two queries rather than one outer join: without statistics SQLite joined every case to
    every housed proposal of the database through the status index (17,725 cases x 45,086
    housed proposals took 290 s in bench_monitor); the housings are now read once by status
    and matched by case in Python.
    """
    rows = session.exec(
        select(  # type: ignore[call-overload]  # SQLModel types select() for at most 4 columns
            Case.id,
            Case.care_provider_id,
            Case.ready_since,
            Case.exit_date,
            Case.status,
            Case.status_reason,
        )
        .where(Case.table_id == table_id)
        .order_by(col(Case.id))
    ).all()
    dwellings: dict[uuid.UUID, tuple[uuid.UUID, str, str | None, bool]] = {}
    for case_id, corporation, neighbourhood, lease_form, contingent in session.exec(
        select(  # type: ignore[call-overload]  # SQLModel types select() for at most 4 columns
            Proposal.case_id,
            Proposal.corporation_id,
            Proposal.neighbourhood_code,
            Proposal.lease_form,
            Proposal.contingent,
        )
        .where(
            col(Proposal.status) == ProposalStatus.housed,
            col(Proposal.case_id).in_(select(Case.id).where(Case.table_id == table_id)),
        )
        .order_by(col(Proposal.id))
    ).all():
        dwellings.setdefault(case_id, (corporation, neighbourhood, lease_form, contingent))
    cases: list[CaseFacts] = []
    housings: list[Housing] = []
    on = today()
    for case_id, provider, ready, exit_date, status, reason in rows:
        if ready > on:
            # Not ready yet: counted from its ready date once that has come. Counted now, a
            # period after today showed it as new ready and waiting, as if that had happened:
            # a care provider, whose answers run to 31 December, read K4's backlog as 39 on
            # 8 December where the chair read 36, three cases ready only on 20 December.
            continue
        dwelling = dwellings.get(case_id)
        housed = status == CaseStatus.housed and dwelling is not None
        left = exit_date if housed or status == CaseStatus.withdrawn else None
        if left is not None and left < ready:
            continue  # never ready before it left
        cases.append(CaseFacts(case_id, provider, ready, left, status, reason))
        if dwelling is not None and housed and left is not None:
            corporation, neighbourhood, lease_form, contingent = dwelling
            housings.append(
                Housing(
                    case_id=case_id,
                    care_provider_id=provider,
                    corporation_id=corporation,
                    municipality_code="GM" + neighbourhood[2:6],
                    neighbourhood_code=neighbourhood,
                    housed_on=left,
                    lease_form=lease_form,
                    contingent=contingent,
                    waiting_days=(left - ready).days,
                )
            )
    return Facts(cases, housings)


def listed_groups(session: Session, table_id: uuid.UUID, grouping: GroupBy) -> set[str]:
    """The groups a grouping lists whatever the figures hold: the table's member care providers
    or corporations, or the municipalities it covers (none for `none`). A row only where someone
    was counted made the table's shape follow the data: a care provider that housed its own
    client with a corporation, or in a municipality, where nobody had been housed added a row,
    and the new row changed which other cells were hidden."""
    if grouping == GroupBy.municipality:
        return set(
            session.exec(
                select(TableMunicipality.municipality_code).where(
                    TableMunicipality.table_id == table_id
                )
            ).all()
        )
    kind = {
        GroupBy.care_provider: OrganisationKind.care_provider,
        GroupBy.corporation: OrganisationKind.housing_corporation,
    }.get(grouping)
    if kind is None:
        return set()
    members = session.exec(
        select(Organisation.id)
        .join(TableMember, col(TableMember.organisation_id) == col(Organisation.id))
        .where(TableMember.table_id == table_id, Organisation.kind == kind.value)
    ).all()
    return {str(m) for m in members}


def facts_digest(facts: Facts) -> str:
    """A digest of every field of every case and housing, in their order: equal only for equal
    facts. The fields are written as ints, strings and None (no object ids, no hash seed), so
    facts read alike digest alike in every process; pickled rather than written out as text,
    which took twice as long (about 20 ms on bench_monitor's biggest table of 17,725 cases,
    where building and protecting its year tables takes a second or more). Computed once per
    Facts (their lists are never changed after loading)."""
    if facts._digest is None:
        object.__setattr__(facts, "_digest", _digest_of(facts))
    assert facts._digest is not None
    return facts._digest


def _digest_of(facts: Facts) -> str:
    cases = [
        (
            c.id.int,
            c.care_provider_id.int,
            c.ready_since.toordinal(),
            None if c.exit_date is None else c.exit_date.toordinal(),
            str(c.status),
            c.status_reason,
        )
        for c in facts.cases
    ]
    housings = [
        (
            h.case_id.int,
            h.care_provider_id.int,
            h.corporation_id.int,
            h.municipality_code,
            h.neighbourhood_code,
            h.housed_on.toordinal(),
            h.lease_form,
            h.contingent,
            h.waiting_days,
        )
        for h in facts.housings
    ]
    return hashlib.sha256(pickle.dumps((cases, housings), protocol=5)).hexdigest()
