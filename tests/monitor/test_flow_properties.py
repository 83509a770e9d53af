"""Property: whatever history the API accepts, the monitor's figures follow their definitions and
add up, for every period and grouping, and no waiting time is negative.

Hypothesis writes random histories through the API over a year, with the clock moving forward:
cases registered with ready dates in the past or future, ready dates edited, holds and resumes,
withdrawals with dates of record, dwellings, meetings published, proposals declined, signed or
housed with a move-in date. A small model beside the API predicts every refusal (and the test
checks the API refuses exactly then) and keeps its own record of each case's ready date and exit,
from which the figures are computed independently and compared with the chair's answers.
"""

import itertools
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app.timeutil import AMSTERDAM
from tests.clock import TODAY
from tests.conftest import Org, Region, make_org, make_table
from tests.monitor.history import (
    decide,
    dwelling,
    ensure_limits,
    figures,
    patch_case,
    ready_case,
    withdraw,
)
from tests.monitor.reader import read, small_sums

HISTORY_START = TODAY - timedelta(days=400)
OPEN = ("proposed", "nominated", "accepted", "tenancy_signed")
FORMS = (["own_lease"], ["intermediate_lease"], ["own_lease", "intermediate_lease"])
NEXT_STEP = {  # the walk to a signed tenancy: decision, who takes it, the status it leads to
    "proposed": ("nominate", "chair", "nominated"),
    "nominated": ("corporation_accept", "corporation", "accepted"),
    "accepted": ("sign_tenancy", "corporation", "tenancy_signed"),
}
_codes = itertools.count(1)

# A history is a run of weeks. Each week the clock moves on, then: new cases, edits of existing
# cases, new dwellings, decisions on earlier proposals (mostly open ones), perhaps a meeting.
new_case = st.tuples(st.just("case"), st.integers(0, 1), st.integers(-120, 30), st.integers(0, 2))
edit = st.one_of(
    st.tuples(st.just("move_ready"), st.integers(0, 99), st.integers(-150, 45)),
    st.tuples(st.just("move_ready"), st.integers(0, 99), st.integers(-30, 10)),
    st.tuples(st.just("hold"), st.integers(0, 99)),
    st.tuples(st.just("resume"), st.integers(0, 99)),
    st.tuples(st.just("withdraw"), st.integers(0, 99), st.integers(0, 60), st.booleans()),
)
new_dwelling = st.tuples(
    st.just("dwelling"), st.integers(0, 1), st.integers(0, 1), st.integers(0, 2)
)
decision = st.tuples(
    st.just("decide"),
    st.integers(0, 99),
    st.sampled_from(["house", "house", "house", "sign", "client_decline", "corporation_decline"]),
    st.integers(0, 25),
    st.booleans(),  # any proposal (closed ones too), not only an open one
)
week = st.tuples(
    st.integers(1, 40).map(lambda days: ("wait", days)),
    st.lists(new_case, max_size=3),
    st.lists(edit, max_size=3),
    st.lists(new_dwelling, max_size=2),
    st.lists(decision, max_size=3),
    st.one_of(st.none(), st.integers(0, 6).map(lambda back: ("meeting", back))),
).map(lambda w: [w[0], *w[1], *w[2], *w[3], *w[4], *([w[5]] if w[5] else [])])


@dataclass
class ModelCase:
    id: str
    provider: int
    ready: date
    form: str
    held: bool = False
    closed: bool = False
    exit: date | None = None
    kind: str | None = None  # housed, returned, withdrawn
    lease: str | None = None
    corporation: int | None = None
    municipality: str | None = None


@dataclass
class ModelDwelling:
    id: str
    corporation: int
    municipality: str
    forms: list[str]


@dataclass
class ModelProposal:
    id: str
    case: ModelCase
    dwelling: ModelDwelling
    meeting: date
    status: str = "proposed"


