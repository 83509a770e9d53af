"""Every lifecycle's transition table, pair by pair, and the rule that nothing else changes a
status.

Each grid below is the specification: one row per state, one column per event; a cell is the
state the event leads to, `=` when the event changes nothing, or `!code` when it is refused
with a 409 of that code.
"""

import ast
from pathlib import Path

import pytest

from app.actions.lifecycle import MACHINE as ACTION
from app.aftercare.lifecycle import MACHINE as TENANCY
from app.cases.lifecycle import MACHINE as CASE
from app.lifecycle import Refusal, StateMachine, TransitionRefused
from app.meetings.lifecycle import MACHINE as MEETING
from app.proposals.lifecycle import MACHINE as PROPOSAL
from app.vacancies.lifecycle import MACHINE as VACANCY

CASE_GRID = """
            edit         move               hold     resume       withdraw    propose    nominate   release     house
registered  =            =                  on_hold  =            withdrawn   proposed   !illegal   =           !illegal
parked      =            =                  on_hold  !illegal     withdrawn   !illegal   !illegal   =           !illegal
proposed    =            !case_in_proposal  on_hold  !illegal     withdrawn   !illegal   nominated  registered  !illegal
nominated   =            !case_in_proposal  on_hold  !illegal     withdrawn   !illegal   !illegal   registered  housed
on_hold     =            =                  =        registered   withdrawn   !illegal   !illegal   =           !illegal
housed      !case_closed !case_closed       !case_closed !case_closed !case_closed !case_closed !case_closed !case_closed !case_closed
withdrawn   !case_closed !case_closed       !case_closed !case_closed !case_closed !case_closed !case_closed =  !case_closed
"""  # noqa: E501 (a table reads best unwrapped)

PROPOSAL_GRID = """
                         nominate   corporation_accept  corporation_decline      plan_viewing     client_decline      sign_tenancy    house     withdraw
proposed                 nominated  !illegal            declined_by_corporation  !illegal         declined_by_client  !illegal        !illegal  withdrawn
nominated                !illegal   accepted            declined_by_corporation  !illegal         declined_by_client  !illegal        !illegal  withdrawn
accepted                 !illegal   !illegal            declined_by_corporation  viewing_planned  declined_by_client  tenancy_signed  !illegal  withdrawn
viewing_planned          !illegal   !illegal            declined_by_corporation  !illegal         declined_by_client  tenancy_signed  !illegal  withdrawn
tenancy_signed           !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        housed    withdrawn
housed                   !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        !illegal  !illegal
declined_by_corporation  !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        !illegal  !illegal
declined_by_client       !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        !illegal  !illegal
withdrawn                !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        !illegal  !illegal
superseded               !illegal   !illegal            !illegal                 !illegal         !illegal            !illegal        !illegal  !illegal
"""  # noqa: E501 (a table reads best unwrapped)

# A proposed dwelling is withdrawn by first ending its proposal (release), then withdrawing it.
VACANCY_GRID = """
           push       push_later  propose   release    release_unavailable  let       withdraw       move
available  =          =           proposed  =          =                    !illegal  withdrawn      =
proposed   =          =           !illegal  available  withdrawn            let       !illegal       !vacancy_in_proposal
let        =          available   !illegal  =          =                    !illegal  !dwelling_let  =
withdrawn  available  available   !illegal  =          =                    !illegal  =              =
"""  # noqa: E501 (a table reads best unwrapped)

ACTION_GRID = """
           complete  cancel     reopen  move_due_date
open       done      cancelled  =       =
done       =         cancelled  open    !action_closed
cancelled  done      =          open    !action_closed
"""

TENANCY_GRID = """
                   plan_transfer           transfer                record_checkpoint  end
awaiting_transfer  =                       running                 =                  ended
running            !not_awaiting_transfer  !not_awaiting_transfer  =                  ended
ended              !tenancy_ended          !tenancy_ended          !tenancy_ended     !tenancy_ended
"""

MEETING_GRID = """
           publish
draft      published
published  !already_published
"""


