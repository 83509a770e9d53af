"""Who saw a case file, for its care provider: the access log of that case on a page, so a care
worker can answer the client who asks it (AVG art. 15; the log is kept for NEN 7513). The API
gives the same entries at `GET /v1/cases/{id}/access-log`."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.access_log import service as access_log
from app.db import SessionDep
from app.people import service as people
from app.web.core import WebDep, WebRoute, render
from app.web.deps import PageOwnCaseDep
from app.web.formatting import case_code
from app.web.forms import organisation_names

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SHOWN = 1000
"""The most recent entries the page lists; the API pages through all of them."""


@router.get("/dossiers/{case_id}/inzage")
def case_access_page(
    request: Request, case: PageOwnCaseDep, session: SessionDep, web: WebDep
) -> HTMLResponse:
    """The case's access log, newest first: when, which organisation (and which of one's own
    colleagues; other organisations' people are theirs to name), what and through what. 404
    for a case the person may not see, 403 for one of another care provider. Not itself
    logged, as the API's is not."""
    entries = access_log.list_entries(
        session, table_id=None, case_id=case.id, after=None, limit=SHOWN + 1, newest_first=True
    )
    mine = {
        e.person_id for e in entries if e.person_id and e.organisation_id == case.care_provider_id
    }
    colleagues = people.display_names(session, case.care_provider_id, mine)
    return render(
        request,
        "case_access.html",
        {
            "title": f"Inzage in dossier {case_code(case.id)}",
            "case_id": case.id,
            "entries": entries[:SHOWN],
            "more": len(entries) > SHOWN,
            "names": organisation_names(session, web, (e.organisation_id for e in entries)),
            "colleagues": colleagues,
        },
    )
