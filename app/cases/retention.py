"""Retention: a closed case file is anonymised once the retention period after closing passed.

What stays is what the figures and the audit trail need: ids, table, care provider, facility,
dates (ready, exit), status and reason, household size, contract form, and the birth year
rounded down to its decade (the birth month is dropped). Everything else is reset to neutral
values: income, registration, beschikking, support, debts, needs, areas, and the care
provider's own reference (replaced, since it links the file back to the person; its digest is
kept apart, `app.cases.anonymised_references`, so a push of it registers nobody again). Decisions,
transitions and the access log hold ids and codes only and are kept; so are the tenancy (dates,
lease form, end reason) and its checkpoints' codes, which the figures after the move need. The
aftercare agreement (support after the move) is deleted, the tenancy's open conditions of the
omklap are cleared (the client's conduct, debts and income in other words), and the case's
proposals lose their score components (urgency, support fit, registration years and rent
headroom are the case's details in other words); their score and decisions stay.

The same job deletes expired idempotency records (`app.idempotency`), which have replayed their
answer for the last time, and in the live ones of the care provider (an import's report, kept up
to the TTL) replaces an anonymised case's old reference by its new one; and it deletes the
webhook deliveries and events past their delivery log (`app.webhooks.retention.forget_finished`),
drops the mails that waited too long and forgets those past their send log
(`app.mail.service.expire_and_forget`, which the mail worker runs too: not every deployment runs
it), and the rate-limit buckets that have been full for minutes (`app.rate_limits.service`).
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.aftercare.models import AftercareAgreement, Tenancy
from app.cases import anonymised_references
from app.cases.models import CLOSED_STATUSES, Case
from app.idempotency_records import purge_expired, rename_case_references
from app.mail.service import expire_and_forget
from app.periodic import PeriodicJob
from app.proposals.models import Proposal
from app.rate_limits.service import forget_full_buckets
from app.sqltypes import utcnow
from app.versioning import lock
from app.webhooks.retention import forget_finished

log = logging.getLogger(__name__)


def anonymised_reference(case: Case) -> str:
    """`anonymised:` and the case's whole id in hex (43 characters): unique because the id is,
    and out of reach of every client, whose references are letters, digits, `.`, `_` and `-`
    (`app.schemas.REFERENCE_CHARACTERS`). A reference a care provider could register would let
    it fail every retention round with a unique violation (the references were unique per care
    provider until 0027; among open cases they still are), and a part of the id would repeat:
    the first 16 hex digits of a UUIDv7 are its millisecond and 12 random bits, so cases
    registered in one batch collided."""
    return f"anonymised:{case.id.hex}"


CHUNK = 500
"""Cases anonymised per statement group: the locks and `IN` lists stay small on a first round
over years of closed files."""


def anonymise_closed_cases(session: Session, now: datetime, retention_days: int) -> int:
    """Anonymise every case closed more than `retention_days` ago; returns how many.

    A housed case is still in use while the table follows its tenancy (`app.aftercare`): it is
    anonymised once the period passed since the last aftercare record too (the tenancy's
    `updated_at`, which a new agreement, a checkpoint, a transfer or an end moves, and the
    agreement's, which its changes move), and its aftercare agreement is deleted with it.

    Each due case and its tenancy are locked (FOR NO KEY UPDATE, then FOR UPDATE: the order of
    housing, which writes both) and the case is judged again on what is committed then: an
    aftercare write holds the tenancy's lock until it commits, so one that ran meanwhile keeps
    its case, and one after it finds the case anonymised (`case_anonymised`)."""
    cutoff = now - timedelta(days=retention_days)
    due = (
        col(Case.status).in_(CLOSED_STATUSES),
        col(Case.closed_at) < cutoff,
        col(Case.anonymised_at).is_(None),
        col(Tenancy.case_id).is_(None) | (col(Tenancy.updated_at) < cutoff),
        col(AftercareAgreement.case_id).is_(None) | (col(AftercareAgreement.updated_at) < cutoff),
    )

    def due_cases(*where: ColumnElement[bool]) -> SelectOfScalar[Case]:
        return (
            select(Case)
            .outerjoin(Tenancy, col(Tenancy.case_id) == col(Case.id))
            .outerjoin(AftercareAgreement, col(AftercareAgreement.case_id) == col(Case.id))
            .where(*due, *where)
        )

    seen = sorted(session.exec(due_cases()).all(), key=lambda c: c.id)
    count = 0
    for start in range(0, len(seen), CHUNK):
        ids = [c.id for c in seen[start : start + CHUNK]]
        lock(session, Case, ids, no_key=True)
        lock(session, Tenancy, ids)
        count += _anonymise(session, now, session.exec(due_cases(col(Case.id).in_(ids))).all())
    session.flush()
    return count


def _anonymise(session: Session, now: datetime, cases: Sequence[Case]) -> int:
    agreements = session.exec(
        select(AftercareAgreement).where(col(AftercareAgreement.case_id).in_([c.id for c in cases]))
    ).all()
    for agreement in agreements:
        session.delete(agreement)
    for tenancy in session.exec(
        select(Tenancy).where(col(Tenancy.case_id).in_([c.id for c in cases]))
    ).all():
        # Its ETag moves: the tenancy says whether an agreement exists (as making one moves
        # it), and it lists every checkpoint the case did not record as `not_due` from now on
        # (`app.aftercare.service`), so a copy read before must not be answered 304.
        tenancy.updated_at = now
        # The omklap's open conditions (rent paid on time, no nuisance, budget management,
        # support) are the client's conduct, debts and income in other words; no figure
        # counts them.
        if tenancy.transfer_open_conditions:
            tenancy.transfer_open_conditions = []
        session.add(tenancy)
    proposals = session.exec(
        select(Proposal).where(col(Proposal.case_id).in_([c.id for c in cases]))
    ).all()
    for proposal in proposals:
        if proposal.components:
            proposal.components = []
            session.add(proposal)
    renamed: dict[uuid.UUID, dict[str, tuple[str, str]]] = defaultdict(dict)
    for case in cases:
        renamed[case.care_provider_id][str(case.id)] = (
            case.external_ref,
            anonymised_reference(case),
        )
        case.external_ref = anonymised_reference(case)
        case.birth_year = case.birth_year - case.birth_year % 10
        case.birth_month = None
        case.income_source = "other"
        case.income_annual_taxable = Decimal("0.00")
        case.income_net_monthly = None
        case.income_stable = False
        case.income_budget_management = "none"
        case.registration_date = None
        case.beschikking_status = "none"
        case.beschikking_valid_until = None
        case.support_intensity = "light"
        case.support_needs_complex_manager = False
        case.urgency = False
        case.debts_problematic = False
        case.debts_debt_assistance = "none"
        case.debts_rent_arrears_corporation_ids = []
        case.needs_wheelchair = False
        case.needs_step_free = False
        case.needs_max_floor = None
        case.needs_pets = False
        case.areas_preferred = []
        case.areas_excluded = []
        case.anonymised_at = now
        session.add(case)
    anonymised_references.remember(
        session, ((org, old) for org, refs in renamed.items() for old, _ in refs.values())
    )
    for care_provider_id, references in renamed.items():
        rename_case_references(session, str(care_provider_id), references)
    return len(cases)


class RetentionJob(PeriodicJob):
    """Anonymises due case files every `interval` seconds (the first round at start), in a
    background thread of the server processes, one process per round (the job's lease, see
    `app.periodic`); a cron job can run `uitstroomtafel anonymise` instead."""

    name = "retention"
    leased = True

    def __init__(
        self,
        engine: Engine,
        retention_days: int,
        interval: float = 24 * 3600.0,
        idempotency_ttl_hours: int = 24,
    ):
        super().__init__(engine, interval)
        self.retention_days = retention_days
        self.idempotency_ttl_hours = idempotency_ttl_hours

    def run_once(self) -> int:
        now = utcnow()
        with self.session() as session:
            count = anonymise_closed_cases(session, now, self.retention_days)
            purged = purge_expired(session, now, self.idempotency_ttl_hours)
            forget_finished(session, now)
            expire_and_forget(session, now=now)
            forget_full_buckets(session, now.timestamp())
            session.commit()
        if count:
            log.info("anonymised %d closed case file(s)", count)
        if purged:
            log.info("deleted %d expired idempotency record(s)", purged)
        return count
