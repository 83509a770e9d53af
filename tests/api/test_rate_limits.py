"""Per-key rate limits on the expensive endpoints: 429 problem+json with Retry-After, one bucket
per key and endpoint class, kept in the database so every server process draws from it."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app.main import create_app
from app.rate_limits.models import RateBucket
from app.rate_limits.service import ORGANISATION_BUDGETS, forget_full_buckets
from app.sqltypes import utcnow
from tests.api.helpers import assert_problem, plan_meeting
from tests.clock import START, iso
from tests.conftest import create_case, create_vacancy, make_org, make_table


def why_not(client, org, region, case_id, vacancy_id):
    return client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": case_id, "vacancyId": vacancy_id, "date": iso(0)},
        headers=org.headers,
    )


@pytest.fixture
def pair(client, region):
    plan_meeting(client, region, iso(0))  # the care provider asks why-not on a meeting date
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation)
    return case["id"], vacancy["id"]


@pytest.mark.settings(rate_limit_why_not_per_minute=2)
def test_a_key_over_its_budget_gets_429_with_retry_after(client, region, pair):
    assert why_not(client, region.chair, region, *pair).status_code == 200
    assert why_not(client, region.chair, region, *pair).status_code == 200
    refused = why_not(client, region.chair, region, *pair)
    assert_problem(refused, 429)
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


@pytest.mark.settings(rate_limit_why_not_per_minute=1)
def test_each_key_and_each_endpoint_class_has_its_own_budget(client, region, pair):
    assert why_not(client, region.chair, region, *pair).status_code == 200
    assert why_not(client, region.chair, region, *pair).status_code == 429
    assert why_not(client, region.care_provider, region, *pair).status_code == 200
    agenda = client.get(
        f"/v1/tables/{region.table_id}/agenda",
        params={"date": iso(0)},
        headers=region.chair.headers,
    )
    assert agenda.status_code == 200


@pytest.mark.settings(rate_limit_why_not_per_minute=1)
def test_the_budget_refills_over_time(client, region, pair):
    assert why_not(client, region.chair, region, *pair).status_code == 200
    refused = why_not(client, region.chair, region, *pair)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    with time_machine.travel(START + timedelta(hours=1, seconds=wait), tick=False):
        assert why_not(client, region.chair, region, *pair).status_code == 200


@pytest.mark.settings(rate_limit_agenda_per_minute=1)
def test_a_refused_agenda_is_not_computed_and_shows_no_case(client, region, pair):
    url = f"/v1/tables/{region.table_id}/agenda"
    log = f"/v1/tables/{region.table_id}/access-log"
    assert client.get(url, params={"date": iso(0)}, headers=region.chair.headers).is_success
    before = client.get(log, headers=region.chair.headers).json()["items"]
    refused = client.get(url, params={"date": iso(0)}, headers=region.chair.headers)
    assert_problem(refused, 429)
    after = client.get(log, headers=region.chair.headers).json()["items"]
    assert len(before) == len(after) > 0


@pytest.mark.settings(rate_limit_batch_per_minute=2)
def test_the_limit_holds_across_server_processes(live_app):
    # Two app instances on one database stand in for two server processes: a counter in
    # process memory would let each of them allow the budget once more.
    other_process = create_app(live_app.state.settings)
    with TestClient(live_app) as first, TestClient(other_process) as second:
        chair = make_org(first, "municipality")
        corporation = make_org(first, "housing_corporation")
        make_table(first, chair, [corporation], ["GM0344"])

        def batch(client: TestClient) -> int:
            return client.post(
                "/v1/vacancies/batch", json={"items": []}, headers=corporation.headers
            ).status_code

        statuses = [batch(first), batch(second), batch(first), batch(second)]
    assert statuses[2:] == [429, 429]
    assert 429 not in statuses[:2]


@pytest.mark.settings(rate_limit_monitor_per_minute=1)
def test_a_person_on_the_pages_gets_a_dutch_page_with_retry_after(app, client, region):
    from tests.web.conftest import make_person, signed_in

    person = make_person(client, region.chair, "chair", is_admin=True)
    browser = signed_in(app, person)
    assert browser.get(f"/tafels/{region.table_id}/monitor").status_code == 200
    refused = browser.get(f"/tafels/{region.table_id}/monitor")
    assert refused.status_code == 429
    assert "Even wachten" in refused.text
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.settings(rate_limit_monitor_per_minute=1)
def test_a_person_refused_for_the_organisations_share_is_told_so_not_of_their_attempts(
    app, client, region
):
    """The organisation's keys used up the budget it shares with its people: a person who had
    asked nothing read 'Te veel pogingen', as if they had tried too often, and not when to
    try again. The page names whose budget it was and the wait; the API's detail too."""
    from tests.web.conftest import make_person, signed_in

    chair = region.chair
    keys = f"/v1/organizations/{chair.id}/api-keys"
    monitor = f"/v1/tables/{region.table_id}/monitor"
    with time_machine.travel(utcnow(), tick=False):  # the share refills a token every 6 s
        for n in range(ORGANISATION_BUDGETS):
            issued = client.post(keys, json={"label": f"vers {n}"}, headers=chair.headers).json()
            fresh = {"Authorization": f"Bearer {issued['key']}"}
            assert client.get(monitor, headers=fresh).status_code == 200
            client.delete(f"{keys}/{issued['id']}", headers=chair.headers).raise_for_status()
        refused_key = client.get(monitor, headers=chair.headers)
        assert_problem(refused_key, 429)
        assert "organisation" in refused_key.json()["detail"]

        browser = signed_in(app, make_person(client, chair, "chair"))
        refused = browser.get(f"/tafels/{region.table_id}/monitor")
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert "Te veel pogingen" not in refused.text
    assert "Uw organisatie" in refused.text
    assert f"over {seconds} seconden" in refused.text or "over 1 seconde" in refused.text


