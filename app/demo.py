"""A realistic, fictional demo region (seeded, so every load looks the same).

Real CBS municipality codes around Amersfoort; organisations, neighbourhoods and clients are
invented. Loading twice adds nothing but fresh keys, which are printed once.
"""

import random
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.access_log.service import AccessContext
from app.areas.models import AreaName
from app.areas.service import codes_in_use, name_area
from app.cases.models import CaseCreate
from app.cases.service import create_case
from app.organisations.models import (
    ApiKey,
    KeyIssuer,
    Organisation,
    OrganisationCreate,
    OrganisationKind,
)
from app.organisations.service import create_api_key, create_organisation
from app.people.changes import ChangedBy, record
from app.people.models import PersonChangeKind, PersonCreate, PersonRole
from app.people.security import new_password
from app.people.service import create_person, find_by_email, set_password
from app.principal import Principal
from app.problems import Conflict
from app.sqltypes import utcnow
from app.tables.models import OutflowTable, TableCreate, TableMember
from app.tables.service import create_table
from app.timeutil import today
from app.vacancies.models import VacancyIn
from app.vacancies.service import upsert_vacancies

TABLE_NAME = "Uitstroomtafel Regio Eemland (demo)"
MUNICIPALITIES = {
    "GM0307": "Amersfoort",
    "GM0327": "Leusden",
    "GM0313": "Bunschoten",
    "GM0308": "Baarn",
}
ORGANISATIONS = [
    ("Gemeente Amersfoort (demo)", OrganisationKind.municipality),
    ("Gemeente Leusden (demo)", OrganisationKind.municipality),
    ("Zorgaanbieder De Brug (demo)", OrganisationKind.care_provider),
    ("Stichting Onderdak Eemland (demo)", OrganisationKind.care_provider),
    ("Woonstichting Eemhuis (demo)", OrganisationKind.housing_corporation),
    ("Wooncorporatie De Vallei (demo)", OrganisationKind.housing_corporation),
]
STREETS = ["Kastanjelaan", "Stationsstraat", "Molenweg", "Beekstraat", "Lindenhof", "Zonnedauw"]


def _principal(org: Organisation) -> Principal:
    return Principal(
        is_operator=False, organisation_id=org.id, organisation_kind=OrganisationKind(org.kind)
    )


def _neighbourhood(rng: random.Random, municipality: str) -> str:
    return f"BU{municipality[2:]}{rng.randint(0, 9):02d}{rng.randint(0, 9):02d}"


def _case(
    rng: random.Random, index: int, table_id: uuid.UUID, corporations: list[Organisation]
) -> CaseCreate:
    now = today()
    adults = 1 if rng.random() < 0.85 else 2
    children = rng.choice([0, 0, 0, 1, 2]) if rng.random() < 0.25 else 0
    source = rng.choice(["participatiewet"] * 6 + ["wajong", "wia", "employment", "ww"])
    annual = (
        Decimal(rng.randint(14_000, 26_000))
        if source != "employment"
        else Decimal(rng.randint(24_000, 36_000))
    )
    stable = rng.random() < 0.6
    municipality = rng.choice(list(MUNICIPALITIES))
    return CaseCreate.model_validate(
        {
            "external_ref": f"DEMO-{index:04d}",
            "table_id": table_id,
            "facility": rng.choice(
                ["beschermd_wonen", "beschermd_wonen", "maatschappelijke_opvang"]
            ),
            "ready_since": now - timedelta(days=rng.randint(-30, 3 * 365)),
            "birth_year": now.year - rng.randint(19, 70),
            "household": {"adults": adults, "children": children},
            "income": {
                "source": source,
                "annual_taxable": annual,
                "net_monthly": (annual / 12 * Decimal("0.85")).quantize(Decimal("0.01")),
                "stable": stable,
                "budget_management": "none"
                if stable
                else rng.choice(["budgetbeheer", "bewindvoering", "none"]),
            },
            "registration_date": now - timedelta(days=rng.randint(30, 6 * 365))
            if rng.random() < 0.8
            else None,
            "beschikking": {
                "status": rng.choice(["none", "requested", "granted", "granted"]),
                "valid_until": now + timedelta(days=rng.randint(90, 720)),
            },
            "support": {
                "intensity": rng.choice(["light", "moderate", "moderate", "intensive"]),
                "needs_complex_manager": rng.random() < 0.25,
            },
            "urgency": rng.random() < 0.2,
            "debts": {
                "problematic": rng.random() < 0.3,
                "debt_assistance": rng.choice(["none", "applied", "active"]),
                "rent_arrears_corporation_ids": [rng.choice(corporations).id]
                if rng.random() < 0.08
                else [],
            },
            "needs": {
                "wheelchair": rng.random() < 0.04,
                "step_free": rng.random() < 0.12,
                "max_floor": rng.choice([None, None, None, 2, 4]),
                "pets": rng.random() < 0.15,
            },
            "areas": {"preferred": [municipality] if rng.random() < 0.5 else [], "excluded": []},
            "contract_form": rng.choice(["either", "either", "own_lease", "intermediate_lease"]),
        }
    )