@dataclass
class World:
    """One table's history: the API's side (orgs, table) and the model's record."""

    region: Region
    codes: list[str]
    clock: date = HISTORY_START
    cases: list[ModelCase] = field(default_factory=list)
    dwellings: list[ModelDwelling] = field(default_factory=list)
    proposals: list[ModelProposal] = field(default_factory=list)
    meetings: set[date] = field(default_factory=set)

    def providers(self) -> list[Org]:
        return [self.region.care_provider, self.region.other_care_provider]

    def corporations(self) -> list[Org]:
        return [self.region.corporation, self.region.other_corporation]

    def open_proposals(self, case: ModelCase) -> list[ModelProposal]:
        return [p for p in self.proposals if p.case is case and p.status in OPEN]


@pytest.fixture
def organisations(client) -> dict[str, Org]:
    """The members every generated table shares (each example builds its own table)."""
    ensure_limits(client)
    kinds = {
        "chair": "municipality",
        "care_provider": "care_provider",
        "other_care_provider": "care_provider",
        "corporation": "housing_corporation",
        "other_corporation": "housing_corporation",
    }
    return {name: make_org(client, kind) for name, kind in kinds.items()}


def new_world(client, orgs: dict[str, Org]) -> World:
    n = next(_codes)
    codes = [f"GM{1000 + n:04d}", f"GM{5000 + n:04d}"]
    members = [orgs[k] for k in orgs if k != "chair"]
    table_id = make_table(client, orgs["chair"], members, codes)
    region = Region(
        table_id,
        orgs["chair"],
        orgs["chair"],
        orgs["care_provider"],
        orgs["other_care_provider"],
        orgs["corporation"],
        orgs["other_corporation"],
        codes,
    )
    return World(region, codes)


def expect(response: Any, status: int, code: str | None = None) -> None:
    """The API answered as the model predicted."""
    assert response.status_code == status, response.text
    if status >= 400:
        event(f"refused: {code}")
    if code is not None:
        body = response.json()
        codes = {body.get("code")} | {p["code"] for p in body.get("invalidParams", [])}
        assert code in codes, body


def apply(client, world: World, step: tuple) -> None:
    kind, *args = step
    region = world.region
    if kind == "case":
        provider, offset, form = args
        ready = world.clock + timedelta(days=offset)
        forms = ("either", "own_lease", "intermediate_lease")
        body = ready_case(
            client,
            world.providers()[provider],
            region.table_id,
            ready.isoformat(),
            contract_form=forms[form],
        )
        world.cases.append(ModelCase(body["id"], provider, ready, forms[form]))
    elif kind == "dwelling":
        corporation, municipality, forms = args
        code = world.codes[municipality]
        neighbourhood = f"BU{code[2:]}01{len(world.dwellings) % 9 + 1:02d}"
        address = {
            "street": "Lindenlaan",
            "house_number": str(len(world.dwellings) + 1),
            "postcode": "3512AB",
            "municipality_code": code,
            "neighbourhood_code": neighbourhood,
        }
        body = dwelling(
            client, world.corporations()[corporation], address=address, contract_forms=FORMS[forms]
        )
        world.dwellings.append(ModelDwelling(body["id"], corporation, code, FORMS[forms]))
    elif kind == "meeting":
        publish_meeting(client, world, world.clock - timedelta(days=args[0]))
    elif kind == "wait":
        world.clock = min(TODAY, world.clock + timedelta(days=args[0]))
    elif not world.cases:
        return
    elif kind in ("move_ready", "hold", "resume", "withdraw"):
        change_case(client, world, kind, world.cases[args[0] % len(world.cases)], args[1:])
    elif kind == "decide":
        index, how, back, any_proposal = args
        open_ones = [p for p in world.proposals if p.status in OPEN]
        choice = world.proposals if any_proposal else open_ones
        if choice:
            decide_proposal(client, world, choice[index % len(choice)], how, back)


