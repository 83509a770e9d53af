"""The agenda a page at a time: proposals, open items and summaries whole on every page, the
per-case and per-dwelling sections `limit` entries at a time, each case and dwelling on exactly
one page of a cursor chain, and a cursor of changed inputs refused."""

from types import SimpleNamespace
from typing import cast

import pytest
from pydantic_core import to_json

from app import matching
from app.agenda import document, engine_cache, views
from app.agenda.paging import view_fingerprint
from app.agenda.views import cases_shown
from tests.api.helpers import assert_problem, plan_meeting
from tests.clock import iso
from tests.conftest import create_case, create_vacancy

MEETING = iso()
CASE_SECTIONS = ("candidates_by_case", "left_unhoused")
WHOLE_SECTIONS = ("summary", "proposals", "longest_waiting", "open_actions", "open_proposals")


@pytest.fixture
def market(client, region):
    """Seven cases for three fitting dwellings (so some are left unhoused), two cases no
    dwelling fits (blocked) and a dwelling too big for anyone."""
    cases = [
        create_case(client, region.care_provider, region.table_id, ready_since=iso(-900 + 60 * i))
        for i in range(4)
    ] + [
        create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-500))
        for _ in range(3)
    ]
    blocked = [
        create_case(client, region.care_provider, region.table_id, beschikking={"status": "none"}),
        create_case(
            client, region.other_care_provider, region.table_id, beschikking={"status": "none"}
        ),
    ]
    vacancies = [
        create_vacancy(client, region.corporation, complex_ref="A"),
        create_vacancy(client, region.corporation, complex_ref="B"),
        create_vacancy(client, region.other_corporation, complex_ref="C"),
        create_vacancy(client, region.corporation, rooms=6),
    ]
    return cases + blocked, vacancies


@pytest.fixture
def meeting(client, region):
    """A meeting on MEETING: the parties read the live agenda on meeting dates only."""
    return plan_meeting(client, region, MEETING)


def get(client, org, path, **params):
    return client.get(path, params=params, headers=org.headers)


def pages(client, org, path, limit, cursor=None, **params):
    """Every page of the agenda at `path` (from `cursor`), following `next_cursor`."""
    out = []
    while True:
        extra = {"cursor": cursor} if cursor else {}
        response = get(client, org, path, limit=limit, **params, **extra)
        assert response.status_code == 200, response.text
        out.append(response.json())
        cursor = out[-1]["next_cursor"]
        if cursor is None:
            return out


def agenda_path(region):
    return f"/v1/tables/{region.table_id}/agenda"


def test_the_pages_together_hold_the_whole_agenda_each_entry_once(client, region, market):
    path = agenda_path(region)
    whole = get(client, region.chair, path, date=MEETING, limit=1000).json()
    assert whole["next_cursor"] is None
    assert whole["left_unhoused"] and whole["bottlenecks"]["blocked_cases"]
    assert whole["vacancies_without_candidates"]
    paged = pages(client, region.chair, path, 2, date=MEETING)
    assert len(paged) == 5  # nine cases, two a page
    for page in paged:
        assert len(page["candidates_by_case"]) <= 2
        assert len(page["candidates_by_vacancy"]) <= 2
        for key in WHOLE_SECTIONS:
            assert page[key] == whole[key]
        assert page["bottlenecks"]["by_reason"] == whole["bottlenecks"]["by_reason"]
        assert page["page"] == whole["page"] | {"limit": 2}
    for key in (*CASE_SECTIONS, "candidates_by_vacancy", "vacancies_without_candidates"):
        assert [e for p in paged for e in p[key]] == whole[key]
    blocked = [b for p in paged for b in p["bottlenecks"]["blocked_cases"]]
    assert blocked == whole["bottlenecks"]["blocked_cases"]
    assert whole["page"] == {
        "limit": 1000,
        "cases_total": 9,
        "left_unhoused_total": len(whole["left_unhoused"]),
        "blocked_cases_total": 2,
        "vacancies_total": 4,
        "vacancies_without_candidates_total": 1,
    }


