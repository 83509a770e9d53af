"""Yearly limits are data: shipped with their source, a new year is a PUT or a data-file entry,
never a code change. The DAEB rent limit says what it is; its old name still works in v1."""

import pytest

from app.limits.data import aow_age_in_year, shipped_limits
from tests.api.helpers import assert_problem, invalid_names
from tests.clock import TODAY
from tests.conftest import OPERATOR, generated_contract

NEW_YEAR_FIGURES = {
    "low_cap": "740.00",
    "high_cap": "793.00",
    "daeb_rent_limit": "967.00",
    "income_limit_single": "30400",
    "income_limit_multi": "41300",
    "income_limit_single_pension": "29800",
    "income_limit_multi_pension": "40000",
    "daeb_income_limit_single": "53300",
    "daeb_income_limit_multi": "58800",
    "service_costs_count": False,
    "service_costs_max": None,
    "source": "test figures, not published ones",
}


def limits_list(client, org) -> dict:
    response = client.get("/v1/limits", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()


def a_year_without_limits(client, org) -> int:
    """The first year after the latest known one (derived from the data, so that a newly
    shipped year does not break the test)."""
    return max(item["year"] for item in limits_list(client, org)["items"]) + 1


def test_the_shipped_years_are_in_the_database_with_their_source(client, region):
    by_year = {item["year"]: item for item in limits_list(client, region.care_provider)["items"]}
    for shipped in shipped_limits():
        item = by_year[shipped.year]
        assert item["origin"] == "data_file"
        assert item["source"] == shipped.source
        assert item["daeb_rent_limit"] == float(shipped.figures["daeb_rent_limit"])
        assert item["low_cap"] == float(shipped.figures["low_cap"])


def test_each_year_shows_the_aow_age_of_those_who_reach_it_that_year(client, region):
    for item in limits_list(client, region.care_provider)["items"]:
        aow = aow_age_in_year(item["year"])
        assert item["aow_age"] == ({"years": aow[0], "months": aow[1]} if aow else None)
        assert item["pension_age"] == (aow[0] if aow else None)


def test_operator_adds_a_year_without_a_code_change(client, region):
    year = a_year_without_limits(client, region.chair)
    created = client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    assert created.status_code == 201, created.text
    assert created.json()["origin"] == "operator"
    assert created.json()["source"] == "test figures, not published ones"
    replaced = client.put(
        f"/v1/limits/{year}", json={**NEW_YEAR_FIGURES, "low_cap": "741.50"}, headers=OPERATOR
    )
    assert replaced.status_code == 200
    read = client.get(f"/v1/limits/{year}", headers=region.chair.headers)
    assert read.json()["low_cap"] == 741.5


def test_the_daeb_rent_limit_is_also_readable_under_its_deprecated_name(client, region):
    for item in limits_list(client, region.chair)["items"]:
        assert item["liberalisation_limit"] == item["daeb_rent_limit"]


def test_the_deprecated_name_alone_still_writes_the_daeb_rent_limit(client, region):
    year = a_year_without_limits(client, region.chair)
    body = {k: v for k, v in NEW_YEAR_FIGURES.items() if k != "daeb_rent_limit"}
    response = client.put(
        f"/v1/limits/{year}", json={**body, "liberalisation_limit": "967.00"}, headers=OPERATOR
    )
    assert response.status_code == 201, response.text
    assert response.json()["daeb_rent_limit"] == 967.0
    assert response.json()["liberalisation_limit"] == 967.0


def test_both_names_with_the_same_value_are_accepted(client, region):
    year = a_year_without_limits(client, region.chair)
    body = {**NEW_YEAR_FIGURES, "liberalisation_limit": 967}
    assert client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR).status_code == 201


def test_both_names_with_different_values_are_refused(client, region):
    year = a_year_without_limits(client, region.chair)
    body = {**NEW_YEAR_FIGURES, "liberalisation_limit": "967.01"}
    response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["liberalisation_limit"]
    assert response.json()["invalidParams"][0]["code"] == "conflicting_alias"
    assert client.get(f"/v1/limits/{year}", headers=region.chair.headers).status_code == 404