def change_case(client, world: World, kind: str, case: ModelCase, args: list) -> None:
    org = world.providers()[case.provider]
    if kind == "resume" and not case.held:
        return  # resuming is only for a case on hold
    if kind == "move_ready":
        ready = world.clock + timedelta(days=args[0])
        response = patch_case(client, org, case.id, {"ready_since": ready.isoformat()})
        meetings = [p.meeting for p in world.open_proposals(case)]
        if case.closed:
            expect(response, 409, "case_closed")
        elif ready > case.ready and meetings and ready > min(meetings):
            expect(response, 400, "ready_since_after_meeting")
        else:
            expect(response, 200)
            case.ready = ready
    elif kind == "withdraw":
        exit_date = world.clock - timedelta(days=args[0])
        reason = "returned_to_care" if args[1] else "own_solution"
        response = withdraw(client, org, case.id, exit_date.isoformat(), reason)
        if case.closed:
            expect(response, 409, "case_closed")
        elif exit_date < case.ready <= world.clock:
            expect(response, 400, "exit_before_ready_since")
        else:
            expect(response, 200)
            case.closed, case.exit = True, exit_date
            case.kind = "returned" if args[1] else "withdrawn"
            close_open_proposals(world, case)
    else:
        body = (
            {"status": "on_hold", "status_reason": "client_request"}
            if kind == "hold"
            else {"status": "ready"}
        )
        response = patch_case(client, org, case.id, body)
        if case.closed:
            expect(response, 409, "case_closed")
        else:
            expect(response, 200)
            case.held = kind == "hold"
            close_open_proposals(world, case)


def close_open_proposals(world: World, case: ModelCase) -> None:
    for proposal in world.open_proposals(case):
        proposal.status = "closed"


def publish_meeting(client, world: World, on: date) -> None:
    if on in world.meetings:
        return
    world.meetings.add(on)
    region = world.region
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings",
        json={"date": on.isoformat()},
        headers=region.chair.headers,
    )
    expect(meeting, 201)
    published = client.post(
        f"/v1/meetings/{meeting.json()['id']}/publish", headers=region.chair.headers
    )
    expect(published, 200)
    items = client.get(
        f"/v1/tables/{region.table_id}/proposals",
        params={"meetingId": meeting.json()["id"], "limit": 100},
        headers=region.chair.headers,
    ).json()["items"]
    cases = {c.id: c for c in world.cases}
    dwellings = {d.id: d for d in world.dwellings}
    for item in items:
        case = cases[item["case_id"]]
        # The agenda proposes only open cases, ready on the meeting's date, not on hold or in
        # another open proposal.
        assert not case.closed and not case.held and case.ready <= on
        assert not world.open_proposals(case)
        world.proposals.append(ModelProposal(item["id"], case, dwellings[item["vacancy_id"]], on))


def decide_proposal(client, world: World, proposal: ModelProposal, how: str, back: int) -> None:
    region = world.region
    corporation = world.corporations()[proposal.dwelling.corporation]
    care_provider = world.providers()[proposal.case.provider]
    actors = {"chair": region.chair, "corporation": corporation}
    if proposal.status not in OPEN:
        response = decide(client, corporation, proposal.id, {"decision": "corporation_decline"})
        expect(response, 409, "illegal_transition")
        return
    if how in ("client_decline", "corporation_decline"):
        org = care_provider if how == "client_decline" else corporation
        response = decide(client, org, proposal.id, {"decision": how, "reason": "other"})
        if proposal.status == "tenancy_signed":  # signed is signed: only the move-in remains
            expect(response, 409, "illegal_transition")
            return
        expect(response, 200)
        proposal.status = "closed"
        return
    while proposal.status in NEXT_STEP:
        decision, actor, status = NEXT_STEP[proposal.status]
        expect(decide(client, actors[actor], proposal.id, {"decision": decision}), 200)
        proposal.status = status
    if how == "house":
        house(client, world, proposal, corporation, world.clock - timedelta(days=back))


