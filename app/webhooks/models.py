"""Webhook endpoints of organisations, the events they subscribe to, and the delivery outbox."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, field_validator
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from app.ids import uuid7
from app.null_fields import RefusesNull
from app.schemas import NOT_IN_LINE, ApiModel, JsonBool, JsonInt, Page, StringPattern, Text
from app.sqltypes import UTCDateTime, utcnow
from app.versioning import Versioned, updated_at_field

MAX_URL_LENGTH = 2000


class EventType(StrEnum):
    agenda_published = "agenda.published"
    proposal_decided = "proposal.decided"
    action_assigned = "action.assigned"
    case_housed = "case.housed"
    proposal_stalled = "proposal.stalled"
    aftercare_checkpoint_due = "aftercare.checkpoint_due"
    aftercare_signal_raised = "aftercare.signal_raised"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


# `last_error` of a delivery ended because its endpoint dropped the event type meanwhile.
UNSUBSCRIBED = "not sent: the endpoint no longer subscribes to this event type"


class WebhookEndpoint(Versioned, SQLModel, table=True):
    """Where an organisation wants events sent; `secret` signs them and is shown once."""

    __tablename__ = "webhook_endpoints"

    id: uuid.UUID = SQLField(default_factory=uuid7, primary_key=True)
    organisation_id: uuid.UUID = SQLField(foreign_key="organisations.id", index=True)
    url: str = SQLField(max_length=MAX_URL_LENGTH)
    description: str | None = SQLField(default=None, max_length=200)
    events: list[str] = SQLField(sa_type=JSON)
    # Kept in the clear: signing needs the key itself, unlike API keys, which are only compared.
    secret: str = SQLField(max_length=100)
    # After a rotation the replaced secret signs too, beside the new one, until this moment:
    # the receiver has that long to take the new secret without refusing a delivery.
    previous_secret: str | None = SQLField(default=None, max_length=100)
    previous_secret_until: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    active: bool = True
    version: int = 1
    created_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = updated_at_field()
    # The attempt lease: while `locked_until` lies ahead, one worker (of any process) has an
    # attempt to this endpoint in flight, and no other worker starts one. It carries the same
    # token as the leased delivery.
    locked_until: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None


class WebhookEvent(SQLModel, table=True):
    """Something that happened, recorded in the transaction that made it happen."""

    __tablename__ = "webhook_events"

    id: uuid.UUID = SQLField(default_factory=uuid7, primary_key=True)
    type: str = SQLField(max_length=64)
    occurred_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)
    data: dict[str, Any] = SQLField(sa_type=JSON)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: the outbox row the worker claims, and its delivery log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = SQLField(default_factory=uuid7, primary_key=True)
    event_id: uuid.UUID = SQLField(foreign_key="webhook_events.id")
    endpoint_id: uuid.UUID = SQLField(foreign_key="webhook_endpoints.id", index=True)
    status: str = SQLField(default=DeliveryStatus.pending.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)
    # The lease: a worker owns the row until `locked_until`; `lease_token` tells whose it is.
    locked_until: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None
    last_attempt_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = SQLField(default=None, max_length=200)
    delivered_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    created_at: datetime = SQLField(default_factory=utcnow, sa_type=UTCDateTime)


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError("only http and https URLs are allowed")
    if not parts.hostname:
        raise ValueError("the URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("no credentials in the URL; verify the signature instead")
    if parts.fragment or value.endswith("#"):
        raise ValueError("no fragment (#...) in the URL")
    if " " in value or port == 0:
        raise ValueError("not a valid URL")
    return value


WEBHOOK_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://[^{NOT_IN_LINE} ]+$"
"""The contract's pattern for a webhook URL: `http://` or `https://` (the scheme in either case,
as `_http_url` reads it) and no space or control character. The service refused any other
scheme (400), while the contract allowed `ftp://...` and `javascript:...`. What a pattern cannot
say (credentials, a fragment, no host) the description does."""

WebhookUrl = Annotated[
    str,
    Text(MAX_URL_LENGTH),
    AfterValidator(_http_url),
    StringPattern(WEBHOOK_URL_PATTERN),
    Field(
        description="The absolute `http` or `https` URL the events are POSTed to (at most 2000 "
        "characters, no spaces), with a host, without credentials (`user:password@`) or a "
        "fragment (`#...`). A loopback or private address is refused (400 "
        "`target_not_allowed`) unless the service allows private targets; a link-local or "
        "cloud metadata address always is.",
        examples=["https://example.org/hook"],
    ),
]
EventTypes = Annotated[
    list[EventType],
    Field(min_length=1, max_length=16, description="The event types to receive (at least one)."),
]


def _unique_events(value: list[EventType] | None) -> list[EventType] | None:
    if value is None:
        return None
    return sorted(set(value), key=list(EventType).index)


class WebhookEndpointCreate(ApiModel):
    url: WebhookUrl
    events: EventTypes
    description: Annotated[str, Text(200)] | None = Field(
        default=None,
        description="A note on what the endpoint is for (at most 200 characters), or null.",
    )

    _unique = field_validator("events")(_unique_events)


class WebhookEndpointUpdate(ApiModel, RefusesNull):
    """Omitted fields keep their value; `description: null` clears the description."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"description"})

    url: WebhookUrl | None = Field(
        default=None,
        description="New http(s) address to deliver to, as a registration's `url`; leave out "
        "to keep it.",
    )
    events: EventTypes | None = Field(
        default=None, description="New list of event types; leave out to keep it."
    )
    description: Annotated[str, Text(200)] | None = Field(
        default=None, description="New note; `null` clears it, leave out to keep it."
    )
    active: JsonBool | None = Field(
        None,
        description=(
            "false pauses deliveries: pending ones wait (30 days at most, then they end as "
            "failed and can be redelivered after a resume), and events that happen while it is "
            "paused are not queued for this endpoint (not delivered later); true resumes them, "
            "the ones waiting between retries at once."
        ),
    )

    _unique = field_validator("events")(_unique_events)


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    url: str = Field(description="The http(s) address events are POSTed to.")
    events: list[EventType] = Field(
        description=(
            "Event types sent there: `agenda.published`, `proposal.decided`, "
            "`action.assigned`, `case.housed`, `proposal.stalled`, "
            "`aftercare.checkpoint_due`, `aftercare.signal_raised`."
        )
    )
    description: str | None = Field(description="The note on what it is for, or null.")
    active: bool = Field(description="False while deliveries are paused.")
    previous_secret_until: datetime | None = Field(
        description=(
            "After a secret rotation: until then (UTC) deliveries carry a second signature, "
            "made with the replaced secret; null when only the current secret signs."
        )
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str = Field(
        description="Signing secret (`whsec_` + base64 key), shown only in this answer "
        "(and its replay for the same `Idempotency-Key`).",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookSecretRotation(ApiModel):
    """A new signing secret for an endpoint whose secret may have leaked, or is due."""

    previous_secret_hours: JsonInt = Field(
        default=24,
        ge=0,
        le=72,
        description=(
            "Hours the replaced secret keeps signing beside the new one (each delivery then "
            "carries two `v1,` signatures), so that the receiver can switch without refusing "
            "one; 0 stops it at once (a leaked secret, and a receiver that has switched)."
        ),
    )


class WebhookRedelivery(ApiModel):
    """A redelivery takes no fields: the delivery is named by the path."""


class WebhookEndpointPage(Page[WebhookEndpointPublic]):
    pass


class WebhookDeliveryPublic(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="Sent as `webhook-id`; the same on every retry.")
    event_type: EventType = Field(description="The event's type (e.g. `proposal.decided`).")
    status: DeliveryStatus = Field(
        description=(
            "`pending` (will be tried, again), `delivered` or `failed` (retries used up, or not "
            "sent: see `last_error`)."
        )
    )
    attempts: int = Field(description="Delivery attempts made so far.")
    last_attempt_at: datetime | None = Field(
        description="When the last attempt was made (UTC); null before the first."
    )
    last_status_code: int | None = Field(
        description=(
            "HTTP status the receiver answered last; null before the first attempt "
            "or when it could not be reached."
        )
    )
    last_error: str | None = Field(description="Short reason of the last failure; never a body.")
    next_attempt_at: datetime | None = Field(
        description=(
            "When pending: the next try (UTC; a time past means it is due now); null otherwise, "
            "and while the endpoint is paused, when nothing is tried until it is resumed."
        )
    )
    delivered_at: datetime | None = Field(
        description="When the receiver accepted it (2xx; UTC); null until then."
    )
    created_at: datetime


class WebhookDeliveryPage(Page[WebhookDeliveryPublic]):
    pass
