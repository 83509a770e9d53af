"""The weekly agenda through the API: rules applied, one-to-one proposal, views per role."""

import json

import pytest

from tests.api.helpers import assert_problem, assign_action, plan_meeting, publish_one_proposal
from tests.clock import iso
from tests.conftest import OPERATOR, create_case, create_vacancy, make_org, make_table

MEETING = iso()
# The legal limits are facts of their year: tests of those figures meet on a date in 2026, and
# their cases and dwellings carry dates relative to that meeting, not to today.
IN_2026 = "2026-11-30"
READY_IN_2026 = {"ready_since": "2025-03-01", "registration_date": "2022-01-15"}
OFFERED_IN_2026 = {"available_from": "2026-12-01", "respond_before": "2026-11-30"}


def agenda(client, org, table_id, **params):
    response = client.get(
        f"/v1/tables/{table_id}/agenda", params={"date": MEETING, **params}, headers=org.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def why_not(client, org, table_id, case_id, vacancy_id, meeting=MEETING):
    return client.get(
        f"/v1/tables/{table_id}/why-not",
        params={"caseId": case_id, "vacancyId": vacancy_id, "date": meeting},
        headers=org.headers,
    )


@pytest.fixture
def meeting(client, region):
    """A meeting on MEETING: the parties see the live agenda on the table's meeting dates only."""
    return plan_meeting(client, region, MEETING)


@pytest.fixture
def market(client, region):
    """Two cases of each care provider and two dwellings of each corporation, all matching."""
    cases = [
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-1055)),
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-547)),
        create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-943)),
        create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-302)),
    ]
    vacancies = [
        create_vacancy(client, region.corporation, complex_ref="A"),
        create_vacancy(client, region.corporation, complex_ref="B"),
        create_vacancy(client, region.other_corporation, complex_ref="C"),
    ]
    return cases, vacancies


def test_chair_sees_a_one_to_one_proposal_housing_as_many_as_there_are_dwellings(
    client, region, market
):
    document = agenda(client, region.chair, region.table_id)
    assert document["view"] == "table"
    proposals = document["proposals"]
    assert len(proposals) == 3
    assert len({p["case_id"] for p in proposals}) == 3
    assert len({p["vacancy_id"] for p in proposals}) == 3
    assert document["summary"]["people_housed"] == 3
    assert document["summary"]["ready_cases"] == 4


def test_waiting_time_decides_who_is_left_out_when_dwellings_are_scarce(client, region, market):
    cases, _ = market
    document = agenda(client, region.chair, region.table_id)
    proposed = {p["case_id"] for p in document["proposals"]}
    youngest_wait = cases[3]["id"]
    assert proposed == {c["id"] for c in cases} - {youngest_wait}


def test_every_score_has_named_components_that_add_up(client, region, market):
    document = agenda(client, region.chair, region.table_id)
    for proposal in document["proposals"]:
        names = [c["name"] for c in proposal["components"]]
        assert "waiting_time" in names and "rent_headroom" in names
        assert sum(c["points"] for c in proposal["components"]) == pytest.approx(
            proposal["score"], abs=1e-3
        )


def test_every_proposed_pair_is_feasible_by_the_why_not_answer(client, region, market):
    document = agenda(client, region.chair, region.table_id)
    for proposal in document["proposals"]:
        answer = why_not(
            client, region.chair, region.table_id, proposal["case_id"], proposal["vacancy_id"]
        )
        assert answer.status_code == 200
        assert answer.json()["feasible"] is True
        assert answer.json()["reasons"] == []


def test_why_not_names_every_failing_rule_with_its_figures(client, region):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        **{**READY_IN_2026, "registration_date": "2025-10-01"},
        needs={"wheelchair": True, "step_free": False, "max_floor": None, "pets": True},
    )
    vacancy = create_vacancy(
        client,
        region.corporation,
        contingent=False,
        pets_allowed=False,
        rent={"base": "713.03", "eligible_service_costs": "0"},
        **OFFERED_IN_2026,
    )
    answer = why_not(
        client, region.chair, region.table_id, case["id"], vacancy["id"], IN_2026
    ).json()
    codes = {r["code"] for r in answer["reasons"]}
    assert codes == {
        "rent_above_cap",
        "not_wheelchair_accessible",
        "pets_not_allowed",
        "registration_too_short",
    }
    rent = next(r for r in answer["reasons"] if r["code"] == "rent_above_cap")
    assert rent["detail"]["cap"] == "713.02"
    assert answer["feasible"] is False and answer["score"] is None