def house(client, world: World, proposal: ModelProposal, corporation: Org, moved_in: date) -> None:
    case = proposal.case
    allowed = set(proposal.dwelling.forms)
    if case.form != "either":
        allowed &= {case.form}
    lease = sorted(allowed)[0]
    body = {"decision": "house", "effective_date": moved_in.isoformat(), "lease_form": lease}
    response = decide(client, corporation, proposal.id, body)
    if moved_in < proposal.meeting:
        expect(response, 400, "date_before_meeting")
    elif moved_in < case.ready:
        expect(response, 400, "date_before_ready_since")
    else:
        expect(response, 200)
        proposal.status = "housed"
        case.closed, case.exit, case.kind, case.lease = True, moved_in, "housed", lease
        case.corporation = proposal.dwelling.corporation
        case.municipality = proposal.dwelling.municipality


# --- the figures, computed from the model ---------------------------------------------------


def nearest_rank(values: list[int], fraction: float) -> float | None:
    if not values:
        return None
    return float(sorted(values)[math.ceil(fraction * len(values)) - 1])


def expected_row(world: World, cases: list[ModelCase], first: date, last: date, with_cases: bool):
    def left_in(kind: str) -> list[ModelCase]:
        return [c for c in cases if c.kind == kind and c.exit and first <= c.exit <= last]

    housed = left_in("housed")
    waits = [(c.exit - c.ready).days for c in housed]  # type: ignore[operator]
    row: dict[str, Any] = {
        "housed": len(housed),
        "housed_own_lease": sum(c.lease == "own_lease" for c in housed),
        "housed_intermediate_lease": sum(c.lease == "intermediate_lease" for c in housed),
        "waiting_days_median": float(statistics.median(waits)) if waits else None,
        "waiting_days_p90": nearest_rank(waits, 0.9),
    }
    if with_cases:
        row["new_ready"] = sum(first <= c.ready <= last for c in cases)
        row["returned"] = len(left_in("returned"))
        row["withdrawn"] = len(left_in("withdrawn"))
        row["other_exits"] = row["returned"] + row["withdrawn"]
        row["backlog_end"] = sum(
            c.ready <= last and (c.exit is None or c.exit > last) for c in cases
        )
    else:
        row |= dict.fromkeys(("new_ready", "returned", "withdrawn", "other_exits", "backlog_end"))
    return row


def members_of(world: World, grouping: str, group: str | None, counted: list[ModelCase]):
    """The model's cases in a group (housing groupings: the housed cases of the group)."""
    if group is None:
        return counted
    if grouping == "care_provider":
        return [c for c in counted if world.providers()[c.provider].id == group]
    if grouping == "corporation":
        return [
            c
            for c in counted
            if c.kind == "housed" and world.corporations()[c.corporation].id == group  # type: ignore[index]
        ]
    return [c for c in counted if c.kind == "housed" and c.municipality == group]


def expected_groups(world: World, grouping: str, counted: list[ModelCase]) -> set[str | None]:
    housed = [c for c in counted if c.kind == "housed"]
    if grouping == "none":
        return {None}
    if grouping == "care_provider":
        return {None} | {o.id for o in world.providers()}
    # Every member corporation and every municipality of the table, housed there or not.
    if grouping == "corporation":
        return {None} | {o.id for o in world.corporations()}
    return {None} | set(world.codes) | {c.municipality for c in housed}


def check_figures(client, world: World, start: date, end: date) -> None:
    # A case that left before it was ready never enters the figures; every housing waited >= 0.
    counted = [c for c in world.cases if c.exit is None or c.exit >= c.ready]
    assert all(c.exit >= c.ready for c in world.cases if c.kind == "housed")  # type: ignore[operator]
    for period, grouping in itertools.product(
        ("month", "quarter", "year"), ("none", "care_provider", "corporation", "municipality")
    ):
        document = figures(
            client,
            world.region.chair,
            world.region.table_id,
            start=start.isoformat(),
            end=end.isoformat(),
            period=period,
            groupBy=grouping,
        )
        with_cases = grouping in ("none", "care_provider")
        groups = expected_groups(world, grouping, counted)
        assert {r["group"] for r in document["totals"]} == groups
        for row in document["rows"] + document["totals"]:
            cases = members_of(world, grouping, row["group"], counted)
            first, last = (
                date.fromisoformat(row["period_start"]),
                date.fromisoformat(row["period_end"]),
            )
            expected = expected_row(world, cases, first, last, with_cases)
            assert {k: row[k] for k in expected} == expected, (period, grouping, row)
            assert row["waiting_days_median"] is None or row["waiting_days_median"] >= 0
        for group in groups:
            rows = [r for r in document["rows"] if r["group"] == group]
            assert rows[0]["period_start"] == start.isoformat()
            assert rows[-1]["period_end"] == end.isoformat()
            for before, now in itertools.pairwise(rows):
                assert date.fromisoformat(now["period_start"]) == date.fromisoformat(
                    before["period_end"]
                ) + timedelta(days=1)
                if with_cases:  # the flow equation
                    assert now["backlog_end"] == (
                        before["backlog_end"]
                        + now["new_ready"]
                        - now["housed"]
                        - now["other_exits"]
                    ), (period, grouping, group)
        total = next(r for r in document["totals"] if r["group"] is None)
        assert sum(b["count"] for b in document["waiting_days_histogram"]) == total["housed"]


