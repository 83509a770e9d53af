"""A let dwelling is offered again by pushing it with a later `available_from` (its next
vacancy); that day must lie after its tenant's move-in, on every path that pushes it: the API,
the batch, the spreadsheet import and the dwelling page (found by the eighteenth breaker: a
dwelling came free before its tenant had moved in and went onto the agenda occupied)."""

from datetime import timedelta

from app.vacancies.models import VacancyIn
from tests.aftercare.housing import STEPS, house, housed_proposal
from tests.aftercare.test_follow_up import agenda
from tests.api.helpers import assert_problem, invalid_names, plan_meeting
from tests.clock import TODAY, iso
from tests.conftest import create_case, push_again, vacancy_body
from tests.imports.sheets import dwelling_row, nl, table, upload, xlsx
from tests.web.conftest import csrf_of, make_person, signed_in
from tests.web.test_dwelling_pages import _form, _version

MOVED_IN = -40  # days from today; the dwelling was on offer from 100 days before


def let_dwelling(client, region) -> dict:  # type: ignore[no-untyped-def]
    """The dwelling of a case housed MOVED_IN days ago, as its corporation reads it."""
    housed = housed_proposal(client, region, house(client, region, MOVED_IN)["id"])
    dwelling = client.get(
        f"/v1/vacancies/{housed['vacancy_id']}", headers=region.corporation.headers
    ).json()
    assert dwelling["status"] == "let"
    return dwelling


def pushed(dwelling: dict, day: int) -> dict:
    body = {k: v for k, v in dwelling.items() if k in VacancyIn.model_fields}
    return body | {"available_from": iso(day), "respond_before": iso(day)}


def stored(client, region, dwelling) -> dict:  # type: ignore[no-untyped-def]
    url = f"/v1/vacancies/{dwelling['id']}"
    return client.get(url, headers=region.corporation.headers).json()


def test_a_let_dwelling_cannot_come_free_before_or_on_its_tenants_move_in(client, region):
    dwelling = let_dwelling(client, region)
    headers = region.corporation.headers
    for day in (MOVED_IN - 10, MOVED_IN):
        refused = client.post("/v1/vacancies", json=pushed(dwelling, day), headers=headers)
        assert_problem(refused, 400)
        assert invalid_names(refused) == ["available_from"]
        assert refused.json()["invalidParams"][0]["code"] == "available_before_move_in"
    assert stored(client, region, dwelling) == dwelling
    offered = client.post("/v1/vacancies", json=pushed(dwelling, MOVED_IN + 1), headers=headers)
    assert offered.status_code == 200, offered.text
    assert offered.json()["status"] == "available"


def test_a_batch_names_the_item_that_offers_a_let_dwelling_too_early(client, region):
    dwelling = let_dwelling(client, region)
    items = [vacancy_body("GM0344", external_ref="W-new"), pushed(dwelling, MOVED_IN - 1)]
    response = client.post(
        "/v1/vacancies/batch", json={"items": items}, headers=region.corporation.headers
    )
    assert_problem(response, 400)
    [item] = response.json()["invalidItems"]
    assert (item["index"], item["external_ref"]) == (1, dwelling["external_ref"])
    assert [p["name"] for p in item["invalidParams"]] == ["items[1].available_from"]
    assert stored(client, region, dwelling)["status"] == "let"
    listed = client.get("/v1/vacancies", headers=region.corporation.headers).json()["items"]
    assert "W-new" not in {v["external_ref"] for v in listed}  # all or nothing


def test_the_import_names_the_row_that_offers_a_let_dwelling_too_early(client, region):
    dwelling = let_dwelling(client, region)
    early = TODAY + timedelta(days=MOVED_IN - 5)
    row = dwelling_row(dwelling["external_ref"], **{"Beschikbaar vanaf": nl(early)})
    content = xlsx(table([row]), sheet="Woningen")
    checked = upload(client, "/v1/vacancies/imports", content, region.corporation.headers)
    assert checked.status_code == 200, checked.text
    [issue] = checked.json()["issues"]
    assert (issue["row"], issue["code"]) == (2, "available_before_move_in")
    assert "na de verhuisdatum" in issue["message"]
    assert stored(client, region, dwelling)["status"] == "let"


