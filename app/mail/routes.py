"""HTTP routes for a person's e-mail notice preferences.

The API is called with an organisation's key, not as a person, so the preferences are a
sub-resource of the person, read and replaced by their organisation (or the operator), as the
person is; a signed-in person sets their own on the page `/account/meldingen`."""

from fastapi import APIRouter, Response

from app.db import SessionDep, SessionEndingRoute, SettingsDep
from app.if_match import IfMatch, IfNoneMatch
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
    person: ManagedPersonDep, session: SessionDep, settings: SettingsDep, response: Response
) -> NoticePreferencesPublic:
    """Which e-mail notices the person gets (all of them until chosen otherwise), and whether
    the service sends e-mail at all (`mail_enabled`), with the ETag for the PUT's `If-Match`:
    the version (0 while the defaults stand) and a digest of what this read shows (`"0-…"`),
    so a copy read before mail was configured is not current after."""
    choices = service.preferences(session, person, mail_enabled=settings.mail_enabled)
    response.headers["ETag"] = service.preferences_etag(choices)
    return choices


@router.put(
    PATH,
    response_model=NoticePreferencesPublic,
    responses=problem_responses(400, 401, 403, 404, 412),
)
def put_notice_preferences(
    person: ManagedPersonDep,
    payload: NoticePreferencesUpdate,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> NoticePreferencesPublic:
    """Replace the person's choice of e-mail notices (all four fields). Mails of a kind turned
    off that wait in the outbox are not sent. Idempotent: the same body gives the same choices
    (and the same ETag). `If-Match` with the ETag of the GET (or the bare version, `"0"` for
    the defaults) makes it fail (412) instead of undoing a choice made meanwhile (the person on
    their page, another admin) or putting choices over a read that no longer reads so; the
    defaults exist as choices, so `If-None-Match: *` is always a 412."""
    choices = service.set_preferences(
        session, person, payload, if_match, if_none_match, mail_enabled=settings.mail_enabled
    )
    response.headers["ETag"] = service.preferences_etag(choices)
    return choices
