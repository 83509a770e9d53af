"""Signing in and out, and changing one's own password."""

import logging
import math
import re
import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from app.db import SessionDep, SettingsDep, app_settings
from app.organisations.models import Organisation
from app.people import security
from app.people import service as people
from app.people.changes import ChangedBy
from app.people.models import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, Password
from app.rate_limits.deps import limit_person
from app.rate_limits.service import EndpointClass
from app.settings import plain_http_elsewhere
from app.web.core import (
    FormDep,
    WebDep,
    WebRoute,
    clear_cookie,
    field,
    redirect,
    render,
    safe_next,
    session_cookie_name,
    set_cookie,
    signin_cookie_name,
)
from app.web.query_values import PAGE_ID

log = logging.getLogger(__name__)
router = APIRouter(route_class=WebRoute, include_in_schema=False)
REFUSED = "Het e-mailadres of het wachtwoord klopt niet."
CHOOSE = (
    "Dit e-mailadres heeft met dit wachtwoord een account bij meer dan één organisatie. "
    "Kies de organisatie en vul het wachtwoord opnieuw in."
)


def _locked_message(seconds: int) -> str:
    """The refusal of a locked email, saying how long the lock still lasts (whole minutes,
    rounded up)."""
    minutes = math.ceil(seconds / 60)
    unit = "minuut" if minutes == 1 else "minuten"
    return f"Te veel mislukte pogingen. Probeer het over {minutes} {unit} opnieuw."


PLAIN_HTTP = (
    "Aanmelden lukt niet via een onbeveiligde verbinding (een adres dat met http:// begint): "
    "uw browser bewaart de aanmeldgegevens alleen bij een beveiligde verbinding (https://). "
    "Open de Uitstroomtafel via het https://-adres, of meld dit aan de beheerder."
)


def _browser_on_plain_http(request: Request) -> bool:
    """The browser sent the sign-in form from a plain-http page of another host than loopback
    (its `Origin`, or `Referer` where it sends none), where it drops the `Secure` cookies: the
    form's token cookie is missing for that reason, not because the form expired. The
    browser's own address, not the request's: behind a proxy that ends TLS the app is asked over
    http while the browser is on https."""
    seen_from = request.headers.get("origin") or request.headers.get("referer") or ""
    return plain_http_elsewhere(seen_from)


def _page_on_plain_http(request: Request) -> bool:
    """The sign-in page is asked for from a plain-http address of another host than loopback,
    where the browser will drop the form's `Secure` cookie, so it says at once that signing in
    needs https (a995e80 said it only when the form came back without it). The browser's
    address is its `Referer` where it sends one; else the page's own address, unless the
    browser sent Fetch Metadata (`Sec-Fetch-*`, which browsers send only to https and loopback
    addresses: Chromium 150 sends none to http://192.0.2.2) or a proxy says it is on https."""
    seen_from = request.headers.get("origin") or request.headers.get("referer")
    if seen_from:
        return plain_http_elsewhere(seen_from)
    proxied = request.headers.get("x-forwarded-proto", "").strip().lower() == "https"
    if proxied or "sec-fetch-site" in request.headers:
        return False
    return plain_http_elsewhere(str(request.url))


SIGN_IN_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
"""The form of a sign-in token (`secrets.token_urlsafe(32)`)."""


def _sign_in_page(
    request: Request,
    next_url: str,
    *,
    error: str | None = None,
    email: str = "",
    status: int = 200,
    choices: tuple[Organisation, ...] = (),
    plain_http: bool = False,
) -> HTMLResponse:
    # The browser's token while it holds one: a new one per form shown refused the form of
    # every other tab as expired. (It is the browser's, as the cookie is; another site can
    # neither read it nor, with the __Host- prefix, set it.)
    held = request.cookies.get(signin_cookie_name(request), "")
    token = held if SIGN_IN_TOKEN.fullmatch(held) else secrets.token_urlsafe(32)
    settings = app_settings(request)  # the hint states the lock-out this service applies
    response = render(
        request,
        "sign_in.html",
        {
            "title": "Aanmelden",
            "next_url": next_url,
            "signin_token": token,
            "error": error,
            "email": email,
            "choices": choices,
            "max_failures": settings.signin_max_failures,
            "lockout_minutes": settings.signin_lockout_minutes,
            "plain_http": PLAIN_HTTP if plain_http else None,
        },
        status,
    )
    set_cookie(request, response, signin_cookie_name(request), token, max_age=3600)
    return response


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/overzicht", status_code=303)


@router.get("/aanmelden")
def sign_in_form(
    request: Request, session: SessionDep, settings: SettingsDep, volgende: str = ""
) -> Response:
    token = request.cookies.get(session_cookie_name(request))
    if token and people.resolve_session(session, token, settings=settings) is not None:
        return redirect(safe_next(volgende))
    plain_http = settings.session_cookie_secure and _page_on_plain_http(request)
    return _sign_in_page(request, safe_next(volgende), plain_http=plain_http)


async def posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


