"""E-mail for people: the notices each person chooses, and the mail outbox the worker sends from.

An outbox row holds the kind of notice, its recipient and the codes and page paths it needs
(`data`), never case data: the text is composed when it is sent (`app.mail.compose`)."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field as PField
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.ids import uuid7
from app.schemas import ApiModel, JsonBool
from app.sqltypes import UTCDateTime, utcnow
from app.versioning import Versioned, updated_at_field


class NoticeKind(StrEnum):
    """What a mail tells; each but `account_changed` belongs to one preference
    (`NoticePreferences`): a person always hears that their account changed (`app.mail.account`)."""

    agenda_published = "agenda_published"
    action_assigned = "action_assigned"
    action_overdue = "action_overdue"
    proposal_decided = "proposal_decided"
    proposal_stalled = "proposal_stalled"
    digest = "digest"
    account_changed = "account_changed"


# The choice (`NoticePreferences` field) that turns each kind of notice on or off.
PREFERENCE_OF = {
    NoticeKind.agenda_published: "agenda_published",
    NoticeKind.action_assigned: "actions",
    NoticeKind.action_overdue: "actions",
    NoticeKind.proposal_decided: "proposals",
    NoticeKind.proposal_stalled: "proposals",
    NoticeKind.digest: "digest",
}


class MailStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    # Not sent before it stopped mattering (no SMTP server meanwhile, or the retries ran past
    # the meeting): an old notice is worse than none.
    expired = "expired"


class NoticePreferences(Versioned, SQLModel, table=True):
    """A person's choice of notices; no row means the defaults (every notice on), whose version
    is 0 (`NO_CHOICE_VERSION`). Versioned: a `PUT` with `If-Match` does not undo a choice made
    meanwhile (the person's page, an admin's key)."""

    __tablename__ = "notice_preferences"

    person_id: uuid.UUID = Field(foreign_key="people.id", primary_key=True)
    agenda_published: bool = True
    actions: bool = True
    proposals: bool = True
    digest: bool = True
    version: int = 1
    updated_at: datetime = updated_at_field()


NO_CHOICE_VERSION = 0
"""The version of a person's choices while none is stored (the defaults stand)."""


class MailMessage(SQLModel, table=True):
    """One notice for one person: the outbox row the mail worker claims, and its send log.

    (person_id, dedupe_key) is unique, so a notice is queued once per person however many
    processes look for it (the digest of a meeting, the overdue notice of an action)."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("person_id", "dedupe_key"),
        Index("ix_mail_messages_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="people.id", index=True)
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=120)
    data: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(default=MailStatus.pending.value, max_length=16)
    attempts: int = 0
    # Pending: when it is due; sent, failed or expired: when it ended (the send log counts
    # its `SENT_LOG_DAYS` from it).
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # The lease: one worker (of any process) owns the row until `locked_until`.
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NoticePreferencesUpdate(ApiModel):
    """All four choices; PUT replaces them."""

    agenda_published: JsonBool = PField(
        description="Mail when a table's agenda is published, with the link to it."
    )
    actions: JsonBool = PField(
        description="Mail when an action is handed to the person's organisation, and when one "
        "of its actions is overdue."
    )
    proposals: JsonBool = PField(
        description="Mail when a proposal for the organisation's case or dwelling is decided "
        "or has stalled."
    )
    digest: JsonBool = PField(
        description="A digest the day before each meeting of the organisation's tables."
    )


class NoticePreferencesPublic(NoticePreferencesUpdate):
    person_id: uuid.UUID = PField(description="The person these choices belong to.")
    email: str = PField(description="Where the mails go: the person's login e-mail address.")
    mail_enabled: bool = PField(
        description="False while the service has no SMTP server configured: nothing is sent."
    )
    updated_at: datetime | None = PField(
        description="When the choices were last changed; null while they are the defaults."
    )
    version: int = PField(
        description="The version of the choices, 0 while the defaults stand; `If-Match` on "
        'the PUT takes it in quotes (`"1"`) as well as the ETag of the GET.'
    )