def parse(grid: str) -> dict[tuple[str, str], str]:
    header, *rows = [line.split() for line in grid.strip().splitlines()]
    cells = {}
    for state, *outcomes in rows:
        assert len(outcomes) == len(header), f"row {state} has {len(outcomes)} cells"
        for event, outcome in zip(header, outcomes, strict=True):
            cells[(state, event)] = state if outcome == "=" else outcome
    return cells


def written(machine: StateMachine) -> dict[tuple[str, str], str]:  # type: ignore[type-arg]
    def cell(outcome: object) -> str:
        if isinstance(outcome, Refusal):
            return "!illegal" if outcome.code == "illegal_transition" else f"!{outcome.code}"
        return str(outcome)

    return {(str(s), str(e)): cell(o) for (s, e), o in machine.table.items()}


@pytest.mark.parametrize(
    ("machine", "grid"),
    [
        (CASE, CASE_GRID),
        (PROPOSAL, PROPOSAL_GRID),
        (VACANCY, VACANCY_GRID),
        (ACTION, ACTION_GRID),
        (MEETING, MEETING_GRID),
        (TENANCY, TENANCY_GRID),
    ],
    ids=["case", "proposal", "vacancy", "action", "meeting", "tenancy"],
)
def test_every_state_and_event_has_the_specified_outcome(machine, grid):
    expected = parse(grid)
    assert set(expected) == {(str(s), str(e)) for s in machine.states for e in machine.events}
    assert written(machine) == expected


def test_a_refused_event_is_a_409_naming_the_current_status():
    with pytest.raises(TransitionRefused) as refused:
        PROPOSAL.target("housed", "withdraw")
    assert refused.value.status == 409
    assert refused.value.code == "illegal_transition"
    assert refused.value.extra["current_status"] == "housed"


def test_a_parked_case_shows_as_on_hold_when_refused():
    with pytest.raises(TransitionRefused) as refused:
        CASE.target("parked", "resume", shown="on_hold")
    assert refused.value.extra["current_status"] == "on_hold"
    assert "parked" in str(refused.value.detail)


# --- nothing else changes a status ----------------------------------------------------------

APP = Path(__file__).resolve().parent.parent / "app"
LIFECYCLE_MODULES = {
    APP / "cases" / "lifecycle.py",
    APP / "proposals" / "lifecycle.py",
    APP / "vacancies" / "lifecycle.py",
    APP / "actions" / "lifecycle.py",
    APP / "meetings" / "lifecycle.py",
    APP / "aftercare" / "lifecycle.py",
}
# Statuses of things that have no lifecycle module: webhook deliveries.
OTHER_STATUS_OWNERS = {APP / "webhooks" / "worker.py", APP / "webhooks" / "service.py"}
STATUS_VALUES = {
    str(s)
    for machine in (CASE, PROPOSAL, VACANCY, ACTION, MEETING, TENANCY)
    for s in machine.states
    if str(s) != "parked"
} | {"ready"}


def _sources() -> list[Path]:
    skipped = LIFECYCLE_MODULES | OTHER_STATUS_OWNERS
    return [p for p in APP.rglob("*.py") if p not in skipped and "migrations" not in p.parts]


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "status"


def test_only_the_lifecycle_modules_assign_a_status():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            offenders += [
                f"{path.relative_to(APP)}:{node.lineno}" for t in targets if _is_status(t)
            ]  # type: ignore[attr-defined]
    assert offenders == []


def test_no_status_is_compared_with_a_string_literal():
    """`x.status == "open"` or `Case.status.in_(("registered",))` hide a transition rule; the
    enums say which status is meant."""
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            compared: list[ast.AST] = []
            if isinstance(node, ast.Compare) and _is_status(node.left):
                compared = list(node.comparators)
            elif isinstance(node, ast.Compare) and any(_is_status(c) for c in node.comparators):
                compared = [node.left]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("in_", "not_in")
                and _is_status(node.func.value)
            ):
                compared = list(node.args)
            literals = [
                c.value
                for expression in compared
                for c in ast.walk(expression)
                if isinstance(c, ast.Constant) and c.value in STATUS_VALUES
            ]
            if literals:
                offenders.append(f"{path.relative_to(APP)}:{node.lineno} {literals}")
    assert offenders == []
