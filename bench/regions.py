"""Seeded generator of realistic outflow-table regions, as API-shaped dicts, for the benchmarks.

`build_region(cases, vacancies)` makes one table's week; `build_country()` makes all 44 tables
(16,000 ready cases, 4,000 vacancies, sized unevenly like real BW/MO regions). The dicts follow the
API (money as "650.00", dates as ISO strings); `table_id` and corporation ids are placeholders the
caller fills with `case_payloads` / `vacancy_payloads`. `to_engine` turns a region into the
matching engine's dataclasses for the engine-only benchmark.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from app.limits.data import aow_ages
from app.matching import CaseProfile, Dwelling, Policy, ScoreWeights, SpreadUsage, YearLimits

TABLE_COUNT = 44
COUNTRY_CASES = 16_000
COUNTRY_VACANCIES = 4_000
MEETING_DATE = date(2026, 3, 2)
TABLE_ID_PLACEHOLDER = "{table_id}"

LIMITS_2026 = YearLimits(
    year=2026,
    low_cap=Decimal("713.02"),
    high_cap=Decimal("764.14"),
    daeb_rent_limit=Decimal("932.93"),
    income_limit_single=Decimal("29400"),
    income_limit_multi=Decimal("39925"),
    income_limit_single_pension=Decimal("28775"),
    income_limit_multi_pension=Decimal("38650"),
    service_costs_count=False,
    service_costs_max=None,
    aow_ages=aow_ages(),
)


def default_policy() -> Policy:
    """The domain's default policy for a new table."""
    return Policy(
        rooms_by_household_size={1: (1, 3), 2: (2, 3), 3: (3, 4), 4: (3, 5), 5: (4, None)},
        horizon_days=56,
        require_stable_income=True,
        beschikking_required="requested",
        min_registration_months=24,
        max_per_complex=2,
        max_per_neighbourhood=5,
        spread_window_months=24,
        weights=ScoreWeights(),
    )


STREETS = (
    "Kerkstraat", "Dorpsstraat", "Molenweg", "Schoolstraat", "Stationsweg", "Julianastraat",
    "Beatrixlaan", "Parallelweg", "Wilhelminastraat", "Eikenlaan", "Lindelaan", "Zuiderpark",
    "Havenkade", "Oranjestraat", "Vondellaan", "Rembrandtplein", "Marktstraat", "Beukenhof",
)  # fmt: skip
INCOME_SOURCES = (
    ("participatiewet", 52), ("wajong", 12), ("wia", 7), ("ww", 5),
    ("employment", 14), ("other", 4), ("none", 6),
)  # fmt: skip


@dataclass
class Region:
    """One table's week: cases and vacancies as API dicts, and the geography they live in."""

    index: int
    municipality_codes: list[str]
    neighbourhood_codes: list[str]
    corporations: list[str]
    cases: list[dict] = field(default_factory=list)
    vacancies: list[dict] = field(default_factory=list)
    vacancy_corporation: list[int] = field(default_factory=list)
    case_arrears: list[list[int]] = field(default_factory=list)
    complex_usage: dict[tuple[int, str], int] = field(default_factory=dict)
    neighbourhood_usage: dict[str, int] = field(default_factory=dict)


def _money(value: float) -> str:
    return f"{max(0.0, value):.2f}"


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    names, weights = zip(*options, strict=True)
    return rng.choices(names, weights=weights)[0]


def _geography(rng: random.Random, index: int) -> tuple[list[str], dict[str, list[str]]]:
    """Municipalities (GMxxxx) of the region with nested districts and neighbourhoods."""
    municipalities = [f"GM{index * 22 + 10 + m:04d}" for m in range(rng.randint(3, 9))]
    neighbourhoods: dict[str, list[str]] = {}
    for rank, gm in enumerate(municipalities):
        districts = rng.randint(6, 12) if rank == 0 else rng.randint(1, 4)
        codes = []
        for w in range(1, districts + 1):
            wk = f"{gm[2:]}{w:02d}"
            codes += [f"BU{wk}{b:02d}" for b in range(rng.randint(2, 8))]
        neighbourhoods[gm] = codes
    return municipalities, neighbourhoods


