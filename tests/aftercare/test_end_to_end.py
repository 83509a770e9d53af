"""End to end, as a client that keeps its own ledger: house cases with both lease forms over
the past years (dates of record), run the follow-up, raise signals, transfer leases and end
tenancies, then recompute sustainment, transfers and signals and compare with the monitor."""

from calendar import monthrange
from collections import Counter
from datetime import date, timedelta

import pytest

from tests.aftercare.housing import ensure_limits, house
from tests.clock import TODAY, iso

# (days ago moved in, lease form, care provider 0/1, corporation 0/1, end: (days after the
# move-in, reason) or None, transfer: days after the planned day (negative: early) or None)
PLAN = [
    (900, "intermediate_lease", 0, 0, None, -30),
    (860, "own_lease", 1, 0, (100, "evicted"), None),
    (790, "intermediate_lease", 0, 1, (500, "returned_to_care"), 20),
    (700, "own_lease", 0, 1, (300, "moved_on"), None),
    (640, "intermediate_lease", 1, 1, None, None),
    (560, "own_lease", 1, 0, None, None),
    (480, "intermediate_lease", 0, 0, (200, "deceased"), None),
    (420, "own_lease", 1, 1, None, None),
    (330, "intermediate_lease", 1, 0, None, 0),
    (250, "own_lease", 0, 0, (150, "other"), None),
    (150, "intermediate_lease", 0, 1, None, None),
    (40, "own_lease", 1, 1, None, None),
]
SIGNALS_BY_TURN = [["rent_arrears"], [], ["nuisance", "needs_table"], [], []]


def plus_months(day: date, months: int) -> date:
    """The ledger's own month arithmetic: same day of the month, or the month's last day."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


# Twelve housings publish twelve meetings in a minute, beyond the per-key publish limit.
@pytest.mark.settings(rate_limits_enabled=False)
def test_the_monitor_agrees_with_the_clients_own_ledger(client, region):
    ensure_limits(client, 1000)
    # Twelve housings in one complex and neighbourhood: lift the spread caps (not the subject).
    spread = {"max_per_complex": 100, "max_per_neighbourhood": 100}
    response = client.patch(
        f"/v1/tables/{region.table_id}", json={"policy": spread}, headers=region.chair.headers
    )
    assert response.status_code == 200, response.text
    providers = [region.care_provider, region.other_care_provider]
    corporations = [region.corporation, region.other_corporation]
    ledger = []
    turn = 0
    for ago, lease, cp, corp, end, transfer in PLAN:
        case = house(client, region, -ago, lease, providers[cp], corporations[corp])
        moved_in = TODAY - timedelta(days=ago)
        entry = {"case": case["id"], "moved_in": moved_in, "lease": lease, "checkpoints": []}
        ended_on = moved_in + timedelta(days=end[0]) if end else None
        for months in (3, 6, 12):
            due = plus_months(moved_in, months)
            if due > TODAY or (ended_on and due >= ended_on):
                continue
            signals = SIGNALS_BY_TURN[turn % len(SIGNALS_BY_TURN)]
            turn += 1
            recorded_on = min(due + timedelta(days=3), TODAY)
            response = client.post(
                f"/v1/cases/{case['id']}/checkpoints",
                json={
                    "months": months,
                    "recorded_on": recorded_on.isoformat(),
                    "still_living_there": True,
                    "support_active": turn % 4 != 0,
                    "signals": signals,
                },
                headers=providers[cp].headers,
            )
            assert response.status_code == 201, response.text
            entry["checkpoints"].append((recorded_on, response.json()["signals"]))
        planned = plus_months(moved_in, 12) if lease == "intermediate_lease" else None
        entry["planned"] = planned
        entry["transferred"] = None
        if transfer is not None and planned + timedelta(days=transfer) <= TODAY:
            day = planned + timedelta(days=transfer)
            response = client.patch(
                f"/v1/cases/{case['id']}/tenancy",
                json={"transferred_on": day.isoformat()},
                headers=corporations[corp].headers,
            )
            assert response.status_code == 200, response.text
            entry["transferred"] = day
        entry["ended"] = (ended_on, end[1]) if end else None
        if end:
            response = client.patch(
                f"/v1/cases/{case['id']}/tenancy",
                json={"ended_on": ended_on.isoformat(), "end_reason": end[1]},
                headers=providers[cp].headers,
            )
            assert response.status_code == 200, response.text
        ledger.append(entry)

    start = TODAY - timedelta(days=1000)
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/sustainment",
        params={"start": start.isoformat(), "end": iso(0), "period": "year"},
        headers=region.chair.headers,
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["suppression"] is False

    expected: Counter = Counter()
    for e in ledger:
        expected["housed"] += 1
        for months in (6, 12, 24):
            mark = plus_months(e["moved_in"], months)
            if mark > TODAY:
                continue
            expected[f"reached_{months}"] += 1
            ended = e["ended"]
            if ended is None or ended[0] >= mark or ended[1] == "moved_on":
                expected[f"still_housed_{months}"] += 1
        if e["planned"] is not None and e["planned"] <= TODAY:
            expected["transfers_planned"] += 1
            if e["transferred"] is not None:
                expected["transfers_realised"] += 1
                expected["transfers_on_time"] += e["transferred"] <= e["planned"]
    total = figures["cohorts_total"]
    for name, value in expected.items():
        assert total[name] == value, name
    assert total["share_12"] == round(expected["still_housed_12"] / expected["reached_12"], 4)
    by_year = Counter(e["moved_in"].year for e in ledger)
    assert {r["cohort"]: r["housed"] for r in figures["cohorts"] if r["housed"]} == {
        str(y): n for y, n in by_year.items()
    }

    signals: Counter = Counter()
    for e in ledger:
        for _, raised in e["checkpoints"]:
            signals["checkpoints"] += 1
            signals.update(raised)
    for name in ("checkpoints", "rent_arrears", "nuisance", "needs_table", "support_stopped"):
        assert figures["signals_total"][name] == signals[name], name
    assert signals["rent_arrears"] and signals["support_stopped"]


def test_a_corporation_gets_the_small_figures_of_others_suppressed(client, region):
    last_year = TODAY.year - 1
    for day, corporation in ((3, region.corporation), (20, region.other_corporation)):
        ago = (TODAY - date(last_year, 3, day)).days
        house(client, region, -ago, "own_lease", corporation=corporation)
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/sustainment",
        params={"end": f"{last_year}-12-31", "period": "year"},
        headers=region.corporation.headers,
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["suppression"] is True
    # One housing of its own and one of another corporation: the total's rest is 1.
    assert figures["cohorts_total"]["housed"] is None
