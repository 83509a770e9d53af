"""Pages of a meeting whose agenda was frozen before today's document shape read it as the API
does (`app.agenda.document.upgrade_frozen`), not as a 500."""

from tests.api.helpers import freeze_in_the_old_shape
from tests.web.conftest import make_person, signed_in


def test_the_why_not_page_of_an_agenda_frozen_in_the_old_shape_opens_for_a_care_provider(
    app, client, region, published, session
):
    freeze_in_the_old_shape(session, published.meeting_id)
    provider = signed_in(app, make_person(client, region.care_provider))
    page = provider.get(
        f"/vergaderingen/{published.meeting_id}/waarom-niet",
        params={"dossier": published.case_id, "woning": published.vacancy_id},
    )
    assert page.status_code == 200, page.text[:500]
