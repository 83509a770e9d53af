"""A left-unhoused case's best alternative can house, besides it, a case the agenda leaves
unhoused too. The agenda, the case's whole alternative and why-not name that case
(`also_housed`), so the table can read the alternative off them: the proposals with
`displaced` applied, the `also_housed` cases on their dwellings and the case on its own."""

import pytest

from app.meetings import service as meetings
from tests.api.helpers import plan_meeting
from tests.api.test_agenda_alternatives import (
    MEETING,
    N1,
    N2,
    agenda,
    alternative,
    frozen_before_whole_alternatives_were_kept,
    meeting_alternative,
    one_per_complex_and_neighbourhood,
    publish,
    vacancy_in,
)
from tests.clock import iso
from tests.conftest import case_body, create_case
from tests.web.conftest import make_person, signed_in
from tests.web.test_limits_pages import pdf_text


@pytest.fixture
def crossed(client, region):
    """Two complexes (X, Y) each over both neighbourhoods, one per complex and per
    neighbourhood, and four cases that each fit one dwelling: `a` only X in N1, `b` only Y in N2
    (the longest waiting, so the agenda proposes them), `c` only Y in N1 and `e` only X in N2.
    Housing `c` unhouses `a` (same neighbourhood) and `b` (same complex) and makes room for `e`:
    still two housed, so `c`'s best alternative houses `e` besides. `a` and `c` are the care
    provider's, `b` and `e` the other provider's."""
    one_per_complex_and_neighbourhood(client, region)
    needs = case_body(region.table_id)["needs"]
    corporation = region.corporation
    homes = {
        "X1": vacancy_in(client, corporation, "X", N1, pets_allowed=True),
        "Y1": vacancy_in(
            client, corporation, "Y", N1, pets_allowed=False, wheelchair_accessible=True
        ),
        "X2": vacancy_in(client, corporation, "X", N2, pets_allowed=False, floor=0),
        "Y2": vacancy_in(client, corporation, "Y", N2, pets_allowed=True, floor=3, has_lift=False),
    }
    own, other = region.care_provider, region.other_care_provider

    def case(org, waited, only_in=None, **need):
        excluded = [n for n in (N1, N2) if only_in and n != only_in]
        return create_case(
            client,
            org,
            region.table_id,
            ready_since=iso(-waited),
            needs=needs | need,
            areas={"preferred": [], "excluded": excluded},
        )

    cases = {
        "a": case(own, 1200, N1, pets=True),
        "b": case(other, 1200, N2, pets=True),
        "c": case(own, 400, wheelchair=True),
        "e": case(other, 400, N2, max_floor=0),
    }
    return cases, homes


def ids(cases, homes):
    return {v["id"]: k for k, v in (*cases.items(), *homes.items())}


def entries(document, cases, homes) -> dict[str, dict]:
    name = ids(cases, homes)
    return {name[u["case_id"]]: u for u in document["left_unhoused"]}


def read_off(document, entry) -> dict[str, str]:
    """The alternative as the table reads it off the agenda."""
    pairs = {p["case_id"]: p["vacancy_id"] for p in document["proposals"]}
    for change in entry["displaced"]:
        if change["moves_to_vacancy_id"] is None:
            del pairs[change["case_id"]]
        else:
            pairs[change["case_id"]] = change["moves_to_vacancy_id"]
    for other in entry["also_housed"]:
        assert other["case_id"] not in pairs
        pairs[other["case_id"]] = other["vacancy_id"]
    return pairs | {entry["case_id"]: entry["vacancy_id"]}