@pytest.mark.settings(rate_limit_monitor_per_minute=1)
def test_a_person_over_their_own_budget_is_told_it_is_theirs_and_the_wait(app, client, region):
    from tests.web.conftest import make_person, signed_in

    browser = signed_in(app, make_person(client, region.chair, "chair"))
    assert browser.get(f"/tafels/{region.table_id}/monitor").status_code == 200
    refused = browser.get(f"/tafels/{region.table_id}/monitor")
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert "U vroeg" in refused.text and "Uw organisatie" not in refused.text
    assert f"over {seconds} seconden" in refused.text or "over 1 seconde" in refused.text


@pytest.mark.settings(rate_limit_agenda_per_minute=1)
@pytest.mark.parametrize("path", ["/v1/cases", "/v1/vacancies"])
def test_a_list_filtered_by_blocking_reason_costs_an_agenda_token(client, region, pair, path):
    """The filter evaluates every case against every dwelling of the table, as an agenda does
    (about a second at 1,500 x 500): unlimited, one key could keep the server busy."""
    filtered = {"blockingReason": "rent_above_cap", "tableId": region.table_id}
    headers = region.chair.headers
    assert client.get(path, params=filtered, headers=headers).status_code == 200
    assert_problem(client.get(path, params=filtered, headers=headers), 429)
    assert client.get(path, params={"tableId": region.table_id}, headers=headers).is_success


@pytest.mark.settings(rate_limit_agenda_per_minute=1)
@pytest.mark.parametrize("page", ["/dossiers", "/woningen"])
def test_a_page_filtered_by_blocking_reason_costs_the_person_an_agenda_token(
    app, client, region, pair, page
):
    from tests.web.conftest import make_person, signed_in

    browser = signed_in(app, make_person(client, region.chair, "chair", is_admin=True))
    filtered = {"blokkade": "rent_above_cap", "tafel": region.table_id}
    assert browser.get(page, params=filtered).status_code == 200
    refused = browser.get(page, params=filtered)
    assert refused.status_code == 429
    assert "Even wachten" in refused.text
    assert browser.get(page, params={"tafel": region.table_id}).status_code == 200


