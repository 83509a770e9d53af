"""The page of a case's timeline."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.access_log.models import AccessAction
from app.cases import service as cases_service
from app.cases.models import case_public_dict
from app.db import SessionDep
from app.timeline.service import case_timeline
from app.web.core import WebDep, WebRoute, case_code, render
from app.web.forms import organisation_names

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/dossiers/{case_id}")
def case_page(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    case = cases_service.get_case(session, web.access(), case_id, AccessAction.timeline)
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
