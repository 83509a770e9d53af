"""A restricted viewer that changes its own cases between two answers learns nothing more.

The one part of a table a care provider can change at will is its own: it registers cases, moves
their ready dates, withdraws or houses them. Everything else (the other organisations' counts)
stays the same between two answers, so whatever each answer shows of those counts adds up in the
reader's hands. If the cells hidden depended on the viewer's own part, the two answers would show
the same others' counts once one way and once another, and together give away what each hid (a
provider that registered six cases in October worked out a quarter's four other exits of another
provider). The complements are chosen by the others' people they hold, so the same cells are
hidden before and after the change.
"""

import random
import uuid
from csv import DictReader
from datetime import date, timedelta
from io import StringIO

from app.monitor import years
from app.monitor.access import Viewer
from app.monitor.facts import CaseFacts, Facts, Housing
from app.monitor.models import GroupBy
from app.monitor.suppression import PRIMARY_MAX, determined, suppress
from app.organisations.models import OrganisationKind
from tests.clock import TODAY, day, iso
from tests.monitor.history import dwelling, figures, house, publish, ready_case
from tests.web.conftest import make_person, signed_in

QUARTER = [[("m1", 1.0), ("m2", 1.0), ("m3", 1.0), ("q", -1.0)]]


def test_a_complement_is_chosen_by_the_others_people_not_by_the_viewers_own():
    """Another provider's 2, 10 and 10 new ready cases in three months and their quarter's 22:
    the 2 is hidden with one of the tens. The viewer then registers 5 of its own in the second
    month; had the complement moved to the third month, the two answers would give 22 - 10 - 10."""
    before = {"m1": 2, "m2": 10, "m3": 10, "q": 22}
    after = {"m1": 2, "m2": 15, "m3": 10, "q": 27}
    own = {"m2": 5, "q": 5}
    hidden_before = suppress(before, QUARTER)
    hidden_after = suppress(after, QUARTER, lower=own)
    assert hidden_before == hidden_after
    shown = (before.keys() - hidden_before) | (after.keys() - hidden_after)
    assert "m1" not in determined(before.keys() - shown, QUARTER, before)


PROVIDERS = [uuid.UUID(int=n) for n in (1, 2, 3)]
CORPORATION = uuid.UUID(int=9)
YEAR = TODAY.year


def _cases(rng: random.Random, provider: uuid.UUID, count: int, first: int) -> Facts:
    """`count` cases of `provider` ready over last year and this one, some housed or withdrawn
    within this year."""
    cases, housings = [], []
    for n in range(count):
        case_id = uuid.UUID(int=first + n)
        ready = date(YEAR - 1, 1, 1) + timedelta(days=rng.randint(0, 700))
        left = ready + timedelta(days=rng.randint(0, 200))
        fate = rng.random()
        if fate > 0.5 or left.year > YEAR:
            cases.append(CaseFacts(case_id, provider, ready, None, "ready", None))
        elif fate > 0.2:
            lease = rng.choice(["own_lease", "intermediate_lease"])
            waited = (left - ready).days
            cases.append(CaseFacts(case_id, provider, ready, left, "housed", None))
            place = (CORPORATION, "GM0344", "BU03440101")
            housings.append(Housing(case_id, provider, *place, left, lease, False, waited))
        else:
            reason = rng.choice(["returned_to_care", "moved_away"])
            cases.append(CaseFacts(case_id, provider, ready, left, "withdrawn", reason))
    return Facts(cases, housings)


def _joined(*parts: Facts) -> Facts:
    return Facts(
        [c for part in parts for c in part.cases], [h for part in parts for h in part.housings]
    )


def _rests(table: years.YearTable) -> dict:
    system = table.system
    return {c: (v or 0) - system.lower.get(c, 0) for c, v in system.values.items()}


