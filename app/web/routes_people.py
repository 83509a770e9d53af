"""An organisation's admin manages its people: create them (a password is generated and shown
once), change their role, admin flag or access, give them a new password (shown once).

An admin is a member or chair (a viewer reads only) and manages roles up to their own: they
grant no role above it, change no one whose role is above it, and never change their own role,
so no one raises their own rights."""

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from app.db import SessionDep
from app.organisations.models import Organisation
from app.people import changes
from app.people import service as people
from app.people.changes import ChangedBy
from app.people.models import Person, PersonChangeKind, PersonCreate, PersonRole, PersonUpdate
from app.problems import Conflict, Unprocessable
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, render
from app.web.deps import PageColleagueDep, require_people_admin
from app.web.formatting import dutch_datetime
from app.web.forms import TEXT_RULE

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _hold_rights(session: SessionDep, web: Web, person: Person) -> None:
    """Check again the rights this admin holds now, with their row and the changed person's
    locked: a change of them committed since the request began (another admin's, at the same
    moment) comes first, as it would one after the other."""
    people.hold_rights(session, web.person, person)
    if not web.person.active:
        raise PageForbidden("Uw account is geblokkeerd.")
    require_people_admin(web)


def _grantable(web: Web) -> list[PersonRole]:
    """The roles this admin may give: up to their own."""
    return [role for role in PersonRole if role.rank <= web.role.rank]


def _check_grant(web: Web, role: str) -> None:
    if role in set(PersonRole) and PersonRole(role).rank > web.role.rank:
        raise PageForbidden("U kunt geen hogere rol toekennen dan uw eigen rol.")


VIEWER_ADMIN = "Een meelezer kan geen beheerder zijn: geef eerst de rol lid of voorzitter."
TAKEN = "Er bestaat al een account met dit e-mailadres."
# A form sent twice (a double click) makes the account with the first sending and finds it
# taken with the second, whose page hid the password: the way out is a new one.
NEW_PASSWORD_HINT = (
    " Is het wachtwoord niet (meer) zichtbaar? Kies bij die persoon 'Nieuw wachtwoord'."
)


def _taken(session: SessionDep, web: Web, organisation: Organisation, error: Conflict) -> str:
    """The message for a taken email: with the way to a new password only where this admin
    has that button (a colleague up to their own role, not themselves)."""
    existing = error.extra.get("existing_id")
    if existing is None:  # a concurrent creation won: not looked up to be named
        return TAKEN
    person = people.get_person(session, organisation, uuid.UUID(str(existing)))
    if person.id == web.person.id or PersonRole(person.role).rank > web.role.rank:
        return TAKEN
    return TAKEN + NEW_PASSWORD_HINT


