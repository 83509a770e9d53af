"""No January outage: an agenda in a year without limits of its own uses the latest earlier
year's and says so; before the earliest known year it is a clear 400.

Which year lacks limits is derived from the data (the latest known year + 1, or today's year
when that already lacks them), so these tests hold when a new year is shipped.
"""

import logging
from datetime import date

from app.limits import service as limits_service
from tests.api.helpers import assert_problem, freeze_in_the_old_shape, plan_meeting
from tests.api.test_limits import NEW_YEAR_FIGURES, limits_list
from tests.clock import TODAY, iso
from tests.conftest import OPERATOR, create_case, create_vacancy


def known_years(client, org) -> list[int]:
    return sorted(item["year"] for item in limits_list(client, org)["items"])


def first_day_without_limits(client, org) -> date:
    """Today when its year has no limits, otherwise 4 January of the year after the latest."""
    latest = known_years(client, org)[-1]
    return TODAY if TODAY.year > latest else date(latest + 1, 1, 4)


def a_pair(client, region, on: date) -> tuple[dict, dict]:
    case = create_case(client, region.care_provider, region.table_id, ready_since=iso(-60))
    vacancy = create_vacancy(
        client,
        region.corporation,
        available_from=on.isoformat(),
        respond_before=on.isoformat(),
    )
    return case, vacancy


def get_agenda(client, org, table_id: str, on: date):
    return client.get(
        f"/v1/tables/{table_id}/agenda", params={"date": on.isoformat()}, headers=org.headers
    )


def test_agenda_in_a_year_without_limits_uses_the_latest_earlier_year(client, region):
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    case, vacancy = a_pair(client, region, day)
    response = get_agenda(client, region.chair, region.table_id, day)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["limits"]["year"] == latest
    assert document["limits_fallback"]["meeting_year"] == day.year
    assert document["limits_fallback"]["limits_year"] == latest
    assert f"PUT /v1/limits/{day.year}" in document["limits_fallback"]["detail"]
    assert [(p["case_id"], p["vacancy_id"]) for p in document["proposals"]] == [
        (case["id"], vacancy["id"])
    ]


def test_agenda_in_a_year_with_its_own_limits_does_not_fall_back(client, region):
    latest = known_years(client, region.chair)[-1]
    document = get_agenda(client, region.chair, region.table_id, date(latest, 6, 1)).json()
    assert document["limits"]["year"] == latest
    assert document["limits_fallback"] is None


def test_every_view_of_the_agenda_says_it_falls_back(client, region):
    day = first_day_without_limits(client, region.chair)
    plan_meeting(client, region, day.isoformat())  # the parties see meeting dates only
    for org in (region.chair, region.care_provider, region.corporation):
        document = get_agenda(client, org, region.table_id, day).json()
        assert document["limits_fallback"]["meeting_year"] == day.year, org.kind


def test_a_fallback_agenda_is_logged_as_a_warning_once_a_while_not_per_request(
    client, region, caplog, monkeypatch
):
    monkeypatch.setattr(limits_service, "_fallback_warned", {})  # this process warned before
    day = first_day_without_limits(client, region.chair)
    with caplog.at_level(logging.WARNING, logger="app.limits.service"):
        for _ in range(3):
            get_agenda(client, region.chair, region.table_id, day)
    warnings = [r for r in caplog.records if f"no legal limits for {day.year}" in r.getMessage()]
    assert len(warnings) == 1


def test_an_agenda_shows_the_aow_age_of_its_own_year_whatever_limits_it_uses(client, region):
    """Whoever reaches the AOW age in 2028 does so at 67 years and 3 months (the published
    cohort table; the rules use it too), also while 2028 falls back to an earlier year's limits."""
    document = get_agenda(client, region.chair, region.table_id, date(2028, 3, 1)).json()
    assert document["limits"]["aow_age"] == {"years": 67, "months": 3}


def test_a_date_before_the_earliest_limits_is_a_clear_400(client, region):
    earliest = known_years(client, region.chair)[0]
    response = get_agenda(client, region.chair, region.table_id, date(earliest - 1, 12, 28))
    body = assert_problem(response, 400)
    assert body["invalidParams"][0]["name"] == "date"
    assert body["invalidParams"][0]["code"] == "no_limits_for_year"
    assert f"earliest known year is {earliest}" in body["detail"]


def test_why_not_in_a_year_without_limits_names_the_year_it_used(client, region):
    day = first_day_without_limits(client, region.chair)
    latest = known_years(client, region.chair)[-1]
    case, vacancy = a_pair(client, region, day)
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": vacancy["id"], "date": day.isoformat()},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["limits_year"] == latest
    assert answer["limits_fallback"]["limits_year"] == latest


def test_a_published_agenda_in_a_year_without_limits_keeps_saying_so(client, region):
    day = first_day_without_limits(client, region.chair)
    a_pair(client, region, day)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": day.isoformat()},
        headers=region.chair.headers,
    ).json()
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    frozen = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=region.chair.headers)
    document = frozen.json()
    assert document["frozen"] is True
    assert document["limits_fallback"]["meeting_year"] == day.year
    assert len(document["proposals"]) == 1


def test_adding_the_missing_year_ends_the_fallback(client, region):
    day = first_day_without_limits(client, region.chair)
    added = client.put(f"/v1/limits/{day.year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    assert added.status_code == 201, added.text
    document = get_agenda(client, region.chair, region.table_id, day).json()
    assert document["limits"]["year"] == day.year
    assert document["limits"]["low_cap"] == 740.0
    assert document["limits_fallback"] is None


def test_an_agenda_frozen_before_the_rename_reads_in_todays_shape(client, region, session):
    from app.agenda.models import AGENDA

    latest = known_years(client, region.chair)[-1]
    on = date(latest, 12, 1)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": on.isoformat()},
        headers=region.chair.headers,
    ).json()
    client.post(f"/v1/meetings/{meeting['id']}/publish", headers=region.chair.headers)
    old_limits = freeze_in_the_old_shape(session, meeting["id"])
    frozen = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=region.chair.headers)
    assert frozen.status_code == 200, frozen.text
    limits = frozen.json()["limits"]
    assert (
        limits["daeb_rent_limit"]
        == limits["liberalisation_limit"]
        == old_limits["liberalisation_limit"]
    )
    assert frozen.json()["limits_fallback"] is None
    AGENDA.validate_python(frozen.json())