@pytest.mark.settings(rate_limit_password_per_minute=2)
def test_new_people_and_new_passwords_cost_a_password_token(client, region):
    """Each hashes a password (argon2, about a third of a second of CPU): unlimited, one key
    could keep the server's cores busy making people."""
    org = region.care_provider
    url = f"/v1/organizations/{org.id}/people"

    def new_person(n: int):  # type: ignore[no-untyped-def]
        person = {"email": f"p{n}@zorg.nl", "display_name": f"P{n}"}
        return client.post(url, json=person, headers=org.headers)

    first = new_person(1)
    assert first.status_code == 201 and new_person(2).status_code == 201
    refused = new_person(3)
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    person_url = f"{url}/{first.json()['id']}"
    renamed = client.patch(person_url, json={"display_name": "Q"}, headers=org.headers)
    assert renamed.status_code == 200, renamed.text  # no password: no token
    password = {"password": "correct horse battery staple"}
    assert_problem(client.patch(person_url, json=password, headers=org.headers), 429)
    other = region.other_care_provider  # another key has its own budget
    made = client.post(
        f"/v1/organizations/{other.id}/people",
        json={"email": "p1@zorg.nl", "display_name": "P1"},
        headers=other.headers,
    )
    assert made.status_code == 201, made.text


@pytest.mark.settings(rate_limit_password_per_minute=1)
def test_a_persons_own_new_passwords_are_limited_on_the_page(app, client, region):
    from tests.web.conftest import change_password, make_person, signed_in

    person = make_person(client, region.care_provider)
    browser = signed_in(app, person)
    assert change_password(browser, person.password, "a first new password").status_code == 303
    refused = change_password(browser, "a first new password", "a second new password")
    assert refused.status_code == 429
    assert "Even wachten" in refused.text


@pytest.mark.settings(rate_limit_why_not_per_minute=1)
def test_keys_issued_anew_share_their_organisations_budget(client, region, pair):
    """Each new key starts with a full bucket: an organisation that revoked and issued keys had
    as many budgets as it liked. Its keys together draw at most ORGANISATION_BUDGETS."""
    chair = region.chair
    keys = f"/v1/organizations/{chair.id}/api-keys"
    answers = []
    with time_machine.travel(utcnow(), tick=False):  # the share refills a token every 6 s
        for n in range(ORGANISATION_BUDGETS + 1):
            issued = client.post(keys, json={"label": f"vers {n}"}, headers=chair.headers).json()
            fresh = SimpleNamespace(headers={"Authorization": f"Bearer {issued['key']}"})
            answers.append(why_not(client, fresh, region, *pair).status_code)
            revoked = client.delete(f"{keys}/{issued['id']}", headers=chair.headers)
            assert revoked.status_code == 204

        assert answers == [200] * ORGANISATION_BUDGETS + [429]
        assert why_not(client, region.care_provider, region, *pair).status_code == 200


@pytest.mark.settings(rate_limit_why_not_per_minute=1)
def test_the_retention_round_forgets_full_buckets_but_not_a_drained_one(
    client, region, pair, session
):
    """Every key, person and organisation kept a row per endpoint class for ever, revoked keys
    too. A bucket untouched for minutes is full, the same as no row; one drained a moment ago
    must stay, or the retention round would hand its caller a new budget."""
    buckets = select(func.count()).select_from(RateBucket)
    assert why_not(client, region.chair, region, *pair).status_code == 200
    assert why_not(client, region.chair, region, *pair).status_code == 429
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        assert forget_full_buckets(session, utcnow().timestamp()) == 0
        assert why_not(client, region.chair, region, *pair).status_code == 429
    assert session.exec(buckets).one() > 0
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert forget_full_buckets(session, utcnow().timestamp()) > 0
        assert session.exec(buckets).one() == 0
        assert why_not(client, region.chair, region, *pair).status_code == 200
        assert why_not(client, region.chair, region, *pair).status_code == 429
