"""Age and pension age through the API: a case may carry its birth month; why-not says which
reading of the age and the AOW age decided, and the corporation's income category follows the
same reading.

Birth years are chosen relative to TODAY with the shipped AOW table, so that the pension age
is uncertain from the birth year alone on the meeting date.
"""

from datetime import date
from decimal import Decimal

import pytest

from app.limits.data import aow_ages
from app.matching.ages import age_reading, pension_reading
from tests.api.helpers import invalid_names
from tests.clock import TODAY, day, iso
from tests.conftest import case_body, create_case, create_vacancy


def uncertain_birth_year() -> tuple[int, date]:
    """A birth year whose AOW status depends on the month, and a date on which it does: TODAY,
    or a few days before when TODAY happens to decide every month of every year, else the first
    such date later in TODAY's year (the same year's limits and AOW age). When the AOW age steps
    up by 3 months, as in 2028, nobody reaches it from 1 January to 31 March: the last week
    holds no such date then."""
    nearby = [day(-back) for back in range(8)] + [day(ahead) for ahead in range(1, 366)]
    for on in (on for on in nearby if on.year == TODAY.year):
        for age in range(64, 72):
            year = on.year - age
            if pension_reading(year, None, on, aow_ages()).at_pension_age is None:
                return year, on
    raise AssertionError(f"no birth year near the AOW age is uncertain in {TODAY.year}")


def birth_near_the_aow_age(reached: bool) -> tuple[int, int]:
    """(year, month) of someone near the AOW age who certainly has (or has not) reached it on
    TODAY, from the shipped table."""
    births = [(TODAY.year - age, m) for age in (68, 67, 66) for m in range(1, 13)]
    found = [b for b in births if pension_reading(*b, TODAY, aow_ages()).at_pension_age is reached]
    return found[-1] if reached else found[0]


def limits_in_force(client, org) -> dict:
    """The limits an agenda today applies: this year's, or the latest earlier year's."""
    items = client.get("/v1/limits", headers=org.headers).json()["items"]
    return max((i for i in items if i["year"] <= TODAY.year), key=lambda i: i["year"])


def between(low: float, high: float) -> str:
    return str((Decimal(str(low)) + Decimal(str(high))) / 2).split(".")[0]


@pytest.fixture
def figures(client, region) -> dict:
    """An income between the single person's pension and normal limits, and a rent between the
    low cap and the DAEB rent limit, for the limits in force today."""
    limits = limits_in_force(client, region.chair)
    return {
        "income": between(limits["income_limit_single_pension"], limits["income_limit_single"]),
        "rent": between(limits["low_cap"], limits["daeb_rent_limit"]),
    }


def case_with(client, region, figures, birth: tuple[int, int | None], **overrides):
    income = {
        "source": "aow",
        "annual_taxable": figures["income"],
        "net_monthly": "1500.00",
        "stable": True,
        "budget_management": "none",
    }
    return create_case(
        client,
        region.care_provider,
        region.table_id,
        ready_since=iso(-60),
        birth_year=birth[0],
        birth_month=birth[1],
        income=income,
        **overrides,
    )


def why_not(client, region, case, vacancy, on: date = TODAY) -> dict:
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": case["id"], "vacancyId": vacancy["id"], "date": on.isoformat()},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def rent_reason(answer: dict) -> dict | None:
    return next((r["detail"] for r in answer["reasons"] if r["code"] == "rent_above_cap"), None)


def test_a_case_keeps_its_birth_month(client, region):
    case = create_case(client, region.care_provider, region.table_id, birth_month=12)
    assert case["birth_month"] == 12
    assert create_case(client, region.care_provider, region.table_id)["birth_month"] is None


@pytest.mark.parametrize("month", [0, 13, "december"])
def test_a_birth_month_outside_1_to_12_is_refused(client, region, month):
    response = client.post(
        "/v1/cases",
        json=case_body(region.table_id, birth_month=month),
        headers=region.care_provider.headers,
    )
    assert invalid_names(response) == ["birth_month"]


def a_dwelling(client, region, figures, on: date = TODAY, **overrides) -> dict:
    return create_vacancy(
        client,
        region.corporation,
        rent={"base": figures["rent"], "eligible_service_costs": "0"},
        available_from=on.isoformat(),
        respond_before=on.isoformat(),
        **overrides,
    )


