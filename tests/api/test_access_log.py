"""The case access log: every read, list and write is logged, without case data, append-only."""

import itertools
import uuid
from datetime import datetime

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import DBAPIError

from app.access_log import service
from app.access_log.models import AccessAction, AccessLogEntry
from app.access_log.service import AccessContext
from app.principal import Principal
from tests.api.helpers import assert_problem, me
from tests.conftest import OPERATOR, case_body, create_case


def log_of(client, region, **params):
    response = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"limit": 1000, **params},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def entries_for(client, region, case_id):
    return log_of(client, region, caseId=case_id)


def test_creating_a_case_is_logged(client, small_region):
    cp = small_region.care_provider
    case = create_case(client, cp, small_region.table_id)
    [entry] = entries_for(client, small_region, case["id"])
    assert entry["action"] == "create"
    assert entry["case_id"] == case["id"]
    assert entry["organisation_id"] == cp.id
    assert entry["api_key_id"] == me(client, cp.headers)["api_key_id"]
    assert entry["endpoint"] == "POST /v1/cases"
    assert entry["at"]


def test_a_duplicate_reference_answer_naming_the_case_is_logged_as_a_read(client, small_region):
    cp = small_region.care_provider
    case = create_case(client, cp, small_region.table_id, external_ref="K-dubbel")
    headers = {**cp.headers, "Idempotency-Key": "dubbel-1"}
    body = case_body(small_region.table_id, external_ref="K-dubbel")
    again = client.post("/v1/cases", json=body, headers=headers)
    assert_problem(again, 409, "duplicate_external_ref")
    assert again.json()["existing_id"] == case["id"]
    created, shown = entries_for(client, small_region, case["id"])
    assert (created["action"], shown["action"]) == ("create", "read")
    assert shown["endpoint"] == "POST /v1/cases"
    assert shown["organisation_id"] == cp.id
    # The refused request claimed its key with the rest of its work, and that was undone: the
    # same key with another body is a new request, not a reuse.
    fresh = client.post("/v1/cases", json=case_body(small_region.table_id), headers=headers)
    assert fresh.status_code == 201, fresh.text


ACCESSES = [
    pytest.param(
        "care_provider",
        lambda c, h, case_id: c.get(f"/v1/cases/{case_id}", headers=h),
        "read",
        "GET /v1/cases/{case_id}",
        id="read-by-owner",
    ),
    pytest.param(
        "chair",
        lambda c, h, case_id: c.get(f"/v1/cases/{case_id}", headers=h),
        "read",
        "GET /v1/cases/{case_id}",
        id="read-by-chair",
    ),
    pytest.param(
        "municipality",
        lambda c, h, case_id: c.get("/v1/cases", headers=h),
        "list",
        "GET /v1/cases",
        id="list-by-municipality",
    ),
    pytest.param(
        "chair",
        lambda c, h, case_id: c.get(f"/v1/cases/{case_id}/transitions", headers=h),
        "history",
        "GET /v1/cases/{case_id}/transitions",
        id="history-by-chair",
    ),
    pytest.param(
        "care_provider",
        lambda c, h, case_id: c.patch(f"/v1/cases/{case_id}", json={"urgency": True}, headers=h),
        "update",
        "PATCH /v1/cases/{case_id}",
        id="update",
    ),
    pytest.param(
        "care_provider",
        lambda c, h, case_id: c.patch(
            f"/v1/cases/{case_id}",
            json={"status": "on_hold", "status_reason": "client_request"},
            headers=h,
        ),
        "status_change",
        "PATCH /v1/cases/{case_id}",
        id="status-change",
    ),
]


@pytest.mark.parametrize(("actor", "call", "action", "endpoint"), ACCESSES)
def test_each_access_to_a_case_file_is_logged(client, region, actor, call, action, endpoint):
    case = create_case(client, region.care_provider, region.table_id)
    org = getattr(region, actor)
    response = call(client, org.headers, case["id"])
    assert response.status_code == 200, response.text
    entries = entries_for(client, region, case["id"])
    assert [e["action"] for e in entries] == ["create", action]
    latest = entries[-1]
    assert latest["organisation_id"] == org.id
    assert latest["api_key_id"] == me(client, org.headers)["api_key_id"]
    assert latest["endpoint"] == endpoint


