"""Closed case files are anonymised after the retention period; the figures keep working."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from app.cases.models import Case, CaseStatus
from app.cases.retention import anonymise_closed_cases
from app.sqltypes import utcnow
from tests.aftercare.housing import house, housed_proposal
from tests.api.helpers import assert_problem, invalid_names, plan_meeting
from tests.api.test_actions import hand_out, post_action
from tests.api.weeks import publish_meeting
from tests.cli import run_cli
from tests.clock import iso
from tests.conftest import case_body, create_case, create_vacancy
from tests.web.conftest import make_person, post_form, signed_in

pytestmark = pytest.mark.usefixtures("no_deadlocks")

EXIT_DATE = iso(-213)


def close(client, region, case):
    response = client.patch(
        f"/v1/cases/{case['id']}",
        json={"status": "withdrawn", "status_reason": "own_solution", "exit_date": EXIT_DATE},
        headers=region.care_provider.headers,
    )
    assert response.status_code == 200, response.text


def test_a_case_closed_longer_than_the_retention_period_is_anonymised(client, region, session):
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        birth_year=1987,
        needs={"wheelchair": True, "step_free": True, "max_floor": 2, "pets": True},
    )
    close(client, region, case)
    later = utcnow() + timedelta(days=731)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    stored = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    assert stored["anonymised_at"] is not None
    assert stored["external_ref"] == f"anonymised:{uuid.UUID(case['id']).hex}"
    assert stored["external_ref"] != case["external_ref"]
    assert stored["birth_year"] == 1980
    assert stored["needs"] == {
        "wheelchair": False,
        "step_free": False,
        "max_floor": None,
        "pets": False,
    }
    assert stored["income"]["annual_taxable"] == 0
    assert (stored["ready_since"], stored["exit_date"], stored["status"]) == (
        case["ready_since"],
        EXIT_DATE,
        "withdrawn",
    )


def close_long_ago(session, case_id, status="withdrawn"):
    stored = session.get(Case, uuid.UUID(case_id))
    stored.status = CaseStatus(status)
    stored.closed_at = utcnow() - timedelta(days=800)
    session.add(stored)
    session.flush()
    return stored


def test_cases_registered_in_the_same_millisecond_are_anonymised_together(client, region, session):
    """A batch registers its cases within one millisecond: their ids share the first 12 hex
    digits and often 16. The anonymised reference is the whole id, so they cannot collide (a
    reference of the first 16 digits failed the whole retention round with a unique violation,
    found by the eighteenth breaker)."""
    first = close_long_ago(
        session, create_case(client, region.care_provider, region.table_id)["id"]
    )
    twin_id = uuid.UUID(int=first.id.int ^ 1)  # the same millisecond and random prefix
    twin = Case(**{**first.model_dump(), "id": twin_id, "external_ref": "twin"})
    session.add(twin)
    session.flush()
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 2
    assert session.get(Case, twin_id).external_ref != session.get(Case, first.id).external_ref


def test_no_reference_a_care_provider_registers_blocks_retention(client, region, session):
    """References are unique per care provider; one it registered that equals an anonymised
    reference would fail every retention round, for every organisation. Anonymised references
    use a character the API refuses in a reference."""
    closed = close_long_ago(
        session, create_case(client, region.care_provider, region.table_id)["id"]
    )
    for taken in (f"anonymised-{closed.id.hex[:16]}", f"anonymised-{closed.id.hex}"):
        create_case(client, region.care_provider, region.table_id, external_ref=taken)
    refused = client.post(
        "/v1/cases",
        json=case_body(region.table_id, external_ref=f"anonymised:{closed.id.hex}"),
        headers=region.care_provider.headers,
    )
    assert_problem(refused, 400)
    assert invalid_names(refused) == ["external_ref"]
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    assert session.get(Case, closed.id).anonymised_at is not None


def test_an_anonymised_cases_proposals_lose_their_score_components(client, region, session):
    """Urgency, support fit, registration years and rent headroom are the case's details in
    other words; the proposal keeps its score and decisions (found by the eighteenth breaker)."""
    case = house(client, region, -40)
    housed = housed_proposal(client, region, case["id"])
    assert {c["name"] for c in housed["components"]} >= {"urgency", "rent_headroom"}
    close_long_ago(session, case["id"], status="housed")
    later = utcnow() + timedelta(days=731)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    url = f"/v1/proposals/{housed['id']}"
    for org in (region.chair, region.care_provider):
        seen = client.get(url, headers=org.headers).json()
        assert (seen["components"], seen["score"]) == ([], housed["score"])
        assert len(seen["decisions"]) == len(housed["decisions"])


def test_recently_closed_and_open_cases_are_kept(client, region, session):
    closed = create_case(client, region.care_provider, region.table_id)
    close(client, region, closed)
    create_case(client, region.care_provider, region.table_id)
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 0
    assert session.get(Case, uuid.UUID(closed["id"])).anonymised_at is None


def test_anonymising_twice_changes_nothing_more(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    close(client, region, case)
    later = utcnow() + timedelta(days=800)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    assert anonymise_closed_cases(session, later, retention_days=730) == 0


def test_the_anonymise_command_anonymises_due_case_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    run_cli(url, "demo")
    engine = create_engine(url)
    with Session(engine) as session:
        case = session.exec(select(Case).order_by(Case.id)).first()
        case.status = "withdrawn"
        case.closed_at = utcnow() - timedelta(days=800)
        session.add(case)
        session.commit()
        case_id = case.id
    assert "Anonymised 1 case file(s)" in run_cli(url, "anonymise")
    assert "Anonymised 0 case file(s)" in run_cli(url, "anonymise")
    with Session(engine) as session:
        assert session.get(Case, case_id).anonymised_at is not None
    engine.dispose()


def _retention_race(live_app):  # type: ignore[no-untyped-def]
    """A housed case closed, and followed by nobody, for longer than 730 days (committed), and
    a function that makes its aftercare agreement in a given session."""
    from fastapi.testclient import TestClient

    from app.aftercare import service as aftercare
    from app.aftercare.models import AgreementWrite, Tenancy
    from tests.aftercare.test_tenancy import agreement
    from tests.conftest import make_region
    from tests.test_races import World

    engine = live_app.state.engine
    with TestClient(live_app) as client:
        region = make_region(client)
        case_id = uuid.UUID(house(client, region, -40)["id"])
    long_ago = utcnow() - timedelta(days=800)
    with Session(engine) as setup:
        setup.get_one(Case, case_id).closed_at = long_ago
        setup.get_one(Tenancy, case_id).updated_at = long_ago
        setup.commit()
    world = World(
        client,
        engine,
        live_app.state.settings,
        region.table_id,
        region.chair,
        region.care_provider,
        region.corporation,
    )
    care_provider = world.context(region.care_provider)
    data = AgreementWrite.model_validate(agreement(region))

    def make_agreement(session: Session, if_none_match: str | None = None) -> None:
        tenancy = session.get_one(Tenancy, case_id)
        aftercare.put_agreement(session, care_provider, tenancy, data, None, if_none_match)
        session.flush()

    return engine, case_id, make_agreement


def test_retention_keeps_a_case_whose_aftercare_agreement_is_being_made(live_app):
    """An agreement made while retention runs holds the tenancy's lock until it commits, and
    retention judges the case again on what is committed then: the new agreement keeps the
    case (retention read its stale tenancy and anonymised the case under the new agreement)."""
    from app.aftercare.models import AftercareAgreement
    from tests.test_races import _write_while_held

    engine, case_id, make_agreement = _retention_race(live_app)
    counted: list[int] = []
    outcome = _write_while_held(
        engine,
        make_agreement,
        lambda s: counted.append(anonymise_closed_cases(s, utcnow(), retention_days=730)),
    )
    assert [o.status for o in outcome] == [200], [repr(o.error) for o in outcome]
    assert counted == [0]
    with Session(engine) as after:
        assert after.get_one(Case, case_id).anonymised_at is None
        assert after.get(AftercareAgreement, case_id) is not None


def test_an_agreement_made_while_retention_anonymises_the_case_is_refused(live_app):
    """The agreement waits for the tenancy's lock retention holds, then reads the case afresh:
    409 `case_anonymised`, and no agreement on the anonymised file."""
    from app.aftercare.models import AftercareAgreement
    from tests.test_races import _write_while_held

    engine, case_id, make_agreement = _retention_race(live_app)
    outcome = _write_while_held(
        engine,
        lambda s: anonymise_closed_cases(s, utcnow(), retention_days=730),
        make_agreement,
    )
    assert [o.status for o in outcome] == [409], [repr(o.error) for o in outcome]
    assert outcome[0].error.code == "case_anonymised"
    with Session(engine) as after:
        assert after.get_one(Case, case_id).anonymised_at is not None
        assert after.get(AftercareAgreement, case_id) is None


def test_a_frozen_agenda_shows_no_score_components_of_an_anonymised_case(client, region, session):
    """The published agenda froze the proposal with its components (urgency, support fit,
    registration years, rent headroom): the case's details in other words, which the proposal
    itself no longer shows once the case is anonymised (found by the nineteenth breaker)."""
    case = house(client, region, -40)
    close_long_ago(session, case["id"], status="housed")
    later = utcnow() + timedelta(days=731)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    meetings = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]
    shown = []
    for meeting in meetings:
        for org in (region.chair, region.care_provider):
            agenda = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=org.headers)
            assert agenda.status_code == 200, agenda.text
            shown += [p for p in agenda.json()["proposals"] if p["case_id"] == case["id"]]
    assert shown
    assert all(p["components"] == [] for p in shown)


def test_of_two_first_agreements_at_once_the_later_with_if_none_match_star_is_412(live_app):
    """Both mean to make the first agreement; the later waits for the tenancy's lock, then
    finds the earlier one's agreement: `If-None-Match: *` fails (412), it overwrites nothing."""
    from tests.test_races import _write_while_held

    engine, _, make_agreement = _retention_race(live_app)
    outcome = _write_while_held(engine, make_agreement, lambda s: make_agreement(s, "*"))
    assert [o.status for o in outcome] == [412], [repr(o.error) for o in outcome]