MIN_AGE = 55


def birth_deciding_the_min_age() -> tuple[int, int, date]:
    """(year, month, date): someone who certainly is MIN_AGE on the date by year and month, while
    the birth year alone leaves them possibly a year younger (a date in the last weeks, since in
    early January no month of the year has passed yet)."""
    for back in range(40):
        on = day(-back)
        year = on.year - MIN_AGE
        for month in range(1, 13):
            with_month = age_reading(year, month, on)
            if (with_month.age, with_month.basis) == (MIN_AGE, "birth_month") and (
                age_reading(year, None, on).age < MIN_AGE
            ):
                return year, month, on
    raise AssertionError("no date in the last weeks where the birth month decides the age")


def age_reason(answer: dict) -> dict | None:
    return next((r["detail"] for r in answer["reasons"] if r["code"] == "age_restricted"), None)


def test_a_birth_month_past_the_birthday_meets_a_minimum_age_the_year_alone_cannot(
    client, region, figures
):
    year, month, on = birth_deciding_the_min_age()
    dwelling = a_dwelling(client, region, figures, on, min_age=MIN_AGE)
    with_month = case_with(client, region, figures, (year, month))
    assert age_reason(why_not(client, region, with_month, dwelling, on)) is None

    year_only = case_with(client, region, figures, (year, None))
    reason = age_reason(why_not(client, region, year_only, dwelling, on))
    assert reason is not None
    assert reason["age"] == MIN_AGE - 1
    assert reason["min_age"] == MIN_AGE
    assert reason["age_basis"] == "uncertain_strict"


def test_without_birth_month_why_not_applies_the_limit_under_which_the_cap_applies(
    client, region, figures
):
    year, on = uncertain_birth_year()
    case = case_with(client, region, figures, (year, None))
    reason = rent_reason(why_not(client, region, case, a_dwelling(client, region, figures, on), on))
    assert reason is not None
    assert reason["pension_age_basis"] == "uncertain_strict"
    assert reason["pension_age_applied"] is False
    assert reason["cap_kind"] == "low"


def test_with_a_birth_month_past_the_aow_date_the_pension_limit_applies(client, region, figures):
    case = case_with(client, region, figures, birth_near_the_aow_age(reached=True))
    answer = why_not(client, region, case, a_dwelling(client, region, figures))
    assert rent_reason(answer) is None, answer


def test_with_a_birth_month_before_the_aow_date_the_normal_limit_applies(client, region, figures):
    case = case_with(client, region, figures, birth_near_the_aow_age(reached=False))
    reason = rent_reason(why_not(client, region, case, a_dwelling(client, region, figures)))
    assert reason["pension_age_basis"] == "birth_month"
    assert reason["pension_age_applied"] is False


def test_the_corporations_income_category_follows_the_same_reading_as_the_rules(
    client, region, figures
):
    reached = birth_near_the_aow_age(reached=True)
    case = case_with(client, region, figures, reached)
    # A rent within the low cap, so the pair keeps every rule both ways: an edit that breaks a
    # rule of a proposed pair withdraws its proposal (app.proposals.broken_matches).
    low_cap = Decimal(str(limits_in_force(client, region.chair)["low_cap"]))
    a_dwelling(client, region, dict(figures, rent=str(int(low_cap) - 50)))
    chair = region.chair.headers
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": iso(0)}, headers=chair
    ).json()
    assert client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair).status_code == 200
    proposals = client.get(f"/v1/tables/{region.table_id}/proposals", headers=chair).json()
    assert [p["case_id"] for p in proposals["items"]] == [case["id"]]

    def category() -> str:
        response = client.get(
            f"/v1/proposals/{proposals['items'][0]['id']}/case-profile",
            headers=region.corporation.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["income_category"]

    # At the AOW age the income is above the (lower) pension limit ...
    assert category() == "within_daeb_limit"
    # ... and for a client who has not reached it, within the normal one, as the rules read it.
    year, month = birth_near_the_aow_age(reached=False)
    changed = client.patch(
        f"/v1/cases/{case['id']}",
        json={"birth_year": year, "birth_month": month},
        headers=region.care_provider.headers,
    )
    assert changed.status_code == 200, changed.text
    assert category() == "within_passend_toewijzen_limit"
