"""What every lifecycle shares: a total transition table from (state, event) to the next state
or a refusal, and the 409 a refusal becomes.

Each lifecycle (case, proposal, vacancy, action, meeting) has one module that owns its table
and applies its transitions; nothing else changes a status.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from app.problems import Conflict

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An event the state does not allow; `code` is the problem code of the 409, `message` its
    detail (`{name}`, `{state}` and `{event}` are filled in)."""

    code: str
    message: str = "Cannot {event} a {name} that is {state}."


ILLEGAL = Refusal("illegal_transition")


class TransitionRefused(Conflict):
    """409: the event is not allowed in the current state."""

    code = "illegal_transition"


class StateMachine(Generic[S, E]):
    """A total transition table: every (state, event) pair has an outcome, a state (the same
    state when the event changes nothing) or a `Refusal`."""

    def __init__(
        self,
        name: str,
        states: type[S],
        events: type[E],
        moves: Mapping[E, Mapping[S, S]],
        otherwise: Callable[[S, E], Refusal] = lambda state, event: ILLEGAL,
    ):
        self.name = name
        self.states = states
        self.events = events
        self.table: dict[tuple[S, E], S | Refusal] = {
            (state, event): moves.get(event, {}).get(state) or otherwise(state, event)
            for state in states
            for event in events
        }

    def outcome(self, state: S, event: E) -> S | Refusal:
        return self.table[(self.states(state), self.events(event))]

    def allows(self, state: S, event: E) -> bool:
        return not isinstance(self.outcome(state, event), Refusal)

    def sources(self, event: E) -> frozenset[S]:
        """The states from which `event` is allowed."""
        return frozenset(s for s in self.states if self.allows(s, event))

    def target(self, state: S, event: E, shown: str | None = None) -> S:
        """The state `event` leads to from `state`; TransitionRefused (409) when refused.

        `shown` is the status the API shows for `state`, when the two differ (a parked case
        shows as `on_hold`); the refusal names it as `current_status`.
        """
        outcome = self.outcome(state, event)
        if isinstance(outcome, Refusal):
            detail = outcome.message.format(name=self.name, state=state, event=event)
            raise TransitionRefused(detail, code=outcome.code, current_status=str(shown or state))
        return outcome
