"""Area names are data: the operator loads the CBS list from the CSV file CBS publishes (nothing
is downloaded), a table's chair names the codes it lacks, and the pages show codes with names."""

import os
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.areas.models import AreaName
from app.areas.service import load_cbs_file, parse_cbs_csv
from app.db import build_engine
from tests.api.helpers import assert_problem
from tests.cli import run_cli
from tests.clocked import cli_command, clock_env
from tests.conftest import create_case, create_vacancy
from tests.web.conftest import make_person, post_form, signed_in

SAMPLE = Path(__file__).with_name("kwb-sample.csv")


def test_the_statline_csv_gives_each_code_its_name_and_skips_the_country_row():
    names, skipped = parse_cbs_csv(SAMPLE.read_bytes())
    assert names == {
        "GM0344": "Utrecht",
        "WK034401": "Wijk 01 West",
        "BU03440101": "Lombok-West",
        "BU03440102": "Zuilen-Oost",
        "GM0307": "Amersfoort",
    }
    assert skipped == 1  # NL01, the country


def test_the_municipality_list_with_comma_and_windows_1252_is_read_too():
    raw = (
        "Gemeentecode,GemeentecodeGM,Gemeentenaam\n"
        "363,GM0363,Amsterdam\n"
        "1900,GM1900,Súdwest-Fryslân\n"
    )
    names, _ = parse_cbs_csv(raw.encode("cp1252"))
    assert names == {"GM0363": "Amsterdam", "GM1900": "Súdwest-Fryslân"}


@pytest.mark.parametrize(
    "raw",
    [
        "Naam;Aantal\nUtrecht;3\n",  # no code column
        "Codering;WijkenEnBuurten\nGM0344;GM0344\n",  # codes where names should be
        "Codering;Naam\nGM0344;Utrecht\nGM0344;Amersfoort\n",  # one code, two names
    ],
)
def test_a_file_that_is_not_the_cbs_list_is_refused(raw):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        parse_cbs_csv(raw.encode())


@pytest.mark.parametrize(
    "raw",
    [
        b"Codering;Naam\nGM0344;Utr\x00echt\n",
        "Codering;Naam\nGM0344;\u202ethcertU\n".encode(),
        "Codering;Naam\nGM0344;Utrecht\n".encode("utf-16"),
    ],
    ids=["nul-byte-in-a-name", "bidi-override-in-a-name", "utf-16-file"],
)
def test_a_file_with_unprintable_names_or_no_area_read_is_refused(raw):  # type: ignore[no-untyped-def]
    """A NUL byte loaded on SQLite and failed PostgreSQL's insert with a traceback, a
    right-to-left override showed a name reversed on every page, and a UTF-16 file (Excel's
    'Unicode text') loaded nothing and still exited 0 ('0 area names loaded')."""
    with pytest.raises(ValueError):
        parse_cbs_csv(raw)


def test_loading_again_replaces_the_names(session, tmp_path):  # type: ignore[no-untyped-def]
    load_cbs_file(session, SAMPLE)
    newer = tmp_path / "kwb-newer.csv"
    newer.write_text("Codering_3;WijkenEnBuurten\nBU03440101;Lombok West\n")
    report = load_cbs_file(session, newer)
    assert report.loaded == 1
    row = session.get(AreaName, "BU03440101")
    assert (row.name, row.source, row.kind) == ("Lombok West", "kwb-newer.csv", "neighbourhood")
    assert session.get(AreaName, "GM0344").source == "kwb-sample.csv"


def test_the_operator_loads_the_list_with_the_cli(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'areas.db'}"
    env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cli_command(*args), env=env, capture_output=True, text=True)

    run_cli(url, "migrate")  # in this process: a child takes 3-5 s to start
    loaded = run("load-areas", str(SAMPLE))
    assert loaded.returncode == 0, loaded.stderr
    assert "5 area names loaded" in loaded.stdout and "1 rows skipped" in loaded.stdout
    engine = build_engine(url)
    with Session(engine) as check:
        assert len(check.exec(select(AreaName)).all()) == 5
    engine.dispose()
    bad = tmp_path / "bad.csv"
    bad.write_text("Naam;Aantal\nUtrecht;3\n")
    refused = run("load-areas", str(bad))
    assert refused.returncode == 2 and "no code column" in refused.stderr


