"""The notice to a person that their account changed: a new password, another role, admin
rights given or taken, access restored (`app.people.changes` queues it with the change).

Whoever made the change, the person hears of it: an admin who set a colleague's password anew
could otherwise sign in as them unnoticed until the colleague found themselves signed out, and a
password changed from a browser left signed in would go unnoticed too. It is not one of the
choices on `/account/meldingen` (a security notice one could turn off warns no one who needs
it); it carries codes only, the page `/account/wijzigingen` names who."""

from collections.abc import Iterable
from datetime import timedelta

from sqlmodel import Session

from app.mail.models import MailMessage, NoticeKind
from app.people.models import Person, PersonChangeKind
from app.sqltypes import utcnow

# Changes the person is told of; their name (their own choice on the page) and the creation of
# the account (whoever made it hands the password over) are not.
TOLD = (
    PersonChangeKind.password,
    PersonChangeKind.role,
    PersonChangeKind.is_admin,
    PersonChangeKind.active,
)
# As an event's notice: news of a change days late misleads more than it helps.
LIFETIME = timedelta(days=3)


def queue_account_notice(
    session: Session,
    person: Person,
    changes: Iterable[tuple[PersonChangeKind, str | None]],
    by: str,
    key: str,
) -> bool:
    """Queue one mail to `person` naming the `changes` (kind, new value) among `TOLD`, in the
    caller's transaction; `by` says who in codes (`self`, `person`, `api_key`, `operator`,
    `command_line`), `key` makes the row unique (the first change's id). False when none is
    told. A deactivation is not: the worker sends nothing to a deactivated person, and the
    row would wait for a reactivation to tell stale news."""
    told = [
        kind.value
        for kind, value in changes
        if kind in TOLD and not (kind is PersonChangeKind.active and value == "false")
    ]
    if not told:
        return False
    now = utcnow()
    session.add(
        MailMessage(
            person_id=person.id,
            kind=NoticeKind.account_changed.value,
            dedupe_key=f"account:{key}",
            data={"changes": told, "by": by, "path": "/account/wijzigingen"},
            next_attempt_at=now,
            expires_at=now + LIFETIME,
        )
    )
    return True
