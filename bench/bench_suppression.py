"""Benchmark of the monitor's suppression: the calendar-year tables a care provider's figures are
cut from (`app.monitor.years.protected_year`), with the search for sums
(`app.monitor.suppression.small_sums`) against the same protection without it (the single-cell
protection alone, as before sums were checked) in the same run.

Facts are generated per table: `groups` care providers, about 1.5 cases a month each over two
years (half housed after 20-400 days, some withdrawn, the rest waiting). The viewer is the first
provider; the table is the second year's by care provider, which first protects the ungrouped
tables (its total row) and the first year's (the backlog at the turn of the year). Per size and
seed: CPU seconds of the first protection (nothing remembered) and the share of cells it hides.
Run: `python -m bench.bench_suppression [4 8 12 ...] [--seeds N]`.
"""

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Hashable
from datetime import date, timedelta
from typing import Any

from app.cases.models import CaseStatus
from app.monitor import flow_equations, suppression, years
from app.monitor.access import Viewer
from app.monitor.facts import CaseFacts, Facts, Housing
from app.monitor.models import GroupBy
from app.monitor.years import YEAR_PERIODS, protected_year
from app.organisations.models import OrganisationKind
from bench.report import write_section

FIRST_YEAR = 2025


def generated(providers: int, seed: int) -> tuple[Facts, list[uuid.UUID]]:
    """Two years of cases and housings at `providers` care providers and three corporations."""
    rnd = random.Random(seed)
    names = [uuid.UUID(int=rnd.getrandbits(128)) for _ in range(providers)]
    corporations = [uuid.UUID(int=rnd.getrandbits(128)) for _ in range(3)]
    cases: list[CaseFacts] = []
    housings: list[Housing] = []
    for _ in range(int(providers * 1.5 * 24)):
        provider, case_id = rnd.choice(names), uuid.UUID(int=rnd.getrandbits(128))
        ready = date(FIRST_YEAR, 1, 1) + timedelta(days=rnd.randrange(730))
        draw = rnd.random()
        if draw < 0.5:
            moved = ready + timedelta(days=rnd.randrange(20, 400))
            neighbourhood = f"BU{rnd.randrange(300, 303):04d}{rnd.randrange(10):04d}"
            cases.append(CaseFacts(case_id, provider, ready, moved, CaseStatus.housed, None))
            housings.append(
                Housing(
                    case_id=case_id,
                    care_provider_id=provider,
                    corporation_id=rnd.choice(corporations),
                    municipality_code="GM" + neighbourhood[2:6],
                    neighbourhood_code=neighbourhood,
                    housed_on=moved,
                    lease_form=rnd.choice(["own_lease", "intermediate_lease"]),
                    contingent=rnd.random() < 0.5,
                    waiting_days=(moved - ready).days,
                )
            )
        elif draw < 0.65:
            left = ready + timedelta(days=rnd.randrange(5, 300))
            reason = rnd.choice(["returned_to_care", "moved_away"])
            cases.append(CaseFacts(case_id, provider, ready, left, CaseStatus.withdrawn, reason))
        else:
            cases.append(CaseFacts(case_id, provider, ready, None, CaseStatus.ready, None))
    return Facts(cases, housings), names


def _protect(facts: Facts, names: list[uuid.UUID]) -> tuple[float, float]:
    """CPU seconds of the second year's table for the first provider, and the share hidden."""
    # The first request: nothing remembered (the year tables since c416d17 too: without
    # clearing them the second variant measured took its answer from memory).
    flow_equations._PROTECTED.clear()
    years._TABLES.clear()
    keys: list[str | None] = [*sorted(str(n) for n in names), None]
    viewer = Viewer(names[0], OrganisationKind.care_provider)
    started = time.process_time()
    table = protected_year(
        facts, viewer, GroupBy.care_provider, keys, FIRST_YEAR + 1, {str(names[0])}
    )
    seconds = time.process_time() - started
    counts = sum(1 for r in table.grid.rows for k, v in r.items() if isinstance(v, int))
    return seconds, len(table.hidden) / counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[4, 8, 12])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    lines = []
    real = suppression.small_sums
    for providers in args.sizes:
        timings: dict[str, list[float]] = {"with": [], "without": []}
        shares: dict[str, list[float]] = {"with": [], "without": []}
        for seed in range(args.seeds):
            facts, names = generated(providers, seed)
            for variant in ("without", "with"):
                suppression.small_sums = real if variant == "with" else _no_sums  # type: ignore[assignment]
                seconds, share = _protect(facts, names)
                timings[variant].append(seconds)
                shares[variant].append(share)
        suppression.small_sums = real
        cells = YEAR_PERIODS * (providers + 1)
        lines.append(
            f"| {providers} providers ({cells} period x group cells a year) "
            f"| {statistics.median(timings['without']):.2f} s "
            f"({min(shares['without']):.0%}-{max(shares['without']):.0%} hidden) "
            f"| {statistics.median(timings['with']):.2f} s "
            f"({min(shares['with']):.0%}-{max(shares['with']):.0%} hidden) |"
        )
        print(lines[-1], flush=True)
    markdown = (
        "## Monitor suppression (`python -m bench.bench_suppression`)\n\n"
        "A care provider's figures by care provider are cut from one protected table per "
        "calendar year (months, quarters and the year together). Generated tables of two years, "
        "about 1.5 cases a month per provider; CPU seconds to protect the second year's table "
        "the first time (with the ungrouped tables and the first year's it stands on), median "
        f"over {args.seeds} seeds, and the share of counts hidden. The peer is the same "
        "protection without the search for sums (the single-cell protection alone), in the "
        "same run. Later answers from the same table take milliseconds while its figures do "
        "not change.\n\n"
        "| table | without sums | with sums |\n|---|---:|---:|\n" + "\n".join(lines)
    )
    write_section("suppression", markdown)


def _no_sums(*args: Any, **kwargs: Any) -> list[set[Hashable]]:
    return []


if __name__ == "__main__":
    main()
