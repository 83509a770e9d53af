# Size: accounts, sign-in with lock-out and sessions share the account rules (active, locked).
"""People: accounts per organisation, sign-in with lock-out, and server-side sessions.

Who may manage whom is the API's rule for keys: the operator any organisation, an organisation
(its key, or a person of it with `is_admin`) only its own.
"""

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, delete, event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.database import SESSION_WRITES, hold_writes_lock, lock_number
from app.organisations.models import Organisation, OrganisationKind
from app.people import security
from app.people.changes import Change, ChangedBy, flag, list_changes, record
from app.people.models import (
    Person,
    PersonChangeKind,
    PersonCreate,
    PersonPublic,
    PersonRole,
    PersonSession,
    PersonUpdate,
    SignInThrottle,
    normalise_email,
)
from app.principal import Principal
from app.problems import Conflict, NotFound, Unprocessable
from app.settings import Settings
from app.sqltypes import utcnow
from app.versioning import document_etag, flush, lock

# A session's last-seen time is written at most this often (every page would write otherwise).
TOUCH_INTERVAL = timedelta(seconds=60)


def principal_for(organisation: Organisation) -> Principal:
    """A person acts as their organisation: the same Principal an API key gives, without a key."""
    return Principal(
        is_operator=False,
        organisation_id=organisation.id,
        organisation_kind=OrganisationKind(organisation.kind),
        api_key_id=None,
    )


# --- accounts ------------------------------------------------------------------------------


def find_by_email(session: Session, organisation_id: uuid.UUID, email: str) -> Person | None:
    """The organisation's person with this email (an email is unique per organisation only:
    a refusal across organisations would tell one organisation who has an account at another)."""
    return session.exec(
        select(Person).where(
            Person.organisation_id == organisation_id, Person.email == normalise_email(email)
        )
    ).first()


class DuplicateEmail(Conflict):
    """409 `duplicate_email` naming the organisation's person with that email (`existing_id`,
    `Location`), as other conflicts about an existing resource do (not after a lost race)."""

    def __init__(self, existing: Person) -> None:
        location = f"/v1/organizations/{existing.organisation_id}/people/{existing.id}"
        message = "A person of this organisation has this email already."
        super().__init__(
            message,
            code="duplicate_email",
            headers={"Location": location},
            existing_id=str(existing.id),
        )


class PersonCreatedAlready(Conflict):
    """409 `person_created`: a retry, with the same `Idempotency-Key`, of a creation that
    generated the password. The person made first is named (`existing_id`, `Location`); the
    password was shown once and is stored only as its hash, so the retry cannot show it: set
    one (PATCH `password`)."""

    def __init__(self, organisation_id: uuid.UUID, person_id: uuid.UUID) -> None:
        super().__init__(
            "This Idempotency-Key created the person already; a generated password is shown "
            "only once. Set a password for the person with PATCH.",
            code="person_created",
            headers={"Location": f"/v1/organizations/{organisation_id}/people/{person_id}"},
            existing_id=str(person_id),
        )


def create_person(
    session: Session, organisation: Organisation, data: PersonCreate, *, by: ChangedBy
) -> tuple[Person, str | None]:
    """The new person and, when no password was given, the generated one (shown once);
    recorded in the person's changes (`app.people.changes`) as made `by`."""
    email = normalise_email(data.email)
    _check_admin_role(data.role.value, data.is_admin, "is_admin")
    if (existing := find_by_email(session, organisation.id, email)) is not None:
        raise DuplicateEmail(existing)
    generated = None if data.password else security.new_password()
    person = Person(
        organisation_id=organisation.id,
        email=email,
        display_name=data.display_name,
        role=data.role.value,
        is_admin=data.is_admin,
        password_hash=security.hash_password(data.password or generated or ""),
    )
    session.add(person)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent creation won: not looked up to be named
        raise Conflict(
            "A person of this organisation has this email already.", code="duplicate_email"
        ) from exc
    made: list[Change] = [(PersonChangeKind.created, person.role)]
    if person.is_admin:
        made.append((PersonChangeKind.is_admin, flag(True)))
    made.append((PersonChangeKind.password, "generated" if generated else "given"))
    record(session, person, by, made)
    return person, generated


