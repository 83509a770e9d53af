"""Rate limits as route dependencies: `Depends(rate_limit(EndpointClass.agenda))` on an API
route, `limit_person(...)` in a page handler."""

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import Depends
from sqlmodel import Session

from app.auth import CurrentPrincipal, Principal
from app.db import SessionDep, SettingsDep
from app.problems import OrganisationOverBudget, TooManyRequests
from app.rate_limits.service import ORGANISATION_BUDGETS, EndpointClass, per_minute, take
from app.settings import Settings
from app.sqltypes import utcnow


def _enforce(
    session: Session,
    settings: Settings,
    subject: str,
    endpoint_class: EndpointClass,
    organisation_id: uuid.UUID | None = None,
) -> None:
    """Take a token from the caller's bucket and then from its organisation's, or raise 429; a
    token taken is committed at once (it counts even if the request fails later; what the
    request wrote before is only the key's last-used time).

    The organisation's bucket holds `ORGANISATION_BUDGETS` times the budget, shared by all its
    keys and people: a new key or a new person starts with a full bucket of its own, so
    without it an organisation that revoked and issued keys (or made people) had as many
    budgets as it liked. The caller's bucket comes first: a caller refused takes nothing from
    its colleagues' share."""
    if not settings.rate_limits_enabled:
        return
    budget, now = per_minute(settings, endpoint_class), utcnow().timestamp()
    refused = take(session, subject, endpoint_class, budget, now)
    whose, problem = "", TooManyRequests
    if refused is None and organisation_id is not None:
        shared = budget * ORGANISATION_BUDGETS
        refused = take(
            session, f"organisation-share:{organisation_id}", endpoint_class, shared, now
        )
        whose, problem = "'s organisation (its keys and people together)", OrganisationOverBudget
    if refused is not None:
        raise problem(
            f"Too many {endpoint_class.value} requests from this caller{whose}; "
            f"retry after {refused.retry_after} seconds.",
            headers={"Retry-After": str(refused.retry_after)},
            endpoint_class=endpoint_class.value,
        )
    session.commit()


def subject_of(principal: Principal) -> str:
    """The bucket owner: the API key (each key its own budget), or the operator."""
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    if principal.is_operator:
        return "operator"
    return f"organisation:{principal.organisation_id}"


def rate_limit(endpoint_class: EndpointClass) -> Callable[..., None]:
    """A dependency that takes a token of `endpoint_class` for the calling key (429 if none)."""

    def dependency(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep) -> None:
        limit_caller(session, settings, principal, endpoint_class)

    return dependency


def limit_caller(
    session: Session, settings: Settings, principal: Principal, endpoint_class: EndpointClass
) -> None:
    """`rate_limit`'s budget, taken inside a route: for a request that is costly only with some
    parameter (a list filtered by a blocking reason evaluates the whole table, as an agenda
    does)."""
    organisation_id = None if principal.is_operator else principal.organisation_id
    _enforce(session, settings, subject_of(principal), endpoint_class, organisation_id)


class Member(Protocol):
    """A person signed in on the pages (`app.people.models.Person`)."""

    id: uuid.UUID
    organisation_id: uuid.UUID


def limit_person(
    session: Session, settings: Settings, person: Member, endpoint_class: EndpointClass
) -> None:
    """The same budget for a person signed in on the pages (their own bucket, and their
    organisation's), with the limits of the application's `settings`."""
    _enforce(session, settings, f"person:{person.id}", endpoint_class, person.organisation_id)


def limited(endpoint_class: EndpointClass) -> list[Any]:
    """`dependencies=limited(...)` for a route decorator."""
    return [Depends(rate_limit(endpoint_class))]