def _vacancy(rng: random.Random, index: int) -> VacancyIn:
    now = today()
    municipality = rng.choice(list(MUNICIPALITIES))
    rooms = rng.choice([1, 2, 2, 3, 3, 4])
    floor = rng.choice([0, 0, 1, 2, 3, 4])
    return VacancyIn.model_validate(
        {
            "external_ref": f"VHE-{index:05d}",
            "address": {
                "street": rng.choice(STREETS),
                "house_number": str(rng.randint(1, 180)),
                "postcode": f"{rng.randint(3811, 3835)}{rng.choice(['AB', 'CK', 'GT', 'MX'])}",
                "municipality_code": municipality,
                "neighbourhood_code": _neighbourhood(rng, municipality),
            },
            "complex_ref": f"CPL-{rng.randint(1, 8)}",
            "dwelling_type": "studio"
            if rooms == 1
            else rng.choice(["apartment", "apartment", "single_family"]),
            "rooms": rooms,
            "floor": floor,
            "has_lift": floor > 0 and rng.random() < 0.5,
            "wheelchair_accessible": floor == 0 and rng.random() < 0.2,
            "rent": {
                "base": Decimal(rng.randint(480, 760)) + Decimal("0.50"),
                "eligible_service_costs": Decimal(rng.randint(0, 60)),
            },
            # Some free already: a move-in (`house`) may not precede `available_from`, and the
            # README's walk plans a meeting for today and houses on it.
            "available_from": now + timedelta(days=rng.randint(-14, 56)),
            "respond_before": now + timedelta(days=rng.randint(7, 21)),
            "contingent": rng.random() < 0.5,
            "complex_manager": rng.random() < 0.3,
            "pets_allowed": rng.random() < 0.7,
            "min_age": rng.choice([None, None, None, 55]),
            "contract_forms": rng.choice([["own_lease"], ["own_lease", "intermediate_lease"]]),
        }
    )


def load_demo(session: Session, out: TextIO) -> None:
    """Create the demo region once; print a fresh API key per organisation on every call."""
    rng = random.Random(2026)
    existing = {o.name: o for o in session.exec(select(Organisation))}
    fresh = ORGANISATIONS[0][0] not in existing
    orgs: dict[str, Organisation] = {}
    for name, kind in ORGANISATIONS:
        orgs[name] = existing.get(name) or create_organisation(
            session, OrganisationCreate(name=name, kind=kind)
        )
    if fresh:
        municipalities = [o for o in orgs.values() if o.kind == OrganisationKind.municipality]
        corporations = [o for o in orgs.values() if o.kind == OrganisationKind.housing_corporation]
        providers = [o for o in orgs.values() if o.kind == OrganisationKind.care_provider]
        table = create_table(
            session,
            TableCreate(
                name=TABLE_NAME,
                municipality_codes=list(MUNICIPALITIES),
                chair_organisation_id=municipalities[0].id,
                member_organisation_ids=[o.id for o in orgs.values()],
            ),
        )
        for index in range(40):
            provider = providers[index % len(providers)]
            context = AccessContext(principal=_principal(provider), endpoint="CLI demo")
            create_case(session, context, _case(rng, index, table.id, corporations))
        for number, corporation in enumerate(corporations):
            items = [_vacancy(rng, number * 1000 + i) for i in range(8)]
            upsert_vacancies(session, _principal(corporation), items, batch=True)
        _demo_area_names(session, table, municipalities[0])
        out.write(f"Demo region loaded: {TABLE_NAME} ({table.id}), 40 cases, 16 vacancies.\n")
    else:
        loaded = _demo_table(session, orgs)
        out.write(
            f"Demo region already loaded: {loaded.name} ({loaded.id}).\n"
            if loaded is not None
            else "Demo region already loaded; no table of its organisations is left.\n"
        )
    out.write("Demo API keys (shown once; the keys of an earlier run are revoked):\n")
    for name, organisation in orgs.items():
        _revoke_demo_keys(session, organisation)
        try:
            _, raw = create_api_key(session, organisation, "demo", issued_by=KeyIssuer.command_line)
        except Conflict as full:  # the operator issued it every key it may hold
            raw = f"no demo key: {full.detail}"
        out.write(f"  {organisation.kind:<20} {name:<36} {raw}\n")
    _demo_people(session, orgs, out)


