"""Names typed by people (a person's, an organisation's, a table's) may be written right to left:
an Arabic or Hebrew name. Shown without isolation, the browser's bidi algorithm lets the name
pull its neighbours along ("محمد, Zorg (Lid)" reads with the comma and the role on the wrong
side). Every place a page shows such a name isolates it: a <bdi>, or the element that holds it
has dir="auto" (an <option> cannot hold a <bdi>)."""

import functools
import uuid

from tests.aftercare.housing import ensure_limits, house
from tests.conftest import _region, make_org, make_table
from tests.web.conftest import make_person, publish_one, signed_in
from tests.web.html_rules import Node, parse
from tests.web.test_accessibility import UUID, crawl

ARABIC = "مؤسسة الرعاية"
HEBREW = "עמותת דיור"
PERSON = "محمد العلي"


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
            if not isolated and node.tag != "title" and not node.inside("svg"):
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
