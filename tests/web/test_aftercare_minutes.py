"""The minutes (page, CSV, PDF) carry the agenda's aftercare section as it stood for the meeting:
due and overdue checkpoints, signals and overdue transfers, cut to each organisation's share."""

import csv
import io

from tests.aftercare.housing import access_log, ensure_limits, house, record_signals
from tests.clock import iso
from tests.monitor.history import publish_on
from tests.web.conftest import make_person, signed_in


def nazorg_rows(browser, meeting_id: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = browser.get(f"/vergaderingen/{meeting_id}/besluitenlijst.csv")
    assert response.status_code == 200, response.text
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
    return [r for r in rows if r and r[0] == "nazorg"]


def test_the_minutes_keep_the_aftercare_section_of_the_published_agenda(
    app, client, region, housed
):
    mine, theirs = housed
    record_signals(client, region, mine)  # 3 months: rent arrears, needs the table, no support
    late = client.patch(
        f"/v1/cases/{mine}/tenancy",
        json={"transfer_planned_on": iso(-5)},
        headers=region.corporation.headers,
    )
    assert late.status_code == 200, late.text
    meeting_id = publish_on(client, region, iso(7))

    chair = signed_in(app, make_person(client, region.chair, "chair"))
    rows = nazorg_rows(chair, meeting_id)
    assert {r[1] for r in rows} == {mine, theirs}
    assert sorted(r[3] for r in rows if r[1] == mine) == [
        "Nazorgcontrole na 6 maanden",
        "Omklap over tijd",
        "Signaal na 3 maanden",
    ]
    [signal] = [r for r in rows if r[3] == "Signaal na 3 maanden"]
    assert "Moet terug naar de tafel" in signal[8] and "Signaal huurachterstand" in signal[8]
    page = chair.get(f"/vergaderingen/{meeting_id}/besluitenlijst").text
    assert "Nazorg: controles, signalen en omklap" in page and "Omklap over tijd" in page

    # What happens after publication is not what the table discussed: the minutes keep it out.
    later = client.post(
        f"/v1/cases/{theirs}/checkpoints",
        json={"months": 3, "still_living_there": True, "support_active": True,
              "signals": ["nuisance"]},
        headers=region.other_care_provider.headers,
    )  # fmt: skip
    assert later.status_code == 201, later.text
    assert nazorg_rows(chair, meeting_id) == rows

    provider = signed_in(app, make_person(client, region.other_care_provider))
    assert {r[1] for r in nazorg_rows(provider, meeting_id)} == {theirs}
    landlord_person = make_person(client, region.corporation)
    landlord = nazorg_rows(signed_in(app, landlord_person), meeting_id)
    assert sorted(r[3] for r in landlord) == ["Omklap over tijd", "Signaal na 3 maanden"]
    assert all(r[1] == mine for r in landlord)
    [landlord_signal] = [r for r in landlord if r[3].startswith("Signaal")]
    assert landlord_signal[8] == "Signaal huurachterstand"  # nothing of the support
    assert not any(r[10] for r in landlord)  # no care provider named
    shown = {
        e["case_id"]
        for e in access_log(client, region)
        if e["person_id"] == landlord_person.id and e["action"] == "aftercare"
    }
    assert shown == {mine}


def test_draft_minutes_show_the_aftercare_due_by_the_meeting(app, client, region):
    ensure_limits(client, 260)
    mine = house(client, region, -120)["id"]
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(3)},
        headers=region.chair.headers,
    ).json()
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    rows = nazorg_rows(chair, meeting["id"])
    assert [(r[1], r[3]) for r in rows] == [(mine, "Nazorgcontrole na 3 maanden")]
    assert rows[0][6] == "ja"  # overdue


def test_the_agenda_shows_each_organisation_its_share_of_the_aftercare(app, client, region, housed):
    mine, theirs = housed
    record_signals(client, region, mine)
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": iso(7)},
        headers=region.chair.headers,
    ).json()

    def agenda_rows(org):  # type: ignore[no-untyped-def]
        browser = signed_in(app, make_person(client, org))
        page = browser.get(f"/vergaderingen/{meeting['id']}")
        assert page.status_code == 200, page.text
        assert "Nazorg: controles, signalen en omklap" in page.text
        response = browser.get(f"/vergaderingen/{meeting['id']}/agenda.csv")
        rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        return [r for r in rows if r and r[0] == "nazorg"]

    assert {r[1] for r in agenda_rows(region.chair)} == {mine, theirs}
    assert {r[1] for r in agenda_rows(region.care_provider)} == {mine}
    landlord = agenda_rows(region.corporation)
    assert [(r[1], r[3], r[8]) for r in landlord] == [
        (mine, "Signaal na 3 maanden", "Signaal huurachterstand")
    ]
    assert agenda_rows(region.other_corporation) == []


def test_the_minutes_api_carries_the_same_aftercare_section_cut_per_view(client, region, housed):
    mine, theirs = housed
    record_signals(client, region, mine)
    meeting_id = publish_on(client, region, iso(7))

    def aftercare(org):  # type: ignore[no-untyped-def]
        response = client.get(f"/v1/meetings/{meeting_id}/minutes", headers=org.headers)
        assert response.status_code == 200, response.text
        return response.json()["aftercare"]

    table = aftercare(region.chair)
    assert {e["case_id"] for e in table} == {mine, theirs}
    assert {e["case_id"] for e in aftercare(region.other_care_provider)} == {theirs}
    landlord = aftercare(region.corporation)
    assert [(e["case_id"], e["kind"]) for e in landlord] == [(mine, "signal")]
    agenda = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=region.chair.headers)
    assert table == agenda.json()["aftercare"]