def test_a_provider_adding_its_own_cases_finds_the_same_cells_hidden():
    """Random tables of three providers; the viewer (the first) adds up to ten cases of its
    own of every kind. Ungrouped (and by care provider, the costlier, in the first three), the
    year's table hides the same cells before and after, and the two answers together pin no
    hidden count of 1 to 4 others."""
    viewer = Viewer(PROVIDERS[0], OrganisationKind.care_provider)
    keys_of = {
        GroupBy.none: [None],
        GroupBy.care_provider: [*sorted(str(p) for p in PROVIDERS), None],
    }
    rng = random.Random(20261231)
    for trial in range(6):
        others = _joined(
            _cases(rng, PROVIDERS[1], rng.randint(5, 60), 1000),
            _cases(rng, PROVIDERS[2], rng.randint(0, 30), 2000),
        )
        own = _cases(rng, PROVIDERS[0], rng.randint(0, 10), 3000)
        added = _cases(rng, PROVIDERS[0], rng.randint(1, 10), 4000)
        for grouping, keys in list(keys_of.items())[: 2 if trial < 3 else 1]:
            own_groups = (
                {str(viewer.organisation_id)} if grouping == GroupBy.care_provider else set()
            )
            before, after = (
                years.protected_year(facts, viewer, grouping, keys, YEAR, own_groups)
                for facts in (_joined(others, own), _joined(others, own, added))
            )
            assert _rests(before) == _rests(after)  # the others' counts did not change
            assert before.hidden == after.hidden, (trial, grouping)
            rests = _rests(before)
            hidden = (before.hidden & after.hidden) | before.system.unshown
            pinned = determined(hidden, before.system.equations, rests)
            assert not {c for c in pinned - before.system.unshown if 0 < rests[c] <= PRIMARY_MAX}, (
                trial,
                grouping,
            )


CORPORATIONS = [uuid.UUID(int=n) for n in (91, 92, 93)]
MUNICIPALITIES = ["GM0307", "GM0344", "GM0363"]


def _housed(rng: random.Random, provider: uuid.UUID, count: int, first: int, where: slice) -> Facts:
    """`count` cases of `provider` housed this year with the corporations `where`, in the
    municipalities `where`, after waits of up to three years."""
    cases, housings = [], []
    for n in range(count):
        case_id = uuid.UUID(int=first + n)
        moved = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 330))
        ready = moved - timedelta(days=rng.randint(0, 1100))
        cases.append(CaseFacts(case_id, provider, ready, moved, "housed", None))
        code = rng.choice(MUNICIPALITIES[where])
        place = (rng.choice(CORPORATIONS[where]), code, f"BU{code[2:]}0101")
        lease = rng.choice(["own_lease", "intermediate_lease"])
        housings.append(
            Housing(case_id, provider, *place, moved, lease, False, (moved - ready).days)
        )
    return Facts(cases, housings)


def test_a_provider_housing_its_own_client_where_nobody_was_housed_finds_the_same_rows():
    """Random tables of another provider's housings with two of the table's three corporations,
    in two of its three municipalities; the viewer then houses a client of its own with the
    third corporation, in the third municipality. Listed by the table's members and
    municipalities (`group_keys`), the rows are the same before and after, so are the cells
    hidden, and the two answers together pin no hidden count of 1 to 4 others.

    Listed by who was housed (as before), the third corporation's row appeared with the
    viewer's own housing, and its cells (none of the others' people in them: the cheapest
    complements) took over from complements in the others' rows: other cells were hidden in 3
    of 20 of these tables, and in a table like them the two answers together gave what each hid,
    another corporation's seven housings of the year split by lease form (4 and 3)."""
    viewer = Viewer(PROVIDERS[0], OrganisationKind.care_provider)
    listed = {
        GroupBy.corporation: {str(c) for c in CORPORATIONS},
        GroupBy.municipality: set(MUNICIPALITIES),
    }
    rng = random.Random(7)
    for trial in range(12):
        grouping = [GroupBy.corporation, GroupBy.municipality][trial % 2]
        others = _housed(rng, PROVIDERS[1], rng.randint(3, 25), 1000, slice(0, 2))
        own = _housed(rng, PROVIDERS[0], rng.randint(0, 3), 3000, slice(0, 2))
        added = _housed(rng, PROVIDERS[0], 1, 4000, slice(2, 3))
        tables = []
        for facts in (_joined(others, own), _joined(others, own, added)):
            keys = years.group_keys(grouping, facts, listed[grouping])
            tables.append(years.protected_year(facts, viewer, grouping, keys, YEAR, set()))
        before, after = tables
        assert before.system.values.keys() == after.system.values.keys(), (trial, grouping)
        assert _rests(before) == _rests(after)  # the others' counts did not change
        assert before.hidden == after.hidden, (trial, grouping)
        rests = _rests(before)
        hidden = (before.hidden & after.hidden) | before.system.unshown
        pinned = determined(hidden, before.system.equations, rests)
        assert not {c for c in pinned - before.system.unshown if 0 < rests[c] <= PRIMARY_MAX}