def whole_years(start: date, end: date) -> tuple[str, str]:
    return date(start.year, 1, 1).isoformat(), date(end.year, 12, 31).isoformat()


# Restricted viewers read one calendar year: the one in the middle of the history, whose table
# stands on the year before it on most clocks.
MIDDLE = HISTORY_START + (TODAY - HISTORY_START) / 2


def check_suppressed_view(client, world: World, start: date, end: date) -> None:
    """A care provider's suppressed answer blanks cells, it never changes one."""
    params = {"start": start.isoformat(), "end": end.isoformat(), "period": "quarter"}
    params["groupBy"] = "care_provider"
    seen = figures(client, world.region.care_provider, world.region.table_id, **params)
    assert seen["suppression"] is True
    assert (seen["start"], seen["end"]) == whole_years(start, end)  # it reads whole years
    params |= {"start": seen["start"], "end": seen["end"]}
    whole = figures(client, world.region.chair, world.region.table_id, **params)
    for full, shown in zip(
        whole["rows"] + whole["totals"], seen["rows"] + seen["totals"], strict=True
    ):
        for measure, value in shown.items():
            if measure not in ("suppressed", "group_name") and value is not None:
                assert value == full[measure], (measure, full, shown)


def own_parts(
    world: World, viewer: Org, document: dict[str, Any], counted: list[ModelCase]
) -> tuple[dict[tuple, int], set[tuple]]:
    """What `viewer` knows of every cell of `document` from its own data, from the model: a care
    provider its cases (dates, exits, housings, waiting days), a corporation the housings in its
    dwellings (not their ready dates); and the cells it knows whole (its own group's)."""
    grouping = document["group_by"]
    if viewer in world.providers():
        mine = [c for c in counted if world.providers()[c.provider] is viewer]
        case_facts = True
    else:
        mine = [
            c
            for c in counted
            if c.kind == "housed" and world.corporations()[c.corporation] is viewer  # type: ignore[index]
        ]
        case_facts = False
    with_cases = grouping in ("none", "care_provider")
    own: dict[tuple, int] = {}
    known: set[tuple] = set()
    for part in ("rows", "totals"):
        for row in document[part]:
            first = date.fromisoformat(row["period_start"])
            last = date.fromisoformat(row["period_end"])
            cases = members_of(world, grouping, row["group"], mine)
            expected = expected_row(world, cases, first, last, with_cases and case_facts)
            for measure, value in expected.items():
                if isinstance(value, int):
                    own[(part, row["period"], row["group"], measure)] = value
                    if row["group"] == viewer.id:
                        known.add((part, row["period"], row["group"], measure))
    start = date.fromisoformat(document["start"])
    end = date.fromisoformat(document["end"])
    if case_facts:
        for bucket in document["waiting_days_histogram"]:
            low, high = bucket["min_days"], bucket["max_days"]
            own[("hist", bucket["bucket"])] = sum(
                c.kind == "housed"
                and start <= c.exit <= end  # type: ignore[operator]
                and low <= (c.exit - c.ready).days  # type: ignore[operator]
                and (high is None or (c.exit - c.ready).days <= high)  # type: ignore[operator]
                for c in mine
            )
        if with_cases:
            eve = start - timedelta(days=1)
            for row in document["totals"]:
                cases = members_of(world, grouping, row["group"], mine)
                own[("start", row["group"])] = sum(
                    c.ready <= eve and (c.exit is None or c.exit > eve) for c in cases
                )
    return own, known


