"""Who is refused a case's tenancy learns nothing from the refusal of whether the client was
housed: the same status, the same words and the same statements for a housed case it may not
see as for a case never housed or an id that names nothing."""

import re
import uuid

import pytest
from sqlalchemy import event

from tests.aftercare.housing import house
from tests.api.helpers import assert_problem
from tests.clock import iso
from tests.conftest import OPERATOR, create_case

PATHS = ("tenancy", "aftercare-agreement")


@pytest.mark.parametrize("path", PATHS)
def test_the_operator_is_refused_a_tenancy_whatever_the_case(client, region, path):
    """The operator reads no case file (403 whatever the id, as at `GET /v1/cases/{id}`); at
    the tenancy it got 403 for a housed case and 404 for every other id, so any case id it
    held said whether that client had moved in."""
    housed = house(client, region, -10)
    waiting = create_case(client, region.care_provider, region.table_id, ready_since=iso(-30))
    answers = [
        client.get(f"/v1/cases/{case_id}/{path}", headers=OPERATOR)
        for case_id in (housed["id"], waiting["id"], str(uuid.uuid4()))
    ]
    for response in answers:
        assert_problem(response, 403, "forbidden")
    assert len({response.json()["detail"] for response in answers}) == 1


def test_another_corporation_is_refused_a_housed_case_after_the_statements_of_any_other(
    client, region, engine
):
    """A corporation that knows a case's id (a proposal of its own it declined) asks for its
    tenancy: 404 whether another corporation housed the client or nobody did, after the same
    statements. A tenancy it may not see took a second statement (who may see it), measured
    about 0.3 ms slower on loopback than a case without one: enough, over a few hundred
    requests, to tell that the client had moved in."""
    housed = house(client, region, -10)
    waiting = create_case(client, region.care_provider, region.table_id, ready_since=iso(-30))
    headers = region.other_corporation.headers
    client.get("/v1/me", headers=headers)  # the key's first use writes its last_used_at
    run: dict[str, list[str]] = {}
    reading = ""

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        run[reading].append(re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for reading, case_id in (("housed", housed["id"]), ("waiting", waiting["id"])):
            run[reading] = []
            for path in PATHS:
                response = client.get(f"/v1/cases/{case_id}/{path}", headers=headers)
                assert_problem(response, 404, "not_found")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert run["housed"] == run["waiting"]