def test_a_page_carries_the_summaries_of_the_dwellings_it_names(client, region, market):
    page = get(client, region.chair, agenda_path(region), date=MEETING, limit=1).json()
    named = {p["vacancy_id"] for p in page["proposals"]}
    named |= {c["vacancy_id"] for e in page["candidates_by_case"] for c in e["candidates"]}
    named |= {e["vacancy_id"] for e in page["candidates_by_vacancy"]}
    assert named <= {v["id"] for v in page["vacancies"]}


def test_a_cursor_from_before_an_edit_is_refused_as_changed(client, region, market):
    first = get(client, region.chair, agenda_path(region), date=MEETING, limit=2).json()
    create_case(client, region.care_provider, region.table_id)
    response = get(
        client, region.chair, agenda_path(region), date=MEETING, cursor=first["next_cursor"]
    )
    assert_problem(response, 409, "agenda_changed")


def calls_of(monkeypatch, owner: object, name: str) -> list[int]:
    """A list that grows by one each time `owner.name` is called."""
    calls: list[int] = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


def engine_runs(monkeypatch) -> list[int]:
    """A list that grows by one each time the engine runs."""
    return calls_of(monkeypatch, matching, "match")


def test_the_pages_of_one_agenda_are_computed_once_and_an_edit_computes_it_again(
    client, region, market, monkeypatch
):
    calls = engine_runs(monkeypatch)
    chain = pages(client, region.chair, agenda_path(region), 2, date=MEETING)
    assert len(chain) > 2
    assert len(calls) == 1
    client.patch(
        f"/v1/cases/{market[0][0]['id']}",
        json={"birth_year": 1970},
        headers={**region.care_provider.headers, "If-Match": f'"{market[0][0]["version"]}"'},
    ).raise_for_status()
    get(client, region.chair, agenda_path(region), date=MEETING, limit=2).raise_for_status()
    assert len(calls) == 2


def section_builds(monkeypatch) -> list[int]:
    """A list that grows by one each time an agenda's sections are built from a result."""
    return calls_of(monkeypatch, document, "result_sections")


def without_time(chain: list[dict]) -> list[dict]:
    return [{k: v for k, v in page.items() if k != "generated_at"} for page in chain]


def test_the_table_s_pages_are_cut_from_sections_built_once_per_result(
    client, region, market, monkeypatch
):
    builds = section_builds(monkeypatch)
    chain = pages(client, region.chair, agenda_path(region), 2, date=MEETING)
    again = pages(client, region.chair, agenda_path(region), 2, date=MEETING)
    assert len(chain) > 2
    assert len(builds) == 1
    assert without_time(again) == without_time(chain)
    create_vacancy(client, region.corporation, complex_ref="D")
    changed = pages(client, region.chair, agenda_path(region), 2, date=MEETING)
    assert len(builds) == 2
    assert changed[0]["page"]["vacancies_total"] == chain[0]["page"]["vacancies_total"] + 1


def test_only_the_most_recently_used_results_keep_what_is_built_from_them(monkeypatch):
    # A big city's sections and their JSON are twice its result's memory: sixteen results with
    # theirs would be a third of a gigabyte.
    monkeypatch.setattr(engine_cache, "DERIVED_SIZE", 2)
    builds: list[bytes] = []

    def sections_of(key: bytes) -> object:
        return engine_cache.derived(key, "sections", lambda: builds.append(key))

    for key in (b"a", b"b", b"c"):
        engine_cache.cached(key, lambda: _result_of(10, 5))
        sections_of(key)
    sections_of(b"c")
    sections_of(b"b")
    sections_of(b"a")
    assert builds == [b"a", b"b", b"c", b"a"]


def _result_of(cases: int, dwellings: int) -> matching.MatchResult:
    """A stand-in engine result with this many cases and dwellings (all the cache weighs)."""
    return cast(
        matching.MatchResult,
        SimpleNamespace(
            candidates_by_case=dict.fromkeys(map(str, range(cases))),
            candidates_by_dwelling=dict.fromkeys(map(str, range(dwellings))),
        ),
    )


