"""A refused date's Dutch message names the day it had to respect, as the service's English
reason does: the pages and the import report said 'vóór de datum waarop de woning beschikbaar
is' without the day, so the person had to look it up (found walking the README)."""

import pytest

from app.imports.messages import service_message, with_bound_day
from app.web.forms import field_message


@pytest.mark.parametrize(
    ("code", "reason", "said"),
    [
        (
            "date_before_available_from",
            "before the dwelling is available on 2027-02-01",
            "De verhuisdatum ligt vóór de datum waarop de woning beschikbaar is (1 februari 2027).",
        ),
        (
            "date_too_far_after_move_in",
            "more than 120 months after the move-in (after 2036-12-07)",
            "Kies een datum binnen tien jaar na de verhuizing (uiterlijk 7 december 2036).",
        ),
        ("date_in_future", "lies in the future", "De datum ligt in de toekomst."),
    ],
)
def test_a_decision_or_aftercare_form_names_the_day(code, reason, said):
    assert field_message({"name": "x", "code": code, "reason": reason}) == said


def test_a_case_form_or_import_row_names_the_day():
    reason = "after the meeting of 2026-11-16 that proposed the case; it was ready then"
    code = "ready_since_after_meeting"
    said = with_bound_day(service_message(code), code, reason)
    assert said.endswith(
        "kies een datum op of vóór die vergadering (vergadering van 16 november 2026)."
    )
    reason = (
        "the dwelling is let to a tenant who moved in on 2026-12-01; it comes free after that day"
    )
    code = "available_before_move_in"
    said = with_bound_day(service_message(code), code, reason)
    assert said.endswith("komt pas vrij na de verhuisdatum (verhuisd op 1 december 2026).")


def test_a_reason_without_one_day_leaves_the_message_as_it_is():
    message = service_message("exit_before_ready_since")
    assert with_bound_day(message, "exit_before_ready_since", None) == message
    two = "between 2026-01-01 and 2026-12-31"
    assert with_bound_day(message, "exit_before_ready_since", two) == message
