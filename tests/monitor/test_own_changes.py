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
from datetime import date, timedelta

from app.monitor import years
from app.monitor.access import Viewer
from app.monitor.facts import CaseFacts, Facts, Housing
from app.monitor.models import GroupBy
from app.monitor.suppression import PRIMARY_MAX, determined, suppress
from app.organisations.models import OrganisationKind
from tests.clock import TODAY

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
