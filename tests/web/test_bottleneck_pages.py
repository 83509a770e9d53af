"""The agenda's 'Knelpunten': per reason the blocked cases that waiving that reason alone would
give a dwelling. A case with two dwellings, each failing it on another single reason, counts
under both, so the figures may add up to more than the blocked cases; the page, its CSV and the
monitor say so rather than that each case is blocked "alleen door deze reden"."""

from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import signed_in


def test_a_case_blocked_two_ways_counts_under_both_reasons_and_the_page_says_it_may(
    app, client, region, chair
):
    create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation, rooms=6)  # too big for the household
    create_vacancy(client, region.corporation, available_from=iso(91))  # beyond the horizon
    meeting = plan_meeting(client, region, iso(7))
    url = f"/vergaderingen/{meeting['id']}"
    page = signed_in(app, chair).get(url).text
    section = page[page.index('id="knelpunten"') :].split("</section>", 1)[0]
    assert "1 dossier zonder passende woning" in section
    counts = [
        int(row.split('<td class="num">', 1)[1].split("<", 1)[0])
        for row in section.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    ]
    assert counts == [1, 1]  # one case, under two reasons: 2 against 1
    assert "alleen door deze reden" not in section and "Alleen hierdoor" not in section
    assert "een dossier kan bij meer dan één reden meetellen" in section
    csv = signed_in(app, chair).get(url + "/agenda.csv").content.decode("utf-8-sig")
    assert "alleen door deze reden" not in csv and "Alleen hierdoor" not in csv