def test_every_table_of_the_country_stays_kept_where_few_big_cities_do():
    # By count (16 results) a process serving 44 tables computed each agenda again on every
    # read; by cases and dwellings it keeps the country whole, and 16 big cities at most.
    computed: list[bytes] = []

    def compute(key: bytes, cases: int, dwellings: int) -> matching.MatchResult:
        computed.append(key)
        return _result_of(cases, dwellings)

    tables = [f"table {n}".encode() for n in range(44)]
    for _ in range(2):
        for key in tables:
            engine_cache.cached(key, lambda key=key: compute(key, 364, 91))
    assert computed == tables
    cities = [f"city {n}".encode() for n in range(17)]
    for key in cities:
        engine_cache.cached(key, lambda key=key: compute(key, 3_000, 1_000))
    computed.clear()
    engine_cache.cached(cities[-1], lambda: compute(cities[-1], 3_000, 1_000))
    engine_cache.cached(tables[-1], lambda: compute(tables[-1], 364, 91))
    engine_cache.cached(cities[0], lambda: compute(cities[0], 3_000, 1_000))
    # 16 cities kept: the last one read was; the tables and the first city made room.
    assert computed == [tables[-1], cities[0]]


def test_a_fingerprint_from_fields_encoded_already_is_the_whole_document_s():
    fields = {"proposals": [{"score": 1.5, "case_id": None}], "summary": {"text": 'é"\n'}}
    page = {"generated_at": "now", **fields, "longest_waiting": [{"days": 3}]}
    encoded = {
        "proposals": (fields["proposals"], to_json(fields["proposals"])),
        # Another value than the document holds (equal or not): not used.
        "summary": ({"text": 'é"\n'}, b'{"text":"other"}'),
    }
    assert view_fingerprint(page, encoded) == view_fingerprint(page)


@pytest.mark.parametrize("party", ["care_provider", "corporation"])
def test_a_party_who_sees_part_of_the_table_gets_every_page_computed_afresh(
    client, region, market, meeting, monkeypatch, party
):
    # A kept result answers much faster: its timing would tell them whether something they
    # cannot see changed since the last read.
    calls = engine_runs(monkeypatch)
    chain = pages(client, getattr(region, party), agenda_path(region), 1, date=MEETING)
    assert len(chain) >= 2
    assert len(calls) == len(chain)


def test_a_cursor_not_made_by_the_api_is_a_400(client, region, market):
    response = get(client, region.chair, agenda_path(region), date=MEETING, cursor="x")
    assert_problem(response, 400)
    [param] = response.json()["invalidParams"]
    assert param["reason"].startswith("Should be a `next_cursor` this API gave out")


def test_the_access_log_holds_the_cases_the_page_shows(client, region, market, meeting):
    page = get(client, region.care_provider, agenda_path(region), date=MEETING, limit=1)
    assert page.json()["next_cursor"] is not None
    log = get(client, region.chair, f"/v1/tables/{region.table_id}/access-log", limit=1000)
    logged = [e["case_id"] for e in log.json()["items"] if e["action"] == "agenda"]
    assert sorted(logged) == sorted(cases_shown(page.json()))


def test_every_case_id_a_page_shows_is_in_the_access_log(
    client, region, market, meeting, monkeypatch
):
    # The bottlenecks' reasons and groups are whole on every page while `blocked_cases` is
    # paged: the chair's one-case page still names both blocked cases there. (The
    # longest-waiting list, which also names them here, is emptied so it does not log them.)
    monkeypatch.setattr(views, "LONGEST_WAITING", 0)
    page = get(client, region.chair, agenda_path(region), date=MEETING, limit=1)
    assert page.json()["longest_waiting"] == []
    text = page.text
    shown = {case["id"] for case in market[0] if case["id"] in text}
    blocked = {case["id"] for case in market[0][-2:]}
    assert blocked <= shown
    log = get(client, region.chair, f"/v1/tables/{region.table_id}/access-log", limit=1000)
    logged = {e["case_id"] for e in log.json()["items"] if e["action"] == "agenda"}
    assert shown <= logged