@router.post("/aanmelden")
def sign_in(
    request: Request, session: SessionDep, settings: SettingsDep, form: PostedForm
) -> Response:
    next_url = safe_next(field(form, "volgende", 500))
    email = field(form, "email", 254)
    password = _password(form, "wachtwoord")
    given = form.get("signin_token")
    expected = request.cookies.get(signin_cookie_name(request), "")
    if not expected and settings.session_cookie_secure and _browser_on_plain_http(request):
        # Trying again would fail the same way: say why (the log tells the operator too).
        log.warning(
            "a sign-in came from a plain-http page of another host than localhost, where "
            "browsers drop the Secure session cookie, and was refused saying so: serve the pages "
            "over https (UITSTROOM_PUBLIC_URL https://...)"
        )
        return _sign_in_page(request, next_url, error=PLAIN_HTTP, email=email, status=403)
    if not expected or not security.tokens_match(
        given if isinstance(given, str) else None, expected
    ):
        return _sign_in_page(
            request,
            next_url,
            error="Het formulier was verlopen. Probeer het opnieuw.",
            email=email,
            status=403,
        )
    outcome = people.sign_in(
        session,
        email,
        password,
        _client_address(request),
        settings=settings,
        organisation_id=_chosen_organisation(form),
    )
    if outcome.result == people.SignInResult.locked:
        seconds = outcome.seconds_locked(settings)
        refusal = _sign_in_page(
            request, next_url, error=_locked_message(seconds), email=email, status=429
        )
        refusal.headers["Retry-After"] = str(seconds)
        return refusal
    if outcome.result == people.SignInResult.choose_organisation:
        return _sign_in_page(
            request, next_url, error=CHOOSE, email=email, status=200, choices=outcome.choices
        )
    if outcome.result == people.SignInResult.refused or outcome.person is None:
        return _sign_in_page(request, next_url, error=REFUSED, email=email, status=400)
    if held := request.cookies.get(session_cookie_name(request)):
        people.end_session(session, held)  # the browser's previous session ends with it
    token = people.start_session(session, outcome.person, settings=settings)
    response = redirect(next_url)
    set_cookie(request, response, session_cookie_name(request), token)
    clear_cookie(request, response, signin_cookie_name(request))
    return response


NO_ORGANISATION = uuid.UUID(int=0)
"""The nil UUID (RFC 9562 section 5.9): no organisation's id, so no account is at it."""


def _chosen_organisation(form: FormData) -> uuid.UUID | None:
    """The organisation picked on the sign-in page when one password opens several accounts,
    read as the API writes an id (`PAGE_ID`). A value it refuses chooses no organisation the
    person has an account at (`NO_ORGANISATION`): refused as another organisation's id is,
    with the same check and count, so neither says which exists. It was read leniently: 32
    digits signed in to that organisation, `{id}` or `urn:uuid:<id>` counted as no choice."""
    value = form.get("organisatie")
    if not isinstance(value, str) or not value:
        return None
    try:
        return PAGE_ID.validate_python(value)
    except ValidationError:
        return NO_ORGANISATION


def _password(form: FormData, name: str) -> str:
    """Not stripped: spaces are part of a password. Longer than any stored one cannot match."""
    value = form.get(name)
    return value[: PASSWORD_MAX_LENGTH + 1] if isinstance(value, str) else ""


def _valid_password(password: str) -> bool:
    try:
        TypeAdapter(Password).validate_python(password)
    except ValidationError:
        return False
    return True


def _client_address(request: Request) -> str:
    """The peer address; behind a reverse proxy that is the proxy (run uvicorn with
    --proxy-headers and --forwarded-allow-ips so it becomes the client's)."""
    return request.client.host if request.client else "unknown"


@router.post("/afmelden")
def sign_out(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    people.end_session(session, web.token)
    response = redirect("/aanmelden", "afgemeld")
    clear_cookie(request, response, session_cookie_name(request))
    return response


@router.get("/account")
def account(request: Request, web: WebDep) -> HTMLResponse:
    return render(request, "account.html", _account_context())


def _account_context(**extra: object) -> dict[str, object]:
    return {
        "title": "Mijn account",
        "min_length": PASSWORD_MIN_LENGTH,
        "max_length": PASSWORD_MAX_LENGTH,
        **extra,
    }


@router.post("/account/wachtwoord")
def change_password(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    limit_person(session, web.settings, web.person, EndpointClass.password)
    current = _password(form, "huidig_wachtwoord")
    new = _password(form, "nieuw_wachtwoord")
    repeated = _password(form, "herhaal_wachtwoord")
    error, wrong = None, None  # the message, and the field it is about (id on the page)
    if not _valid_password(new):
        error = (
            f"Het nieuwe wachtwoord moet {PASSWORD_MIN_LENGTH} tot {PASSWORD_MAX_LENGTH} "
            "tekens lang zijn, zonder stuurtekens."
        )
        wrong = "nieuw"
    elif new != repeated:
        error, wrong = "De twee nieuwe wachtwoorden zijn niet gelijk.", "herhaal"
    else:
        address = _client_address(request)
        outcome = people.change_password(
            session,
            web.signed_in,
            current,
            new,
            address,
            settings=web.settings,
            by=ChangedBy.of(web.access()),
        )
        if outcome.result == people.SignInResult.locked:
            seconds = outcome.seconds_locked(web.settings)
            context = _account_context(error=_locked_message(seconds))
            refusal = render(request, "account.html", context, 429)
            refusal.headers["Retry-After"] = str(seconds)
            return refusal
        if outcome.result != people.SignInResult.signed_in:
            error, wrong = "Het huidige wachtwoord klopt niet.", "huidig"
    if error:
        context = _account_context(error=error, wrong=wrong)
        return render(request, "account.html", context, 400)
    return redirect("/account", "wachtwoord")