def blocked_in_a_published_agenda(client, region) -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    """A case needing a wheelchair and no dwelling that has one, on a meeting published a week
    ahead: the case and the meeting's id."""
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        needs={"wheelchair": True, "step_free": True, "max_floor": None, "pets": True},
    )
    create_vacancy(client, region.corporation)
    assert publish_meeting(client, region, 7) == []
    [meeting] = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]
    return case, meeting["id"]


def test_a_frozen_agenda_shows_no_blocking_reasons_of_an_anonymised_case(client, region, session):
    """A blocked case's reasons and its excluded counts (`not_wheelchair_accessible`,
    `pets_not_allowed`, `rent_arrears` ...) are its needs, income and debts in other words:
    retention resets those, so the published agenda that froze them shows them no more."""
    case, meeting_id = blocked_in_a_published_agenda(client, region)

    def about_the_case(org) -> list:
        response = client.get(f"/v1/meetings/{meeting_id}/agenda", headers=org.headers)
        assert response.status_code == 200, response.text
        document = response.json()
        bottlenecks = document["bottlenecks"]
        return [
            *(e for e in document["candidates_by_case"] if e["case_id"] == case["id"]),
            *(e for e in bottlenecks["blocked_cases"] if e["case_id"] == case["id"]),
            *(r["code"] for r in bottlenecks["by_reason"] if case["id"] in r["case_ids"]),
            *(g["reasons"] for g in bottlenecks["groups"] if case["id"] in g["case_ids"]),
        ]

    assert "not_wheelchair_accessible" in str(about_the_case(region.chair))
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    for org in (region.chair, region.care_provider):
        entries = about_the_case(org)
        assert entries
        assert "not_wheelchair_accessible" not in str(entries)
        assert "pets_not_allowed" not in str(entries)
        [blocked] = [e for e in entries if isinstance(e, dict) and "details_removed" in e]
        assert blocked["details_removed"] is True