def _people_page(
    request: Request,
    session: SessionDep,
    web: Web,
    *,
    error: str | None = None,
    created: tuple[str, str] | None = None,
    reset: bool = False,
    form: dict[str, str] | None = None,
    wrong: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    organisation = web.organisation
    rows = people.list_people(session, organisation, after=None, limit=1000)
    return render(
        request,
        "people.html",
        {
            "title": f"Mensen van {organisation.name}",
            "people": [people.person_public(session, p) for p in rows],
            "roles": _grantable(web),
            "manageable": {p.id for p in rows if PersonRole(p.role).rank <= web.role.rank},
            "error": error,
            "created": created,
            "reset": reset,
            "form": form or {},
            "wrong": wrong,
        },
        status,
    )


@router.get("/mensen")
def people_page(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    require_people_admin(web)
    return _people_page(request, session, web)


@router.post("/mensen")
def create_person(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    require_people_admin(web)
    limit_person(session, web.settings, web.person, EndpointClass.password)
    organisation = web.organisation
    _hold_rights(session, web, web.person)
    values = {
        "email": field(form, "email", 254),
        "display_name": field(form, "naam", 200),
        "role": field(form, "rol", 16),
    }
    _check_grant(web, values["role"])
    try:
        data = PersonCreate.model_validate({**values, "is_admin": form.get("beheerder") == "ja"})
    except ValidationError as invalid:
        return _people_page(
            request,
            session,
            web,
            error="Vul een geldig e-mailadres, een naam en een rol in. " + TEXT_RULE,
            form=values,
            wrong=str(invalid.errors()[0]["loc"][0]),
            status=400,
        )
    try:
        with session.begin_nested():
            by = ChangedBy.of(web.access())
            person, password = people.create_person(session, organisation, data, by=by)
    except Unprocessable:
        return _people_page(request, session, web, error=VIEWER_ADMIN, form=values, status=400)
    except Conflict as taken:
        return _people_page(
            request,
            session,
            web,
            error=_taken(session, web, organisation, taken),
            form=values,
            wrong="email",
            status=409,
        )
    assert password is not None
    response = _people_page(request, session, web, created=(person.email, password), status=201)
    return response


@router.post("/mensen/{person_id}/wachtwoord")
def reset_password(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, person: PageColleagueDep
) -> Response:
    """A new generated password for a colleague, shown once (their sessions end). Not one's
    own: that is changed, with the current one, under 'Mijn account'. The form carries the
    version of the person it was shown with and is used once: the reset moves the version on
    (the versioned UPDATE, on the row locked and read as committed), so the same form sent
    again (the back button, a reload, a second tab, a double click; at once on two servers)
    makes no second password, which silently replaced the one the first sending showed."""
    limit_person(session, web.settings, web.person, EndpointClass.password)
    people.hold_sign_in_count(session, person)  # before the people's rows: see there
    _hold_rights(session, web, person)
    if PersonRole(person.role).rank > web.role.rank:
        raise PageForbidden("U beheert alleen mensen met hoogstens uw eigen rol.")
    if person.id == web.person.id:
        raise PageForbidden("Uw eigen wachtwoord wijzigt u onder 'Mijn account'.")
    if (stale := _stale(field(form, "versie", 12), person)) is not None:
        error, status = stale
        made = _password_generated_last(session, person, by=web.person) if status == 412 else None
        if made is not None:
            error, status = PASSWORD_MADE.format(email=person.email, at=dutch_datetime(made)), 409
        return _people_page(request, session, web, error=error, status=status)
    password = people.reset_password(session, person, by=ChangedBy.of(web.access()))
    return _people_page(request, session, web, created=(person.email, password), reset=True)


NO_VERSION = (
    "Dit formulier zegt niet welke versie van de persoon u zag, dus er is niets opgeslagen. "
    "Hieronder staat de stand zoals die nu is."
)
STALE = (
    "Iemand anders heeft deze persoon intussen gewijzigd; er is niets opgeslagen. Hieronder "
    "staat de stand zoals die nu is."
)


PASSWORD_MADE = (
    "Voor {email} is na het tonen van dit formulier al een nieuw wachtwoord gemaakt, op {at}. "
    "Het formulier was dus al verstuurd (met de knop Terug, opnieuw laden, een tweede klik of "
    "in een ander tabblad) en er is geen tweede wachtwoord gemaakt: het wachtwoord dat toen "
    "getoond werd, werkt. Is het niet meer zichtbaar? Kies hieronder opnieuw 'Nieuw "
    "wachtwoord'; het vorige werkt dan niet meer."
)


def _password_generated_last(session: SessionDep, person: Person, *, by: Person) -> datetime | None:
    """When the person's last change was a generated password made by `by` (a reset, shown
    once to whoever made it): a reset form that carries an older version was then sent again.
    One another admin made was shown to them, not to `by`: that is someone else's change."""
    last = changes.list_changes(session, person, after=None, limit=1, newest_first=True)
    if last and (last[0].change, last[0].value, last[0].by_person_id) == (
        PersonChangeKind.password,
        "generated",
        by.id,
    ):
        return last[0].at
    return None


def _stale(version: str, person: Person) -> tuple[str, int] | None:
    """The refusal of a row's form that does not carry the person's current version: a row
    sends role, admin flag and access as its page showed them, so one shown before another
    admin blocked the person gave them their access back (breaker 41)."""
    if not (version.isascii() and version.isdigit()):  # '²' is a digit `int` cannot read
        return NO_VERSION, 400
    return None if int(version) == person.version else (STALE, 412)


def _asks_what_is_stored(form: FormData, person: Person) -> bool:
    """Whether a row's form asks exactly the role, admin flag and access the person has now: a
    row sent twice (a double click), whose first sending stored it and moved the version on.
    Such a form changes nothing, so it stands whatever version it carries."""
    yes_no = {True: "ja", False: "nee"}
    return (
        field(form, "rol", 16) in ("", person.role)
        and field(form, "beheerder", 4) in ("", yes_no[person.is_admin])
        and field(form, "actief", 4) in ("", yes_no[person.active])
    )


@router.post("/mensen/{person_id}")
def update_person(
    request: Request, session: SessionDep, web: WebDep, form: FormDep, person: PageColleagueDep
) -> Response:
    _hold_rights(session, web, person)
    if PersonRole(person.role).rank > web.role.rank:
        raise PageForbidden("U beheert alleen mensen met hoogstens uw eigen rol.")
    if (stale := _stale(field(form, "versie", 12), person)) is not None:
        if stale[1] == 412 and _asks_what_is_stored(form, person):
            return redirect("/mensen", "persoon_bijgewerkt")  # sent twice: the first stored it
        return _people_page(request, session, web, error=stale[0], status=stale[1])
    changes: dict[str, object] = {}
    if (role := field(form, "rol", 16)) and role != person.role:
        if person.id == web.person.id:
            raise PageForbidden("U kunt uw eigen rol niet wijzigen.")
        _check_grant(web, role)
        changes["role"] = role
    if (admin := field(form, "beheerder", 4)) in ("ja", "nee"):
        changes["is_admin"] = admin == "ja"
    if (active := field(form, "actief", 4)) in ("ja", "nee"):
        changes["active"] = active == "ja"
    if person.id == web.person.id and (
        changes.get("is_admin") is False or changes.get("active") is False
    ):
        return _people_page(
            request,
            session,
            web,
            error="U kunt uzelf niet blokkeren of uw eigen beheerrecht intrekken.",
            status=409,
        )
    try:
        data = PersonUpdate.model_validate(changes)
    except ValidationError:
        return _people_page(request, session, web, error="Kies een geldige rol.", status=400)
    try:
        with session.begin_nested():
            people.update_person(session, person, data, by=ChangedBy.of(web.access()))
    except Unprocessable:
        return _people_page(request, session, web, error=VIEWER_ADMIN, status=400)
    return redirect("/mensen", "persoon_bijgewerkt")


SHOWN_CHANGES = 500
"""The most recent changes the page lists; the API pages through all of them."""


@router.get("/mensen/{person_id}/wijzigingen")
def person_changes_page(
    request: Request, session: SessionDep, person: PageColleagueDep
) -> HTMLResponse:
    """Who changed this colleague's account, what and when, newest first (admins only): the
    trail `GET /v1/organizations/{id}/people/{id}/changes` gives, with colleagues by name."""
    return _changes_page(request, session, person, own=False)


@router.get("/account/wijzigingen")
def own_changes_page(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    """Who changed one's own account (any role): a person whose password an admin set anew,
    and who found themselves signed out, reads here who did it."""
    return _changes_page(request, session, web.person, own=True)


def _changes_page(
    request: Request, session: SessionDep, person: Person, *, own: bool
) -> HTMLResponse:
    rows = changes.list_changes(
        session, person, after=None, limit=SHOWN_CHANGES + 1, newest_first=True
    )
    by = {row.by_person_id for row in rows if row.by_person_id is not None}
    title = (
        "Wijzigingen van uw account"
        if own
        else (f"Wijzigingen van het account van {person.display_name}")
    )
    return render(
        request,
        "person_changes.html",
        {
            "title": title,
            "person": person,
            "own": own,
            "changes": rows[:SHOWN_CHANGES],
            "more": len(rows) > SHOWN_CHANGES,
            "colleagues": people.display_names(session, person.organisation_id, by),
        },
    )