def test_listing_logs_one_entry_per_listed_case(client, small_region):
    ids = {
        create_case(client, small_region.care_provider, small_region.table_id)["id"]
        for _ in range(3)
    }
    client.get("/v1/cases", headers=small_region.chair.headers)
    listed = [e for e in log_of(client, small_region) if e["action"] == "list"]
    assert sorted(e["case_id"] for e in listed) == sorted(ids)
    assert {e["organisation_id"] for e in listed} == {small_region.chair.id}


def test_listing_logs_only_the_page_returned(client, small_region):
    for _ in range(3):
        create_case(client, small_region.care_provider, small_region.table_id)
    page = client.get("/v1/cases", params={"limit": 2}, headers=small_region.chair.headers).json()
    listed = [e["case_id"] for e in log_of(client, small_region) if e["action"] == "list"]
    assert sorted(listed) == sorted(c["id"] for c in page["items"])


def test_log_entries_hold_no_case_data(client, small_region):
    case = create_case(
        client, small_region.care_provider, small_region.table_id, external_ref="K-SECRET-4711"
    )
    client.get(f"/v1/cases/{case['id']}", headers=small_region.chair.headers)
    response = client.get(
        f"/v1/tables/{small_region.table_id}/access-log", headers=small_region.chair.headers
    )
    assert "K-SECRET-4711" not in response.text
    assert "16250" not in response.text
    assert set(response.json()["items"][0]) == {
        "id",
        "at",
        "action",
        "case_id",
        "organisation_id",
        "organisation_name",
        "api_key_id",
        "person_id",
        "endpoint",
    }


def test_stored_log_rows_hold_no_case_data(client, small_region, session):
    case = create_case(
        client, small_region.care_provider, small_region.table_id, external_ref="K-SECRET-4712"
    )
    client.get(f"/v1/cases/{case['id']}", headers=small_region.chair.headers)
    rows = (
        session.execute(
            select(AccessLogEntry).where(AccessLogEntry.case_id == uuid.UUID(case["id"]))
        )
        .scalars()
        .all()
    )
    assert len(rows) == 2
    for row in rows:
        # Ids and timestamps are no case data; their digits may hold any number by chance (a
        # timestamp ending in .916250 made this fail once).
        texts = " ".join(
            str(v) for v in row.model_dump().values() if not isinstance(v, uuid.UUID | datetime)
        )
        assert "K-SECRET-4712" not in texts
        assert "16250" not in texts


def test_chair_filters_the_log_by_case(client, small_region):
    first = create_case(client, small_region.care_provider, small_region.table_id)
    second = create_case(client, small_region.care_provider, small_region.table_id)
    client.get(f"/v1/cases/{second['id']}", headers=small_region.chair.headers)
    assert {e["case_id"] for e in entries_for(client, small_region, first["id"])} == {first["id"]}
    assert len(entries_for(client, small_region, second["id"])) == 2


def test_log_of_a_table_holds_only_its_own_cases(client, region, other_region):
    mine = create_case(client, region.care_provider, region.table_id)
    create_case(client, other_region.care_provider, other_region.table_id)
    assert {e["case_id"] for e in log_of(client, region)} == {mine["id"]}


def test_non_chair_member_gets_403_for_the_log(client, region):
    create_case(client, region.care_provider, region.table_id)
    response = client.get(
        f"/v1/tables/{region.table_id}/access-log", headers=region.municipality.headers
    )
    assert_problem(response, 403)


def test_non_member_gets_404_for_the_log(client, region, other_region):
    response = client.get(
        f"/v1/tables/{region.table_id}/access-log", headers=other_region.chair.headers
    )
    assert_problem(response, 404)


def count_entries(session, case_id):
    return session.execute(
        select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
    ).scalar_one()