def test_the_csv_of_a_frozen_agenda_prints_no_blocking_reason_of_an_anonymised_case(
    app, client, region, session
):
    """The export reads the same frozen agenda: the case's row stays, its reasons go."""
    case, meeting_id = blocked_in_a_published_agenda(client, region)
    browser = signed_in(app, make_person(client, region.chair, "chair", is_admin=True))
    url = f"/vergaderingen/{meeting_id}/agenda.csv"

    def rows_of_the_case() -> list[list[str]]:
        response = browser.get(url)
        assert response.status_code == 200, response.text
        rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";")
        return [row for row in rows if case["id"] in row]

    assert "Niet rolstoeltoegankelijk" in str(rows_of_the_case())
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    rows = rows_of_the_case()
    assert rows
    assert "rolstoel" not in str(rows).lower()
    # It says why the row is empty, not that no single reason blocked the case.
    assert "geen enkele reden alleen" not in str(rows)
    assert "gegevens verwijderd" in str(rows)


def test_a_tenancy_whose_agreement_retention_deleted_is_not_304_to_its_old_etag(
    client, region, session
):
    """The tenancy says whether an aftercare agreement exists; retention deletes the agreement,
    so the tenancy's ETag moves as making one moves it: a client that cached the tenancy with
    `has_aftercare_agreement: true` got a 304 and kept showing the deleted agreement."""
    from tests.aftercare.test_tenancy import agreement

    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/tenancy"
    made = client.put(
        f"/v1/cases/{case['id']}/aftercare-agreement",
        json=agreement(region),
        headers=region.care_provider.headers,
    )
    assert made.status_code == 201, made.text
    before = client.get(url, headers=region.care_provider.headers)
    assert before.json()["has_aftercare_agreement"] is True
    later = utcnow() + timedelta(days=800)
    assert anonymise_closed_cases(session, later, retention_days=730) == 1
    for org in (region.chair, region.care_provider, region.corporation):
        again = client.get(url, headers=org.headers | {"If-None-Match": before.headers["ETag"]})
        assert again.status_code == 200, again.text
        assert again.json()["has_aftercare_agreement"] is False
        assert again.headers["ETag"] != before.headers["ETag"]


def test_the_case_page_of_an_anonymised_case_says_its_details_were_removed(
    app, client, region, session
):
    """Retention resets income, registration, beschikking, support, urgency, debts, needs and
    areas to neutral values; the page showed those as the person's facts ('€ 0,00 belastbaar
    per jaar', 'Urgentie nee', 'Ingeschreven als woningzoekende nee', 'geen rolstoel')."""
    case = create_case(client, region.care_provider, region.table_id, birth_year=1987)
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    for org, role in ((region.care_provider, "member"), (region.chair, "chair")):
        page = signed_in(app, make_person(client, org, role)).get(f"/dossiers/{case['id']}")
        assert page.status_code == 200, page.text
        assert "geanonimiseerd" in page.text
        for neutral in ("€ 0,00", "Urgentie", "Ingeschreven als woningzoekende", "rolstoel"):
            assert neutral not in page.text
        assert "1980" in page.text  # what the figures keep stays shown