def test_neither_name_of_the_daeb_rent_limit_is_refused(client, region):
    year = a_year_without_limits(client, region.chair)
    body = {k: v for k, v in NEW_YEAR_FIGURES.items() if k != "daeb_rent_limit"}
    response = client.put(f"/v1/limits/{year}", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["daeb_rent_limit"]


def test_the_old_names_are_marked_deprecated_in_the_contract():
    schemas = generated_contract()["components"]["schemas"]
    for schema in ("YearLimitsFields", "YearLimitsPublic"):
        properties = schemas[schema]["properties"]
        assert properties["liberalisation_limit"]["deprecated"] is True
        assert properties["pension_age"]["deprecated"] is True
        assert "deprecated" not in properties["daeb_rent_limit"]


def test_a_deprecated_pension_age_is_accepted_only_when_it_matches_the_aow_table(client, region):
    year = a_year_without_limits(client, region.chair)
    aow = aow_age_in_year(year)
    if aow is not None:
        matching = {**NEW_YEAR_FIGURES, "pension_age": aow[0]}
        assert client.put(f"/v1/limits/{year}", json=matching, headers=OPERATOR).status_code == 201
    wrong = {**NEW_YEAR_FIGURES, "pension_age": 66}
    response = client.put(f"/v1/limits/{year}", json=wrong, headers=OPERATOR)
    assert invalid_names(response) == ["pension_age"]


def test_a_years_number_or_yes_no_of_another_json_type_is_400(client, region):
    # As a case file's: pydantic's lax mode stored "service_costs_count": "false" as false and
    # took "pension_age": "67" as 67, a mapping error taken for the law's figures.
    year = a_year_without_limits(client, region.chair)
    lax = {**NEW_YEAR_FIGURES, "service_costs_count": "true", "pension_age": "67"}
    response = client.put(f"/v1/limits/{year}", json=lax, headers=OPERATOR)
    assert sorted(invalid_names(response)) == ["pension_age", "service_costs_count"]
    assert_problem(client.get(f"/v1/limits/{year}", headers=OPERATOR), 404)
    figures = {**NEW_YEAR_FIGURES, "service_costs_count": True}
    if (aow := aow_age_in_year(year)) is not None:
        figures["pension_age"] = aow[0]
    created = client.put(f"/v1/limits/{year}", json=figures, headers=OPERATOR)
    assert created.status_code == 201, created.text
    assert created.json()["service_costs_count"] is True


def test_the_list_names_every_year_up_to_next_year_without_limits(client, region):
    body = limits_list(client, region.chair)
    known = sorted(item["year"] for item in body["items"])
    expected = [y for y in range(known[0], TODAY.year + 2) if y not in known]
    assert [m["year"] for m in body["missing_years"]] == expected
    for missing in body["missing_years"]:
        assert missing["falls_back_to"] == max(y for y in known if y < missing["year"])


def test_a_year_added_by_the_operator_is_no_longer_missing(client, region):
    year = a_year_without_limits(client, region.chair)
    client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    missing = [m["year"] for m in limits_list(client, region.chair)["missing_years"]]
    assert year not in missing


def test_organisations_cannot_change_limits(client, region):
    year = a_year_without_limits(client, region.chair)
    response = client.put(f"/v1/limits/{year}", json=NEW_YEAR_FIGURES, headers=region.chair.headers)
    assert response.status_code == 403


def test_unknown_year_is_404_with_a_hint(client, region):
    year = a_year_without_limits(client, region.chair) + 3
    response = client.get(f"/v1/limits/{year}", headers=region.chair.headers)
    body = assert_problem(response, 404)
    assert f"PUT /v1/limits/{year}" in body["detail"]


def test_limits_with_three_decimals_are_refused_per_field(client, region):
    year = a_year_without_limits(client, region.chair)
    response = client.put(
        f"/v1/limits/{year}", json={**NEW_YEAR_FIGURES, "low_cap": "740.001"}, headers=OPERATOR
    )
    assert invalid_names(response) == ["low_cap"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"low_cap": "800.00"}, "high_cap"),  # above the high cap (793.00)
        ({"high_cap": "1000.00"}, "daeb_rent_limit"),  # above the huurtoeslag limit (967.00)
        ({"income_limit_multi": "1"}, "income_limit_multi"),
        ({"daeb_income_limit_single": "60000"}, "daeb_income_limit_multi"),
        (  # the passend-toewijzen row and the DAEB row of the notice typed in each other's place
            {
                "income_limit_single": "53300",
                "income_limit_multi": "58800",
                "daeb_income_limit_single": "30400",
                "daeb_income_limit_multi": "41300",
            },
            "daeb_income_limit_single",
        ),
        ({"income_limit_multi_pension": "60000"}, "daeb_income_limit_multi"),
    ],
    ids=[
        "low-above-high",
        "high-above-daeb",
        "multi-below-single",
        "daeb-single-above-multi",
        "passend-above-daeb-income",
        "pension-above-daeb-income",
    ],
)
def test_limits_the_law_orders_the_other_way_round_are_refused(client, region, changes, named):
    """A figure typed in the wrong field (a low cap of 2000, a household limit of 1) was stored
    and every agenda of the year used it without a word."""
    year = a_year_without_limits(client, region.chair)
    response = client.put(
        f"/v1/limits/{year}", json={**NEW_YEAR_FIGURES, **changes}, headers=OPERATOR
    )
    assert invalid_names(response) == [named]
    assert response.json()["invalidParams"][0]["code"] == "limits_out_of_order"
    assert client.get(f"/v1/limits/{year}", headers=OPERATOR).status_code == 404


