"""HTTP routes for the people of an organisation (the accounts that sign in to the pages)."""

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.access_log.deps import AccessContextDep
from app.auth import CurrentPrincipal
from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.idempotency import REPLAY_RESPONSE, IdempotencyDep, IdempotencyKeyReused
from app.if_match import IfMatch, IfNoneMatch
from app.organisations.deps import ManagedOrganisationDep
from app.pagination import PageDep
from app.people import changes, security, service
from app.people.changes import ChangedBy
from app.people.deps import ManagedPersonDep
from app.people.models import (
    Person,
    PersonChangePage,
    PersonCreate,
    PersonCreated,
    PersonPage,
    PersonPublic,
    PersonUpdate,
)
from app.problems import problem_responses
from app.rate_limits.deps import limit_caller, limited
from app.rate_limits.service import EndpointClass
from app.versioning import lock_checked_as_read

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/organizations", tags=["people"])


def _shown(session: Session, person: Person) -> tuple[PersonPublic, str]:
    """The person as a read shows them, and that read's ETag (`service.person_etag`)."""
    public = service.person_public(session, person)
    return public, service.person_etag(person, public)


@router.post(
    "/{organisation_id}/people",
    status_code=201,
    response_model=PersonCreated,
    responses={**REPLAY_RESPONSE, **problem_responses(401, 403, 404, 409, 429)},
    dependencies=limited(EndpointClass.password),
)
def create_person(
    payload: PersonCreate,
    organisation: ManagedOrganisationDep,
    session: SessionDep,
    context: AccessContextDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Create a person who signs in to the pages (operator, or the organisation itself).

    Without `password` one is generated and shown only in this answer. A retry with the same
    `Idempotency-Key` creates no second person: with a `password` given it answers the person
    as it is now (200, `Idempotent-Replayed: true`), also when the person has a new password
    since; a password other than the first request's is the key's reuse, 422; with a
    generated one, which is never stored and cannot be shown again,
    it answers 409 `person_created` naming the person (`existing_id`, `Location`). Without a
    key a retry answers 409 `duplicate_email`.
    """
    given = payload.password

    def reread(person_id: uuid.UUID) -> tuple[BaseModel, dict[str, str]]:
        person = session.get(Person, person_id)
        if given is None or person is None:
            raise service.PersonCreatedAlready(organisation.id, person_id)
        # A record from before `secret_hash` was kept: checked against the person's own hash.
        if not idempotency.secret_checked and not security.verify_password(
            person.password_hash, given
        ):
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request; use a new key."
            )
        return _created(session, person, None)

    # The password is not fingerprinted (the record would keep an unsalted hash of it): the
    # record keeps the salted hash the person got (`secret_hash`), and a replay checks the
    # retry's password against that, not against the person's current one: a new password
    # since would refuse the identical retry, and answer 200 for the new one (an oracle).
    fingerprint = payload.model_copy(update={"password": None if given is None else "given"})
    replay = idempotency.replay(session, context.principal, fingerprint, reread, secret=given)
    if replay:
        replay.headers["Cache-Control"] = "no-store"
        return replay
    by = ChangedBy.of(context)
    person, generated = service.create_person(session, organisation, payload, by=by)
    body, headers = _created(session, person, generated)
    # With `resource_id` the answer, a generated password in it, is not stored with the key.
    secret_hash = None if given is None else person.password_hash
    return idempotency.respond(body, 201, headers, resource_id=person.id, secret_hash=secret_hash)


def _created(
    session: Session, person: Person, generated: str | None
) -> tuple[PersonCreated, dict[str, str]]:
    """A creation's answer: the person with the generated password (or null), its `Location`
    and its `ETag` (for a first PATCH's If-Match, as a GET gives)."""
    public, tag = _shown(session, person)  # as a GET then gives
    body = PersonCreated.model_validate({**public.model_dump(), "initial_password": generated})
    headers = {
        "Location": f"/v1/organizations/{person.organisation_id}/people/{person.id}",
        "ETag": tag,
        "Cache-Control": "no-store",
    }
    return body, headers


@router.get(
    "/{organisation_id}/people",
    response_model=PersonPage,
    responses=problem_responses(401, 403, 404),
)
def list_people(
    organisation: ManagedOrganisationDep, session: SessionDep, page: PageDep
) -> PersonPage:
    """The organisation's people, oldest first (operator, or the organisation itself)."""
    rows = service.list_people(session, organisation, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    return PersonPage(
        items=[service.person_public(session, p) for p in rows], next_cursor=next_cursor
    )


@router.get(
    "/{organisation_id}/people/{person_id}",
    response_model=PersonPublic,
    responses=problem_responses(401, 403, 404),
)
def get_person(person: ManagedPersonDep, session: SessionDep, response: Response) -> PersonPublic:
    """One person, with its ETag for a later PATCH's `If-Match`: the version and a digest of
    what the read shows (a sign-in or a lock-out changes it, not the version)."""
    public, response.headers["ETag"] = _shown(session, person)
    return public


@router.patch(
    "/{organisation_id}/people/{person_id}",
    response_model=PersonPublic,
    responses=problem_responses(401, 403, 404, 412, 429),
)
def update_person(
    person: ManagedPersonDep,
    payload: PersonUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
    context: AccessContextDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> PersonPublic:
    """Change a person's name, role or admin flag, deactivate them, or set a new password
    (which ends their sessions and lifts a lock-out for this account). `If-Match` with the ETag
    of the person read (or the bare version) makes it fail (412) instead of undoing a change
    made meanwhile, or a sign-in or lock-out the read did not show. A new
    password costs a token of the caller's `password` rate limit (429 past it)."""
    if payload.password is not None:  # before any lock: taking a token commits
        limit_caller(session, settings, principal, EndpointClass.password)
    if payload.password is not None:
        service.hold_sign_in_count(session, person)  # before the person's row: see there
    person = lock_checked_as_read(
        session,
        person,
        "person",
        if_match,
        if_none_match,
        lambda locked: _shown(session, locked)[1],
    )
    person = service.update_person(session, person, payload, by=ChangedBy.of(context))
    public, response.headers["ETag"] = _shown(session, person)
    return public


@router.get(
    "/{organisation_id}/people/{person_id}/changes",
    response_model=PersonChangePage,
    responses=problem_responses(401, 403, 404),
)
def list_person_changes(
    person: ManagedPersonDep, principal: CurrentPrincipal, session: SessionDep, page: PageDep
) -> PersonChangePage:
    """Who changed this person's account, what and when, oldest first (operator, or the
    organisation itself): its creation, name, role, admin flag, access and new passwords."""
    rows = changes.list_changes(session, person, after=page.after, limit=page.fetch)
    rows, next_cursor = page.cut(rows)
    return PersonChangePage(
        items=[changes.public(row, principal) for row in rows], next_cursor=next_cursor
    )
