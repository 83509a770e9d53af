"""What a corporation reads of the table's proposals carries no ranking (H2), and the case
profile is read only while the proposal is open (H3). Two organisations of each kind."""

import itertools
import uuid
from datetime import datetime
from typing import Any

from tests.api.helpers import me
from tests.api.test_open_proposals import meeting
from tests.clock import iso
from tests.conftest import Org, Region, create_case, create_vacancy, vacancy_body


def proposals_as(client, org: Org, table_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/tables/{table_id}/proposals", headers=org.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def publish_ranked(client, region: Region) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Four like cases; each corporation offers a dear dwelling and then a cheap one, so the
    cheap one (more rent headroom) scores higher though it was registered later."""
    for provider in (region.care_provider, region.other_care_provider):
        for _ in range(2):
            create_case(client, provider, region.table_id, ready_since=iso(-400))
    for corporation in (region.corporation, region.other_corporation):
        create_vacancy(client, corporation, rent={"base": "700.00", "eligible_service_costs": "0"})
        create_vacancy(client, corporation, rent={"base": "450.00", "eligible_service_costs": "0"})
    held = meeting(client, region, -7)
    published = client.post(f"/v1/meetings/{held}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    return proposals_as(client, region.chair, region.table_id)


def test_a_corporations_proposals_do_not_show_the_tables_ranking(client, region):
    ranked = publish_ranked(client, region)
    scores = {p["id"]: p["score"] for p in ranked}
    ranking_differs = False
    for corporation in (region.corporation, region.other_corporation):
        mine = proposals_as(client, corporation, region.table_id)
        assert len(mine) == 2 and all(p["score"] is None for p in mine)
        by_rank = sorted(mine, key=lambda p: -scores[p["id"]])
        by_dwelling = sorted(mine, key=lambda p: p["vacancy_id"])
        ranking_differs |= by_rank != by_dwelling  # the setup ranks against dwelling order
        # The order it is given, the ids' order and the creation times say nothing of the rank:
        # listed by id, ids of one moment with random bits each (in no order at all).
        assert [p["id"] for p in mine] == sorted(p["id"] for p in mine)
        millis = [random_bits(p["id"])[0] for p in mine]
        assert max(millis) - min(millis) <= 1
        assert len({datetime.fromisoformat(p["created_at"]) for p in mine}) == 1
        assert len({datetime.fromisoformat(p["updated_at"]) for p in mine}) == 1
    assert ranking_differs, "the test needs proposals whose rank differs from dwelling order"


def profile(client, org: Org, proposal_id: str):  # type: ignore[no-untyped-def]
    return client.get(f"/v1/proposals/{proposal_id}/case-profile", headers=org.headers)


def test_a_corporation_reads_the_case_profile_only_while_the_proposal_is_open(client, region):
    ranked = publish_ranked(client, region)
    for corporation, other in (
        (region.corporation, region.other_corporation),
        (region.other_corporation, region.corporation),
    ):
        [first, _] = [p for p in ranked if p["corporation_id"] == corporation.id]
        assert profile(client, corporation, first["id"]).status_code == 200
        assert profile(client, other, first["id"]).status_code == 404
        withdrawn = client.post(
            f"/v1/proposals/{first['id']}/decisions",
            json={"decision": "withdraw", "reason": "table_decision"},
            headers=region.chair.headers,
        )
        assert withdrawn.status_code == 200, withdrawn.text
        closed = profile(client, corporation, first["id"])
        assert closed.status_code == 403, closed.text
        assert closed.headers["content-type"].startswith("application/problem+json")
        assert closed.json()["code"] == "proposal_closed"
        assert "household_size" not in closed.text
        assert profile(client, other, first["id"]).status_code == 404
        # The case's own care provider and the chair still read it (they read the whole file).
        provider = next(
            p
            for p in (region.care_provider, region.other_care_provider)
            if p.id == first["care_provider_id"]
        )
        assert profile(client, provider, first["id"]).status_code == 200
        assert profile(client, region.chair, first["id"]).status_code == 200


def test_a_publication_stamps_the_cases_and_dwellings_it_proposes_with_one_moment(client, region):
    """The rows a publication changes were each stamped as they were written, in dwelling order
    (the status changes) or id order (the cases, the dwellings), some microseconds apart: the
    gap between two of a care provider's own cases (or a corporation's own dwellings) then
    counted the other proposals written between them, the number a suppressed people_housed
    hides. They carry the proposals' one created_at."""
    ranked = publish_ranked(client, region)
    [made_at] = {datetime.fromisoformat(p["created_at"]) for p in ranked}
    for provider in (region.care_provider, region.other_care_provider):
        mine = [p for p in ranked if p["care_provider_id"] == provider.id]
        assert mine
        for p in mine:
            case = client.get(f"/v1/cases/{p['case_id']}", headers=provider.headers).json()
            assert datetime.fromisoformat(case["updated_at"]) == made_at
            transitions = client.get(
                f"/v1/cases/{p['case_id']}/transitions", headers=provider.headers
            ).json()["items"]
            proposed = [t for t in transitions if t["to_status"] == "proposed"]
            assert [datetime.fromisoformat(t["at"]) for t in proposed] == [made_at]
    for corporation in (region.corporation, region.other_corporation):
        mine = [p for p in ranked if p["corporation_id"] == corporation.id]
        assert mine
        for p in mine:
            vacancy = client.get(
                f"/v1/vacancies/{p['vacancy_id']}", headers=corporation.headers
            ).json()
            assert datetime.fromisoformat(vacancy["updated_at"]) == made_at