def test_a_care_provider_pages_through_its_own_cases(client, region, market, meeting):
    cases, _ = market
    own = {c["id"] for c in cases if c["care_provider_id"] == region.care_provider.id}
    paged = pages(client, region.care_provider, agenda_path(region), 2, date=MEETING)
    listed = [e["case_id"] for p in paged for e in p["candidates_by_case"]]
    assert sorted(listed) == sorted(own)
    assert paged[0]["page"]["cases_total"] == len(own)
    assert paged[0]["page"]["vacancies_total"] is None


def test_a_corporation_pages_through_its_own_dwellings(client, region, market, meeting):
    _, vacancies = market
    own = {v["id"] for v in vacancies if v["corporation_id"] == region.corporation.id}
    paged = pages(client, region.corporation, agenda_path(region), 1, date=MEETING)
    listed = [e["vacancy_id"] for p in paged for e in p["candidates_by_vacancy"]]
    assert sorted(listed) == sorted(own)
    assert paged[0]["page"]["vacancies_total"] == len(own)
    assert paged[0]["page"]["cases_total"] is None


def test_a_published_agenda_pages_its_frozen_document(client, region, market, meeting):
    chair = region.chair.headers
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair)
    assert published.status_code == 200, published.text
    path = f"/v1/meetings/{meeting['id']}/agenda"
    whole = get(client, region.chair, path, limit=1000).json()
    first = get(client, region.chair, path, limit=3).json()
    create_case(client, region.care_provider, region.table_id)  # the frozen agenda stays
    rest = pages(client, region.chair, path, 3, cursor=first["next_cursor"])
    listed = [e["case_id"] for p in [first, *rest] for e in p["candidates_by_case"]]
    assert listed == [e["case_id"] for e in whole["candidates_by_case"]]
    assert all(p["frozen"] and p["proposals"] == whole["proposals"] for p in rest)


def test_a_cursor_tells_nobody_of_an_edit_outside_their_view(client, region, market, meeting):
    """The cursor fingerprints the caller's view, not the table's inputs: another provider's
    edit of a case file changes neither a corporation's cursor nor a provider's, so none of
    them learns from it that someone changed something."""
    blocked = market[0][-1]  # the other provider's case no dwelling fits
    path = agenda_path(region)
    before = {
        org.name: get(client, org, path, date=MEETING, limit=1).json()["next_cursor"]
        for org in (region.corporation, region.care_provider)
    }
    edited = client.patch(
        f"/v1/cases/{blocked['id']}",
        json={"birth_year": 1971},
        headers=region.other_care_provider.headers,
    )
    assert edited.status_code == 200, edited.text
    for org in (region.corporation, region.care_provider):
        assert before[org.name] is not None
        again = get(client, org, path, date=MEETING, limit=1).json()
        assert again["next_cursor"] == before[org.name]
        follow = get(client, org, path, date=MEETING, cursor=before[org.name])
        assert follow.status_code == 200, follow.text


def test_a_cursor_of_another_view_date_or_table_is_a_400(
    client, region, other_region, market, meeting
):
    chair_cursor = get(client, region.chair, agenda_path(region), date=MEETING, limit=1).json()[
        "next_cursor"
    ]
    tries = [
        (region.care_provider, agenda_path(region), {"date": MEETING}),
        (region.chair, agenda_path(region), {"date": iso(7)}),
        (region.chair, agenda_path(region), {"date": MEETING, "candidates": 3}),
        (other_region.chair, agenda_path(other_region), {}),
    ]
    for org, path, params in tries:
        response = get(client, org, path, cursor=chair_cursor, **params)
        assert_problem(response, 400)
        assert [p["name"] for p in response.json()["invalidParams"]] == ["cursor"]