def histogram_pool(document: dict[str, Any], own: dict[tuple, int]) -> tuple:
    """The viewer's housings in the histogram whose bucket it does not know (a corporation's:
    it knows the move-ins, not the ready dates)."""
    buckets = [("hist", b["bucket"]) for b in document["waiting_days_histogram"]]
    housed = own.get(("totals", "total", None, "housed"), 0)
    return ((buckets, housed - sum(own.get(b, 0) for b in buckets)),)


def check_no_hidden_cell_follows(client, world: World, start: date, end: date) -> None:
    """Every restricted viewer, every grouping by quarter and the case groupings by month: a
    reader holding the answer and its own data cannot pin any hidden cell that holds other
    organisations' people, nor a sum of hidden cells (over any periods) that holds 1 to 4 of
    them."""
    counted = [c for c in world.cases if c.exit is None or c.exit >= c.ready]
    region = world.region
    # By month only where the flow equation links the periods (groupings of cases): by
    # corporation or municipality the periods meet only in their totals, as by quarter.
    for period, grouping in [
        *itertools.product(["quarter"], ["none", "care_provider", "corporation", "municipality"]),
        *itertools.product(["month"], ["none", "care_provider"]),
    ]:
        first, last = whole_years(start, end)  # a restricted viewer reads whole years
        params = {"start": first, "end": last, "period": period, "groupBy": grouping}
        whole = figures(client, region.chair, region.table_id, **params)
        truth: dict[tuple, int] = {}
        for part in ("rows", "totals"):
            for row in whole[part]:
                for measure, value in row.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        truth[(part, row["period"], row["group"], measure)] = value
        for bucket in whole["waiting_days_histogram"]:
            truth[("hist", bucket["bucket"])] = bucket["count"]
        for viewer in world.providers() + world.corporations():
            seen = figures(client, viewer, region.table_id, **params)
            own, known = own_parts(world, viewer, seen, counted)
            # The integer ranges only feed a statistic; by month they would take most of the run.
            readings = read(seen, truth, own, known, over_integers=period == "quarter")
            event(f"an answer hides others' people: {bool(readings)}")
            pinned = [r for r in readings if r.worked_out]
            assert not pinned, (period, grouping, viewer.name, pinned)
            summed = small_sums(seen, truth, own, known, histogram_pool(seen, own))
            assert summed is None, (period, grouping, viewer.name, summed)
            if any(r.worked_out_over_integers for r in readings):
                event("a hidden cell pinned over the integers only")


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=AMSTERDAM)


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(history=st.lists(week, min_size=3, max_size=12))
# Each history reads the monitor 14 times with one key, and the clock goes back between
# histories, so a bucket would never refill; rate limits are not this test's subject.
@pytest.mark.settings(rate_limits_enabled=False)
def test_every_history_the_api_accepts_gives_figures_that_follow_their_definitions(
    client, organisations, history
):
    world = new_world(client, organisations)
    with time_machine.travel(at(world.clock), tick=True) as traveller:
        for step in itertools.chain.from_iterable(history):
            apply(client, world, step)
            traveller.move_to(at(world.clock))
        world.clock = TODAY
        traveller.move_to(at(TODAY))
        check_figures(client, world, HISTORY_START, TODAY)
        check_suppressed_view(client, world, MIDDLE, MIDDLE)
        check_no_hidden_cell_follows(client, world, MIDDLE, MIDDLE)
    for kind in ("housed", "returned", "withdrawn"):
        count = sum(c.kind == kind for c in world.cases)
        event(f"{kind}: {count if count < 3 else '3 or more'}")
