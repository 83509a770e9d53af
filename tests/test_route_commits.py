"""A route commits the request's session at its end, in the worker thread it runs in
(`app.db.SessionEndingRoute`); `get_session` then only closes it. A route that raises is rolled
back as before."""

import inspect

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import db
from app.main import create_app
from app.organisations.models import Organisation
from tests.conftest import OPERATOR


def _api_routes(routes):  # type: ignore[no-untyped-def]
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included routers
            yield from _api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_plain_route_that_takes_the_session_commits_it_itself():
    app = create_app()
    taking = [
        route
        for route in _api_routes(app.routes)
        if not inspect.iscoroutinefunction(route.endpoint)
        and db._session_parameter(route.endpoint) is not None
    ]
    assert len(taking) > 50  # the API's and the pages' routes, found through the wrapper
    forgotten = [r.path for r in taking if not isinstance(r, db.SessionEndingRoute)]
    assert forgotten == []


def test_a_route_commits_in_its_own_thread_and_a_failing_one_is_rolled_back(
    databases, settings, monkeypatch
):
    ended: list[bool] = []
    hand_over = db._end

    async def recorded(session: Session, succeeded: bool) -> None:
        ended.append(succeeded)
        await hand_over(session, succeeded)

    monkeypatch.setattr(db, "_end", recorded)
    app = create_app(settings.model_copy(update={"database_url": databases.migrated_url()}))
    try:
        with TestClient(app) as client:
            created = client.post(
                "/v1/organizations",
                json={"name": "Zorg", "kind": "care_provider"},
                headers=OPERATOR,
            )
            assert created.status_code == 201
            assert ended == []  # committed by the route: no hand-over to end the session
            with Session(app.state.engine) as other:
                names = other.exec(select(Organisation.name)).all()
            assert names == ["Zorg"]

            refused = client.post(
                "/v1/organizations",
                json={"name": "Zorg", "kind": "care_provider"},
                headers=OPERATOR,
            )
            assert refused.status_code == 409, refused.text
            assert ended == [False]  # the route raised: rolled back by `get_session`
    finally:
        app.state.engine.dispose()
