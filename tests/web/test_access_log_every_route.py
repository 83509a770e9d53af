"""Every GET route of the app, the API's and the pages', read by each organisation of the table
(the chair, the other municipality, two care providers, two corporations; on the pages a person
of each): every case an answer names, by its id or its reference, is in the access log for that
answer, on behalf of that organisation. The routes are read from the app itself, so a GET added
later that shows cases without logging them fails here (the README's table of logged answers and
tests/api/test_access_log_walk.py list them by hand). An API GET answered 304 for its ETag
(`If-None-Match`) logs what its 200 logged."""

import itertools
import re
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute
from sqlmodel import col, select

from app.access_log.models import AccessLogEntry
from tests.aftercare.housing import record_signals
from tests.api.helpers import assign_action
from tests.api.test_visibility import INSIDERS as ACTORS
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import DATE, make_person, signed_in

# The access logs themselves name cases but are not logged (README "Who sees what").
UNLOGGED = {
    "/v1/tables/{table_id}/access-log",
    "/v1/cases/{case_id}/access-log",
    "/dossiers/{case_id}/inzage",
}
# No case in them: the contract and its documentation, and the health checks (the readiness
# check waits for its own database, which a test's app does not have).
NO_CASES = {"/openapi.json", "/v1/openapi.json", "/docs", "/redoc", "/health/live", "/health/ready"}


def get_routes(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
    """Each GET route's path and the query parameters it takes (the API refuses others)."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included routers
            yield from get_routes(route.original_router.routes)
        elif isinstance(route, APIRoute) and "GET" in route.methods:
            taken = {p.alias for p in route.dependant.query_params}
            for dependency in route.dependant.dependencies:
                taken |= {p.alias for p in dependency.query_params}
            yield route.path, taken


def test_every_get_route_logs_each_case_it_names_for_each_organisation(
    app, client, session, region, housed
):
    """`housed`: a tenancy of each care provider with each corporation (tests/web/conftest)."""
    record_signals(client, region, housed[0])
    waiting = create_case(client, region.care_provider, region.table_id)
    other_waiting = create_case(client, region.other_care_provider, region.table_id)
    dwellings = [
        create_vacancy(client, region.corporation, available_from=DATE, complex_ref="A"),
        create_vacancy(client, region.other_corporation, available_from=DATE, complex_ref="B"),
    ]
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": DATE}, headers=region.chair.headers
    ).json()["id"]
    published = client.post(f"/v1/meetings/{meeting}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    proposals = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"limit": 100},
        headers=region.chair.headers,
    ).json()["items"]
    actions = [
        assign_action(client, region, region.care_provider, waiting["id"]).json()["id"],
        assign_action(client, region, region.corporation, other_waiting["id"]).json()["id"],
    ]
    read = [client.get(f"/v1/cases/{c}", headers=region.chair.headers).json() for c in housed]
    cases = {c["id"]: c["external_ref"] for c in (*read, waiting, other_waiting)}
    values = {
        "table_id": [region.table_id],
        "meeting_id": [meeting],
        "case_id": list(cases),
        "vacancy_id": [v["id"] for v in dwellings],
        "proposal_id": [p["id"] for p in proposals],
        "action_id": actions,
        "year": [DATE[:4]],
    }
    query = {"date": DATE, "limit": 100, "caseId": waiting["id"], "vacancyId": dwellings[0]["id"]}
    # The pages' own names for them: the why-not page answers 400 without its pair, and the
    # new-case form names the closed case a returning client's form follows (`vorig`).
    query |= {"dossier": waiting["id"], "woning": dwellings[0]["id"], "vorig": housed[0]}
    orgs = {name: getattr(region, name) for name in ACTORS}
    browsers = {
        name: signed_in(app, make_person(client, org, "chair" if name == "chair" else "member"))
        for name, org in orgs.items()
    }

    def logged_since(seen: set[uuid.UUID]) -> list[AccessLogEntry]:
        # Ids are uuid7s, monotonic within this process (app/ids.py), and the app runs in it:
        # what was logged since is above the highest id seen, so only that is read (reading
        # the whole, growing log after each of the ~800 answers took half this test's time).
        session.expire_all()
        since = select(AccessLogEntry)
        if seen:
            since = since.where(col(AccessLogEntry.id) > max(seen))
        new = [e for e in session.exec(since).all() if e.id not in seen]
        seen.update(e.id for e in new)
        return new

    seen: set[uuid.UUID] = set()
    logged_since(seen)
    unlogged: list[tuple[str, str, list[str]]] = []
    showing: set[str] = set()
    conditional = 0
    routes = dict(get_routes(app.routes))
    for path in sorted(set(routes) - UNLOGGED - NO_CASES):
        names = re.findall(r"{(\w+)}", path)
        if any(n not in values for n in names):
            continue  # people, keys, webhooks, corporations' agreements: no case in them
        for combination, actor in itertools.product(
            itertools.product(*(values[n] for n in names)), ACTORS
        ):
            url = path.format(**dict(zip(names, combination, strict=True)))
            params = {k: v for k, v in query.items() if k in routes[path]}
            if path.startswith("/v1"):
                answer = client.get(url, params=params, headers=orgs[actor].headers)
            else:
                answer = browsers[actor].get(url, params=params)
            if answer.status_code >= 400:
                logged_since(seen)
                continue
            named = {c for c, ref in cases.items() if c in answer.text or ref in answer.text}
            entries = logged_since(seen)
            assert {e.organisation_id for e in entries} <= {uuid.UUID(orgs[actor].id)}, url
            got = {str(e.case_id) for e in entries}
            if named - got:
                unlogged.append((path, actor, sorted(named - got)))
            if named:
                showing.add(path)
            etag = answer.headers.get("ETag")
            if path.startswith("/v1") and etag and named:
                again = client.get(
                    url, params=params, headers={**orgs[actor].headers, "If-None-Match": etag}
                )
                assert again.status_code == 304, (url, again.status_code)
                assert {str(e.case_id) for e in logged_since(seen)} == got, url
                conditional += 1
    assert unlogged == []
    # The walk reached the answers that name cases (else it would prove nothing).
    assert len(showing) >= 25, sorted(showing)
    assert {"/vergaderingen/{meeting_id}/waarom-niet", "/dossiers/nieuw"} <= showing
    assert conditional > 0
