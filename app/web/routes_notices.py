"""The signed-in person's choice of e-mail notices (`/account/meldingen`).

The form carries the version it showed (`versie`, `0` for the defaults) as `If-Match`: a form
from a tab opened before a change made elsewhere (another tab, an admin's PUT) stores nothing
(412, the page shows the choices as they are now) instead of undoing that change unseen."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.db import SessionDep
from app.mail import service as mail
from app.mail.models import NoticePreferencesUpdate
from app.web.core import FormDep, Web, WebDep, WebRoute, field, redirect, render
from app.web.forms import NO_VERSION, Refusal, _if_match, attempt

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The choices in the order and words the page shows them (form field = the API's field).
CHOICES = (
    ("agenda_published", "De agenda is gepubliceerd", "met de link naar de agenda"),
    (
        "actions",
        "Acties voor mijn organisatie",
        "een actie is aan mijn organisatie uitgezet, of staat over de termijn open",
    ),
    (
        "proposals",
        "Voorstellen van mijn organisatie",
        "over een voorstel is besloten, of het staat stil",
    ),
    ("digest", "Overzicht voor de vergadering", "de dag voor elke vergadering van mijn tafels"),
)


STALE = (
    "Uw keuze is intussen elders gewijzigd (in een ander venster of door een beheerder), dus er "
    "is niets opgeslagen. Hieronder staat de keuze zoals die nu is."
)


def _page(
    request: Request, session: SessionDep, web: Web, error: str | None = None, status: int = 200
) -> HTMLResponse:
    enabled = web.settings.mail_enabled
    return render(
        request,
        "notices.html",
        {
            "title": "Mijn e-mailmeldingen",
            "choices": CHOICES,
            "preferences": mail.preferences(session, web.person, mail_enabled=enabled),
            "error": error,
        },
        status,
    )


@router.get("/account/meldingen")
def notices_page(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    return _page(request, session, web)


@router.post("/account/meldingen")
def save_notices(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    # A checkbox that is not ticked is not sent: absent means off.
    data = NoticePreferencesUpdate.model_validate(
        {name: form.get(name) == "aan" for name, _, _ in CHOICES}
    )
    if_match = _if_match(field(form, "versie", 12))
    if if_match is None:
        return _page(request, session, web, NO_VERSION, 400)
    enabled = web.settings.mail_enabled
    done = attempt(
        session,
        lambda: mail.set_preferences(session, web.person, data, if_match, mail_enabled=enabled),
    )
    if isinstance(done, Refusal):
        session.expire_all()
        now = mail.preferences(session, web.person, mail_enabled=enabled)
        if done.status == 412 and all(getattr(now, n) == getattr(data, n) for n, _, _ in CHOICES):
            # The form sent twice (a double click): the first sending stored what it asks.
            return redirect("/account/meldingen", "meldingen_opgeslagen")
        message = STALE if done.status == 412 else done.message
        return _page(request, session, web, message, done.status)
    return redirect("/account/meldingen", "meldingen_opgeslagen")