def _answers(client, app, org, table_id: str, params: dict) -> dict:
    """What `org` reads by corporation and by municipality: the API's groups and hidden cells,
    the CSV's groups, and the page's breakdown (its rows' text)."""
    person = signed_in(app, make_person(client, org))
    seen = {}
    for grouping, indeling in (("corporation", "corporation"), ("municipality", "municipality")):
        document = figures(client, org, table_id, **params, groupBy=grouping)
        csv = client.get(
            f"/v1/tables/{table_id}/monitor",
            params={**params, "groupBy": grouping, "format": "csv"},
            headers=org.headers,
        )
        assert csv.status_code == 200, csv.text
        lines = list(DictReader(StringIO(csv.text)))
        page = person.get(
            f"/tafels/{table_id}/monitor",
            params={"tot": params["end"], "periode": params["period"], "indeling": indeling},
        )
        assert page.status_code == 200, page.text
        breakdown = page.text.split('id="h-uitsplitsing"', 1)[1].split("</section>", 1)[0]
        rows = document["rows"] + document["totals"]
        seen[grouping] = {
            "groups": [t["group"] for t in document["totals"]],
            "csv_groups": list(dict.fromkeys(line["group"] or None for line in lines)),
            "hidden": {(r["period"], r["group"], m) for r in rows for m in r["suppressed"]},
            "page_rows": breakdown.count("<tr>") - 1,  # less the heading's
            "names": {r["group_name"] for r in document["totals"] if r["group"] is not None},
            "page": breakdown,
        }
    return seen


def test_every_member_corporation_and_municipality_is_a_row_before_anyone_is_housed_there(
    app, client, region, limits
):
    """The other provider houses six clients with the first corporation in GM0344; then the
    viewer houses one of its own with the second corporation in GM0307, where nobody was
    housed. Both corporations and both municipalities of the table are rows in both answers
    (API, CSV and page alike), and the same cells are hidden: a row that appeared with the
    viewer's own housing changed which of the others' cells were hidden."""
    spread = {"max_per_complex": 100, "max_per_neighbourhood": 100}
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": spread}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text
    for k in range(6):
        ready_case(client, region.other_care_provider, region.table_id, iso(-300 + 37 * k))
        dwelling(client, region.corporation, complex_ref=f"A{k}")
    for k, proposal in enumerate(publish(client, region, iso(-60))):
        house(client, region, proposal, iso(-55 + 3 * k), by=region.chair)
    year = day(-40).year
    params = {"start": f"{year}-01-01", "end": f"{year}-12-31", "period": "quarter"}
    before = _answers(client, app, region.care_provider, region.table_id, params)

    ready_case(client, region.care_provider, region.table_id, iso(-200))
    dwelling(client, region.other_corporation, municipality_code="GM0307", complex_ref="B")
    [proposal] = publish(client, region, iso(-50))
    house(client, region, proposal, iso(-45), by=region.chair)
    after = _answers(client, app, region.care_provider, region.table_id, params)

    corporations = sorted([region.corporation.id, region.other_corporation.id])
    members = {"corporation": corporations, "municipality": ["GM0307", "GM0344"]}
    for grouping, groups in members.items():
        for seen in (before[grouping], after[grouping]):
            assert seen["groups"] == [*groups, None], grouping
            assert seen["csv_groups"] == seen["groups"]
            assert seen["page_rows"] == 5 * len(seen["groups"])  # 4 quarters and the total
        assert before[grouping]["hidden"] == after[grouping]["hidden"], grouping
    names = {region.corporation.name, region.other_corporation.name}
    assert before["corporation"]["names"] == after["corporation"]["names"] == names
    for name in names:
        assert name in before["corporation"]["page"]