def test_the_aftercare_section_says_retention_deleted_the_agreement_not_that_none_was_made(
    app, client, region, session
):
    """The facts list said 'Nazorgafspraak: nog niet gemaakt' for a case whose agreement
    retention deleted."""
    from tests.aftercare.test_tenancy import agreement

    case = house(client, region, -40)
    made = client.put(
        f"/v1/cases/{case['id']}/aftercare-agreement",
        json=agreement(region),
        headers=region.care_provider.headers,
    )
    assert made.status_code == 201, made.text
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=800), 730) == 1
    for org in (region.care_provider, region.corporation):
        browser = signed_in(app, make_person(client, org))
        for url in (f"/dossiers/{case['id']}", f"/dossiers/{case['id']}/nazorg"):
            page = browser.get(url)
            assert page.status_code == 200, page.text
            assert "nog niet gemaakt" not in page.text
            assert "verwijderd" in page.text


def test_the_case_profile_of_an_anonymised_case_is_gone_not_made_of_neutral_values(
    app, client, region, session
):
    """The profile is derived live from the file: after retention it said 'light' support, no
    complex manager and an income within the passend-toewijzen limit (from the reset income of
    0), none of which the person's file said. The API answers 404 `case_anonymised`, and the
    proposal page says the profile was removed."""
    case = house(client, region, -40)
    housed = housed_proposal(client, region, case["id"])
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=800), 730) == 1
    session.commit()  # the 404 below rolls the shared session back
    for org, role in ((region.chair, "chair"), (region.care_provider, "member")):
        profile = client.get(f"/v1/proposals/{housed['id']}/case-profile", headers=org.headers)
        assert_problem(profile, 404)
        assert profile.json()["code"] == "case_anonymised"
        page = signed_in(app, make_person(client, org, role)).get(f"/voorstellen/{housed['id']}")
        assert page.status_code == 200, page.text
        assert "Huismeester nodig" not in page.text
        assert "geanonimiseerd" in page.text


def test_the_case_page_does_not_call_the_anonymised_reference_the_care_providers_own(
    app, client, region, session
):
    """Retention replaced the care provider's reference with `anonymised:` and the case id;
    the page still said '(uw referentie)' after it."""
    case = create_case(client, region.care_provider, region.table_id)
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    page = signed_in(app, make_person(client, region.care_provider)).get(f"/dossiers/{case['id']}")
    assert page.status_code == 200, page.text
    assert f"anonymised:{uuid.UUID(case['id']).hex}" in page.text
    assert "uw referentie" not in page.text


def test_the_agreement_retention_deleted_is_404_case_anonymised_not_none_yet(
    client, region, session
):
    """GET answered 'No aftercare agreement for this case yet.' (code not_found): a client
    would wait for one, or try to make it and get 409 case_anonymised."""
    from tests.aftercare.test_tenancy import agreement

    case = house(client, region, -40)
    url = f"/v1/cases/{case['id']}/aftercare-agreement"
    made = client.put(url, json=agreement(region), headers=region.care_provider.headers)
    assert made.status_code == 201, made.text
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=800), 730) == 1
    session.commit()  # the 404s below roll the shared session back
    for org in (region.chair, region.care_provider):
        gone = client.get(url, headers=org.headers)
        assert_problem(gone, 404)
        assert gone.json()["code"] == "case_anonymised"
        assert "yet" not in gone.json()["detail"]


def test_an_anonymised_case_is_found_by_the_reference_the_api_shows(client, region, session):
    """`?externalRef=` took only references a client can register: the anonymised reference
    the case itself shows was a 400 (the pages' reference search finds it)."""
    case = create_case(client, region.care_provider, region.table_id)
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    shown = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers).json()
    found = client.get(
        "/v1/cases",
        params={"externalRef": shown["external_ref"]},
        headers=region.care_provider.headers,
    )
    assert found.status_code == 200, found.text
    assert [c["id"] for c in found.json()["items"]] == [case["id"]]
    refused = client.get(
        "/v1/cases", params={"externalRef": "anonymised:x"}, headers=region.care_provider.headers
    )
    assert_problem(refused, 400)


