"""Import every table model so SQLModel.metadata is complete (Alembic, tests, CLI)."""

from app.access_log.models import AccessLogEntry
from app.actions.models import Action, ActionTransition
from app.aftercare.models import AftercareAgreement, Checkpoint, CheckpointDueNotice, Tenancy
from app.areas.models import AreaName, TableAreaName
from app.cases.anonymised_references import AnonymisedReference
from app.cases.models import Case, CaseTransition
from app.idempotency_records import IdempotencyRecord
from app.job_leases import JobLease
from app.limits.models import YearLimits
from app.mail.models import MailMessage, NoticePreferences
from app.meetings.models import Meeting
from app.monitor.models import ContingentAgreement
from app.organisations.models import ApiKey, Organisation
from app.people.models import Person, PersonSession, SignInThrottle
from app.proposals.models import Proposal, ProposalDecision, ProposalStallAlert
from app.rate_limits.models import RateBucket
from app.tables.models import OutflowTable, TableMember, TableMunicipality
from app.vacancies.models import Vacancy
from app.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "AccessLogEntry",
    "Action",
    "ActionTransition",
    "AftercareAgreement",
    "AnonymisedReference",
    "ApiKey",
    "AreaName",
    "Case",
    "CaseTransition",
    "Checkpoint",
    "CheckpointDueNotice",
    "ContingentAgreement",
    "IdempotencyRecord",
    "JobLease",
    "MailMessage",
    "Meeting",
    "NoticePreferences",
    "Organisation",
    "OutflowTable",
    "Person",
    "PersonSession",
    "Proposal",
    "ProposalDecision",
    "ProposalStallAlert",
    "RateBucket",
    "SignInThrottle",
    "TableAreaName",
    "TableMember",
    "TableMunicipality",
    "Tenancy",
    "Vacancy",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "YearLimits",
]