def test_the_chair_names_a_missing_code_and_only_the_chair(client, region, session):  # type: ignore[no-untyped-def]
    load_cbs_file(session, SAMPLE)
    create_vacancy(client, region.corporation, "GM0307")  # neighbourhood BU03070101: not in CBS
    url = f"/v1/tables/{region.table_id}/areas"
    listed = client.get(url, headers=region.municipality.headers).json()["items"]
    first = listed[0]
    assert (first["code"], first["name"], first["source"]) == ("BU03070101", None, None)
    utrecht = {"code": "GM0344", "kind": "municipality", "name": "Utrecht", "source": "cbs"}
    assert {**utrecht, "version": None} in listed
    body = {"name": "Schothorst-Noord"}
    for other in (region.municipality, region.corporation, region.care_provider):
        assert_problem(client.put(f"{url}/BU03070101", json=body, headers=other.headers), 403)
    named = client.put(f"{url}/BU03070101", json=body, headers=region.chair.headers)
    assert named.status_code == 201, named.text
    assert named.json()["source"] == "table"
    refused = client.put(f"{url}/GM0344", json={"name": "Trecht"}, headers=region.chair.headers)
    assert_problem(refused, 400, "validation_error")
    assert_problem(client.put(f"{url}/XX12", json=body, headers=region.chair.headers), 400)


def test_a_code_named_by_cbs_is_refused_as_the_path_parameter_it_is(client, region, session):  # type: ignore[no-untyped-def]
    load_cbs_file(session, SAMPLE)
    url = f"/v1/tables/{region.table_id}/areas/GM0344"
    refused = client.put(url, json={"name": "Trecht"}, headers=region.chair.headers)
    assert_problem(refused, 400, "validation_error")
    [param] = refused.json()["invalidParams"]
    assert (param["name"], param["in"], param["code"]) == ("code", "path", "named_by_cbs")


def test_a_clients_areas_are_listed_only_to_those_who_read_the_case(client, region):  # type: ignore[no-untyped-def]
    """A case's preferred and excluded areas are case data: the table lists them, and the care
    provider its own cases'; another provider or a corporation would otherwise read where a
    client just registered wants to live, or not (a code appearing with the registration)."""
    create_vacancy(client, region.corporation)
    create_case(
        client,
        region.care_provider,
        region.table_id,
        areas={"preferred": ["WK034402"], "excluded": ["BU03440199"]},
    )
    url = f"/v1/tables/{region.table_id}/areas"

    def listed(org):  # type: ignore[no-untyped-def]
        response = client.get(url, headers=org.headers)
        assert response.status_code == 200, response.text
        return {a["code"] for a in response.json()["items"]}

    clients = {"WK034402", "BU03440199"}
    for reader in (region.chair, region.municipality, region.care_provider):
        assert clients <= listed(reader)
    for outsider in (region.other_care_provider, region.corporation, region.other_corporation):
        shown = listed(outsider)
        assert not shown & clients
        assert {"GM0344", "GM0307"} <= shown  # the table's municipalities
    assert "BU03440101" in listed(region.corporation)  # its own dwelling's


def test_a_dwellings_areas_are_listed_only_to_those_who_read_the_dwelling(app, client, region):  # type: ignore[no-untyped-def]
    """A corporation reads its own dwellings only (another corporation's, like a care
    provider, none): listed for every member, the neighbourhood code of a dwelling told the
    other corporation where its competitor offers dwellings and, as the code appeared with the
    push, when (a neighbourhood with one dwelling let at the table: where a client went)."""
    create_vacancy(client, region.corporation, "GM0307")  # the table's only dwelling in BU03070101
    url = f"/v1/tables/{region.table_id}/areas"

    def listed(org):  # type: ignore[no-untyped-def]
        response = client.get(url, headers=org.headers)
        assert response.status_code == 200, response.text
        return {a["code"] for a in response.json()["items"]}

    for reader in (region.chair, region.municipality, region.corporation):
        assert "BU03070101" in listed(reader)
    for outsider in (region.other_corporation, region.care_provider, region.other_care_provider):
        shown = listed(outsider)
        assert "BU03070101" not in shown
        assert {"GM0344", "GM0307"} <= shown  # the table's municipalities
    page = f"/tafels/{region.table_id}/gebieden"
    own = signed_in(app, make_person(client, region.corporation, "member"))
    assert "BU03070101" in own.get(page).text
    other = signed_in(app, make_person(client, region.other_corporation, "member"))
    shown = other.get(page)
    assert shown.status_code == 200 and "BU03070101" not in shown.text


def test_pages_show_codes_with_names(app, client, region, session):  # type: ignore[no-untyped-def]
    load_cbs_file(session, SAMPLE)
    create_case(client, region.care_provider, region.table_id, external_ref="GEBIED-1")
    dwelling = create_vacancy(client, region.corporation)  # BU03440101, Lombok-West
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    html = chair.get(f"/woningen/{dwelling['id']}").text
    assert "<bdi>Lombok-West</bdi> (BU03440101)" in html and "<bdi>Utrecht</bdi> (GM0344)" in html
    assert "<bdi>Lombok-West</bdi> (BU03440101)" in chair.get("/woningen").text
    cases = client.get("/v1/cases", headers=region.chair.headers).json()["items"]
    assert "<bdi>Utrecht</bdi> (GM0344)" in chair.get(f"/dossiers/{cases[0]['id']}").text