def _check_admin_role(role: str, is_admin: bool, name: str) -> None:
    """A viewer reads only (README), and managing people is writing: admin rights need the
    member or chair role. The database holds the same rule as a CHECK constraint."""
    if is_admin and role == PersonRole.viewer:
        raise Unprocessable(
            name,
            "a viewer reads only and cannot manage people; give the member or chair role first",
            "viewer_cannot_be_admin",
        )


def list_people(
    session: Session, organisation: Organisation, *, after: uuid.UUID | None, limit: int
) -> list[Person]:
    query = select(Person).where(Person.organisation_id == organisation.id)
    if after is not None:
        query = query.where(Person.id > after)
    return list(session.exec(query.order_by(col(Person.id)).limit(limit)))


def display_names(
    session: Session, organisation_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The display names of the organisation's people among `ids`: colleagues named on the
    pages that say who did something (a case's access log, an account's changes)."""
    query = select(Person.id, Person.display_name).where(
        Person.organisation_id == organisation_id, col(Person.id).in_(list(ids))
    )
    return {person_id: name for person_id, name in session.exec(query)}


def get_person(session: Session, organisation: Organisation, person_id: uuid.UUID) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.organisation_id != organisation.id:
        raise NotFound("No such person.")
    return person


def update_person(session: Session, person: Person, data: PersonUpdate, *, by: ChangedBy) -> Person:
    """Apply the fields given; each that changes a value is recorded in the person's changes
    as made `by` (a password always: setting one is the change)."""
    for name in data.model_fields_set:
        if getattr(data, name) is None:
            raise Unprocessable(name, "cannot be null; leave it out to keep the current value")
    role = data.role.value if data.role is not None else person.role
    is_admin = data.is_admin if data.is_admin is not None else person.is_admin
    _check_admin_role(role, is_admin, "is_admin" if data.is_admin else "role")
    record(session, person, by, _differences(person, data, role, is_admin))
    if data.display_name is not None:
        person.display_name = data.display_name
    person.role = role
    person.is_admin = is_admin
    if data.active is not None:
        person.active = data.active
        if not data.active:
            end_all_sessions(session, person.id)
    if data.password is not None:
        set_password(session, person, data.password)
    session.add(person)
    flush(session, None, "person")
    return person


def _differences(person: Person, data: PersonUpdate, role: str, is_admin: bool) -> list[Change]:
    changes: list[Change] = []
    if data.display_name is not None and data.display_name != person.display_name:
        changes.append((PersonChangeKind.display_name, None))
    if role != person.role:
        changes.append((PersonChangeKind.role, role))
    if is_admin != person.is_admin:
        changes.append((PersonChangeKind.is_admin, flag(is_admin)))
    if data.active is not None and data.active != person.active:
        changes.append((PersonChangeKind.active, flag(data.active)))
    if data.password is not None:
        changes.append((PersonChangeKind.password, "given"))
    return changes


def hold_rights(session: Session, admin: Person, person: Person) -> None:
    """Lock the admin's row and the row of the person they change (in id order, FOR NO KEY
    UPDATE as the change's own UPDATE) and read both again as committed: the page then checks
    the rights the admin holds now. Two admins taking each other's admin flag at once each
    checked the flag as their request began, and both changes went in."""
    lock(session, Person, [admin.id, person.id], no_key=True)


def reset_password(session: Session, person: Person, *, by: ChangedBy) -> str:
    """Give `person` a generated password (returned, to be shown once): for an admin whose
    colleague forgot theirs, or never saw the one made with their account. Their sessions end
    and a lock-out of their email is lifted (`set_password`); recorded as made `by`."""
    password = security.new_password()
    record(session, person, by, [(PersonChangeKind.password, "generated")])
    set_password(session, person, password)
    session.add(person)
    flush(session, None, "person")
    return password


def set_password(
    session: Session, person: Person, password: str, keep_session: uuid.UUID | None = None
) -> None:
    """A new password ends every other session and lifts a lock-out of the email for this
    account (`_lift_lock_out`). The email's throttle row is taken first (`hold_sign_in_count`;
    again where the caller took it before the person's row): the new hash, flushed by the
    DELETE below, locks the person's row, so a page's new password that went for that row
    before the throttle row deadlocked with a sign-in, as the API's did (breaker 14)."""
    with session.no_autoflush:
        hold_sign_in_count(session, person)
    person.password_hash = security.hash_password(password)
    end_all_sessions(session, person.id, keep=keep_session)
    _lift_lock_out(session, person)


def hold_sign_in_count(session: Session, person: Person) -> None:
    """Lock the throttle row of the person's email (when there is one) until the commit, before
    a new password for them locks the person's row: signing in locks that row first and the
    person's row last (`_record_sign_in`), and the new password deletes or reads it
    (`_lift_lock_out`). Taken the other way round, each waited for the other, a deadlock on
    PostgreSQL; so the new password waits for a sign-in under way, or it for the new password."""
    session.exec(
        select(SignInThrottle.subject)
        .where(SignInThrottle.subject == security.subject_hash("email", person.email))
        .with_for_update()
    ).first()


def _lift_subject(email: str, organisation_id: uuid.UUID) -> str:
    """The throttle row that lifts a lock-out of `email` for its account in one organisation;
    its `locked_until` is when the lift ends (with the lock it lifts)."""
    return security.subject_hash("lift", f"{organisation_id} {email}")


def _lift_lock_out(session: Session, person: Person) -> None:
    """Lift the lock-out of the person's email, and forget its failures. When the email has an
    account in another organisation too, only for this account, and the email's failures stay:
    a password that one organisation's admin sets must not reopen guessing at another's account
    (the lock-out is per email, as the sign-in form asks no organisation)."""
    email = security.subject_hash("email", person.email)
    elsewhere = session.exec(
        select(Person.id).where(
            Person.email == person.email, Person.organisation_id != person.organisation_id
        )
    ).first()
    if elsewhere is None:
        session.exec(delete(SignInThrottle).where(col(SignInThrottle.subject) == email))
        return
    row = session.get(SignInThrottle, email)
    if row is not None:
        _lift(session, person, row, utcnow())


def _lift(session: Session, person: Person, by_email: SignInThrottle, now: datetime) -> None:
    """Start a new count for this account alone, as a sole account's counter starts afresh
    after a new password or a sign-in, while the email's count, which guards the accounts in
    other organisations, goes on. The lift lasts as long as the email's lock (`locked_until`),
    or, with failures but no lock, as long as the email's count: None, and `sign_in` ends it
    with that count (`_carry_lifted_failures`) or gives it the lock's end. During a lock only
    lifted accounts are tried; every failure counts for each lift."""
    if by_email.locked_until is not None and by_email.locked_until <= now:
        return  # the lock ran out: the next sign-in starts a new count for everyone
    if by_email.locked_until is None and by_email.failures == 0:
        return
    lift = _throttle(session, _lift_subject(person.email, person.organisation_id))
    lift.failures, lift.window_started_at, lift.locked_until = 0, now, by_email.locked_until
    session.add(lift)


def _lifted(session: Session, email: str, organisation_id: uuid.UUID, now: datetime) -> bool:
    row = session.get(SignInThrottle, _lift_subject(email, organisation_id))
    return row is not None and (row.locked_until is None or row.locked_until > now)


def _carry_lifted_failures(
    session: Session,
    by_email: SignInThrottle,
    email: str,
    organisations: list[uuid.UUID],
    now: datetime,
    window: timedelta,
) -> None:
    """When the email's count starts afresh (its lock or its window ran out), count on from the
    failures of an account it was lifted for (`_lift`), still within their window: a sole
    account's new count goes on after the old one's end, and a lifted account must read the
    same, or the admin who set the password would learn that another organisation has an
    account with the email. The lifts end with the count they lifted. `organisations`: those
    with an account under the email, active or not."""
    counts = []
    for organisation_id in organisations:
        row = session.get(SignInThrottle, _lift_subject(email, organisation_id))
        if row is None:
            continue
        if row.failures > 0 and now - row.window_started_at <= window:
            counts.append((row.failures, row.window_started_at))
        session.delete(row)
    if counts:
        by_email.failures, by_email.window_started_at = max(counts)


def locked_until(session: Session, person: Person) -> datetime | None:
    """When the lock-out of the person's email ends; None when there is none, or a new
    password lifted it for this account."""
    row = session.get(SignInThrottle, security.subject_hash("email", person.email))
    now = utcnow()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    if _lifted(session, person.email, person.organisation_id, now):
        return None
    return row.locked_until


def person_public(session: Session, person: Person) -> PersonPublic:
    return PersonPublic.model_validate(
        {**person.model_dump(), "locked_until": locked_until(session, person)}
    )


def person_etag(person: Person, shown: PersonPublic) -> str:
    """The ETag of a read of the person that showed `shown` (`person_public`): its version and
    a digest of what the read shows. A sign-in (`last_sign_in_at`) and a lock-out
    (`locked_until`, which also ends with time) are no edit of the person and keep its
    version, so the version alone let `If-None-Match` answer 304 to a copy without them."""
    return document_etag(person, shown.model_dump(mode="json"))


# --- signing in ----------------------------------------------------------------------------


class SignInResult(StrEnum):
    signed_in = "signed_in"
    refused = "refused"
    locked = "locked"
    # The password is right for accounts in more than one organisation: the person chooses.
    choose_organisation = "choose_organisation"


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    result: SignInResult
    person: Person | None = None
    # With `choose_organisation`: the organisations whose account this password opens, by name.
    choices: tuple[Organisation, ...] = ()
    # With `locked`: when the lock ends (a refused try does not lengthen it).
    lock_ends: datetime | None = None

    def seconds_locked(self, settings: Settings) -> int:
        """Whole seconds until the lock ends (at least 1): what `Retry-After` says. The whole
        window when the end is unknown."""
        if self.lock_ends is None:
            return settings.signin_lockout_minutes * 60
        return max(1, math.ceil((self.lock_ends - utcnow()).total_seconds()))


def _throttle(session: Session, subject: str) -> SignInThrottle:
    """The subject's counter row, locked for this transaction (created if missing)."""
    query = select(SignInThrottle).where(SignInThrottle.subject == subject).with_for_update()
    row = session.exec(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SignInThrottle(subject=subject, window_started_at=utcnow())
            session.add(row)
            session.flush()
        return row
    except IntegrityError:  # created concurrently: take that one
        return session.exec(query).one()


def _current(row: SignInThrottle, now: datetime, window: timedelta) -> SignInThrottle:
    """Forget a lock that ran out, and failures older than the window."""
    if row.locked_until is not None and row.locked_until <= now:
        row.locked_until = None
        row.failures = 0
        row.window_started_at = now
    elif row.locked_until is None and now - row.window_started_at > window:
        row.failures = 0
        row.window_started_at = now
    return row


def _forget_stale(session: Session, before: datetime) -> None:
    """Counters whose window and lock have both passed say nothing any more: drop them, so
    guessed emails do not pile up."""
    session.exec(
        delete(SignInThrottle).where(
            col(SignInThrottle.window_started_at) < before,
            (col(SignInThrottle.locked_until).is_(None))
            | (col(SignInThrottle.locked_until) < before),
        )
    )


def _forget_expired_sessions(session: Session) -> None:
    """Delete expired sessions, those another transaction holds left for a later sign-in
    (SKIP LOCKED). Last in a sign-in, when it waits for nothing more: a new password ends the
    person's sessions after locking the email's throttle row and the person's row
    (`hold_sign_in_count`), so a sign-in that deleted them first and then waited for either
    waited for a transaction that waited for it (a deadlock on PostgreSQL)."""
    expired = (
        select(PersonSession.id)
        .where(col(PersonSession.expires_at) < utcnow())
        .with_for_update(skip_locked=True)
    )
    session.exec(delete(PersonSession).where(col(PersonSession.id).in_(expired)))


def _record_sign_in(session: Session, person: Person, now: datetime, password: str) -> bool:
    """Bookkeeping, not an edit of the person: the version and `updated_at` stay (a Core UPDATE
    bypasses the ORM's versioning), so a sign-in never races an administrator's change.

    False, and nothing written, when the person no longer has the password just checked or was
    blocked since: a new password or a block committed between the check and here (with no
    failures for the email there is no committed throttle row to wait for) had ended the
    person's sessions, and the session this sign-in would start outlived them."""
    values: dict[str, object] = {"last_sign_in_at": now, "updated_at": Person.updated_at}
    if security.needs_rehash(person.password_hash):
        values["password_hash"] = security.hash_password(password)
    session.flush()
    checked = update(Person).where(
        col(Person.id) == person.id,
        col(Person.password_hash) == person.password_hash,
        col(Person.active).is_(True),
    )
    if session.exec(checked.values(values)).rowcount != 1:
        return False
    for name, value in values.items():
        if name != "updated_at":
            set_committed_value(person, name, value)
    return True


def sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    *,
    settings: Settings,
    organisation_id: uuid.UUID | None = None,
    record: bool = True,
) -> SignInOutcome:
    """Check the password; count failures per email and per client address, and lock either
    for the lock-out window once it has too many (`settings.signin_*`). An unknown email is
    counted and answered exactly like a wrong password.

    One email may have an account in several organisations, each with its own password. The
    password is checked against each active one (or only `organisation_id`'s); when it opens
    more than one, nothing is signed in and the outcome lists their organisations to choose
    from, which only someone who knows the password gets to see. (Each account costs one hash
    check, so the time taken grows with their number: that an email has a second account is
    measurable, where it is not.)"""
    outcome = _sign_in(
        session, email, password, address, settings=settings, organisation_id=organisation_id
    )
    person = outcome.person if record else None
    if person is not None and not _record_sign_in(session, person, utcnow(), password):
        outcome = SignInOutcome(SignInResult.refused)  # replaced or blocked meanwhile
    _forget_expired_sessions(session)
    return outcome


def _sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    *,
    settings: Settings,
    organisation_id: uuid.UUID | None,
) -> SignInOutcome:
    email = normalise_email(email)
    now = utcnow()
    window = timedelta(minutes=settings.signin_lockout_minutes)
    _forget_stale(session, now - window)
    by_email = _current(_throttle(session, security.subject_hash("email", email)), now, window)
    # No stored email holds a NUL byte, and PostgreSQL refuses one in a query (a 500): such an
    # email is answered as an unknown one.
    everyone = (
        []
        if "\x00" in email
        else list(
            session.exec(
                select(Person).where(Person.email == email).order_by(col(Person.created_at))
            )
        )
    )
    if by_email.locked_until is None and by_email.failures == 0:
        with_account = [p.organisation_id for p in everyone]
        _carry_lifted_failures(session, by_email, email, with_account, now, window)
    by_address = _current(_throttle(session, security.subject_hash("addr", address)), now, window)
    if by_address.locked_until is not None:
        return SignInOutcome(SignInResult.locked, lock_ends=by_address.locked_until)
    # The accounts a new password or a sign-in lifted (`_lift`; each organisation's admin for
    # their own, active or not): each counts every failure as a count of its own.
    lifts = {
        p.organisation_id: _throttle(session, _lift_subject(email, p.organisation_id))
        for p in everyone
        if _lifted(session, email, p.organisation_id, now)
    }
    accounts = [
        p
        for p in everyone
        if p.active and (organisation_id is None or p.organisation_id == organisation_id)
    ]
    was_locked = by_email.locked_until is not None
    if was_locked:
        # Locked, but a new password may have lifted it for an account: only those are tried.
        if not lifts:
            return SignInOutcome(SignInResult.locked, lock_ends=by_email.locked_until)
        accounts = [p for p in accounts if p.organisation_id in lifts]
    if not accounts:
        # Unknown or inactive: one check against nothing, as long as a wrong password takes.
        security.verify_password(None, password)
    opened = [p for p in accounts if security.verify_password(p.password_hash, password)]
    if len(opened) == 1:
        person = opened[0]
        sole = all(p.organisation_id == person.organisation_id for p in everyone)
        others = (sole, len(accounts) > 1)
        _signed_in(session, person, by_email, lifts, others, now, window, settings)
        return SignInOutcome(SignInResult.signed_in, person)
    if opened:
        organisations = [session.get(Organisation, person.organisation_id) for person in opened]
        return SignInOutcome(
            SignInResult.choose_organisation,
            choices=tuple(sorted((o for o in organisations if o), key=lambda o: o.name)),
        )
    by_address.failures += 1
    still_lifted = _count_failure(session, by_email, lifts, was_locked, now, window, settings)
    if by_address.failures >= settings.signin_max_failures_per_address:
        by_address.locked_until = now + window
    session.add_all([by_email, by_address])
    session.flush()
    ends = [
        until
        for until, holds in (
            (by_email.locked_until, not still_lifted),
            (by_address.locked_until, True),
        )
        if until is not None and holds
    ]
    if ends:
        return SignInOutcome(SignInResult.locked, lock_ends=max(ends))
    return SignInOutcome(SignInResult.refused)