def test_a_replayed_import_report_does_not_name_an_anonymised_case_by_its_old_reference(
    client, region, session
):
    """An import's report (kept for its `Idempotency-Key`, up to a year) names each case by the
    care provider's own reference, which anonymisation replaces: its replay after the case was
    anonymised named the person's file by that reference again. Now it shows the reference the
    case has."""
    from tests.imports.sheets import CASES, case_row, table, upload, xlsx

    content = xlsx(table([case_row("K-PERSON-1")]))
    check = {**region.care_provider.headers, "Idempotency-Key": "dry-run-before-retention"}
    assert upload(client, CASES, content, check, table_id=region.table_id).status_code == 200
    headers = {**region.care_provider.headers, "Idempotency-Key": "import-before-retention"}
    params = {"table_id": region.table_id, "dry_run": False}
    first = upload(client, CASES, content, headers, **params)
    assert first.status_code == 200, first.text
    [item] = first.json()["items"]
    close_long_ago(session, item["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    session.commit()
    replay = upload(client, CASES, content, headers, **params)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert "K-PERSON-1" not in replay.text
    assert replay.json()["items"][0]["external_ref"] == f"anonymised:{uuid.UUID(item['id']).hex}"
    # The dry run named the file before it existed (no id), by the same reference.
    checked = upload(client, CASES, content, check, table_id=region.table_id)
    assert checked.headers.get("Idempotent-Replayed") == "true"
    assert "K-PERSON-1" not in checked.text


def test_anonymising_a_closed_case_leaves_the_reference_of_the_client_who_returned(
    client, region, session
):
    """A returning client's open case has the reference of the closed case it follows; the
    closed one's anonymisation replaces that reference in a kept import report by the item's
    id, so the open case's item keeps its own (by reference alone it lost it)."""
    from tests.imports.sheets import CASES, case_row, table, upload, xlsx

    cp = region.care_provider
    closed = create_case(client, cp, region.table_id, external_ref="K-TERUG-1")
    close_long_ago(session, closed["id"])
    session.commit()
    returned = create_case(
        client, cp, region.table_id, external_ref="K-TERUG-1", previous_case_id=closed["id"]
    )
    headers = {**cp.headers, "Idempotency-Key": "import-of-the-returned-client"}
    params = {"table_id": region.table_id, "dry_run": False}
    content = xlsx(table([case_row("K-TERUG-1", Urgentie="ja")]))
    first = upload(client, CASES, content, headers, **params)
    assert [i["id"] for i in first.json()["items"]] == [returned["id"]]
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    session.commit()
    replay = upload(client, CASES, content, headers, **params)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["items"][0]["external_ref"] == "K-TERUG-1"
    listed = client.get("/v1/cases", params={"externalRef": "K-TERUG-1"}, headers=cp.headers)
    assert [c["id"] for c in listed.json()["items"]] == [returned["id"]]


CONDITIONS = ["rent_paid_on_time", "no_nuisance", "budget_management_arranged"]


def _awaiting_transfer_with_open_conditions(client, region):
    """A case of `care_provider` housed in an intermediate lease whose omklap waits for
    `CONDITIONS`; returns the case and its tenancy's URL."""
    case = house(client, region, -40, "intermediate_lease")
    url = f"/v1/cases/{case['id']}/tenancy"
    planned = client.patch(
        url,
        json={"transfer_planned_on": iso(300), "transfer_open_conditions": CONDITIONS},
        headers=region.care_provider.headers,
    )
    assert planned.status_code == 200, planned.text
    assert planned.json()["transfer"]["open_conditions"] == CONDITIONS
    return case, url


def test_an_anonymised_tenancy_keeps_no_open_transfer_conditions(client, region, session):
    """The omklap's open conditions (rent not yet paid on time, nuisance, budget management
    not arranged, support not in place) are the client's conduct, debts and income in other
    words, which retention resets in the case, and no figure counts them: they stayed on the
    anonymised file, shown to the care provider, the landlord and the chair. The tenancy keeps
    its dates and lease form, and its ETag moves (a cached copy showed them)."""
    _, url = _awaiting_transfer_with_open_conditions(client, region)
    before = client.get(url, headers=region.corporation.headers).headers["ETag"]
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=800), 730) == 1
    for org in (region.chair, region.municipality, region.care_provider, region.corporation):
        seen = client.get(url, headers=org.headers | {"If-None-Match": before})
        assert seen.status_code == 200, seen.text
        transfer = seen.json()["transfer"]
        assert (transfer["open_conditions"], transfer["planned_on"]) == ([], iso(300))
        assert seen.json()["lease_form"] == "intermediate_lease"
    for org in (region.other_care_provider, region.other_corporation):
        assert client.get(url, headers=org.headers).status_code == 404


def test_no_open_transfer_conditions_are_recorded_on_an_anonymised_case(client, region, session):
    """As no new aftercare agreement can be made on an anonymised file (409 `case_anonymised`),
    the conditions retention removed cannot be put back on it either; the plan's day still
    moves, and clearing the conditions stays allowed."""
    _, url = _awaiting_transfer_with_open_conditions(client, region)
    assert anonymise_closed_cases(session, utcnow() + timedelta(days=800), 730) == 1
    session.commit()  # the 409s below roll the shared session back
    for org in (region.care_provider, region.corporation):
        refused = client.patch(
            url, json={"transfer_open_conditions": ["no_nuisance"]}, headers=org.headers
        )
        assert_problem(refused, 409, "case_anonymised")
    moved = client.patch(
        url,
        json={"transfer_planned_on": iso(200), "transfer_open_conditions": []},
        headers=region.corporation.headers,
    )
    assert moved.status_code == 200, moved.text
    transfer = moved.json()["transfer"]
    assert (transfer["open_conditions"], transfer["planned_on"]) == ([], iso(200))


