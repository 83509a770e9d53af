"""The agenda's 'Woningen zonder kandidaat' rows leave no cell blank: a blank read as nothing
being in the way, where no single rule would open the dwelling, or the corporation's view
holds no counts."""

from tests.api.helpers import plan_meeting
from tests.clock import iso
from tests.conftest import create_vacancy
from tests.web.conftest import make_person, signed_in


def _row(page: str, ref: str) -> str:
    section = page.split("<h3>Woningen zonder kandidaat</h3>", 1)[1].split("</table>", 1)[0]
    return next(r for r in section.split("<tr>") if ref in r)


def test_a_dwelling_no_single_rule_opens_says_so_and_a_corporation_reads_afgeschermd(
    app, client, region, chair
):
    vacancy = create_vacancy(client, region.corporation)
    meeting = plan_meeting(client, region, iso(7))
    url = f"/vergaderingen/{meeting['id']}"
    ref = vacancy["external_ref"]

    row = _row(signed_in(app, chair).get(url).text, ref)
    assert "<td>geen enkele regel alleen</td>" in row

    corporation = signed_in(app, make_person(client, region.corporation))
    row = _row(corporation.get(url).text, ref)
    assert "<td>geen enkele regel alleen</td>" in row
    assert '<td class="small">afgeschermd</td>' in row
    csv = corporation.get(url + "/agenda.csv").content.decode("utf-8-sig")
    [line] = [r for r in csv.splitlines() if r.startswith("woningen_zonder_kandidaat;")]
    assert line.endswith(";geen enkele regel alleen;afgeschermd"), line