def _signed_in(
    session: Session,
    person: Person,
    by_email: SignInThrottle,
    lifts: dict[uuid.UUID, SignInThrottle],
    others: tuple[bool, bool],
    now: datetime,
    window: timedelta,
    settings: Settings,
) -> None:
    """A sole account's sign-in forgets the email's failures. With accounts elsewhere only this
    account's count starts afresh (`_lift`), and when the password was tried against another
    account too, it counts for the others as a failure: else whoever knows (or sets) this
    account's password could guess at the others' without end, by signing in. `others`: whether
    the email has no account elsewhere, and whether another account was tried."""
    sole, others_tried = others
    lift = lifts.pop(person.organisation_id, None)
    if lift is None and sole:
        session.delete(by_email)
        return
    if others_tried or lifts:
        was_locked = by_email.locked_until is not None
        _count_failure(
            session, by_email, lifts, was_locked or not others_tried, now, window, settings
        )
    if lift is not None:
        lift.failures, lift.window_started_at = 0, now
        lift.locked_until = by_email.locked_until if by_email.locked_until else lift.locked_until
        session.add(lift)
    elif by_email.locked_until is None and by_email.failures == 0:
        session.delete(by_email)
        return
    else:
        _lift(session, person, by_email, now)
    session.add(by_email)


