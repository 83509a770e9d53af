"""Every API route, asked by every kind of caller (the operator, the chair and a member
municipality, two care providers, two corporations, and the chair, a care provider and a
corporation of another table): where a clean request is refused (403, or
404 for what the caller may not see), the same request with an unknown query key or a query
value out of range (`limit=0`), and for a write with a body with an unknown field, is refused
alike (same status and problem but its `instance`). A
400 there would tell a caller without the right which input the operation takes, and that the
object exists.

Found on the demo: the operator's `GET /v1/cases?zzz=1` was 400 `unknown_parameter`, without the
query 403 (and so on ~20 GETs: the agenda, proposals, tenancies, monitor, templates, minutes); a
landlord's `GET /v1/cases/{id}/aftercare-agreement?zzz=1` 400, without 403; the chair's `PUT
.../contingent-agreements/{year}/{unknown corporation}` with `{}` 400, with a valid body 404.
The routes are read from the app, so a route added later is walked too (the hand-made cases are
tests/api/test_kind_before_body.py and tests/api/test_rights_before_body.py)."""

import itertools
import re
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from tests.aftercare.housing import house, housed_proposal, record_signals
from tests.api.helpers import assign_action, plan_meeting
from tests.api.test_visibility import INSIDERS
from tests.clock import iso
from tests.conftest import OPERATOR, case_body, create_case, create_vacancy, vacancy_body
from tests.web.conftest import make_person

WRITES = ("POST", "PUT", "PATCH", "DELETE")
OUTSIDERS = ("chair", "care_provider", "corporation")


def api_routes(routes: list[Any]) -> Iterator[tuple[str, str, bool]]:
    """Each API route's method, path and whether it takes a body."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included routers
            yield from api_routes(route.original_router.routes)
        elif isinstance(route, APIRoute) and route.path.startswith("/v1/"):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path, route.body_field is not None


def example_body(contract: dict[str, Any], method: str, path: str) -> Any:
    """The contract's example of the operation's JSON body, or None."""
    operation = contract["paths"].get(path.removeprefix("/v1"), {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in content:
        return content["example"]
    for example in content.get("examples", {}).values():
        if "$ref" in example:
            example = contract["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
        return example.get("value")
    return None


def alike(answer: Any) -> tuple[int, Any]:
    return answer.status_code, answer.json() | {"instance": ""}


def test_every_refusal_comes_before_the_query_and_the_body_are_judged(
    app, client, region, other_region
):
    housed = house(client, region, -100)
    waiting = create_case(client, region.other_care_provider, region.table_id)
    dwelling = create_vacancy(client, region.corporation, available_from=iso(7))
    proposal = housed_proposal(client, region, housed["id"])
    plan_meeting(client, region, iso(7))  # care providers and corporations read its agenda
    action = assign_action(client, region, region.other_care_provider, waiting["id"]).json()["id"]
    endpoint = client.post(
        "/v1/webhooks",
        json={"url": "https://receiver.example.org/hook", "events": ["agenda.published"]},
        headers=region.care_provider.headers,
    ).json()["id"]
    record_signals(client, region, housed["id"])  # an aftercare agreement and a checkpoint
    contingent = f"/v1/tables/{region.table_id}/contingent-agreements/{iso(0)[:4]}"
    recorded = client.put(
        f"{contingent}/{region.corporation.id}", json={"agreed": 3}, headers=region.chair.headers
    )
    assert recorded.status_code == 201, recorded.text
    person = make_person(client, region.care_provider).id
    key = client.post(
        f"/v1/organizations/{region.care_provider.id}/api-keys",
        json={"label": "koppeling"},
        headers=OPERATOR,
    ).json()["id"]
    unknown = str(uuid.uuid4())
    # Each object as the fixture made it, or one that does not exist (a corporation at no table,
    # a delivery).
    values = {
        "table_id": [region.table_id],
        "meeting_id": [proposal["meeting_id"]],
        "case_id": [housed["id"], waiting["id"]],
        "vacancy_id": [dwelling["id"]],
        "proposal_id": [proposal["id"]],
        "action_id": [action],
        "endpoint_id": [endpoint],
        "organisation_id": [region.care_provider.id],
        "person_id": [person],
        "key_id": [key],
        "corporation_id": [region.corporation.id, unknown],
        "year": [iso(0)[:4]],
        "code": ["WK034401"],
    }
    contract = app.openapi()
    bodies = {
        ("POST", "/v1/cases"): case_body(region.table_id),
        ("POST", "/v1/vacancies"): vacancy_body(),
        ("POST", "/v1/vacancies/batch"): {"items": [vacancy_body()]},
    }
    callers = {
        "operator": OPERATOR,
        **{name: getattr(region, name).headers for name in INSIDERS},
        **{f"outsider_{n}": getattr(other_region, n).headers for n in OUTSIDERS},
    }
    # Reads first, then writes; deletes last (a delete that succeeds leaves 404s behind).
    routes = sorted(api_routes(app.routes), key=lambda r: (r[0] in WRITES, r[0] == "DELETE"))
    refused: set[tuple[str, str]] = set()
    differ: list[tuple[str, str, str, int, int, Any]] = []
    for method, path, takes_body in routes:
        names = re.findall(r"{(\w+)}", path)
        valid = bodies.get((method, path), example_body(contract, method, path))
        body = {"json": valid} if takes_body and valid is not None else {}
        tries: list[tuple[str, dict[str, Any]]] = [("?zzz=1", body), ("?limit=0", body)]
        if body and isinstance(valid, dict):
            tries.append(("body with zzz", {"json": valid | {"zzz": 1}}))
        for combination in itertools.product(*(values.get(n, [unknown]) for n in names)):
            url = path.format(**dict(zip(names, combination, strict=True)))
            writing = method in WRITES
            # A read's answers come first (they change nothing); a write's each just before its
            # retries (one that succeeds changes what the next caller is answered).
            clean = {
                caller: None if writing else client.request(method, url, headers=headers, **body)
                for caller, headers in callers.items()
            }
            # A 404 on a read is a refusal where another caller reads the object; where none
            # does there is nothing (a date without a meeting, a case without an agreement),
            # and the query may well be judged first. A write to what is not there is 404
            # whatever it sends (tests/api/test_rights_before_body.py).
            someone_reads = any(r is not None and r.status_code < 400 for r in clean.values())
            for caller, headers in callers.items():
                answer = clean[caller]
                if answer is None:
                    answer = client.request(method, url, headers=headers, **body)
                status = answer.status_code
                if status != 403 and not (status == 404 and (writing or someone_reads)):
                    continue
                refused.add((method, path))
                for label, sent in tries:
                    query = label if label.startswith("?") else ""
                    again = client.request(method, url + query, headers=headers, **sent)
                    if alike(again) != alike(answer):
                        detail = again.json().get("detail")
                        differ.append(
                            (f"{method} {url}", caller, label, status, again.status_code, detail)
                        )
    assert differ == [], "\n".join(map(str, differ))
    # The walk met refusals on most routes (else it would prove nothing).
    assert len(refused) >= 70, len(refused)
