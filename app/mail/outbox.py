"""The mail outbox as the worker sees it: leasing due mails and recording each attempt's outcome,
the pattern of the webhook outbox (`app.webhooks.outbox`): a lease with a token, taken by a
conditional UPDATE (rows first locked with SKIP LOCKED on PostgreSQL), so any number of workers
in any number of processes never hold the same mail at once."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from app.mail.models import PREFERENCE_OF, MailMessage, MailStatus, NoticePreferences
from app.people.models import Person


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    """A mail leased to one worker: all it needs to send it without the database."""

    mail_id: uuid.UUID
    lease_token: uuid.UUID
    attempt: int
    kind: str
    data: dict[str, Any]
    recipient: str


def _due(now: datetime) -> tuple[Any, ...]:
    return (
        col(MailMessage.status) == MailStatus.pending.value,
        col(MailMessage.next_attempt_at) <= now,
        col(MailMessage.expires_at) > now,
        or_(col(MailMessage.locked_until).is_(None), col(MailMessage.locked_until) < now),
    )


def _wanted() -> Any:
    """The person still wants the mail's kind of notice (no choices stored: every one; a kind
    that is no choice, such as `account_changed`: always). Turning a notice off marks its
    waiting mails expired (`service.set_preferences`); this catches one queued by a transaction
    that read the choices just before they changed."""
    return or_(
        col(NoticePreferences.person_id).is_(None),
        col(MailMessage.kind).not_in([kind.value for kind in PREFERENCE_OF]),
        *(
            and_(col(MailMessage.kind) == kind.value, col(getattr(NoticePreferences, name)))
            for kind, name in PREFERENCE_OF.items()
        ),
    )


def claim_due_mails(
    session: Session, *, now: datetime, limit: int, lease: timedelta
) -> list[ClaimedMail]:
    """Lease up to `limit` due mails (oldest due first) of active people who still want them
    (`_wanted`) to a new token. The attempt is counted here, so a worker that dies mid-send
    still uses one up."""
    candidates = session.exec(
        select(MailMessage.id)
        .join(Person, col(Person.id) == col(MailMessage.person_id))
        .outerjoin(NoticePreferences, col(NoticePreferences.person_id) == col(Person.id))
        .where(col(Person.active).is_(True), _wanted(), *_due(now))
        .order_by(col(MailMessage.next_attempt_at), col(MailMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=MailMessage)
    ).all()
    if not candidates:
        return []
    token = uuid.uuid4()
    session.exec(
        update(MailMessage)
        .where(col(MailMessage.id).in_(candidates), *_due(now))
        .values(locked_until=now + lease, lease_token=token, attempts=MailMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    rows = session.exec(
        select(MailMessage, Person.email)
        .join(Person, col(Person.id) == col(MailMessage.person_id))
        .where(col(MailMessage.lease_token) == token)
        .order_by(col(MailMessage.next_attempt_at), col(MailMessage.id))
        .execution_options(populate_existing=True)
    ).all()
    return [
        ClaimedMail(
            mail_id=mail.id,
            lease_token=token,
            attempt=mail.attempts,
            kind=mail.kind,
            data=dict(mail.data),
            recipient=email,
        )
        for mail, email in rows
    ]


def record_sent(session: Session, claimed: ClaimedMail, *, now: datetime) -> bool:
    """Mark sent (`next_attempt_at`: when it ended, from which the send log counts); False
    when the lease was lost (it expired and another worker took it)."""
    ended = {"sent_at": now, "next_attempt_at": now, "last_error": None}
    return _finish(session, claimed, status=MailStatus.sent.value, **ended)


def record_failure(
    session: Session,
    claimed: ClaimedMail,
    *,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> bool:
    """Schedule the next attempt at `retry_at`, or mark failed at `now` when there is none."""
    values: dict[str, Any] = {"last_error": error[:200]}
    if retry_at is None:
        values["status"], values["next_attempt_at"] = MailStatus.failed.value, now
    else:
        values["next_attempt_at"] = retry_at
    return _finish(session, claimed, **values)


def _finish(session: Session, claimed: ClaimedMail, **values: Any) -> bool:
    result = session.exec(
        update(MailMessage)
        .where(
            col(MailMessage.id) == claimed.mail_id,
            col(MailMessage.lease_token) == claimed.lease_token,
        )
        .values(locked_until=None, lease_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
