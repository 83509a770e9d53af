"""Saving a case names the table-policy rules it fails on its own, as warnings: it is stored
(201/200), but under the default policy it would never be matched without a word."""

from sqlmodel import col, delete, select

from app.limits.models import YearLimits
from tests.clock import day, iso
from tests.conftest import case_body, create_case, create_vacancy

OWN_RULES = ["no_stable_income", "beschikking_missing", "registration_too_short"]


def only_required(table_id: str) -> dict:
    body = case_body(table_id)
    return {
        "external_ref": body["external_ref"],
        "table_id": table_id,
        "facility": "beschermd_wonen",
        "ready_since": iso(-30),
        "birth_year": body["birth_year"],
        "household": {"adults": 1},
        "income": {"source": "participatiewet", "annual_taxable": "16250.00"},
        "support": {"intensity": "moderate"},
    }


def codes(case: dict) -> list[str]:
    return [w["code"] for w in case["warnings"]]


def test_a_case_with_only_its_required_fields_is_stored_with_each_failed_rule_as_a_warning(
    client, small_region
):
    response = client.post(
        "/v1/cases",
        json=only_required(small_region.table_id),
        headers=small_region.care_provider.headers,
    )
    assert response.status_code == 201, response.text
    case = response.json()
    assert codes(case) == OWN_RULES
    registration = case["warnings"][2]
    assert registration["detail"]["months_registered"] == 0
    assert registration["detail"]["required_months"] == 24
    assert all(w["message"] for w in case["warnings"])


def test_a_complete_case_gets_no_warnings(client, small_region):
    case = create_case(client, small_region.care_provider, small_region.table_id)
    assert case["warnings"] == []


def test_urgency_lifts_the_registration_warning(client, small_region):
    body = only_required(small_region.table_id) | {"urgency": True}
    response = client.post("/v1/cases", json=body, headers=small_region.care_provider.headers)
    assert codes(response.json()) == ["no_stable_income", "beschikking_missing"]


def test_a_patch_answers_the_warnings_left_after_the_change(client, small_region):
    headers = small_region.care_provider.headers
    case = client.post("/v1/cases", json=only_required(small_region.table_id), headers=headers)
    response = client.patch(
        f"/v1/cases/{case.json()['id']}",
        json={"income": {"budget_management": "budgetbeheer"}, "registration_date": iso(-800)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert codes(response.json()) == ["beschikking_missing"]


def test_the_warnings_follow_the_tables_policy(client, small_region):
    response = client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"require_stable_income": False, "min_registration_months": 0}},
        headers=small_region.chair.headers,
    )
    assert response.status_code == 200, response.text
    case = client.post(
        "/v1/cases",
        json=only_required(small_region.table_id),
        headers=small_region.care_provider.headers,
    ).json()
    assert codes(case) == ["beschikking_missing"]


def test_a_changed_policy_judges_the_next_case_saved(client, small_region):
    headers = small_region.care_provider.headers
    first = client.post("/v1/cases", json=only_required(small_region.table_id), headers=headers)
    assert codes(first.json()) == OWN_RULES
    client.patch(
        f"/v1/tables/{small_region.table_id}",
        json={"policy": {"beschikking_required": "none"}},
        headers=small_region.chair.headers,
    ).raise_for_status()
    second = client.post("/v1/cases", json=only_required(small_region.table_id), headers=headers)
    assert codes(second.json()) == ["no_stable_income", "registration_too_short"]


def test_the_limits_are_those_of_the_next_meetings_year(client, small_region, session):
    """Warnings need the legal limits of the date they are judged on: the table's next meeting
    (its year's limits, else the latest earlier year's), today without one. With limits known
    only from next year on, a case gets none today and all of them once a meeting next year
    is planned."""
    next_year = day().year + 1
    # The latest year's figures (on a clock in another year, this year may have none).
    latest = session.exec(select(YearLimits).order_by(col(YearLimits.year).desc())).first()
    assert latest is not None
    figures = latest.model_dump()
    session.exec(delete(YearLimits))
    session.add(YearLimits(**{**figures, "year": next_year}))
    session.flush()
    headers = small_region.care_provider.headers
    today = client.post("/v1/cases", json=only_required(small_region.table_id), headers=headers)
    assert today.status_code == 201, today.text
    assert today.json()["warnings"] == []
    meeting = client.post(
        f"/v1/tables/{small_region.table_id}/meetings",
        # 1 January: at most 366 days ahead on every clock (the horizon, app.timeutil); the
        # 2nd lay 367 days ahead on 1 January of a leap year.
        json={"date": f"{next_year}-01-01"},
        headers=small_region.chair.headers,
    )
    assert meeting.status_code == 201, meeting.text
    later = client.post("/v1/cases", json=only_required(small_region.table_id), headers=headers)
    assert codes(later.json()) == OWN_RULES


def test_a_warning_and_the_agendas_why_not_name_the_same_rules_and_figures(client, small_region):
    case = client.post(
        "/v1/cases",
        json=only_required(small_region.table_id),
        headers=small_region.care_provider.headers,
    ).json()
    dwelling = create_vacancy(client, small_region.corporation, "GM0344", contingent=False)
    why_not = client.get(
        f"/v1/tables/{small_region.table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": dwelling["id"], "date": iso(0)},
        headers=small_region.chair.headers,
    )
    assert why_not.status_code == 200, why_not.text
    reasons = {r["code"]: r["detail"] for r in why_not.json()["reasons"]}
    for warning in case["warnings"]:
        assert reasons[warning["code"]] == warning["detail"]