def _anonymised_under(client, region, session, reference: str) -> dict:
    """A case of the care provider under `reference`, closed long ago and anonymised."""
    case = create_case(client, region.care_provider, region.table_id, external_ref=reference)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    session.commit()  # the 409s below roll the shared session back
    return case


def test_a_push_of_an_anonymised_cases_reference_does_not_register_the_client_again(
    client, region, session
):
    """A system that pushes all its clients reads 409 as 'known' (README): a closed case's
    reference is 409 `duplicate_external_ref`, but once retention replaced it the same push
    registered the long-housed client as a new, ready case, at the top of the agenda by its
    old ready date. It is 409 `external_ref_anonymised` now (naming no case: the link is
    gone), and only `returning_after_retention` registers the client again, as a new case."""
    cp = region.care_provider
    old = _anonymised_under(client, region, session, "K-LANG-GELEDEN")
    body = case_body(region.table_id, external_ref="K-LANG-GELEDEN")
    refused = client.post("/v1/cases", json=body, headers=cp.headers)
    assert_problem(refused, 409, "external_ref_anonymised")
    assert old["id"] not in refused.text and "Location" not in refused.headers
    listed = client.get("/v1/cases", params={"externalRef": "K-LANG-GELEDEN"}, headers=cp.headers)
    assert listed.json()["items"] == []
    # Another care provider's reference of the same spelling is its own.
    create_case(client, region.other_care_provider, region.table_id, external_ref="K-LANG-GELEDEN")
    again = client.post(
        "/v1/cases", json=body | {"returning_after_retention": True}, headers=cp.headers
    )
    assert again.status_code == 201, again.text
    new = again.json()
    assert (new["external_ref"], new["previous_case_id"]) == ("K-LANG-GELEDEN", None)
    assert new["id"] != old["id"] and "returning_after_retention" not in new


def test_an_import_row_under_an_anonymised_cases_reference_registers_nobody(
    client, region, session
):
    """The import updates a case per reference and creates the rest: a file pushed again
    after retention created the long-housed client anew. The row is an issue now."""
    from tests.imports.sheets import CASES, case_row, table, upload, xlsx

    _anonymised_under(client, region, session, "K-IMPORT-OUD")
    content = xlsx(table([case_row("K-NIEUW-1"), case_row("K-IMPORT-OUD")]))
    for dry_run in (True, False):
        params = {"table_id": region.table_id, "dry_run": dry_run}
        report = upload(client, CASES, content, region.care_provider.headers, **params)
        issues = report.json()["issues"]
        assert [(i["row"], i["code"]) for i in issues] == [(3, "external_ref_anonymised")]
        assert "bewaartermijn" in issues[0]["message"]
    listed = client.get("/v1/cases", headers=region.care_provider.headers).json()["items"]
    assert not {"K-NIEUW-1", "K-IMPORT-OUD"} & {c["external_ref"] for c in listed}


def test_the_new_case_form_asks_whether_a_client_under_an_anonymised_reference_returns(
    app, client, region, session
):
    """The page's form sent the anonymised file's reference: it says the file was anonymised
    and offers to register the client again as a new file; ticked, the file is made."""
    from tests.web.conftest import csrf_of
    from tests.web.test_case_file_pages import _form

    cp = region.care_provider
    _anonymised_under(client, region, session, "K-HAND-OUD")
    browser = signed_in(app, make_person(client, cp))
    values = _form(external_ref="K-HAND-OUD") | {"table_id": region.table_id}

    def post(extra: dict):  # type: ignore[no-untyped-def]
        token = csrf_of(browser, "/dossiers/nieuw")
        return browser.post("/dossiers/nieuw", data={"csrf_token": token, **values, **extra})

    refused = post({})
    assert refused.status_code == 409, refused.text
    assert "bewaartermijn" in refused.text and 'name="terug_na_bewaartermijn"' in refused.text
    listed = client.get("/v1/cases", params={"externalRef": "K-HAND-OUD"}, headers=cp.headers)
    assert listed.json()["items"] == []
    made = post({"terug_na_bewaartermijn": "ja"})
    assert made.status_code == 303, made.text
    listed = client.get("/v1/cases", params={"externalRef": "K-HAND-OUD"}, headers=cp.headers)
    assert [c["previous_case_id"] for c in listed.json()["items"]] == [None]