def test_the_chair_names_a_code_on_the_areas_page(app, client, region):  # type: ignore[no-untyped-def]
    create_vacancy(client, region.corporation, "GM0307")
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    url = f"/tafels/{region.table_id}/gebieden"
    assert "BU03070101" in chair.get(url).text
    form = {"code": "BU03070101", "naam": "Schothorst", "versie": "nieuw"}
    done = post_form(chair, url, form, csrf_from=url)
    assert done.status_code == 303, done.text
    assert "Door de tafel benoemd" in chair.get(url).text
    member = signed_in(app, make_person(client, region.municipality, "member"))
    form = {"code": "BU03070101", "naam": "Iets", "versie": "1"}
    refused = post_form(member, url, form, csrf_from=url)
    assert refused.status_code == 403
    dwellings = chair.get("/woningen").text
    assert "<bdi>Schothorst</bdi> (BU03070101)" in dwellings


def test_the_demo_ships_a_name_for_every_code_it_uses(session):  # type: ignore[no-untyped-def]
    import io

    from app.areas.service import table_areas
    from app.demo import TABLE_NAME, load_demo
    from app.organisations.models import OrganisationKind
    from app.principal import Principal
    from app.tables.models import OutflowTable

    load_demo(session, io.StringIO())
    table = session.exec(select(OutflowTable).where(OutflowTable.name == TABLE_NAME)).one()
    chair = Principal(
        is_operator=False,
        organisation_id=table.chair_organisation_id,
        organisation_kind=OrganisationKind.municipality,
    )
    areas = table_areas(session, table, chair)
    assert areas and all(a.name for a in areas)
    assert {a.name for a in areas if a.code == "GM0307"} == {"Amersfoort"}


def _listed(client, region, code):  # type: ignore[no-untyped-def]
    url = f"/v1/tables/{region.table_id}/areas"
    [area] = [
        a
        for a in client.get(url, headers=region.chair.headers).json()["items"]
        if a["code"] == code
    ]
    return area


def test_a_put_that_first_names_a_code_answers_201_with_its_location(client, region):  # type: ignore[no-untyped-def]
    """RFC 9110 section 9.3.4: a PUT that creates its target answers 201, one that replaces it
    200, as the PUTs of a year's limits and of a contingent agreement do (this one answered 200
    both times); the 201's `Location` is the name's own address, the PUT's target."""
    create_vacancy(client, region.corporation, "GM0307")  # BU03070101: no name anywhere
    path = f"/v1/tables/{region.table_id}/areas/BU03070101"
    chair = region.chair.headers
    created = client.put(path, json={"name": "Schothorst"}, headers=chair)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == path
    assert created.json()["name"] == "Schothorst" and created.headers["ETag"] == '"1"'
    for name in ("Schothorst", "Schothorst-Noord"):  # as it stands, then another name
        replaced = client.put(path, json={"name": name}, headers=chair)
        assert replaced.status_code == 200, replaced.text
        assert "Location" not in replaced.headers


