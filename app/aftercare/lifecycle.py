"""The tenancy lifecycle: awaiting_transfer (intermediate lease) -> running (after the omklap)
-> ended, or running (own lease) -> ended. Every status change goes through `fire`."""

from datetime import date
from enum import StrEnum

from app.aftercare.models import Tenancy, TenancyStatus
from app.lifecycle import Refusal, StateMachine
from app.sqltypes import utcnow
from app.vacancies.models import LeaseForm


class TenancyEvent(StrEnum):
    plan_transfer = "plan_transfer"  # move the planned day or change the open conditions
    transfer = "transfer"  # the corporation records the omklap
    record_checkpoint = "record_checkpoint"
    end = "end"


ENDED = Refusal("tenancy_ended", "The tenancy has ended and can no longer change.")
NO_TRANSFER = Refusal(
    "not_awaiting_transfer",
    "The tenancy is {state}: only an intermediate lease not yet transferred has an omklap.",
)


def _refusal(state: TenancyStatus, event: TenancyEvent) -> Refusal:
    return ENDED if state == TenancyStatus.ended else NO_TRANSFER


_ = TenancyStatus
RUNNING = (_.awaiting_transfer, _.running)
MACHINE: StateMachine[TenancyStatus, TenancyEvent] = StateMachine(
    "tenancy",
    TenancyStatus,
    TenancyEvent,
    {
        TenancyEvent.plan_transfer: {_.awaiting_transfer: _.awaiting_transfer},
        TenancyEvent.transfer: {_.awaiting_transfer: _.running},
        TenancyEvent.record_checkpoint: {s: s for s in RUNNING},
        TenancyEvent.end: {s: _.ended for s in RUNNING},
    },
    otherwise=_refusal,
)


def initial_status(lease_form: str | None) -> TenancyStatus:
    """An intermediate lease waits for its omklap; any other lease is the client's own."""
    if lease_form == LeaseForm.intermediate_lease:
        return TenancyStatus.awaiting_transfer
    return TenancyStatus.running


def check(tenancy: Tenancy, event: TenancyEvent) -> None:
    """409 when the tenancy's status refuses the event (`tenancy_ended`,
    `not_awaiting_transfer`)."""
    MACHINE.target(tenancy.status, event)


def fire(
    tenancy: Tenancy,
    event: TenancyEvent,
    *,
    on: date | None = None,
    reason: str | None = None,
) -> None:
    """Apply `event` (409 when refused); `on` is the day of record of a transfer or an end,
    `reason` the end's reason code."""
    tenancy.status = MACHINE.target(tenancy.status, event)
    if event == TenancyEvent.transfer:
        tenancy.transferred_on = on
        tenancy.transferred_at = utcnow()
    elif event == TenancyEvent.end:
        tenancy.ended_on = on
        tenancy.end_reason = reason
        tenancy.ended_at = utcnow()