def _case(
    rng: random.Random, region: Region, number: int, gm_weights: list[float], meeting: date
) -> dict:
    adults = 1 if rng.random() < 0.9 else 2
    children = 0 if rng.random() < 0.82 else rng.choice((1, 1, 1, 2, 2, 3, 4))
    age = min(80, max(18, round(rng.gauss(38, 12))))
    source = "aow" if age >= 67 else _weighted(rng, INCOME_SOURCES)
    if source == "employment":
        annual = rng.uniform(18_000, 46_000)
    elif source in ("none",):
        annual = rng.uniform(0, 4_000)
    elif source == "aow":
        annual = rng.uniform(15_500, 24_000)
    else:
        annual = rng.uniform(13_500, 19_500) * (1.4 if adults == 2 else 1.0)
    stable = rng.random() < (0.55 if source in ("none", "other") else 0.8)
    budget = "none"
    if not stable or rng.random() < 0.25:
        budget = rng.choice(("none", "budgetbeheer", "budgetbeheer", "bewindvoering"))
    registration = None
    if rng.random() < 0.62:
        months = min(180, int(rng.expovariate(1 / 13)))
        registration = meeting - timedelta(days=int(months * 30.44) + rng.randint(0, 29))
    status = _weighted(rng, (("granted", 55), ("requested", 25), ("none", 20)))
    valid_until = None
    if status == "granted":
        valid_until = meeting + timedelta(days=rng.randint(-60, 900))
    intensity = _weighted(rng, (("light", 40), ("moderate", 40), ("intensive", 20)))
    needs_manager = rng.random() < (0.5 if intensity == "intensive" else 0.12)
    arrears = [rng.randrange(len(region.corporations))] if rng.random() < 0.07 else []
    region.case_arrears.append(arrears)
    wheelchair = rng.random() < 0.03
    gm = rng.choices(region.municipality_codes, weights=gm_weights)[0]
    preferred: list[str] = []
    if rng.random() < 0.5:
        preferred.append(gm)
    elif rng.random() < 0.3:
        preferred.append(rng.choice(region.neighbourhood_codes).replace("BU", "WK")[:8])
    excluded: list[str] = []
    if rng.random() < 0.15:
        excluded.append(rng.choice(region.neighbourhood_codes))
    if rng.random() < 0.05:
        excluded.append(rng.choice(region.neighbourhood_codes).replace("BU", "WK")[:8])
    # The API refuses an area that is both preferred and excluded.
    excluded = [code for code in excluded if code not in preferred]
    ready_days = min(3 * 365, int(rng.expovariate(1 / 300)))
    return {
        "external_ref": f"CL-{region.index:02d}-{number:05d}",
        "table_id": TABLE_ID_PLACEHOLDER,
        "facility": "beschermd_wonen" if rng.random() < 0.6 else "maatschappelijke_opvang",
        "ready_since": (meeting - timedelta(days=ready_days)).isoformat(),
        "birth_year": meeting.year - age,
        "household": {"adults": adults, "children": children},
        "income": {
            "source": source,
            "annual_taxable": _money(annual),
            "net_monthly": _money(annual / 12 * 0.93 + 150 * children),
            "stable": stable,
            "budget_management": budget,
        },
        "registration_date": registration.isoformat() if registration else None,
        "beschikking": {
            "status": status,
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
        "support": {"intensity": intensity, "needs_complex_manager": needs_manager},
        "urgency": rng.random() < 0.2,
        "debts": {
            "problematic": bool(arrears) or rng.random() < 0.3,
            "debt_assistance": rng.choice(("none", "none", "applied", "active")),
            "rent_arrears_corporation_ids": [region.corporations[i] for i in arrears],
        },
        "needs": {
            "wheelchair": wheelchair,
            "step_free": wheelchair or rng.random() < 0.1,
            "max_floor": rng.choice((1, 2, 3)) if rng.random() < 0.08 else None,
            "pets": rng.random() < 0.15,
        },
        "areas": {"preferred": preferred, "excluded": excluded},
        "contract_form": _weighted(
            rng, (("own_lease", 45), ("intermediate_lease", 15), ("either", 40))
        ),
    }


def _complexes(rng: random.Random, region: Region, vacancies: int) -> Iterator[dict]:
    """Complexes with a few vacancies each (new builds with more), until `vacancies` are placed."""
    placed, number = 0, 0
    while placed < vacancies:
        size = min(vacancies - placed, 1 + int(rng.expovariate(1 / 1.6)))
        if rng.random() < 0.03:
            size = min(vacancies - placed, rng.randint(8, 20))
        kind = _weighted(
            rng, (("apartment", 64), ("studio", 22), ("room", 6), ("single_family", 8))
        )
        floors = 0 if kind == "single_family" else rng.choice((2, 3, 4, 4, 6, 8, 12))
        number += 1
        placed += size
        yield {
            "ref": f"CPX-{number:04d}",
            "corporation": rng.randrange(len(region.corporations)),
            "neighbourhood": rng.choice(region.neighbourhood_codes),
            "kind": kind,
            "size": size,
            "floors": floors,
            "lift": floors >= 4 or rng.random() < 0.3,
            "manager": rng.random() < 0.3,
            "pets": rng.random() < 0.6,
            "min_age": 55 if rng.random() < 0.08 else None,
            "street": rng.choice(STREETS),
            "contingent_share": rng.choice((0.0, 0.2, 0.5, 0.8, 1.0)),
            "forms": _weighted(rng, (("own", 50), ("both", 45), ("intermediate", 5))),
        }


def _rooms(rng: random.Random, kind: str) -> int:
    if kind in ("studio", "room"):
        return 1
    if kind == "single_family":
        return rng.choice((3, 4, 4, 5))
    return rng.choice((2, 2, 2, 3, 3, 3, 4))


def _base_rent(rng: random.Random, kind: str, rooms: int) -> float:
    """Rents cluster just under the caps (corporations let to the cap), some above."""
    if kind == "room":
        return rng.uniform(380, 520)
    if rng.random() < 0.12:
        return float(LIMITS_2026.low_cap if rooms <= 3 else LIMITS_2026.high_cap)
    centre = {1: 590.0, 2: 655.0, 3: 700.0, 4: 760.0, 5: 820.0}[rooms]
    return rng.gauss(centre, 55)


def _vacancies(rng: random.Random, region: Region, count: int, meeting: date) -> None:
    numbers = [0] * len(region.corporations)
    for cx in _complexes(rng, region, count):
        postcode = 1000 + int(cx["neighbourhood"][2:6]) % 9000
        letters = "".join(rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))
        first_number = rng.randint(1, 200)
        for k in range(cx["size"]):
            corp = cx["corporation"]
            numbers[corp] += 1
            kind, rooms = cx["kind"], _rooms(rng, cx["kind"])
            floor = rng.randint(0, cx["floors"])
            available = meeting + timedelta(days=rng.randint(-14, 90))
            forms = {"own": ["own_lease"], "intermediate": ["intermediate_lease"]}.get(
                cx["forms"], ["own_lease", "intermediate_lease"]
            )
            region.vacancy_corporation.append(corp)
            region.vacancies.append(
                {
                    "external_ref": f"VH{region.index:02d}{corp}-{numbers[corp]:05d}",
                    "address": {
                        "street": cx["street"],
                        "house_number": str(first_number + k),
                        "postcode": f"{postcode:04d}{letters}",
                        "municipality_code": "GM" + cx["neighbourhood"][2:6],
                        "neighbourhood_code": cx["neighbourhood"],
                    },
                    "complex_ref": cx["ref"],
                    "dwelling_type": kind,
                    "rooms": rooms,
                    "floor": floor,
                    "has_lift": cx["lift"],
                    "wheelchair_accessible": (floor == 0 or cx["lift"]) and rng.random() < 0.08,
                    "rent": {
                        "base": _money(_base_rent(rng, kind, rooms)),
                        "eligible_service_costs": _money(rng.choice((0, 15, 25, 35, 48, 60))),
                    },
                    "available_from": available.isoformat(),
                    "respond_before": max(meeting, available - timedelta(days=10)).isoformat(),
                    "contingent": rng.random() < cx["contingent_share"],
                    "complex_manager": cx["manager"],
                    "pets_allowed": cx["pets"],
                    "min_age": cx["min_age"],
                    "contract_forms": forms,
                }
            )