def test_a_frozen_agenda_lists_no_candidate_dwellings_of_an_anonymised_case(
    app, client, region, session
):
    """The dwellings that passed every hard rule for a case, and its score on each, are its
    needs, income and debts in other words (only the wheelchair-accessible dwelling, none of
    the corporation it owes rent to, the preferred area in the score's steps): the published
    agenda kept them after retention reset those details. The case's entry keeps its counts
    and the proposal the table made stays (a decision, with its dwelling and score); the
    dwellings' lists keep their counts."""
    case = create_case(
        client,
        region.care_provider,
        region.table_id,
        needs={"wheelchair": True, "step_free": True, "max_floor": None, "pets": False},
    )
    other = create_case(client, region.care_provider, region.table_id)
    for wheelchair_accessible in (True, False):
        create_vacancy(
            client, region.corporation, wheelchair_accessible=wheelchair_accessible, floor=0
        )
    publish_meeting(client, region, 7)
    [meeting] = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]

    def frozen(org) -> dict:  # type: ignore[no-untyped-def]
        response = client.get(f"/v1/meetings/{meeting['id']}/agenda", headers=org.headers)
        assert response.status_code == 200, response.text
        return response.json()

    before = frozen(region.chair)
    [entry] = [e for e in before["candidates_by_case"] if e["case_id"] == case["id"]]
    assert len(entry["candidates"]) == 1
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    for org in (region.chair, region.municipality, region.care_provider):
        after = frozen(org)
        [entry] = [e for e in after["candidates_by_case"] if e["case_id"] == case["id"]]
        assert (entry["candidates"], entry["feasible_count"]) == ([], 1)
        assert case["id"] in {p["case_id"] for p in after["proposals"]}
        page = signed_in(app, make_person(client, org)).get(f"/vergaderingen/{meeting['id']}")
        assert page.status_code == 200, page.text
        assert "passende woningen zijn verwijderd" in page.text
        if org is region.care_provider:  # its view has no dwellings' lists
            continue
        listed = [c["case_id"] for e in after["candidates_by_vacancy"] for c in e["candidates"]]
        assert case["id"] not in listed and other["id"] in listed
        assert [e["feasible_count"] for e in after["candidates_by_vacancy"]] == [
            e["feasible_count"] for e in before["candidates_by_vacancy"]
        ]


def test_a_frozen_agenda_shows_no_alternative_dwelling_of_an_anonymised_case(
    client, region, session
):
    """A case the published agenda left unhoused kept its best alternative there: the
    wheelchair-accessible dwelling and its score on it, the dwelling its needs fit, which
    `candidates_by_case` no longer lists once retention reset those needs. Its entry leaves
    `left_unhoused`, and asking for its alternative is 404 case_anonymised."""
    wheelchair = {"wheelchair": True, "step_free": True, "max_floor": None, "pets": False}
    create_case(client, region.other_care_provider, region.table_id, ready_since=iso(-400))
    case = create_case(
        client, region.care_provider, region.table_id, ready_since=iso(-300), needs=wheelchair
    )
    create_vacancy(client, region.corporation, wheelchair_accessible=True, floor=0)
    publish_meeting(client, region, 7)
    [meeting] = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]
    url = f"/v1/meetings/{meeting['id']}"

    def unhoused(org) -> list:  # type: ignore[no-untyped-def]
        response = client.get(f"{url}/agenda", headers=org.headers)
        assert response.status_code == 200, response.text
        return [u["case_id"] for u in response.json()["left_unhoused"]]

    alternative = f"{url}/agenda/cases/{case['id']}/alternative"
    assert unhoused(region.chair) == [case["id"]]
    assert client.get(alternative, headers=region.chair.headers).status_code == 200
    _anonymise(client, region, session, case)
    for org in (region.chair, region.care_provider):
        assert unhoused(org) == []
        assert_problem(client.get(alternative, headers=org.headers), 404, "case_anonymised")


def _anonymise(client, region, session, case: dict) -> None:
    """Close `case` long ago and anonymise it, committed as the retention round commits: the
    app shares `session`, so a refused request's rollback undid an uncommitted anonymisation
    and every later request in the test saw a file never anonymised."""
    close(client, region, case)
    close_long_ago(session, case["id"])
    assert anonymise_closed_cases(session, utcnow(), retention_days=730) == 1
    session.commit()


def _action_about(client, region, case: dict, status: str = "open", **extra) -> dict:
    action = hand_out(client, region, region.care_provider, case_id=case["id"], **extra)
    if status != "open":
        closed = client.patch(
            f"/v1/actions/{action['id']}", json={"status": status}, headers=region.chair.headers
        )
        assert closed.status_code == 200, closed.text
    return action


