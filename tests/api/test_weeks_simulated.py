"""Property: over a randomised table and six weeks of meetings either side of 1 January (cases
and dwellings added and withdrawn, holds, random decisions, the clock moved week by week),
why-not answers exactly what each date's agenda does, for the chair and for the case's own care
provider, a declined pair never comes back, and a care provider's answers name nothing of
another provider's cases (`tests/api/simulation.py`)."""

import os
from datetime import timedelta

import pytest
import time_machine

from tests.api import simulation
from tests.api.simulation import Simulation, at, check_chair, check_providers
from tests.clock import TODAY
from tests.properties import examples

# A longer search now and then: UITSTROOM_SIMULATION_SEEDS=1,2,3 runs those seeds, heavier
# (UITSTROOM_SIMULATION_STATS=<file> appends what each covered). A failing seed replays.
SEEDS = [int(s) for s in os.environ.get("UITSTROOM_SIMULATION_SEEDS", "").split(",") if s]


def run(sim: Simulation, *, heavy: bool = False) -> None:
    """Six weeks of one seed's table; `heavy`: more cases and dwellings, and the chair's
    agenda checked on every day of the New Year week too."""
    mondays = simulation.mondays_around_new_year(TODAY)
    more = 1 if heavy else 0
    with time_machine.travel(at(mondays[0]), tick=True):
        sim.set_policy()
        sim.limits_next_year(mondays[0].year, raised=sim.rng.random() < 0.5)
        for _ in range(sim.rng.randint(2 + more, 3 + 2 * more)):
            sim.add_case(mondays[0])
        for _ in range(sim.rng.randint(2, 3 + more)):
            sim.add_dwelling(mondays[0])
    for week, monday in enumerate(mondays):
        with time_machine.travel(at(monday), tick=True):
            if week:
                sim.churn(monday)
                for _ in range(sim.rng.randint(0, 1 + more)):
                    sim.add_case(monday)
                for _ in range(sim.rng.randint(0, 1 + more)):
                    sim.add_dwelling(monday)
            sim.refresh()
            sim.schedule(monday)
            document, answers = check_chair(sim, monday)
            check_providers(sim, monday, document, answers)
            proposals = sim.publish()
            got = {(p["case_id"], p["vacancy_id"]) for p in proposals}
            assert got == {(p["case_id"], p["vacancy_id"]) for p in document["proposals"]}
            sim.decide_at_random(monday)
            sim.refresh()
            check_chair(sim, monday)
        if heavy and monday.month == 12 and monday.day > 24:
            # The New Year week day by day (the chair may ask any date).
            for k in range(1, 9):
                day = monday + timedelta(days=k)
                with time_machine.travel(at(day), tick=True):
                    check_chair(sim, day)
    if os.environ.get("UITSTROOM_SIMULATION_STATS"):
        with open(os.environ["UITSTROOM_SIMULATION_STATS"], "a") as out:
            print(sim.seed, sim.stats, file=out)


@pytest.mark.settings(rate_limits_enabled=False)
@pytest.mark.parametrize("seed", SEEDS or range(examples(1)))
def test_why_not_answers_what_the_agenda_does_week_after_week(client, region, seed):
    sim = Simulation(client, region, seed)
    try:
        run(sim, heavy=bool(SEEDS))
    except AssertionError as failure:
        failure.add_note("\n".join(sim.log))
        raise
