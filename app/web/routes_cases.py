"""The page of a case's timeline."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.cases.models import case_public_dict
from app.db import SessionDep
from app.timeline.service import case_timeline
from app.web.core import WebDep, WebRoute, case_code, render
from app.web.deps import PageCaseTimelineDep
from app.web.forms import organisation_names

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/dossiers/{case_id}")
def case_page(
    request: Request, session: SessionDep, web: WebDep, case: PageCaseTimelineDep
) -> HTMLResponse:
    public = case_public_dict(case)
    return render(
        request,
        "case.html",
        {
            "title": f"Tijdlijn dossier {case_code(case.id)}",
            "case": case,
            "public": public,
            "entries": case_timeline(session, case.id),
            "names": organisation_names(session, web),
            "own_case": case.care_provider_id == web.organisation.id,
        },
    )