def _count_failure(
    session: Session,
    by_email: SignInThrottle,
    lifts: dict[uuid.UUID, SignInThrottle],
    was_locked: bool,
    now: datetime,
    window: timedelta,
    settings: Settings,
) -> bool:
    """Count a failure for each lift and, without a lock, for the email; whether every lift
    still holds. A lifted account answers as a sole one does after its new password (whose
    failures start a new count): refused, and locked anew for the window at the last failure
    allowed. Any other answer would tell the admin who set the password that the email has an
    account in another organisation (README, "One email, several organisations")."""
    still_lifted = bool(lifts)
    for organisation, lift in list(lifts.items()):
        if lift.failures == 0 or now - lift.window_started_at > window:
            lift.failures, lift.window_started_at = 0, now  # a new count, as a sole account's
        lift.failures += 1
        if lift.failures < settings.signin_max_failures:
            session.add(lift)
            continue
        session.delete(lift)
        del lifts[organisation]
        still_lifted = False
        by_email.locked_until = max(by_email.locked_until or now, now + window)
    if not was_locked:
        by_email.failures += 1
        if by_email.failures >= settings.signin_max_failures:
            by_email.locked_until = by_email.locked_until or now + window
    if by_email.locked_until is not None:
        for lift in lifts.values():  # a lift lasts as long as the lock it lifts
            lift.locked_until = max(lift.locked_until or now, by_email.locked_until)
    return still_lifted