def test_log_rows_cannot_be_updated(client, small_region, session):
    case_id = uuid.UUID(
        create_case(client, small_region.care_provider, small_region.table_id)["id"]
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(
            update(AccessLogEntry).where(AccessLogEntry.case_id == case_id).values(action="read")
        )
    [action] = session.execute(
        select(AccessLogEntry.action).where(AccessLogEntry.case_id == case_id)
    ).scalars()
    assert action == "create"


def test_log_rows_cannot_be_deleted(client, small_region, session):
    case_id = uuid.UUID(
        create_case(client, small_region.care_provider, small_region.table_id)["id"]
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(delete(AccessLogEntry).where(AccessLogEntry.case_id == case_id))
    assert count_entries(session, case_id) == 1


def _copy_of_first_entry(session, case_id):  # type: ignore[no-untyped-def]
    row = session.execute(
        select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
    ).scalar_one()
    return {
        "id": row.id.hex if session.bind.dialect.name == "sqlite" else row.id,
        "table_id": row.table_id.hex if session.bind.dialect.name == "sqlite" else row.table_id,
        "organisation_id": (
            row.organisation_id.hex
            if session.bind.dialect.name == "sqlite"
            else row.organisation_id
        ),
    }


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT OR REPLACE INTO access_log (id, at, action, case_id, table_id, organisation_id,"
        " endpoint) VALUES (:id, '2000-01-01 00:00:00', 'read', NULL, :table_id,"
        " :organisation_id, 'forged')",
        "REPLACE INTO access_log (id, at, action, case_id, table_id, organisation_id, endpoint)"
        " VALUES (:id, '2000-01-01 00:00:00', 'read', NULL, :table_id, :organisation_id,"
        " 'forged')",
        "INSERT INTO access_log (id, at, action, case_id, table_id, organisation_id, endpoint)"
        " VALUES (:id, '2000-01-01 00:00:00', 'read', NULL, :table_id, :organisation_id,"
        " 'forged') ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint",
    ],
    ids=["insert-or-replace", "replace-into", "upsert"],
)
def test_log_rows_cannot_be_replaced(client, small_region, session, statement):
    from sqlalchemy import text

    if session.bind.dialect.name != "sqlite" and "REPLACE" in statement:
        pytest.skip("PostgreSQL has no REPLACE; its upsert is the ON CONFLICT case")
    case_id = uuid.UUID(
        create_case(client, small_region.care_provider, small_region.table_id)["id"]
    )
    existing = _copy_of_first_entry(session, case_id)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement), existing)
    [row] = session.execute(
        select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)
    ).scalars()
    assert (row.action, row.endpoint) == ("create", "POST /v1/cases")


def test_the_log_cannot_be_truncated(client, small_region, session):
    from sqlalchemy import text

    if session.bind.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE without WHERE is refused above)")
    case_id = uuid.UUID(
        create_case(client, small_region.care_provider, small_region.table_id)["id"]
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("TRUNCATE access_log"))
    assert count_entries(session, case_id) == 1


def test_many_cases_shown_at_once_are_logged_by_one_statement_one_entry_each(session):
    principal = Principal(False, uuid.uuid4(), None, uuid.uuid4())
    context = AccessContext(principal, "GET /v1/tables/{table_id}/agenda")
    table_id = uuid.uuid4()
    cases = [(uuid.uuid4(), table_id) for _ in range(500)]
    statements = []
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", lambda *a: statements.append(a[2]))
    service.record(session, context, AccessAction.agenda, cases)
    assert len(statements) == 1
    rows = session.exec(select(AccessLogEntry).where(AccessLogEntry.table_id == table_id)).scalars()
    logged = {(r.case_id, r.organisation_id, r.api_key_id, r.endpoint, r.action) for r in rows}
    assert logged == {
        (c, principal.organisation_id, principal.api_key_id, context.endpoint, "agenda")
        for c, _ in cases
    }


def test_a_care_provider_reads_who_accessed_its_own_case(client, region):
    """The client may ask its care provider who saw the file (AVG art. 15, NEN 7513); only the
    chair could read the log. The care provider reads its own case's, no one else's."""
    mine = create_case(client, region.care_provider, region.table_id)
    create_case(client, region.other_care_provider, region.table_id)  # not in the answer
    read = client.get(f"/v1/cases/{mine['id']}", headers=region.chair.headers)
    assert read.status_code == 200, read.text

    response = client.get(
        f"/v1/cases/{mine['id']}/access-log", headers=region.care_provider.headers
    )

    assert response.status_code == 200, response.text
    entries = response.json()["items"]
    assert [(e["action"], e["organisation_id"]) for e in entries] == [
        ("create", region.care_provider.id),
        ("read", region.chair.id),
    ]
    assert {e["case_id"] for e in entries} == {mine["id"]}
    again = client.get(f"/v1/cases/{mine['id']}/access-log", headers=region.care_provider.headers)
    assert again.json()["items"] == entries  # reading the log is not itself logged