def test_rent_exactly_at_the_low_cap_is_feasible_in_2026(client, region):
    case = create_case(client, region.care_provider, region.table_id, **READY_IN_2026)
    vacancy = create_vacancy(
        client,
        region.corporation,
        rent={"base": "713.02", "eligible_service_costs": "40.00"},
        **OFFERED_IN_2026,
    )
    answer = why_not(
        client, region.chair, region.table_id, case["id"], vacancy["id"], IN_2026
    ).json()
    assert answer["feasible"] is True


def test_blocked_cases_show_the_reason_that_alone_blocks_them(client, region):
    create_vacancy(client, region.corporation)
    blocked = create_case(
        client, region.care_provider, region.table_id, beschikking={"status": "none"}
    )
    document = agenda(client, region.chair, region.table_id)
    entry = next(
        b for b in document["bottlenecks"]["blocked_cases"] if b["case_id"] == blocked["id"]
    )
    assert entry["unblocked_by"] == ["beschikking_missing"]
    by_reason = {r["code"]: r for r in document["bottlenecks"]["by_reason"]}
    assert by_reason["beschikking_missing"]["cases_blocked_only_by"] == 1


def test_vacancy_without_candidates_is_listed_with_its_reasons(client, region):
    create_case(client, region.care_provider, region.table_id)
    too_big = create_vacancy(client, region.corporation, rooms=6)
    document = agenda(client, region.chair, region.table_id)
    listed = {v["vacancy_id"]: v for v in document["vacancies_without_candidates"]}
    assert listed[too_big["id"]]["excluded_counts"] == {"size_mismatch": 1}


def test_policy_change_by_the_chair_changes_the_agenda(client, region):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, available_from=iso(91))  # beyond 56 days
    assert agenda(client, region.chair, region.table_id)["summary"]["people_housed"] == 0
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"horizon_days": 120}},
        headers=region.chair.headers,
    )
    assert response.status_code == 200
    document = agenda(client, region.chair, region.table_id)
    assert document["summary"]["people_housed"] == 1
    assert document["policy"]["horizon_days"] == 120


def test_agenda_records_the_limits_of_the_meeting_year(client, region):
    document = agenda(client, region.chair, region.table_id, date=IN_2026)
    assert document["limits"]["year"] == 2026
    assert document["limits"]["low_cap"] == 713.02


@pytest.mark.usefixtures("meeting")
def test_care_provider_sees_only_its_own_cases(client, region, market):
    cases, _ = market
    own = {c["id"] for c in cases if c["care_provider_id"] == region.care_provider.id}
    document = agenda(client, region.care_provider, region.table_id)
    assert document["view"] == "care_provider"
    assert {p["case_id"] for p in document["proposals"]} <= own
    assert {e["case_id"] for e in document["candidates_by_case"]} == own
    assert {w["case_id"] for w in document["longest_waiting"]} == own
    assert "candidates_by_vacancy" not in document
    assert "vacancies_without_candidates" not in document


@pytest.mark.usefixtures("meeting")
def test_corporation_sees_only_proposals_for_its_dwellings_without_case_details(
    client, region, market
):
    _, vacancies = market
    own = {v["id"] for v in vacancies if v["corporation_id"] == region.corporation.id}
    document = agenda(client, region.corporation, region.table_id)
    assert document["view"] == "housing_corporation"
    assert document["proposals"]
    assert {p["vacancy_id"] for p in document["proposals"]} <= own
    assert all(set(p) == {"case_id", "vacancy_id"} for p in document["proposals"])
    for absent in ("candidates_by_case", "bottlenecks", "left_unhoused", "longest_waiting"):
        assert absent not in document
    assert {e["vacancy_id"] for e in document["candidates_by_vacancy"]} == own
    assert {v["id"] for v in document["vacancies"]} <= own


