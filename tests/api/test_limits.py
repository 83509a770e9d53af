"""Yearly limits are data: seeded for 2025 and 2026, a new year is a PUT, not a code change."""

from tests.clock import TODAY
from tests.conftest import OPERATOR

# A year the operator has not entered yet: the suite gives every year up to the clock's limits
# (tests/conftest.py `migrate_for_the_clock`), none after it.
NEW_YEAR = TODAY.year + 1
LIMITS_NEW_YEAR = {
    "low_cap": "740.00",
    "high_cap": "793.00",
    "liberalisation_limit": "967.00",
    "income_limit_single": "30400",
    "income_limit_multi": "41300",
    "income_limit_single_pension": "29800",
    "income_limit_multi_pension": "40000",
    "daeb_income_limit_single": "53300",
    "daeb_income_limit_multi": "58800",
    "pension_age": 67,
    "service_costs_count": False,
    "service_costs_max": None,
}


def test_limits_of_2025_and_2026_are_seeded_by_the_migration(client, region):
    response = client.get("/v1/limits", headers=region.care_provider.headers)
    assert response.status_code == 200
    by_year = {item["year"]: item for item in response.json()["items"]}
    assert by_year[2025]["low_cap"] == 682.96
    assert by_year[2025]["service_costs_count"] is True
    assert by_year[2025]["service_costs_max"] == 48.0
    assert by_year[2026]["high_cap"] == 764.14
    assert by_year[2026]["income_limit_single_pension"] == 28775.0
    assert by_year[2026]["service_costs_count"] is False


def test_operator_adds_a_year_without_a_code_change(client, region):
    created = client.put(f"/v1/limits/{NEW_YEAR}", json=LIMITS_NEW_YEAR, headers=OPERATOR)
    assert created.status_code == 201, created.text
    replaced = client.put(
        f"/v1/limits/{NEW_YEAR}", json={**LIMITS_NEW_YEAR, "low_cap": "741.50"}, headers=OPERATOR
    )
    assert replaced.status_code == 200
    read = client.get(f"/v1/limits/{NEW_YEAR}", headers=region.chair.headers)
    assert read.json()["low_cap"] == 741.5


def test_organisations_cannot_change_limits(client, region):
    response = client.put(
        f"/v1/limits/{NEW_YEAR}", json=LIMITS_NEW_YEAR, headers=region.chair.headers
    )
    assert response.status_code == 403


def test_unknown_year_is_404_with_a_hint(client, region):
    response = client.get(f"/v1/limits/{NEW_YEAR}", headers=region.chair.headers)
    assert response.status_code == 404
    assert f"PUT /v1/limits/{NEW_YEAR}" in response.json()["detail"]


def test_limits_with_three_decimals_are_refused_per_field(client):
    response = client.put(
        f"/v1/limits/{NEW_YEAR}", json={**LIMITS_NEW_YEAR, "low_cap": "740.001"}, headers=OPERATOR
    )
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalidParams"]] == ["low_cap"]