def test_concurrent_naming_of_an_area_code_is_refused_not_lost(client, region):  # type: ignore[no-untyped-def]
    """Two people of the chair read the list (the code unnamed, `version` null) and each name
    it: with `If-None-Match: *` (name it only where the table named none) the second is a 412;
    with `If-Match` and the listed `version` as ETag, a rename on a stale version is a 412
    instead of silently replacing the name someone else gave meanwhile."""
    create_vacancy(client, region.corporation, "GM0307")  # BU03070101: no name anywhere
    url = f"/v1/tables/{region.table_id}/areas/BU03070101"
    chair = region.chair.headers
    assert _listed(client, region, "BU03070101")["version"] is None
    assert_problem(
        client.put(url, json={"name": "Schothorst"}, headers={**chair, "If-Match": '"1"'}), 412
    )

    first = client.put(url, json={"name": "Schothorst"}, headers={**chair, "If-None-Match": "*"})
    second = client.put(url, json={"name": "Nieuwland"}, headers={**chair, "If-None-Match": "*"})

    assert first.status_code == 201 and first.headers["ETag"] == '"1"', first.text
    assert_problem(second, 412)
    listed = _listed(client, region, "BU03070101")
    assert (listed["name"], listed["version"]) == ("Schothorst", 1)
    renamed = client.put(
        url, json={"name": "Schothorst-Noord"}, headers={**chair, "If-Match": '"1"'}
    )
    stale = client.put(url, json={"name": "Nieuwland"}, headers={**chair, "If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.headers["ETag"] == '"2"', renamed.text
    assert "changed" in assert_problem(stale, 412)["detail"]
    assert _listed(client, region, "BU03070101")["name"] == "Schothorst-Noord"
    again = client.put(url, json={"name": "Schothorst-Noord"}, headers={**chair, "If-Match": '"2"'})
    assert again.status_code == 200 and again.headers["ETag"] == '"2"'  # as it stands: unchanged


def test_an_area_form_shown_before_another_name_was_given_stores_nothing(app, client, region):  # type: ignore[no-untyped-def]
    """The areas page's form carries the version of the name it showed (`nieuw` for none): a
    form from a page shown before a colleague (or the chair's system) named the code does not
    replace that name unseen; the same form sent twice stands; one without it stores nothing."""
    create_vacancy(client, region.corporation, "GM0307")
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    url = f"/tafels/{region.table_id}/gebieden"
    assert 'name="versie" value="nieuw"' in chair.get(url).text
    api = f"/v1/tables/{region.table_id}/areas/BU03070101"
    assert (
        client.put(api, json={"name": "Schothorst"}, headers=region.chair.headers).status_code
        == 201
    )

    stale = post_form(
        chair, url, {"code": "BU03070101", "naam": "Nieuwland", "versie": "nieuw"}, csrf_from=url
    )
    without = post_form(chair, url, {"code": "BU03070101", "naam": "Nieuwland"}, csrf_from=url)

    assert stale.status_code == 412 and "intussen" in stale.text
    assert without.status_code == 400
    assert _listed(client, region, "BU03070101")["name"] == "Schothorst"
    form = {"code": "BU03070101", "naam": "Nieuwland", "versie": "1"}
    assert post_form(chair, url, form, csrf_from=url).status_code == 303
    assert post_form(chair, url, form, csrf_from=url).status_code == 303  # sent twice: it stands
    listed = _listed(client, region, "BU03070101")
    assert (listed["name"], listed["version"]) == ("Nieuwland", 2)


def _area_field(html: str, code: str):  # type: ignore[no-untyped-def]
    from tests.web.html_rules import parse

    (found,) = [n for n in parse(html).walk() if n.attrs.get("id") == f"naam-{code}"]
    return found


def test_a_refused_area_name_stays_in_its_field_which_says_what_is_wrong(app, client, region):  # type: ignore[no-untyped-def]
    """The areas page has a form per code. A refused name came back with the typed name gone
    (the field empty, or the name a colleague gave) and an error summary that named no code and
    no field: with many codes the chair could not tell which form failed, and had to type the
    name again. The name typed stays in its field, which is marked and says why, the summary
    links to it, and after a colleague's name (412) the field says what the name is now and
    the form carries its version, so saving again replaces it knowingly."""
    from tests.web.html_rules import parse, problems

    create_vacancy(client, region.corporation, "GM0307")
    chair = signed_in(app, make_person(client, region.chair, "chair"))
    url = f"/tafels/{region.table_id}/gebieden"
    typed = "Schot\u202ehorst"  # a bidirectional control: refused
    refused = post_form(chair, url, {"code": "BU03070101", "naam": typed, "versie": "nieuw"}, url)
    assert refused.status_code == 400
    named = _area_field(refused.text, "BU03070101")
    assert named.attrs["value"] == typed
    assert named.attrs.get("aria-invalid") == "true"
    assert problems(refused.text) == []  # aria-describedby points at the message
    summary = [n for n in parse(refused.text).walk() if n.attrs.get("href") == "#naam-BU03070101"]
    assert summary and "BU03070101" in summary[0].text()
    marked = [n.attrs["id"] for n in parse(refused.text).walk() if n.attrs.get("aria-invalid")]
    assert marked == ["naam-BU03070101"]  # not the other codes' fields

    api = f"/v1/tables/{region.table_id}/areas/BU03070101"
    given = client.put(api, json={"name": "Schothorst"}, headers=region.chair.headers)
    assert given.status_code == 201
    stale = post_form(
        chair, url, {"code": "BU03070101", "naam": "Nieuwland", "versie": "nieuw"}, url
    )
    assert stale.status_code == 412
    named = _area_field(stale.text, "BU03070101")
    assert named.attrs["value"] == "Nieuwland"
    assert named.attrs.get("aria-invalid") == "true"
    message = [n for n in parse(stale.text).walk() if n.attrs.get("id") == "naam-BU03070101-fout"]
    assert "Schothorst" in message[0].text()
    assert problems(stale.text) == []
    form = named.parent
    assert form is not None
    assert [n.attrs["value"] for n in form.walk() if n.attrs.get("name") == "versie"] == ["1"]