def _usage(rng: random.Random, region: Region) -> None:
    """Placements of the spread window: a few complexes and neighbourhoods already hold some."""
    for corp, vacancy in zip(region.vacancy_corporation, region.vacancies, strict=True):
        key = (corp, vacancy["complex_ref"])
        if key not in region.complex_usage and rng.random() < 0.12:
            region.complex_usage[key] = rng.choice((1, 1, 1, 2))
    for code in region.neighbourhood_codes:
        if rng.random() < 0.3:
            region.neighbourhood_usage[code] = rng.choice((1, 1, 2, 3, 4, 5))


def build_region(
    cases: int, vacancies: int, seed: int = 0, index: int = 0, meeting: date = MEETING_DATE
) -> Region:
    """One table's week: `cases` ready cases and `vacancies` vacancies, deterministic per seed."""
    rng = random.Random(f"region-{seed}-{index}")
    municipalities, by_gm = _geography(rng, index)
    region = Region(
        index=index,
        municipality_codes=municipalities,
        neighbourhood_codes=[code for gm in municipalities for code in by_gm[gm]],
        corporations=[f"corp-{index:02d}-{c}" for c in range(rng.randint(2, 6))],
    )
    gm_weights = [4.0] + [1.0] * (len(municipalities) - 1)
    region.cases = [_case(rng, region, n + 1, gm_weights, meeting) for n in range(cases)]
    _vacancies(rng, region, vacancies, meeting)
    _usage(rng, region)
    return region