def test_corporation_may_not_ask_why_not(client, region, market):
    cases, vacancies = market
    response = why_not(
        client, region.corporation, region.table_id, cases[0]["id"], vacancies[0]["id"]
    )
    assert_problem(response, 403)


@pytest.mark.usefixtures("meeting")
def test_care_provider_asks_why_not_only_for_its_own_cases(client, region, market):
    cases, vacancies = market
    foreign = next(c for c in cases if c["care_provider_id"] != region.care_provider.id)
    response = why_not(
        client, region.care_provider, region.table_id, foreign["id"], vacancies[0]["id"]
    )
    assert_problem(response, 404)


def test_agenda_of_another_table_is_404(client, region, other_region, market):
    response = client.get(
        f"/v1/tables/{region.table_id}/agenda", headers=other_region.chair.headers
    )
    assert_problem(response, 404)


def test_operator_cannot_read_the_agenda(client, region, market):
    response = client.get(f"/v1/tables/{region.table_id}/agenda", headers=OPERATOR)
    assert_problem(response, 403)


@pytest.mark.usefixtures("meeting")
def test_reading_the_agenda_is_in_the_access_log(client, region, market):
    cases, _ = market
    agenda(client, region.care_provider, region.table_id)
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log", headers=region.chair.headers
    ).json()["items"]
    logged = {e["case_id"] for e in log if e["action"] == "agenda"}
    assert logged == {c["id"] for c in cases if c["care_provider_id"] == region.care_provider.id}


def test_cases_on_hold_and_not_yet_ready_are_not_matched(client, region):
    create_vacancy(client, region.corporation)
    later = create_case(client, region.care_provider, region.table_id, ready_since=iso(32))
    held = create_case(client, region.care_provider, region.table_id)
    client.patch(
        f"/v1/cases/{held['id']}",
        json={"status": "on_hold", "status_reason": "client_request"},
        headers=region.care_provider.headers,
    )
    document = agenda(client, region.chair, region.table_id)
    assert document["summary"]["ready_cases"] == 0
    assert later["id"] not in {e["case_id"] for e in document["candidates_by_case"]}


def test_spread_cap_per_complex_limits_proposals_in_one_building(client, region):
    for _ in range(3):
        create_case(client, region.care_provider, region.table_id)
    for _ in range(3):
        create_vacancy(client, region.corporation, complex_ref="TOREN")
    document = agenda(client, region.chair, region.table_id)
    assert document["summary"]["people_housed"] == 2  # default max_per_complex


def test_a_member_of_another_kind_in_another_table_cannot_use_a_foreign_case(
    client, region, other_region
):
    case = create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, other_region.corporation, municipality_code="GM0363")
    response = why_not(client, region.chair, region.table_id, case["id"], vacancy["id"])
    assert_problem(response, 404)


def test_chair_of_another_kind_gets_the_table_view(client):
    care_chair = make_org(client, "care_provider")
    corporation = make_org(client, "housing_corporation")
    table_id = make_table(client, care_chair, [corporation], ["GM0518"])
    response = client.get(
        f"/v1/tables/{table_id}/agenda", params={"date": MEETING}, headers=care_chair.headers
    )
    assert response.json()["view"] == "table"


@pytest.mark.usefixtures("meeting")
@pytest.mark.parametrize("viewer", ["chair", "care_provider", "corporation"])
def test_agenda_response_matches_the_documented_schema(client, region, market, viewer):
    from app.agenda.models import AGENDA

    document = agenda(client, getattr(region, viewer), region.table_id)
    assert AGENDA.validate_python(document).view.value == document["view"]


def test_the_table_view_is_written_exactly_as_its_model_would_write_it(client, region):
    # The table's view is serialised without validating it first (app.agenda.routes.serialise):
    # it must already be in its model's exact shape, open proposals and actions included.
    from app.agenda.models import AGENDA

    publish_one_proposal(client, region)
    create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-400))
    create_vacancy(client, region.other_corporation, complex_ref="C")
    create_case(client, region.care_provider, region.table_id, beschikking={"status": "none"})
    assert assign_action(client, region, region.corporation, None).status_code == 201
    document = agenda(client, region.chair, region.table_id)
    assert document["open_proposals"] and document["open_actions"]
    assert document["proposals"] and document["bottlenecks"]["blocked_cases"]
    assert json.loads(AGENDA.dump_json(AGENDA.validate_python(document))) == document


