"""The machinery of the pages: templates, the signed-in person as a request dependency, CSRF,
roles, and errors as Dutch HTML pages instead of problem+json."""

import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from app.access_log.service import AccessContext
from app.api_headers import routed_methods
from app.auth import SAFE_METHODS, Principal
from app.db import SessionDep, SessionEndingRoute, app_settings
from app.idempotency import IdempotencyKeyInProgress
from app.organisations.models import Organisation
from app.people import security
from app.people.models import Person, PersonRole
from app.people.service import SessionEnded, SignedIn, principal_for, resolve_session
from app.problems import Forbidden, ProblemError, TooManyRequests
from app.root_path import app_path, page_below, root_of
from app.settings import Settings
from app.transient import classify
from app.web import formatting, labels
from app.web.formatting import FILTERS, area_in_page, case_code, detail_value, dwelling_label
from app.web.messages import (
    ERROR_PAGES,
    FORM_EXPIRED,
    NOTICES,
    STILL_IN_PROGRESS,
    TOO_LARGE,
    UNREADABLE,
    over_budget,
)
from app.web.query_values import WrongQueryValue, WrongQueryValues, given_twice, wrong_fields

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

# No script may run (there is none), styles come from our own file, forms post only to us, and
# no other site may frame a page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _secure(request: Request) -> bool:
    return app_settings(request).session_cookie_secure


def session_cookie_name(request: Request) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, for this host
    # only and for every path: no subdomain can plant or read it.
    return "__Host-uitstroom_sessie" if _secure(request) else "uitstroom_sessie"


def signin_cookie_name(request: Request) -> str:
    """The double-submit cookie that protects the sign-in form itself (before any session)."""
    return "__Host-uitstroom_aanmelden" if _secure(request) else "uitstroom_aanmelden"


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=_secure(request), httponly=True, samesite="lax")


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    label=labels.label,
    labels=labels,
    case_code=case_code,
    proposal_code=formatting.proposal_code,
    detail_value=detail_value,
    gebied=area_in_page,
    woning=dwelling_label,
    # A fresh token per form shown, so a form sent twice (a double click, a reload after
    # sending) is one write: the route takes it as the write's Idempotency-Key.
    form_token=lambda: uuid.uuid4().hex,
)
templates.env.filters.update(FILTERS)


# --- the signed-in person ------------------------------------------------------------------


class SignInRequired(SessionEnded):
    """No valid session: the person is sent to the sign-in page (as for `SessionEnded`)."""


class CsrfFailed(ProblemError):
    status, code, title = 403, "csrf_failed", "Formulier verlopen"


class PageForbidden(Forbidden):
    """A refusal by the pages themselves (role on top of the organisation), in Dutch."""


@dataclass
class Web:
    """The signed-in person on this request, acting as their organisation."""

    request: Request
    signed_in: SignedIn
    token: str

    @property
    def person(self) -> Person:
        return self.signed_in.person

    @property
    def organisation(self) -> Organisation:
        return self.signed_in.organisation

    @property
    def role(self) -> PersonRole:
        return self.signed_in.role

    @property
    def settings(self) -> Settings:
        """The settings the application was created with."""
        return app_settings(self.request)

    @property
    def principal(self) -> Principal:
        return principal_for(self.signed_in.organisation)

    @property
    def csrf_token(self) -> str:
        return security.csrf_token_for(self.token)

    def access(self) -> AccessContext:
        """The access-log context: the organisation, the person, and the page's route template
        (never the URL with its ids); one per page, whose entries carry one moment."""
        state = self.request.state
        if getattr(state, "access", None) is None:
            template = getattr(self.request.scope.get("route"), "path", self.request.url.path)
            endpoint = f"{self.request.method} {template}"[:200]
            state.access = AccessContext(self.principal, endpoint, self.person.id)
        context: AccessContext = state.access
        return context

    @property
    def writes(self) -> bool:
        """Whether this person records anything (every role but viewer)."""
        return self.role != PersonRole.viewer

    def edits(self, owner_id: uuid.UUID, kind: str) -> bool:
        """Whether the pages offer this person the edit pages of an object owned by
        `owner_id`: a writer of that organisation, itself of `kind` (`care_provider` for case
        files, `housing_corporation` for dwellings), as the edit pages themselves demand."""
        return self.writes and self.organisation.id == owner_id and self.organisation.kind == kind

    def require_writer(self) -> None:
        if not self.writes:
            raise PageForbidden("Als meelezer kunt u bekijken, maar niets vastleggen.")

    def require_chair(self, chair_organisation_id: uuid.UUID) -> None:
        """The chair's own work (schedule, publish, hand out actions, decide as the chair) needs
        a person with the chair role in the chair organisation."""
        if self.organisation.id != chair_organisation_id:
            raise PageForbidden("Dit doet de voorzitter van de tafel.")
        if self.role != PersonRole.chair:
            raise PageForbidden("Dit doet iemand met de rol voorzitter.")

    def is_chair_of(self, chair_organisation_id: uuid.UUID) -> bool:
        return self.organisation.id == chair_organisation_id and self.role == PersonRole.chair