def scattered(region: Region, seed: int = 5) -> Region:
    """The region with every vacancy moved to a random neighbourhood of its own municipality, so
    nearly every complex with two or more vacancies straddles neighbourhoods and the spread caps
    no longer nest (`bench_straddling.scattered` on the API's rows, for the agenda over HTTP)."""
    rng = random.Random(seed)
    by_gm: dict[str, list[str]] = {}
    for code in region.neighbourhood_codes:
        by_gm.setdefault(code[2:6], []).append(code)
    for vacancy in region.vacancies:
        address = vacancy["address"]
        address["neighbourhood_code"] = rng.choice(by_gm[address["neighbourhood_code"][2:6]])
    return region


def _split(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of `total` proportional to `weights`."""
    raw = [total * w / sum(weights) for w in weights]
    sizes = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))
    for i in by_remainder[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def country_sizes() -> list[tuple[int, int]]:
    """(cases, vacancies) per table: a few big city regions, a long tail of small ones."""
    rng = random.Random("country-sizes")
    weights = [(rank + 1) ** -0.8 * rng.uniform(0.8, 1.25) for rank in range(TABLE_COUNT)]
    vacancy_weights = [w * rng.uniform(0.75, 1.3) for w in weights]
    return list(
        zip(_split(COUNTRY_CASES, weights), _split(COUNTRY_VACANCIES, vacancy_weights), strict=True)
    )


def build_country(seed: int = 0, meeting: date = MEETING_DATE) -> list[Region]:
    """All 44 tables of the country for one week."""
    return [
        build_region(cases, vacancies, seed=seed, index=index, meeting=meeting)
        for index, (cases, vacancies) in enumerate(country_sizes())
    ]


def case_payloads(region: Region, table_id: str, corporation_ids: list[str]) -> list[dict]:
    """Cases with the table id and the real corporation ids filled in, ready to post."""
    filled = []
    for case, arrears in zip(region.cases, region.case_arrears, strict=True):
        debts = dict(
            case["debts"], rent_arrears_corporation_ids=[corporation_ids[i] for i in arrears]
        )
        filled.append(dict(case, table_id=table_id, debts=debts))
    return filled


def vacancy_payloads(region: Region) -> list[tuple[int, dict]]:
    """(corporation index, vacancy dict) pairs: each corporation posts its own vacancies."""
    return list(zip(region.vacancy_corporation, region.vacancies, strict=True))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def to_engine(region: Region) -> tuple[list[CaseProfile], list[Dwelling], SpreadUsage]:
    """The region as engine inputs (ids = external refs, placeholder corporation ids)."""
    cases = [
        CaseProfile(
            id=c["external_ref"],
            ready_since=date.fromisoformat(c["ready_since"]),
            birth_year=c["birth_year"],
            adults=c["household"]["adults"],
            children=c["household"]["children"],
            annual_taxable=Decimal(c["income"]["annual_taxable"]),
            income_stable=c["income"]["stable"],
            budget_management=c["income"]["budget_management"],
            registration_date=_date(c["registration_date"]),
            beschikking_status=c["beschikking"]["status"],
            beschikking_valid_until=_date(c["beschikking"]["valid_until"]),
            support_intensity=c["support"]["intensity"],
            needs_complex_manager=c["support"]["needs_complex_manager"],
            urgency=c["urgency"],
            rent_arrears_corporation_ids=frozenset(c["debts"]["rent_arrears_corporation_ids"]),
            wheelchair=c["needs"]["wheelchair"],
            step_free=c["needs"]["step_free"],
            max_floor=c["needs"]["max_floor"],
            pets=c["needs"]["pets"],
            preferred_areas=tuple(c["areas"]["preferred"]),
            excluded_areas=tuple(c["areas"]["excluded"]),
            contract_form=c["contract_form"],
        )
        for c in region.cases
    ]
    dwellings = []
    for corp, v in zip(region.vacancy_corporation, region.vacancies, strict=True):
        corporation = region.corporations[corp]
        dwellings.append(
            Dwelling(
                id=v["external_ref"],
                corporation_id=corporation,
                municipality_code=v["address"]["municipality_code"],
                neighbourhood_code=v["address"]["neighbourhood_code"],
                complex_key=f"{corporation}:{v['complex_ref']}",
                rooms=v["rooms"],
                floor=v["floor"],
                has_lift=v["has_lift"],
                wheelchair_accessible=v["wheelchair_accessible"],
                rent_base=Decimal(v["rent"]["base"]),
                eligible_service_costs=Decimal(v["rent"]["eligible_service_costs"]),
                available_from=date.fromisoformat(v["available_from"]),
                contingent=v["contingent"],
                complex_manager=v["complex_manager"],
                pets_allowed=v["pets_allowed"],
                min_age=v["min_age"],
                contract_forms=frozenset(v["contract_forms"]),
            )
        )
    usage = SpreadUsage(
        per_complex={
            f"{region.corporations[corp]}:{ref}": n
            for (corp, ref), n in region.complex_usage.items()
        },
        per_neighbourhood=dict(region.neighbourhood_usage),
    )
    return cases, dwellings, usage
