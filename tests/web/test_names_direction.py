"""Names typed by people (a person's, an organisation's, a table's) and every other text they
typed (an area's name, a dwelling's street, house number and complex) may be written right to
left: Arabic or Hebrew. Shown without isolation, the browser's bidi algorithm lets the text pull
its neighbours along ("محمد, Zorg (Lid)" reads with the comma and the role on the wrong side).
Every place a page shows such text isolates it: a <bdi> (the `isolate` filter), or the element
that holds it has dir="auto" (an <option> cannot hold a <bdi>); in a chart's SVG, where HTML
cannot go, the label sits between FSI and PDI (U+2068, U+2069)."""

import functools
import uuid

from tests.aftercare.housing import ensure_limits, house
from tests.clock import TODAY
from tests.conftest import _region, create_vacancy, make_org, make_table
from tests.web.conftest import make_person, publish_one, signed_in
from tests.web.html_rules import Node, parse
from tests.web.test_accessibility import UUID, crawl

ARABIC = "مؤسسة الرعاية"
HEBREW = "עמותת דיור"
PERSON = "محمد العلي"
STREET = "שדרות הרצל"
HOUSE_NUMBER = "12 א"
COMPLEX = "مجمع النور"
AREA = "حي الزهور (شمال)"
FSI, PDI = "\u2068", "\u2069"


def not_isolated(html: str, names: tuple[str, ...]) -> list[str]:
    """Each text of the page that holds one of `names` and sits in no <bdi> and in no element
    with a dir attribute of its own (up to the element that holds the text)."""
    found = []
    for node in parse(html).walk():
        for child in node.children:
            if not isinstance(child, str) or not any(name in child for name in names):
                continue
            holder: Node | None = node
            isolated = False
            while holder is not None and holder.tag not in ("#document", "body", "main"):
                # dir="auto" isolates a name only where it is the element's whole text.
                whole = holder.text() == " ".join(child.split())
                if holder.tag == "bdi" or ("dir" in holder.attrs and whole):
                    isolated = True
                    break
                if holder.tag in ("p", "td", "th", "li", "dd", "dt", "h1", "h2", "h3", "span"):
                    break  # a block of text with other words in it: the name needs its own
                holder = holder.parent
            if node.inside("svg"):
                # A chart's label: its whole <text>, between FSI and PDI.
                isolated = child.startswith(FSI) and child.endswith(PDI)
            if not isolated and node.tag != "title":
                found.append(f"<{node.tag}> {child.strip()[:60]!r}")
    return found


def test_a_right_to_left_name_is_isolated_from_the_dutch_around_it(app, client):
    def org(kind: str):  # type: ignore[no-untyped-def]
        name = {"care_provider": ARABIC, "housing_corporation": HEBREW}.get(kind)
        return make_org(client, kind, f"{name} {uuid.uuid4().hex[:6]}" if name else None)

    region = _region(org, functools.partial(make_table, client, name=f"{HEBREW} tafel"), ["GM0344"])
    publish_one(client, region)
    ensure_limits(client, 260)
    house(client, region, -200, "intermediate_lease")
    names = (ARABIC, HEBREW, PERSON)
    broken = {}
    for org_of_person, role in (
        (region.chair, "chair"),
        (region.care_provider, "member"),
        (region.corporation, "member"),
    ):
        person = make_person(client, org_of_person, role, is_admin=True)
        response = client.patch(
            f"/v1/organizations/{org_of_person.id}/people/{person.id}",
            json={"display_name": PERSON},
            headers=org_of_person.headers,
        )
        assert response.status_code == 200, response.text
        pages = crawl(signed_in(app, person))
        assert any(PERSON in html for html in pages.values())
        for path, html in pages.items():
            if found := not_isolated(html, names):
                broken.setdefault(UUID.sub("{id}", path.split("?")[0]), found)
    assert broken == {}


def test_text_a_person_typed_is_isolated_on_every_page_and_chart(app, client):
    """An area's name (the chair's), a dwelling's street, house number and complex (the
    corporation's) and an organisation's name in the monitor's contingent chart, in Arabic or
    Hebrew: each is isolated wherever a chair, a care provider, a corporation or a viewer meets
    it."""

    def org(kind: str):  # type: ignore[no-untyped-def]
        name = {"care_provider": ARABIC, "housing_corporation": HEBREW}.get(kind)
        return make_org(client, kind, f"{name} {uuid.uuid4().hex[:6]}" if name else None)

    region = _region(org, functools.partial(make_table, client, name=f"{HEBREW} tafel"), ["GM0344"])
    area = "BU03449901"  # not in the CBS list: the chair names it
    named = client.put(
        f"/v1/tables/{region.table_id}/areas/{area}",
        json={"name": AREA},
        headers=region.chair.headers,
    )
    assert named.status_code in (200, 201), named.text
    address = {"street": STREET, "house_number": HOUSE_NUMBER, "postcode": "3512AB",
               "municipality_code": "GM0344", "neighbourhood_code": area}  # fmt: skip
    create_vacancy(client, region.corporation, address=address, complex_ref=COMPLEX)
    agreed = client.put(
        f"/v1/tables/{region.table_id}/contingent-agreements/{TODAY.year}/{region.corporation.id}",
        json={"agreed": 3},
        headers=region.chair.headers,
    )
    assert agreed.status_code in (200, 201), agreed.text
    publish_one(client, region)
    names = (ARABIC, HEBREW, STREET, HOUSE_NUMBER, COMPLEX, AREA)
    broken: dict[str, list[str]] = {}
    seen: set[str] = set()
    for org_of_person, role in (
        (region.chair, "chair"),
        (region.care_provider, "member"),
        (region.corporation, "member"),
        (region.municipality, "viewer"),
    ):
        pages = crawl(signed_in(app, make_person(client, org_of_person, role)))
        seen |= {name for name in names for html in pages.values() if name in html}
        for path, html in pages.items():
            if found := not_isolated(html, names):
                broken.setdefault(UUID.sub("{id}", path.split("?")[0]), found)
    assert seen == set(names)  # every text was on some page
    assert broken == {}
    assert any(FSI + HEBREW in html for html in pages.values())  # the chart's label
    # The fields for such text take the direction of what is typed in them.
    form = signed_in(app, make_person(client, region.corporation)).get("/woningen/nieuw")
    (street,) = [n for n in parse(form.text).walk() if n.attrs.get("name") == "address.street"]
    assert street.attrs.get("dir") == "auto"