def test_the_dwelling_page_refuses_a_day_before_the_move_in_in_dutch(app, client, region):
    dwelling = let_dwelling(client, region)
    browser = signed_in(app, make_person(client, region.corporation))
    url = f"/woningen/{dwelling['id']}/bewerken"
    page = browser.get(url)
    assert page.status_code == 200, page.text
    early = iso(MOVED_IN - 5)
    form = _form(available_from=early, respond_before=early) | {"versie": _version(page.text)}
    sent = browser.post(url, data={"csrf_token": csrf_of(browser, url), **form})
    assert sent.status_code == 400
    assert "na de verhuisdatum" in sent.text
    assert stored(client, region, dwelling) == dwelling


def relet(client, region, dwelling_id: str, moved_in: int) -> dict:  # type: ignore[no-untyped-def]
    """House a new case in the dwelling offered again: a meeting five days before `moved_in`."""
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(-500))
    chair = region.chair.headers
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": iso(moved_in - 5)}, headers=chair
    )
    assert meeting.status_code == 201, meeting.text
    assert client.post(f"/v1/meetings/{meeting.json()['id']}/publish", headers=chair).is_success
    listed = client.get(
        f"/v1/tables/{region.table_id}/proposals", params={"limit": 1000}, headers=chair
    ).json()["items"]
    [proposal] = [p for p in listed if p["case_id"] == case["id"] and p["status"] == "proposed"]
    assert proposal["vacancy_id"] == dwelling_id
    url = f"/v1/proposals/{proposal['id']}/decisions"
    for step in (*STEPS, "house"):
        org = region.chair if step == "nominate" else region.corporation
        body = {"decision": step}
        if step == "plan_viewing":
            body["viewing_date"] = iso(7)
        if step == "house":
            body |= {"effective_date": iso(moved_in), "lease_form": "own_lease"}
        response = client.post(url, json=body, headers=org.headers)
        assert response.status_code == 200, response.text
    return response.json()


def housed_twice(client, region) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """A case housed 200 days ago, its dwelling offered again 100 days ago and let to a second
    case 90 days ago, the first tenancy not ended: (the first case, the second housing)."""
    first = house(client, region, -200)
    return first, let_again(client, region, first)


def let_again(client, region, first: dict) -> dict:  # type: ignore[no-untyped-def]
    """`first`'s dwelling offered again 100 days ago and let to a new case 90 days ago."""
    dwelling = client.get(
        f"/v1/vacancies/{housed_proposal(client, region, first['id'])['vacancy_id']}",
        headers=region.corporation.headers,
    ).json()
    day = iso(-100)
    push_again(client, region.corporation, dwelling, available_from=day, respond_before=day)
    return relet(client, region, dwelling["id"], moved_in=-90)


def test_a_tenancy_does_not_end_after_the_next_tenant_moved_into_its_dwelling(client, region):
    """The dwelling came free and was let again while its first tenancy was still open at the
    table: ending that tenancy on a day after the next tenant's move-in would count its client
    as still housed in a home someone else lives in."""
    first, second = housed_twice(client, region)
    url = f"/v1/cases/{first['id']}/tenancy"
    late = client.patch(
        url,
        json={"ended_on": iso(-10), "end_reason": "evicted"},
        headers=region.corporation.headers,
    )
    assert invalid_names(late) == ["ended_on"]
    assert late.json()["invalidParams"][0]["code"] == "date_after_next_move_in"
    on_time = client.patch(
        url,
        json={"ended_on": iso(-90), "end_reason": "evicted"},
        headers=region.corporation.headers,
    )
    assert on_time.status_code == 200, on_time.text
    assert second["status"] == "housed"


