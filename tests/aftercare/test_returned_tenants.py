"""A housed client who comes back to the table (a returning client's case names the housed one)
while nobody recorded the end of the tenancy: the table is asked to record it, and the landlord
does not learn of the return."""

from tests.aftercare.housing import house
from tests.aftercare.test_follow_up import agenda
from tests.aftercare.test_tenancy import end
from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import create_case, seed_org, seed_table
from tests.web.conftest import make_person, signed_in


def _returned(client, region, org, date):  # type: ignore[no-untyped-def]
    entries = agenda(client, region, org, date)
    return [(e["case_id"], e["due_on"], e["overdue"]) for e in entries if e["kind"] == "returned"]


def test_a_tenancy_whose_tenant_returned_stays_on_the_agenda_until_it_is_ended(
    app, client, region, session
):
    housed = house(client, region, -100)
    returned = create_case(
        client,
        region.care_provider,
        region.table_id,
        external_ref=housed["external_ref"],
        previous_case_id=housed["id"],
        areas={"preferred": [], "excluded": []},
    )
    meeting = plan_meeting(client, region, iso(7))
    asked = [(housed["id"], iso(0), False)]
    for org in (region.chair, region.care_provider):
        assert _returned(client, region, org, meeting["date"]) == asked, org.name
    # The landlord (and everyone else) is not told that its tenant is back in care.
    for org in (region.corporation, region.other_care_provider, region.other_corporation):
        assert _returned(client, region, org, meeting["date"]) == [], org.name
    # An agenda dated before the return does not ask for it.
    assert _returned(client, region, region.chair, iso(-1)) == []
    # The return moving on to another table leaves the tenancy here to be ended (found by the
    # breaker: the entry went with it, though it names nothing of the new case).
    elsewhere = seed_table(session, region.chair, [region.care_provider], ["GM0518"])
    moved = client.patch(
        f"/v1/cases/{returned['id']}",
        json={"table_id": elsewhere},
        headers=region.care_provider.headers,
    )
    assert moved.status_code == 200, moved.text
    assert _returned(client, region, region.chair, meeting["date"]) == asked
    keeper = signed_in(app, make_person(client, region.care_provider))
    nazorg = f"/dossiers/{housed['id']}/nazorg"
    assert "Cliënt opnieuw aangemeld" in keeper.get(nazorg).text
    landlord = signed_in(app, make_person(client, region.corporation))
    shown = landlord.get(nazorg)
    assert shown.status_code == 200 and "opnieuw aangemeld" not in shown.text
    ended = end(client, region.care_provider, housed["id"], iso(-2), "returned_to_care")
    assert ended.status_code == 200, ended.text
    assert _returned(client, region, region.chair, meeting["date"]) == []
    assert "Cliënt opnieuw aangemeld" not in keeper.get(nazorg).text


def test_a_tenant_back_in_care_at_another_table_is_asked_about_here(client, region, session):
    """Registered straight at another table of the care provider (the client back in another
    region), the return asks the tenancy's table to end the tenancy as one registered here and
    moved on does; the entry names nothing of the new case."""
    housed = house(client, region, -100)
    other_chair = seed_org(session, "municipality")
    elsewhere = seed_table(session, other_chair, [region.care_provider], ["GM0518"])
    create_case(
        client,
        region.care_provider,
        elsewhere,
        external_ref=housed["external_ref"],
        previous_case_id=housed["id"],
        areas={"preferred": [], "excluded": []},
    )
    meeting = plan_meeting(client, region, iso(7))
    for org in (region.chair, region.care_provider):
        assert _returned(client, region, org, meeting["date"]) == [(housed["id"], iso(0), False)]
    for org in (region.corporation, region.other_care_provider, region.other_corporation):
        assert _returned(client, region, org, meeting["date"]) == [], org.name