def test_the_agenda_names_the_case_an_alternative_houses_besides(client, region, crossed):
    cases, homes = crossed
    name = ids(cases, homes)
    document = agenda(client, region.chair, region.table_id)
    assert {(name[p["case_id"]], name[p["vacancy_id"]]) for p in document["proposals"]} == {
        ("a", "X1"),
        ("b", "Y2"),
    }
    left = entries(document, cases, homes)
    assert sorted(left) == ["c", "e"]
    c = left["c"]
    assert [(name[h["case_id"]], name[h["vacancy_id"]]) for h in c["also_housed"]] == [("e", "X2")]
    assert c["also_housed_count"] == 1
    assert {(name[d["case_id"]], d["moves_to_vacancy_id"]) for d in c["displaced"]} == {
        ("a", None),
        ("b", None),
    }
    # Read off the agenda, the alternative is whole: its count and total score.
    alternative_pairs = read_off(document, c)
    assert {(name[k], name[v]) for k, v in alternative_pairs.items()} == {
        ("c", "Y1"),
        ("e", "X2"),
    }
    assert len(alternative_pairs) == c["housed_if_given"] == 2
    scores = {h["case_id"]: h["score"] for h in c["also_housed"]} | {c["case_id"]: c["score"]}
    # Each score is rounded to four decimals, the total once.
    assert sum(scores.values()) == pytest.approx(c["total_score_if_given"], abs=1e-4)
    assert [name[h["case_id"]] for h in left["e"]["also_housed"]] == ["c"]


def test_why_not_names_the_same_case_housed_besides(client, region, crossed):
    cases, homes = crossed
    c = entries(agenda(client, region.chair, region.table_id), cases, homes)["c"]
    response = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": cases["c"]["id"], "vacancyId": homes["Y1"]["id"], "date": MEETING},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    trade = response.json()["trade_off"]
    assert trade["also_housed"] == c["also_housed"]
    assert sorted(trade["changes"], key=str) == sorted(c["displaced"], key=str)


def test_a_care_provider_sees_the_other_providers_case_housed_besides_without_id_or_score(
    client, region, crossed
):
    cases, homes = crossed
    plan_meeting(client, region, MEETING)
    document = agenda(client, region.care_provider, region.table_id)
    [c] = document["left_unhoused"]  # its own case c only; e is the other provider's
    assert c["case_id"] == cases["c"]["id"]
    assert c["also_housed"] == [{"case_id": None, "vacancy_id": homes["X2"]["id"], "score": None}]
    response = alternative(client, region.care_provider, region.table_id, cases["c"]["id"])
    assert response.status_code == 200, response.text
    assert response.json()["also_housed"] == c["also_housed"]
    why_not = client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": cases["c"]["id"], "vacancyId": homes["Y1"]["id"], "date": MEETING},
        headers=region.care_provider.headers,
    )
    assert why_not.status_code == 200, why_not.text
    assert why_not.json()["trade_off"]["also_housed"] == c["also_housed"]
    for answer in (response, why_not):
        assert cases["e"]["id"] not in answer.text
        assert cases["b"]["id"] not in answer.text


def logged(client, region, case) -> list[str]:
    """The reads that showed the case."""
    log = client.get(
        f"/v1/tables/{region.table_id}/access-log",
        params={"caseId": case["id"]},
        headers=region.chair.headers,
    ).json()["items"]
    return [e["endpoint"] for e in log if e["endpoint"].startswith("GET ")]


def test_every_answer_naming_the_case_housed_besides_logs_it(client, region, crossed):
    cases, homes = crossed
    e = cases["e"]
    assert logged(client, region, e) == []
    response = alternative(client, region.chair, region.table_id, cases["c"]["id"])
    assert response.status_code == 200, response.text
    assert logged(client, region, e) == [
        "GET /v1/tables/{table_id}/agenda/cases/{case_id}/alternative"
    ]
    client.get(
        f"/v1/tables/{region.table_id}/why-not",
        params={"caseId": cases["c"]["id"], "vacancyId": homes["Y1"]["id"], "date": MEETING},
        headers=region.chair.headers,
    )
    assert "GET /v1/tables/{table_id}/why-not" in logged(client, region, e)