def random_bits(some_id: str) -> tuple[int, int]:
    """A UUIDv7's milliseconds and its 74 random bits (rand_a and rand_b)."""
    value = uuid.UUID(some_id).int
    return value >> 80, ((value >> 64) & 0xFFF) << 62 | value & ((1 << 62) - 1)


def publish_eight(client, region) -> tuple[list[str], list[str]]:
    """Eight proposals published (four cases of each care provider, four dwellings of each
    corporation); their ids and their cases' changes to `proposed`, in the proposals' order."""
    for provider in (region.care_provider, region.other_care_provider):
        for _ in range(4):
            create_case(client, provider, region.table_id, ready_since=iso(-400))
    for i in range(8):
        corporation = (region.corporation, region.other_corporation)[i % 2]
        body = vacancy_body(complex_ref=f"C-{i}")
        body["address"]["neighbourhood_code"] = f"BU034401{i % 2:02d}"
        created = client.post("/v1/vacancies", json=body, headers=corporation.headers)
        assert created.status_code == 201, created.text
    held = meeting(client, region, -7)
    published = client.post(f"/v1/meetings/{held}/publish", headers=region.chair.headers)
    assert published.status_code == 200, published.text
    proposals = proposals_as(client, region.chair, region.table_id)
    assert len(proposals) == 8
    transitions = []
    for p in proposals:
        listed = client.get(
            f"/v1/cases/{p['case_id']}/transitions", headers=region.chair.headers
        ).json()["items"]
        transitions += [t["id"] for t in listed if t["to_status"] == "proposed"]
    return [p["id"] for p in proposals], transitions


def test_a_publications_ids_do_not_count_the_proposals_between_a_viewers_own(client, region):
    """Ids made one after another in one millisecond count on from the last by a random step of
    at most 2**32, so the distance between two of a care provider's own proposals (or status
    changes) counted the other proposals made between them. Each id of a publication has random
    bits of its own: two of them lie that close only by a chance of about 2**-37."""
    for ids in publish_eight(client, region):
        assert len(ids) == 8
        bits = sorted(random_bits(i) for i in ids)
        for (ms, low), (next_ms, high) in itertools.pairwise(bits):
            assert ms != next_ms or high - low > 2**33, "ids counted on from one another"


def test_a_publications_status_changes_take_ids_of_its_moment_not_one_after_another(client, region):
    """Each case's change to `proposed` took its id in a call of its own, and each call starts
    after the last id the process made (`unlinked_uuid7s`): the ids followed the dwelling order,
    each a random step of at most 2**72 after the one before, so the distance between two of a
    care provider's own counted the proposals made between them (about one such step each).
    Made in one call, as the proposals' ids, all lie within 2**72 of the first (one call's
    window; counted on, eight ids lie so close by a chance of 1 in 5040)."""
    proposals, transitions = publish_eight(client, region)
    for ids in (proposals, transitions):
        values = [ms << 74 | bits for ms, bits in map(random_bits, ids)]
        assert max(values) - min(values) < 2**72, "ids counted on from one another"


def test_a_decision_names_its_api_key_only_to_the_organisation_that_took_it(client, region):
    """As an action's history does: the chair's and the care provider's keys were shown to the
    corporation, and the corporation's to the care provider (found by the breaker)."""
    ranked = publish_ranked(client, region)
    proposal = next(p for p in ranked if p["corporation_id"] == region.corporation.id)
    path = f"/v1/proposals/{proposal['id']}"
    provider = next(
        org
        for org in (region.care_provider, region.other_care_provider)
        if org.id == proposal["care_provider_id"]
    )
    taken = [
        (region.chair, {"decision": "nominate"}),
        (region.corporation, {"decision": "corporation_accept"}),
    ]
    for org, body in taken:
        answer = client.post(f"{path}/decisions", json=body, headers=org.headers)
        assert answer.status_code == 200, answer.text
        assert (
            answer.json()["decisions"][-1]["actor_api_key_id"]
            == me(client, org.headers)["api_key_id"]
        )
    keys = {str(org.id): me(client, org.headers)["api_key_id"] for org, _ in taken}
    for reader in (region.chair, region.corporation, provider):
        for read in (
            client.get(path, headers=reader.headers).json(),
            next(
                p
                for p in proposals_as(client, reader, region.table_id)
                if p["id"] == proposal["id"]
            ),
        ):
            shown = {d["actor_organisation_id"]: d["actor_api_key_id"] for d in read["decisions"]}
            assert shown == {
                org: key if org == str(reader.id) else None for org, key in keys.items()
            }, reader
