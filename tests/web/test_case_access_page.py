"""A care worker reads who saw a case file (AVG art. 15): its care provider's people only."""

import pytest

from tests.conftest import create_case
from tests.web.conftest import make_person, signed_in


def test_a_care_worker_sees_who_saw_the_case_file_newest_first(app, client, region):
    case = create_case(client, region.care_provider, region.table_id)
    colleague = make_person(client, region.care_provider)
    chair_person = make_person(client, region.chair, "chair")
    assert signed_in(app, colleague).get(f"/dossiers/{case['id']}").status_code == 200
    assert signed_in(app, chair_person).get(f"/dossiers/{case['id']}").status_code == 200
    worker = signed_in(app, make_person(client, region.care_provider))

    case_page = worker.get(f"/dossiers/{case['id']}").text
    page = worker.get(f"/dossiers/{case['id']}/inzage")

    assert f"/dossiers/{case['id']}/inzage" in case_page
    assert page.status_code == 200, page.text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert len(rows) == 4  # the worker's own visit, the chair's, the colleague's, the creation
    assert "iemand van die organisatie" in rows[1]  # the chair's person is not named here
    assert f"Chair van {region.chair.name}" not in page.text
    assert f"Member van {region.care_provider.name}" in rows[2] and "bekeken" in rows[2]
    assert "aangemaakt" in rows[3] and "een systeem (API-sleutel)" in rows[3]


@pytest.mark.parametrize(
    ("org", "status"),
    [("other_care_provider", 404), ("chair", 403), ("municipality", 403), ("corporation", 404)],
)
def test_no_one_but_the_care_provider_reads_who_saw_the_file(app, client, region, org, status):
    case = create_case(client, region.care_provider, region.table_id)
    browser = signed_in(app, make_person(client, getattr(region, org)))
    response = browser.get(f"/dossiers/{case['id']}/inzage")
    assert response.status_code == status
    assert "aangemaakt" not in response.text
    other_page = browser.get(f"/dossiers/{case['id']}").text if status == 403 else ""
    assert "/inzage" not in other_page