# --- sessions ------------------------------------------------------------------------------


def start_session(session: Session, person: Person, *, settings: Settings) -> str:
    """A new session (never a reused one, against session fixation) that ends
    `settings.session_absolute_hours` from now at the latest; returns the cookie token."""
    token = security.new_session_token()
    now = utcnow()
    session.add(
        PersonSession(
            person_id=person.id,
            token_hash=security.hash_token(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
        )
    )
    session.flush()
    return token


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A valid session, its person and their organisation."""

    session_id: uuid.UUID
    person: Person
    organisation: Organisation

    @property
    def role(self) -> PersonRole:
        return PersonRole(self.person.role)


def resolve_session(
    session: Session, token: str, *, settings: Settings, writes: bool = False
) -> SignedIn | None:
    """The session behind a cookie token, if it is still valid (absolute expiry, and idle for
    at most `settings.session_idle_minutes`). For a request that `writes`, the session's writes
    lock is held first (`hold_session_writes`): its end waits for the write."""
    if not token or len(token) > 100:
        return None
    token_hash = security.hash_token(token)
    if writes:
        hold_session_writes(session.connection(), token_hash)
    row = session.exec(select(PersonSession).where(PersonSession.token_hash == token_hash)).first()
    if row is None:
        return None
    now = utcnow()
    idle = timedelta(minutes=settings.session_idle_minutes)
    person = session.get(Person, row.person_id)
    if (
        row.expires_at <= now
        or now - row.last_seen_at > idle
        or person is None
        or not person.active
    ):
        session.delete(row)
        session.flush()
        return None
    organisation = session.get(Organisation, person.organisation_id)
    assert organisation is not None
    if writes:
        session.info[HELD_PAGE_SESSION] = token_hash
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.add(row)
        session.flush()
    return SignedIn(session_id=row.id, person=person, organisation=organisation)


def hold_session_writes(
    connection: Connection, token_hash: str, *, exclusive: bool = False
) -> None:
    """Take the writes lock of the session whose token has the hash `token_hash` (PostgreSQL:
    an advisory lock, `app.database.lock_number`) until the transaction ends: shared by each
    transaction of a page request that writes (`HELD_PAGE_SESSION`), exclusive by the session's
    end (`end_session`, `end_all_sessions`: signing out, a block, a new password), which so
    waits for the writes under way, none starting meanwhile (`app.database.hold_writes_lock`).
    Without it a page write that had read its session as valid, then waited (for a case's row),
    committed after its person was blocked, given a new password or signed out, and the admin
    looking after the block did not see it yet, as API keys before `app.auth.HELD_KEY`
    (tests/people/test_page_writes_of_ended_sessions.py)."""
    lock = lock_number(SESSION_WRITES, bytes.fromhex(token_hash))
    hold_writes_lock(connection, lock, exclusive=exclusive, ending="the session's end")


HELD_PAGE_SESSION = "uitstroom_held_page_session"
"""session.info: the token hash of the page session whose request writes (a POST), if any.
Its writes lock is held shared (`hold_session_writes`) in every transaction of the request: by
`resolve_session` in the first, by `_hold_page_session_again` in each one after a commit (a
rate limit's token): the session's end (a block, a new password, signing out) waits for the
write, and a write whose transaction begins after the end committed is sent to sign in
(`SessionEnded`), as an API key's writes and its revocation (`app.auth.HELD_KEY`)."""


class SessionEnded(Exception):
    """The page session of a writing request ended (`HELD_PAGE_SESSION`): the person signs in
    again (`app.web.core.SignInRequired`, a kind of it)."""


@event.listens_for(OrmSession, "after_begin")
def _hold_page_session_again(
    session: OrmSession, transaction: SessionTransaction, connection: Connection
) -> None:
    token_hash = session.info.get(HELD_PAGE_SESSION)
    if token_hash is None or transaction.nested:
        return
    hold_session_writes(connection, token_hash)
    still = select(PersonSession.id).where(col(PersonSession.token_hash) == token_hash)
    if connection.execute(still).first() is None:
        raise SessionEnded()


def end_session(session: Session, token: str) -> None:
    token_hash = security.hash_token(token)
    hold_session_writes(session.connection(), token_hash, exclusive=True)
    session.exec(delete(PersonSession).where(col(PersonSession.token_hash) == token_hash))


def end_all_sessions(session: Session, person_id: uuid.UUID, keep: uuid.UUID | None = None) -> None:
    """End the person's sessions (but `keep`), after the writes each has under way."""
    ending = select(PersonSession.token_hash).where(col(PersonSession.person_id) == person_id)
    statement = delete(PersonSession).where(col(PersonSession.person_id) == person_id)
    if keep is not None:
        ending = ending.where(col(PersonSession.id) != keep)
        statement = statement.where(col(PersonSession.id) != keep)
    for token_hash in sorted(session.exec(ending)):  # one order: two ends never deadlock
        hold_session_writes(session.connection(), token_hash, exclusive=True)
    session.exec(statement)


def change_password(
    session: Session,
    signed_in: SignedIn,
    current: str,
    new: str,
    address: str,
    *,
    settings: Settings,
    by: ChangedBy,
) -> SignInOutcome:
    """The person's own change (recorded as made `by`, the person on a page): needs the current
    password; ends their other sessions. The
    current password is checked as a sign-in of the email (`sign_in`, not recorded as one): a
    wrong one counts toward the lock-out, and while the email is locked even the right one is
    refused, or whoever finds a browser left signed in could guess the password without end."""
    person = signed_in.person
    outcome = sign_in(
        session,
        person.email,
        current,
        address,
        settings=settings,
        organisation_id=person.organisation_id,
        record=False,
    )
    if outcome.result == SignInResult.refused and _changed_it_last(session, person):
        # Sent twice (a double click): the first sending set `new`, so `current` is refused.
        # Checked as a sign-in too, so it is no free guess: a wrong one counts as a failure.
        again = sign_in(
            session,
            person.email,
            new,
            address,
            settings=settings,
            organisation_id=person.organisation_id,
            record=False,
        )
        return again  # signed_in: it stands, nothing stored or recorded again
    if outcome.result != SignInResult.signed_in:
        return outcome
    set_password(session, person, new, keep_session=signed_in.session_id)
    record(session, person, by, [(PersonChangeKind.password, "given")])
    session.add(person)
    flush(session, None, "person")
    return SignInOutcome(SignInResult.signed_in, person)


def _changed_it_last(session: Session, person: Person) -> bool:
    """Whether the person's last change is their own new password: then whoever holds one of
    their sessions set it (that change ended every other session) or signed in with it since."""
    last = list_changes(session, person, after=None, limit=1, newest_first=True)
    return bool(last) and (last[0].change, last[0].by_person_id) == (
        PersonChangeKind.password,
        person.id,
    )