def _demo_table(session: Session, orgs: dict[str, Organisation]) -> OutflowTable | None:
    """The table an earlier load made: by its demo name, or, renamed since by the operator,
    the first table made with a demo organisation as a member (ids are in creation order)."""
    named = session.exec(select(OutflowTable).where(OutflowTable.name == TABLE_NAME)).first()
    demo_ids = [organisation.id for organisation in orgs.values()]
    return (
        named
        or session.exec(
            select(OutflowTable)
            .join(TableMember, col(TableMember.table_id) == OutflowTable.id)
            .where(col(TableMember.organisation_id).in_(demo_ids))
            .order_by(col(OutflowTable.id))
        ).first()
    )


def _revoke_demo_keys(session: Session, organisation: Organisation) -> None:
    """Revoke the keys an earlier demo run issued (label `demo`), as a run gives each demo
    person a new password: runs without end would otherwise reach the cap on keys
    (`organisations.service.MAX_ACTIVE_API_KEYS`)."""
    session.exec(
        update(ApiKey)
        .where(
            col(ApiKey.organisation_id) == organisation.id,
            col(ApiKey.label) == "demo",
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _demo_area_names(session: Session, table: OutflowTable, chair: Organisation) -> None:
    """The names of every code the demo uses: the four municipalities by their CBS names, and
    the invented neighbourhoods by invented names, given as the chair would
    (`app.areas.service.name_area`)."""
    for code, name in MUNICIPALITIES.items():
        if session.get(AreaName, code) is None:
            session.add(AreaName(code=code, kind="municipality", name=name, source="demo"))
    session.flush()
    context = AccessContext(principal=_principal(chair), endpoint="CLI demo")
    for code in sorted(codes_in_use(session, table)):
        if code.startswith("BU") and session.get(AreaName, code) is None:
            town = MUNICIPALITIES.get(f"GM{code[2:6]}", "Eemland")
            name = f"{town}, {NEIGHBOURHOOD_NAMES[int(code[-2:]) % len(NEIGHBOURHOOD_NAMES)]}"
            name_area(session, context, table, code, f"{name} {code[-4:]} (demo)")


NEIGHBOURHOOD_NAMES = ["Centrum", "Kruiskamp", "Zonnehof", "De Hoef", "Vathorst", "Schothorst"]


DEMO_ROLE_NAMES = {PersonRole.chair: "voorzitter", PersonRole.member: "lid"}


def _demo_email(name: str) -> str:
    slug = name.replace("(demo)", "").strip().lower().replace(" ", "-")
    return f"{slug}@demo.example"


def _demo_people(session: Session, orgs: dict[str, Organisation], out: TextIO) -> None:
    """One person per organisation (the chair municipality's is its chair), each an admin of
    its organisation, with a fresh password on every load so the printed one always works."""
    chair_name = ORGANISATIONS[0][0]
    out.write("Demo people for the pages at /aanmelden (passwords shown once):\n")
    for name, organisation in orgs.items():
        email = _demo_email(name)
        password = new_password()
        person = find_by_email(session, organisation.id, email)
        if person is None:
            role = PersonRole.chair if name == chair_name else PersonRole.member
            data = PersonCreate(
                email=email,
                display_name=f"Demo-{DEMO_ROLE_NAMES[role]} {name.replace(' (demo)', '')}",
                role=role,
                is_admin=True,
                password=password,
            )
            person, _ = create_person(session, organisation, data, by=ChangedBy("CLI demo"))
        elif not person.active:  # the operator's choice: no password that leads nowhere
            out.write(f"  {person.role:<7} {email:<48} (deactivated: no sign-in, no password)\n")
            continue
        else:
            set_password(session, person, password)
            record(
                session, person, ChangedBy("CLI demo"), [(PersonChangeKind.password, "generated")]
            )
            session.add(person)
        out.write(f"  {person.role:<7} {email:<48} {password}\n")
