"""The agenda page's note on a proposal the solver could not prove optimal says why."""

from app.web.agenda import optimality_note


def summary(reason: str) -> dict:
    optimality = {"reason": reason, "time_budget_seconds": 5.0, "people_housed_bound": 4}
    return {"optimal": False, "optimality": optimality, "people_housed": 3}


def test_a_spent_budget_is_named_with_its_seconds():
    note = optimality_note(summary("time_budget"))
    assert note is not None and "rekentijd (5 seconden) was op" in note
    assert "hoogstens 4" in note


def test_a_solver_that_stopped_without_proof_is_not_called_a_spent_budget():
    note = optimality_note(summary("solver_status"))
    assert note is not None and "rekenmethode stopte zonder bewijs" in note
    assert "rekentijd" not in note
    assert "hoogstens 4" in note


def test_a_proven_proposal_has_no_note():
    assert optimality_note({"optimal": True}) is None