def current_web(request: Request, session: SessionDep) -> Web:
    token = request.cookies.get(session_cookie_name(request), "")
    settings, writes = app_settings(request), request.method not in SAFE_METHODS
    signed_in = resolve_session(session, token, settings=settings, writes=writes) if token else None
    if signed_in is None:
        raise SignInRequired()
    web = Web(request=request, signed_in=signed_in, token=token)
    request.state.web = web
    request.state.session = session  # for `woning(id)`: a dwelling's label in a template
    # Named once the person is known, so the error page is theirs (menu, Afmelden) as for a
    # value wrong once; raised before, it was a stranger's page.
    if twice := getattr(request.state, "given_twice", None):  # set by `WebRoute`
        raise WrongQueryValues(twice)
    return web


WebDep = Annotated[Web, Depends(current_web)]


async def checked_form(request: Request, web: WebDep) -> FormData:
    """The posted form, after its CSRF token matched the session's."""
    form = await request.form()
    # A body the request read as none (a content coding or charset it does not read, kept by
    # `JsonBodyRequest.body` since the body is read before the slot): its refusal, not "expired".
    if (refusal := getattr(request, "refusal", None)) is not None:
        raise refusal
    given = form.get("csrf_token")
    if not security.tokens_match(given if isinstance(given, str) else None, web.csrf_token):
        raise CsrfFailed("Het formulier is verlopen of komt niet van deze site.")
    request.state.sent = form  # a refused form's page shows what was typed (`sent`)
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def field(form: FormData, name: str, max_length: int = 200) -> str:
    """The value, stripped; one over `max_length` is cut one past it so the form's check refuses
    it (cut to it, `2026-11-169` planned a meeting on 2026-11-16: breaker)."""
    value = form.get(name)
    return value.strip()[: max_length + 1] if isinstance(value, str) else ""


def safe_next(target: str | None, default: str = "/overzicht") -> str:
    """Only a path on this site (no `//host` or `/\\host`), against open redirects."""
    return target if target and re.fullmatch(r"/(?!/)[^\r\n\\]*", target) else default


def redirect(url: str, notice: str | None = None) -> RedirectResponse:
    """A 303 to `url`, with the notice's code in the query (before any `#fragment`, or the
    browser never sends it)."""
    if notice:
        path, hash_sign, fragment = url.partition("#")
        url = path + ("&" if "?" in path else "?") + f"melding={notice}" + hash_sign + fragment
    return RedirectResponse(url, status_code=303)


# --- rendering -----------------------------------------------------------------------------


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    web = getattr(request.state, "web", None)
    notice = NOTICES.get(request.query_params.get("melding", ""))
    response = templates.TemplateResponse(
        request,
        template,
        {"web": web, "notice": notice, "csrf_token": web.csrf_token if web else "", **context}
        # `root` before every link, form and asset: the app's root path (app.root_path).
        | {"sent": getattr(request.state, "sent", None), "root": root_of(request.scope)}
        # A refused form's fields in error, said beside each (`forms.mark_fields`).
        | {"field_errors": getattr(request.state, "field_errors", {})},
        status_code=status,
    )
    return response


# The starts of Starlette's messages for a form over its limits (`starlette.formparsers`); its
# other 400s (no multipart boundary, a part without a name) are a form it cannot read.
OVER_LIMITS = ("Field exceeded", "Part exceeded", "Too many")


def error_page(
    request: Request,
    status: int,
    detail: str | list[str] | None = None,
    title: str | None = None,
) -> HTMLResponse:
    """The Dutch error page of `status`, with `detail` below its text (a list, such as the
    wrong values of an address, one item per field); with `title`, `detail` is the text (a
    refusal of its own, whose status's text would mislead)."""
    if title:
        text, detail = detail, None
    else:
        title, text = ERROR_PAGES.get(status, ERROR_PAGES[400])
    items = [detail] if isinstance(detail, str) else detail or []
    return render(request, "error.html", {"title": title, "text": text, "details": items}, status)