def test_a_dwelling_past_its_response_date_is_still_matched_until_withdrawn(client, region):
    create_case(client, region.care_provider, region.table_id)
    vacancy = create_vacancy(client, region.corporation, respond_before=iso(-29))
    assert agenda(client, region.chair, region.table_id)["summary"]["people_housed"] == 1
    client.delete(f"/v1/vacancies/{vacancy['id']}", headers=region.corporation.headers)
    assert agenda(client, region.chair, region.table_id)["summary"]["vacancies"] == 0


def straddling_complex(client, region):
    """Six cases and six dwellings, three in each of two neighbourhoods: complex STRADDLE has
    two in the first and three in the second, complex NEXTDOOR the first neighbourhood's third.
    The complex cap (2) and the first neighbourhood's cap (set to 2) cross (the complex spans
    both neighbourhoods, the neighbourhood holds two complexes, and neither cap implies the
    other), so the solver must prove how the complex's room is split; at most three are housed.
    Intensive-support cases prefer the dwelling with a complex manager, the others the cheaper
    ones, so every dwelling is someone's best."""
    response = client.patch(
        f"/v1/tables/{region.table_id}",
        json={"policy": {"max_per_neighbourhood": 2}},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    for n in range(6):
        support = {"intensity": "intensive" if n % 2 else "light", "needs_complex_manager": False}
        create_case(
            client,
            region.care_provider,
            region.table_id,
            ready_since=iso(-700 + 30 * n),  # a month apart, two years ago
            support=support,
        )
    for n in range(6):
        address = {
            "street": "Kastanjelaan",
            "house_number": str(n + 1),
            "postcode": "3512AB",
            "municipality_code": "GM0344",
            "neighbourhood_code": "BU03440101" if n < 3 else "BU03440102",
        }
        create_vacancy(
            client,
            region.corporation,
            complex_ref="NEXTDOOR" if n == 0 else "STRADDLE",
            address=address,
            complex_manager=n % 3 == 2,
            rent={"base": f"{600 + 10 * n}.00", "eligible_service_costs": "0.00"},
        )


def test_a_straddling_complex_is_solved_exactly_within_the_budget(client, region):
    straddling_complex(client, region)
    summary = agenda(client, region.chair, region.table_id)["summary"]
    assert summary["people_housed"] == 3  # the complex cap (2) and NEXTDOOR's dwelling
    assert summary["solver"] != "assignment"  # the caps do not nest
    assert summary["optimal"] is True
    assert summary["optimality"] is None


@pytest.mark.usefixtures("meeting")
@pytest.mark.settings(solver_time_budget_seconds=0.000000001)
def test_a_budget_run_out_gives_a_feasible_agenda_flagged_not_proven_optimal(client, region):
    straddling_complex(client, region)
    document = agenda(client, region.chair, region.table_id)
    summary = document["summary"]
    assert summary["optimal"] is False
    assert summary["optimality"]["reason"] == "time_budget"
    housed = summary["people_housed"]
    proposals = document["proposals"]
    assert housed == len(proposals) == len({p["case_id"] for p in proposals})
    assert housed <= summary["optimality"]["people_housed_bound"]
    assert summary["passed_over_complete"] is False
    assert len({p["vacancy_id"] for p in document["proposals"]}) == housed
    corporation = agenda(client, region.corporation, region.table_id)["summary"]
    assert corporation["optimal"] is False
    assert "score_bound" not in corporation["optimality"]


def test_a_party_without_a_planned_meeting_is_told_to_ask_the_chair(client, region):
    for org in (region.care_provider, region.corporation):
        response = client.get(f"/v1/tables/{region.table_id}/agenda", headers=org.headers)
        assert "no meeting planned" in assert_problem(response, 404, "not_found")["detail"]