def test_no_action_is_handed_out_about_an_anonymised_case(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    _anonymise(client, region, session, case)
    for _ in range(2):  # the first refusal rolls its request back, not the anonymisation
        response = post_action(client, region, region.care_provider, case_id=case["id"])
        assert_problem(response, 409, "case_anonymised")
    listed = client.get(f"/v1/tables/{region.table_id}/actions", headers=region.chair.headers)
    assert listed.json()["items"] == []


def test_a_closed_action_about_an_anonymised_case_is_not_reopened(client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    done = _action_about(client, region, case, status="done")
    _anonymise(client, region, session, case)
    for _ in range(2):  # the first refusal rolls its request back, not the anonymisation
        response = client.patch(
            f"/v1/actions/{done['id']}", json={"status": "open"}, headers=region.chair.headers
        )
        assert_problem(response, 409, "case_anonymised")


def test_an_open_action_about_an_anonymised_case_may_be_closed_but_not_given_a_new_date(
    client, region, session
):
    case = create_case(client, region.care_provider, region.table_id)
    left_over, other = _action_about(client, region, case), _action_about(client, region, case)
    _anonymise(client, region, session, case)
    closed = client.patch(
        f"/v1/actions/{left_over['id']}",
        json={"status": "cancelled"},
        headers=region.care_provider.headers,
    )
    assert closed.status_code == 200, closed.text  # so it leaves the agenda
    for _ in range(2):  # the first refusal rolls its request back, not the anonymisation
        moved = client.patch(
            f"/v1/actions/{other['id']}", json={"due_date": iso(30)}, headers=region.chair.headers
        )
        assert_problem(moved, 409, "case_anonymised")


def test_a_corporation_not_shown_the_case_is_not_told_it_was_anonymised(
    app, client, region, session
):
    """Its action about the case was refused with 409 `case_anonymised`, "The case file is
    anonymised (retention)", and its meeting page said "het dossier is geanonimiseerd": that
    the client's file closed long enough ago, which a corporation is not shown, as it is not
    told of a move (found by the breaker). The chair, which reads the case, is still told."""
    meeting = plan_meeting(client, region, iso(7))
    case = create_case(client, region.care_provider, region.table_id)
    extra = {"meeting_id": meeting["id"]}
    left_over = hand_out(client, region, region.corporation, case_id=case["id"], **extra)
    done = hand_out(client, region, region.corporation, case_id=case["id"], **extra)
    closed = client.patch(
        f"/v1/actions/{done['id']}", json={"status": "done"}, headers=region.corporation.headers
    )
    assert closed.status_code == 200, closed.text
    _anonymise(client, region, session, case)
    for action, change in ((done, {"status": "open"}), (left_over, {"due_date": iso(30)})):
        url = f"/v1/actions/{action['id']}"
        for _ in range(2):  # the first refusal rolls its request back, not the anonymisation
            refused = client.patch(url, json=change, headers=region.corporation.headers)
            assert_problem(refused, 409, "action_kept_as_history")
            assert "anonymis" not in refused.text and "retention" not in refused.text
        assert_problem(
            client.patch(url, json=change, headers=region.chair.headers), 409, "case_anonymised"
        )
    browser = signed_in(app, make_person(client, region.corporation, "member"))
    page = browser.get(f"/vergaderingen/{meeting['id']}").text
    assert "Niet te heropenen: deze actie blijft alleen als geschiedenis bewaard" in page
    assert "geanonimiseerd" not in page


def test_the_page_refuses_an_action_about_an_anonymised_case_in_dutch(app, client, region, session):
    case = create_case(client, region.care_provider, region.table_id)
    _anonymise(client, region, session, case)
    browser = signed_in(app, make_person(client, region.chair, "chair"))
    for _ in range(2):  # the first refusal rolls its request back, not the anonymisation
        response = post_form(
            browser,
            f"/tafels/{region.table_id}/acties",
            {
                "soort": "other",
                "eigenaar": region.care_provider.id,
                "uiterlijk": iso(10),
                "dossier": case["id"],
            },
            f"/tafels/{region.table_id}",
        )
        assert response.status_code == 409
        assert "geanonimiseerd" in response.text and "actie" in response.text
        assert "case_anonymised" not in response.text


def test_the_meeting_page_offers_no_reopening_of_an_action_about_an_anonymised_case(
    app, client, region, session
):
    meeting = plan_meeting(client, region, iso(7))
    case = create_case(client, region.care_provider, region.table_id)
    done = _action_about(client, region, case, status="done", meeting_id=meeting["id"])
    _anonymise(client, region, session, case)
    browser = signed_in(app, make_person(client, region.chair, "chair"))
    page = browser.get(f"/vergaderingen/{meeting['id']}").text
    assert f'action="/acties/{done["id"]}"' not in page
    assert "Niet te heropenen: het dossier is geanonimiseerd (bewaartermijn verstreken)." in page


def test_the_meeting_page_offers_no_action_about_a_case_anonymised_since(
    app, client, region, session
):
    """The hand-out form of a published meeting whose minutes are not final lists the cases its
    frozen agenda names; one anonymised since would only be refused (409 case_anonymised), so
    it is not among them. The why-not form still lists it (it answers what became of it)."""
    case = create_case(client, region.care_provider, region.table_id)
    other = create_case(client, region.care_provider, region.table_id)
    create_vacancy(client, region.corporation)
    publish_meeting(client, region, 7)
    [meeting] = client.get(
        f"/v1/tables/{region.table_id}/meetings", headers=region.chair.headers
    ).json()["items"]
    browser = signed_in(app, make_person(client, region.chair, "chair"))

    def offered() -> tuple[set[str], set[str]]:
        page = browser.get(f"/vergaderingen/{meeting['id']}")
        assert page.status_code == 200, page.text

        def options(select_id: str) -> set[str]:
            listed = page.text.split(f'id="{select_id}"', 1)[1].split("</select>", 1)[0]
            return {c for c in (case["id"], other["id"]) if f'value="{c}"' in listed}

        return options("actie-dossier"), options("wn-dossier")

    assert offered() == ({case["id"], other["id"]}, {case["id"], other["id"]})
    _anonymise(client, region, session, case)
    assert offered() == ({other["id"]}, {case["id"], other["id"]})