def _dutch_page(exc: ProblemError) -> tuple[str | None, str | list[str] | None]:
    """(title, detail) of a refusal's page: our own refusals are worded in Dutch; the services'
    English details give way to the page's Dutch text. An expired form and one still being
    carried out get a title of their own: 'Geen toegang' and 'De toestand is intussen
    veranderd' said what had not happened."""
    if isinstance(exc, IdempotencyKeyInProgress):  # the first click goes on
        return "Nog bezig", STILL_IN_PROGRESS
    if isinstance(exc, CsrfFailed):
        return exc.title, f"{exc.detail} {FORM_EXPIRED}"
    if isinstance(exc, TooManyRequests):
        return over_budget(exc)
    if isinstance(exc, WrongQueryValue):
        return None, exc.sentences
    return None, exc.detail if isinstance(exc, PageForbidden) else None


def _to_sign_in(request: Request) -> RedirectResponse:
    """To the sign-in page, which says why: a form sent was not saved (the session idled out
    while it was typed, or ended in another tab), or the browser's session expired; then back
    to the page asked for, or to the page the form was on."""
    held = bool(request.cookies.get(session_cookie_name(request)))
    if request.method == "GET":
        page = page_below(urlsplit(str(request.url)), request.scope)
        target, notice = page or "/overzicht", "sessie_verlopen" if held else None
    elif app_path(request.scope) == "/afmelden":  # signing out of a session that had ended
        target, notice = "/overzicht", "afgemeld"
    else:
        target, notice = _form_page(request), "niet_opgeslagen"
    response = redirect(f"/aanmelden?volgende={quote(safe_next(target), safe='/')}", notice)
    if held:
        clear_cookie(request, response, session_cookie_name(request))
    return response


def _form_page(request: Request) -> str:
    """The page a form came from (its `Referer` on this site, if a page to open) or the overview."""
    try:
        referer = urlsplit(request.headers.get("referer", ""))
    except ValueError:  # no URL (`http://[::1`): no page to return to
        return "/overzicht"
    own = (referer.scheme, referer.netloc) == (request.url.scheme, request.url.netloc)
    page = page_below(referer, request.scope)
    path = unquote(referer.path)  # as a request's path has it (a root path with accents)
    methods = routed_methods(request.app.router.routes, {**request.scope, "path": path})
    return page if own and page and "GET" in (methods or ()) else "/overzicht"


def with_security_headers(response: Response) -> Response:
    media = response.headers.get("content-type", "")
    headers = SECURITY_HEADERS if media.startswith("text/html") else DOWNLOAD_HEADERS
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


class WebRoute(SessionEndingRoute):
    """A page route: errors become Dutch pages with the same status as the API's; a missing
    session becomes a redirect to the sign-in page. Commits like an API route
    (`SessionEndingRoute`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                # FastAPI would take the last value; the API refuses such a key too. Named once
                # the person is signed in (`current_web`): a stranger goes to sign in first.
                request.state.given_twice = given_twice(request.query_params, self.dependant)
                response = await handler(request)
            except SessionEnded:
                response = _to_sign_in(request)
            except ProblemError as exc:
                title, detail = _dutch_page(exc)
                response = error_page(request, exc.status, detail, title)
                if exc.status == 429 and "Retry-After" in exc.headers:
                    response.headers["Retry-After"] = exc.headers["Retry-After"]
            except RequestValidationError as exc:
                in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
                wrong = wrong_fields(exc, self.dependant, request.query_params)
                response = error_page(request, 404 if in_path else 400, wrong)
            except StarletteHTTPException as exc:
                # Starlette's own refusals, such as a form field over 1 MB or more than 1000
                # fields (`request.form()`: 400): a Dutch page with their status, not a 500.
                detail = None
                if exc.status_code == 400:
                    over = str(exc.detail).startswith(OVER_LIMITS)
                    detail = TOO_LARGE if over else UNREADABLE
                response = error_page(request, exc.status_code, detail)
                # What the refusal says the client should do (a 415's `Accept-Encoding`).
                response.headers.update(exc.headers or {})
            except ClientDisconnect:
                raise  # the client went away: app.transient ends the request quietly
            except Exception as exc:
                if classify(exc) is not None:
                    raise  # a lost race or no database: app.transient reruns or answers it
                log.exception("unhandled error on page %s %s", request.method, request.url.path)
                response = error_page(request, 500)
            return with_security_headers(response)

        return page_handler
