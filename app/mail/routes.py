"""HTTP routes for a person's e-mail notice preferences.

The API is called with an organisation's key, not as a person, so the preferences are a
sub-resource of the person, read and replaced by their organisation (or the operator), as the
person is; a signed-in person sets their own on the page `/account/meldingen`."""

from fastapi import APIRouter

from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.mail import service
from app.mail.models import NoticePreferencesPublic, NoticePreferencesUpdate
from app.people.deps import ManagedPersonDep
from app.problems import problem_responses

router = APIRouter(route_class=SessionEndingRoute, prefix="/v1/organizations", tags=["people"])

PATH = "/{organisation_id}/people/{person_id}/notice-preferences"


@router.get(
    PATH, response_model=NoticePreferencesPublic, responses=problem_responses(401, 403, 404)
)
def get_notice_preferences(
    person: ManagedPersonDep, session: SessionDep, settings: SettingsDep
) -> NoticePreferencesPublic:
    """Which e-mail notices the person gets (all of them until chosen otherwise), and whether
    the service sends e-mail at all (`mail_enabled`)."""
    return service.preferences(session, person, mail_enabled=settings.mail_enabled)


@router.put(
    PATH, response_model=NoticePreferencesPublic, responses=problem_responses(400, 401, 403, 404)
)
def put_notice_preferences(
    person: ManagedPersonDep,
    payload: NoticePreferencesUpdate,
    session: SessionDep,
    settings: SettingsDep,
) -> NoticePreferencesPublic:
    """Replace the person's choice of e-mail notices (all four fields). Mails of a kind turned
    off that wait in the outbox are not sent. Idempotent: the same body gives the same choices."""
    return service.set_preferences(session, person, payload, mail_enabled=settings.mail_enabled)