def _let_again(client, region, org, date: str) -> list[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    entries = agenda(client, region, org, date)
    return [(e["case_id"], e["due_on"], e["overdue"]) for e in entries if e["kind"] == "let_again"]


def test_a_tenancy_whose_dwelling_was_let_again_stays_on_the_agenda_until_it_is_ended(
    app, client, region
):
    """Nobody recorded the end of the first tenancy when the dwelling came free: after the next
    tenant moved in, the table is asked to record it (by that day at the latest), until it is."""
    first, second = housed_twice(client, region)
    meeting = plan_meeting(client, region, iso(7))
    asked = [(first["id"], iso(-90), True)]  # the second tenancy has no later tenant
    for org in (region.chair, region.care_provider, region.corporation):
        assert _let_again(client, region, org, meeting["date"]) == asked, org.name
    for org in (region.other_care_provider, region.other_corporation):
        assert _let_again(client, region, org, meeting["date"]) == [], org.name
    # The meeting that decided the second housing came before its move-in: not asked there.
    assert _let_again(client, region, region.chair, iso(-95)) == []
    browser = signed_in(app, make_person(client, region.chair))
    page = browser.get(f"/vergaderingen/{meeting['id']}")
    assert page.status_code == 200, page.text
    assert "Woning opnieuw verhuurd, huur niet beëindigd" in page.text
    # The care provider's Nazorg page says so too, and its end form stops at that move-in.
    keeper = signed_in(app, make_person(client, region.care_provider))
    nazorg = keeper.get(f"/dossiers/{first['id']}/nazorg")
    assert nazorg.status_code == 200, nazorg.text
    assert "Woning opnieuw verhuurd" in nazorg.text
    assert f'id="na-einddatum" name="datum" type="date" required value="" max="{iso(-90)}"' in (
        nazorg.text
    )
    # A visit that finds the client gone is recorded on its own day, after that move-in too.
    assert f'id="na-datum" name="datum" type="date" required value="{iso(0)}" max="{iso(0)}"' in (
        nazorg.text
    )
    ended = client.patch(
        f"/v1/cases/{first['id']}/tenancy",
        json={"ended_on": iso(-90), "end_reason": "moved_on"},
        headers=region.care_provider.headers,
    )
    assert ended.status_code == 200, ended.text
    assert _let_again(client, region, region.chair, meeting["date"]) == []
    assert "Woning opnieuw verhuurd" not in keeper.get(f"/dossiers/{first['id']}/nazorg").text
    assert second["status"] == "housed"


def test_a_checkpoint_does_not_find_the_client_living_where_the_next_tenant_moved_in(
    client, region
):
    """A checkpoint that found the client still living there on a day after the next tenant
    moved into the dwelling made the tenancy impossible to end: the end may not come before
    that checkpoint, nor after the next move-in (found by breaker 32). It is refused; a visit
    that found the client gone is recorded on its own day, as before."""
    first, _ = housed_twice(client, region)
    url = f"/v1/cases/{first['id']}/checkpoints"
    headers = region.care_provider.headers
    body = {"months": 3, "still_living_there": True, "support_active": True}
    late = client.post(url, json=body | {"recorded_on": iso(-10)}, headers=headers)
    assert_problem(late, 400)
    assert invalid_names(late) == ["recorded_on"]
    assert late.json()["invalidParams"][0]["code"] == "date_after_next_move_in"
    gone = client.post(
        url,
        json=body | {"recorded_on": iso(-10), "still_living_there": False},
        headers=headers,
    )
    assert gone.status_code == 201, gone.text
    ended = client.patch(
        f"/v1/cases/{first['id']}/tenancy",
        json={"ended_on": iso(-90), "end_reason": "moved_on"},
        headers=headers,
    )
    assert ended.status_code == 200, ended.text


def _seen_living_there(client, region, case_id: str, day: int) -> None:  # type: ignore[no-untyped-def]
    """The 3-month checkpoint recorded on `day`, finding the client living there."""
    body = {"months": 3, "recorded_on": iso(day), "still_living_there": True}
    recorded = client.post(
        f"/v1/cases/{case_id}/checkpoints",
        json=body | {"support_active": True},
        headers=region.care_provider.headers,
    )
    assert recorded.status_code == 201, recorded.text


def _end(client, region, case_id: str, day: int):  # type: ignore[no-untyped-def]
    return client.patch(
        f"/v1/cases/{case_id}/tenancy",
        json={"ended_on": iso(day), "end_reason": "moved_on"},
        headers=region.care_provider.headers,
    )


def test_a_checkpoint_on_the_day_the_next_tenant_moved_in_leaves_the_end_possible(client, region):
    first, _ = housed_twice(client, region)
    _seen_living_there(client, region, first["id"], -90)
    ended = _end(client, region, first["id"], -90)
    assert ended.status_code == 200, ended.text


def test_a_dwelling_let_from_before_a_checkpoint_leaves_the_tenancy_an_end(client, region):
    """The other way round (breaker 32): the checkpoint found the client there, and then the
    dwelling was offered again and let from an earlier day. The move-in, recorded later, wins:
    the end is held to it and no longer to the checkpoint, else no day was left to end on."""
    first = house(client, region, -200)
    _seen_living_there(client, region, first["id"], -50)
    let_again(client, region, first)
    late = _end(client, region, first["id"], -50)
    assert late.json()["invalidParams"][0]["code"] == "date_after_next_move_in"
    ended = _end(client, region, first["id"], -95)
    assert ended.status_code == 200, ended.text


def test_a_dwelling_offered_again_cannot_move_its_day_before_its_last_tenants_move_in(
    client, region
):
    """Once a let dwelling is on offer again (or withdrawn after that), a later push with an
    earlier `available_from` (a stale system, an old spreadsheet) put the day before the last
    tenant's move-in, and the occupied dwelling onto the agenda: the check was made only on
    the push that offered the let dwelling again."""
    dwelling = let_dwelling(client, region)
    headers = region.corporation.headers
    offered = client.post("/v1/vacancies", json=pushed(dwelling, MOVED_IN + 1), headers=headers)
    assert offered.json()["status"] == "available", offered.text
    early = client.post("/v1/vacancies", json=pushed(dwelling, MOVED_IN - 10), headers=headers)
    assert_problem(early, 400)
    assert early.json()["invalidParams"][0]["code"] == "available_before_move_in"
    assert stored(client, region, dwelling)["available_from"] == iso(MOVED_IN + 1)
    withdrawn = client.delete(f"/v1/vacancies/{dwelling['id']}", headers=headers)
    assert withdrawn.status_code == 204, withdrawn.text
    again = client.post(
        "/v1/vacancies/batch", json={"items": [pushed(dwelling, MOVED_IN)]}, headers=headers
    )
    assert_problem(again, 400)
    assert again.json()["invalidParams"][0]["name"] == "items[0].available_from"
    assert stored(client, region, dwelling)["status"] == "withdrawn"
    later = client.post("/v1/vacancies", json=pushed(dwelling, MOVED_IN + 2), headers=headers)
    assert later.json()["status"] == "available", later.text


def _transfer(client, region, case_id: str, day: int):  # type: ignore[no-untyped-def]
    return client.patch(
        f"/v1/cases/{case_id}/tenancy",
        json={"transferred_on": iso(day)},
        headers=region.corporation.headers,
    )


def _intermediate_let_again(client, region) -> dict:  # type: ignore[no-untyped-def]
    """An intermediate lease of 200 days ago whose dwelling was offered again 100 days ago (as
    an own lease) and let to a new case 90 days ago, the first tenancy not ended."""
    first = house(client, region, -200, "intermediate_lease")
    dwelling = client.get(
        f"/v1/vacancies/{housed_proposal(client, region, first['id'])['vacancy_id']}",
        headers=region.corporation.headers,
    ).json()
    day = iso(-100)
    push_again(
        client,
        region.corporation,
        dwelling,
        available_from=day,
        respond_before=day,
        contract_forms=["own_lease"],
    )
    relet(client, region, dwelling["id"], moved_in=-90)
    return first


def test_a_lease_is_not_transferred_after_the_next_tenant_moved_into_its_dwelling(client, region):
    """The lease going to the client on a day after the next tenant moved in left the tenancy
    no end: not before the transfer (`date_before_transfer`), nor after that move-in
    (`date_after_next_move_in`), so it stayed on every agenda as let again. As for a checkpoint
    that found the client there (breaker 32), such a transfer is refused; on the day of that
    move-in or before it, it stands and the tenancy still ends."""
    first = _intermediate_let_again(client, region)
    late = _transfer(client, region, first["id"], -10)
    assert_problem(late, 400)
    assert invalid_names(late) == ["transferred_on"]
    assert late.json()["invalidParams"][0]["code"] == "date_after_next_move_in"
    on_time = _transfer(client, region, first["id"], -90)
    assert on_time.status_code == 200, on_time.text
    ended = _end(client, region, first["id"], -90)
    assert ended.status_code == 200, ended.text


def test_a_dwelling_let_from_before_a_transfer_leaves_the_tenancy_an_end(client, region):
    """The other way round: the lease went to the client, and then the dwelling was offered
    again and let from an earlier day. The move-in, recorded later, wins (as over a
    checkpoint): the end is held to it and no longer to the transfer, else no day was left."""
    first = house(client, region, -200, "intermediate_lease")
    transferred = _transfer(client, region, first["id"], -50)
    assert transferred.status_code == 200, transferred.text
    dwelling = client.get(
        f"/v1/vacancies/{housed_proposal(client, region, first['id'])['vacancy_id']}",
        headers=region.corporation.headers,
    ).json()
    day = iso(-100)
    push_again(
        client,
        region.corporation,
        dwelling,
        available_from=day,
        respond_before=day,
        contract_forms=["own_lease"],
    )
    relet(client, region, dwelling["id"], moved_in=-90)
    late = _end(client, region, first["id"], -50)
    assert late.json()["invalidParams"][0]["code"] == "date_after_next_move_in"
    ended = _end(client, region, first["id"], -95)
    assert ended.status_code == 200, ended.text