def test_a_published_meeting_keeps_every_case_an_alternative_houses_besides(
    client, region, crossed, monkeypatch
):
    cases, _ = crossed
    before = alternative(client, region.chair, region.table_id, cases["c"]["id"])
    assert before.status_code == 200, before.text
    # Published with no entry of the alternatives' lists in the document: all in the rests.
    monkeypatch.setattr(meetings, "SNAPSHOT_CANDIDATES", 0)
    meeting_id = publish(client, region)
    frozen = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=region.chair.headers).json()
    c = next(u for u in frozen["left_unhoused"] if u["case_id"] == cases["c"]["id"])
    assert (c["also_housed"], c["also_housed_count"]) == ([], 1)
    after = meeting_alternative(client, region.chair, meeting_id, cases["c"]["id"])
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["also_housed_count"] == 1


def test_a_meeting_frozen_before_cases_housed_besides_were_named_says_null(
    app, client, region, crossed, session
):
    cases, _ = crossed
    meeting_id = publish(client, region)
    frozen_before_whole_alternatives_were_kept(
        session, meeting_id, also_housed=None, also_housed_count=None
    )
    frozen = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=region.chair.headers)
    assert frozen.status_code == 200, frozen.text
    assert all("also_housed" not in u for u in frozen.json()["left_unhoused"])
    answer = meeting_alternative(client, region.chair, meeting_id, cases["c"]["id"])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["also_housed"], answer.json()["also_housed_count"]) == (None, None)
    browser = signed_in(app, make_person(client, region.chair, "chair", is_admin=True))
    assert browser.get(f"/vergaderingen/{meeting_id}").status_code == 200


def test_the_agenda_and_why_not_pages_name_the_case_housed_besides(app, client, region, crossed):
    cases, homes = crossed
    meeting = plan_meeting(client, region, MEETING)
    browser = signed_in(app, make_person(client, region.chair, "chair", is_admin=True))
    page = browser.get(f"/vergaderingen/{meeting['id']}")
    assert page.status_code == 200
    assert "daarnaast gehuisvest" in page.text
    pdf = browser.get(f"/vergaderingen/{meeting['id']}/agenda.pdf")
    assert pdf.status_code == 200
    assert b"daarnaast gehuisvest" in pdf_text(pdf.content)
    sheet = browser.get(f"/vergaderingen/{meeting['id']}/agenda.csv")
    assert sheet.status_code == 200
    assert "daarnaast gehuisvest" in sheet.content.decode("utf-8-sig")
    why_not = browser.get(
        f"/vergaderingen/{meeting['id']}/waarom-niet",
        params={"dossier": cases["c"]["id"], "woning": homes["Y1"]["id"]},
    )
    assert why_not.status_code == 200
    assert "Daarnaast krijgen deze dossiers" in why_not.text


def test_a_published_meeting_names_no_anonymised_case_housed_besides(
    client, region, crossed, session
):
    """`e` fits only X2, so an alternative housing it there says so by its id and score: once
    retention anonymised `e`, the frozen agenda and `c`'s whole alternative keep the dwelling
    and the count but not the case (as a care provider reads another provider's case), and
    `e`'s own alternative (its one dwelling) is gone with its other needs."""
    from app.cases.retention import anonymise_closed_cases
    from app.sqltypes import utcnow
    from tests.api.test_retention import close_long_ago

    cases, homes = crossed
    meeting_id = publish(client, region)
    close_long_ago(session, cases["e"]["id"])
    assert anonymise_closed_cases(session, utcnow(), 730) == 1
    session.commit()
    frozen = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=region.chair.headers).json()
    [c] = frozen["left_unhoused"]
    assert c["case_id"] == cases["c"]["id"]
    besides = [(h["case_id"], h["vacancy_id"], h["score"]) for h in c["also_housed"]]
    assert besides == [(None, homes["X2"]["id"], None)]
    whole = meeting_alternative(client, region.chair, meeting_id, cases["c"]["id"])
    assert whole.status_code == 200, whole.text
    assert whole.json()["also_housed"] == c["also_housed"]
    own = meeting_alternative(client, region.chair, meeting_id, cases["e"]["id"])
    assert own.status_code == 404 and own.json()["code"] == "case_anonymised"
