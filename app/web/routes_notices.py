"""The signed-in person's choice of e-mail notices (`/account/meldingen`)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.db import SessionDep
from app.mail import service as mail
from app.mail.models import NoticePreferencesUpdate
from app.web.core import FormDep, WebDep, WebRoute, redirect, render

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


@router.get("/account/meldingen")
def notices_page(request: Request, session: SessionDep, web: WebDep) -> HTMLResponse:
    enabled = web.settings.mail_enabled
    return render(
        request,
        "notices.html",
        {
            "title": "Mijn e-mailmeldingen",
            "choices": CHOICES,
            "preferences": mail.preferences(session, web.person, mail_enabled=enabled),
        },
    )


@router.post("/account/meldingen")
def save_notices(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    # A checkbox that is not ticked is not sent: absent means off.
    data = NoticePreferencesUpdate.model_validate(
        {name: form.get(name) == "aan" for name, _, _ in CHOICES}
    )
    mail.set_preferences(session, web.person, data, mail_enabled=web.settings.mail_enabled)
    return redirect("/account/meldingen", "meldingen_opgeslagen")