@pytest.mark.parametrize(
    "named",
    ["low_cap", "income_limit_single", "income_limit_single_pension", "daeb_income_limit_single"],
    ids=["low-cap", "income-single", "income-single-pension", "daeb-income-single"],
)
def test_a_legal_limit_of_zero_is_refused(client, region, named):
    """A cap or income limit of 0 (a field cleared in a form, a typo) was stored, and every
    agenda of the year then found no dwelling for the households it applies to, or housed
    none of them under the passend-toewijzen test, without a word."""
    year = a_year_without_limits(client, region.chair)
    response = client.put(
        f"/v1/limits/{year}", json={**NEW_YEAR_FIGURES, named: "0"}, headers=OPERATOR
    )
    assert invalid_names(response) == [named]
    assert response.json()["invalidParams"][0]["code"] == "limit_not_positive"
    assert client.get(f"/v1/limits/{year}", headers=OPERATOR).status_code == 404


def test_a_year_typed_wrong_is_removed_and_no_longer_counts(client, region):
    """A PUT of 2002 for 2026 made every year after 2002 'missing' and gave their agendas its
    figures, for good; the operator removes it again."""
    shipped = min(item["year"] for item in limits_list(client, region.chair)["items"])
    typo = shipped - 20
    put = client.put(f"/v1/limits/{typo}", json=NEW_YEAR_FIGURES, headers=OPERATOR)
    assert put.status_code == 201, put.text
    assert typo + 1 in [m["year"] for m in limits_list(client, region.chair)["missing_years"]]
    stale = client.delete(f"/v1/limits/{typo}", headers={**OPERATOR, "If-Match": '"0"'})
    assert_problem(stale, 412)
    refused = client.delete(f"/v1/limits/{typo}", headers=region.chair.headers)
    assert_problem(refused, 403)
    gone = client.delete(
        f"/v1/limits/{typo}", headers={**OPERATOR, "If-Match": put.headers["ETag"]}
    )
    assert gone.status_code == 204, gone.text
    after = limits_list(client, region.chair)
    assert typo not in [item["year"] for item in after["items"]]
    assert not [m for m in after["missing_years"] if m["year"] < shipped]
    assert_problem(client.delete(f"/v1/limits/{typo}", headers=OPERATOR), 404)


def test_a_shipped_year_is_corrected_not_removed(client, region):
    shipped = min(item["year"] for item in limits_list(client, region.chair)["items"])
    refused = client.delete(f"/v1/limits/{shipped}", headers=OPERATOR)
    assert assert_problem(refused, 409)["code"] == "shipped_limits"
    assert client.get(f"/v1/limits/{shipped}", headers=OPERATOR).status_code == 200


def test_a_shipped_year_the_operator_corrected_is_not_removed_either(client, region):
    """A shipped year the operator had corrected with PUT (origin `operator`) was removed by a
    DELETE: the current year's agendas then used last year's caps and income limits until the
    next start added the shipped figures back."""
    shipped = max(s.year for s in shipped_limits())
    figures = {**shipped_limits()[-1].figures, "source": "operator's correction"}
    corrected = client.put(
        f"/v1/limits/{shipped}",
        json={k: str(v) if not isinstance(v, bool | None) else v for k, v in figures.items()},
        headers=OPERATOR,
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["origin"] == "operator"
    refused = client.delete(f"/v1/limits/{shipped}", headers=OPERATOR)
    assert assert_problem(refused, 409)["code"] == "shipped_limits"
    kept = client.get(f"/v1/limits/{shipped}", headers=OPERATOR)
    assert kept.status_code == 200
    assert kept.json()["source"] == "operator's correction"
    assert shipped not in [m["year"] for m in limits_list(client, region.chair)["missing_years"]]


def test_a_year_put_without_its_source_is_refused(client):
    """Yearly limits live in data with their source: a PUT without one stored figures nobody
    could check, and replaced the source a year had."""
    body = {k: v for k, v in NEW_YEAR_FIGURES.items() if k != "source"}
    response = client.put("/v1/limits/2031", json=body, headers=OPERATOR)
    assert invalid_names(response) == ["source"]
    assert client.get("/v1/limits/2031", headers=OPERATOR).status_code == 404