def test_a_care_provider_sees_which_organisation_read_its_case_not_which_key_or_person(
    client, region
):
    """The case's log gave its care provider the `api_key_id` and `person_id` of another
    organisation's readers: opaque, but enough to tell one colleague there looking five times
    from five (found by breaker 40). The page names organisations only; so does the API now,
    for other organisations' entries. The chair's table log keeps them."""
    case = create_case(client, region.care_provider, region.table_id)
    read = client.get(f"/v1/cases/{case['id']}", headers=region.chair.headers)
    assert read.status_code == 200, read.text

    entries = client.get(
        f"/v1/cases/{case['id']}/access-log", headers=region.care_provider.headers
    ).json()["items"]
    table_log = entries_for(client, region, case["id"])

    own, other = entries
    assert own["organisation_id"] == region.care_provider.id and own["api_key_id"] is not None
    assert other["organisation_id"] == region.chair.id
    assert (other["api_key_id"], other["person_id"]) == (None, None)
    assert table_log[1]["api_key_id"] is not None


def test_a_care_provider_is_told_the_name_of_a_reader_that_has_left_the_table_since(client, region):
    """The log named the organisation that read the file by id only, and an organisation no
    longer at the table is a 404 to `GET /v1/organizations/{id}`: the client asking who saw
    their file could not be told (found by breaker 38 on the page)."""
    case = create_case(client, region.care_provider, region.table_id)
    read = client.get(f"/v1/cases/{case['id']}", headers=region.municipality.headers)
    assert read.status_code == 200, read.text
    url = f"/v1/tables/{region.table_id}"
    members = client.get(url, headers=OPERATOR).json()["member_organisation_ids"]
    left = [m for m in members if m != region.municipality.id]
    assert client.patch(url, json={"member_organisation_ids": left}, headers=OPERATOR).is_success
    assert (
        client.get(
            f"/v1/organizations/{region.municipality.id}", headers=region.care_provider.headers
        ).status_code
        == 404
    )

    entries = client.get(
        f"/v1/cases/{case['id']}/access-log", headers=region.care_provider.headers
    ).json()["items"]

    assert [(e["action"], e["organisation_name"]) for e in entries] == [
        ("create", region.care_provider.name),
        ("read", region.municipality.name),
    ]


@pytest.mark.parametrize(
    ("reader", "status"),
    [
        ("other_care_provider", 404),
        ("chair", 403),
        ("municipality", 403),
        ("corporation", 404),
        ("other_corporation", 404),
    ],
)
def test_no_one_but_its_care_provider_reads_a_cases_access_log(client, region, reader, status):
    """Who may see the case file still may not see who else did (the chair reads its
    table's log at /v1/tables/{id}/access-log); who may not see it gets 404, as for the file."""
    case = create_case(client, region.care_provider, region.table_id)
    response = client.get(
        f"/v1/cases/{case['id']}/access-log", headers=getattr(region, reader).headers
    )
    assert_problem(response, status)


def test_a_care_providers_own_log_entries_do_not_count_the_other_cases_read_with_them(
    client, region
):
    """The chair's list of the table logs every case on the page in one statement. Its ids were
    made one after another in case order, each a random step of at most 2**32 after the last,
    so the distance between two entries of a care provider's own cases counted the other
    providers' cases read between them: the table's case count, hidden from the parties,
    from the care provider's own access log. Each entry of one answer has random bits of its
    own: two lie that close only by a chance of about 2**-37."""
    mine = []
    for _ in range(8):
        mine.append(create_case(client, region.care_provider, region.table_id)["id"])
        create_case(client, region.other_care_provider, region.table_id)
    listed = client.get(
        "/v1/cases", params={"tableId": region.table_id}, headers=region.chair.headers
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 16
    ids = []
    for case_id in mine:
        entries = client.get(
            f"/v1/cases/{case_id}/access-log", headers=region.care_provider.headers
        ).json()["items"]
        ids += [e["id"] for e in entries if e["action"] == "list"]
    assert len(ids) == 8
    bits = sorted(
        (u.int >> 80, (u.int >> 64 & 0xFFF) << 62 | u.int & ((1 << 62) - 1))
        for u in map(uuid.UUID, ids)
    )
    for (ms, low), (next_ms, high) in itertools.pairwise(bits):
        assert ms != next_ms or high - low > 2**33, "log ids counted on from one another"
