"""Dutch labels for the API's codes. The pages, the PDF and the CSV show these; forms send the
codes themselves, so what a person picks is exactly what the API would be sent."""

from typing import Any

ORGANISATION_KINDS = {
    "municipality": "Gemeente",
    "care_provider": "Zorgaanbieder",
    "housing_corporation": "Woningcorporatie",
}

ROLES = {"chair": "Voorzitter", "member": "Lid", "viewer": "Meelezer"}

AGENDA_VIEWS = {
    "table": "volledige tafel",
    "care_provider": "zorgaanbieder: alleen eigen dossiers",
    "housing_corporation": "woningcorporatie: alleen eigen woningen, zonder dossierdetails",
}

MEETING_STATUSES = {"draft": "Concept", "published": "Gepubliceerd"}

# The hard rules (domain.md), in the order the engine checks them.
REASONS = {
    "rent_above_cap": "Huur boven de grens (passend toewijzen)",
    "size_mismatch": "Aantal kamers past niet bij het huishouden",
    "not_wheelchair_accessible": "Niet rolstoeltoegankelijk",
    "not_step_free": "Niet gelijkvloers en geen lift",
    "floor_too_high": "Verdieping te hoog",
    "pets_not_allowed": "Huisdieren niet toegestaan",
    "age_restricted": "Leeftijdsgrens van het complex",
    "excluded_area": "Ligt in een uitgesloten gebied",
    "not_available_in_horizon": "Niet op tijd beschikbaar",
    "contract_form_mismatch": "Contractvorm past niet",
    "no_complex_manager": "Geen huismeester aanwezig",
    "no_stable_income": "Geen stabiel inkomen of budgetbeheer",
    "beschikking_missing": "Wmo-beschikking ontbreekt",
    "rent_arrears": "Huurachterstand bij deze corporatie",
    "registration_too_short": "Inschrijfduur te kort",
    "declined_earlier": "Eerder afgewezen of ingetrokken voor deze woning",
    "declined_by_corporation_earlier": (
        "Eerder afgewezen door deze corporatie (geldt voor al haar woningen)"
    ),
    "complex_cap_reached": "Maximum per complex bereikt",
    "neighbourhood_cap_reached": "Maximum per buurt bereikt",
    # Why-not: the case or the dwelling takes no part in the agenda of that date.
    "case_on_hold": "Dossier is aangehouden",
    "case_parked": "Dossier staat geparkeerd na een afwijzing",
    "case_in_open_proposal": "Dossier zit al in een lopend voorstel",
    "case_housed": "Dossier is al gehuisvest",
    "case_withdrawn": "Dossier is afgemeld",
    "case_not_ready_yet": "Dossier is op deze datum nog niet klaar voor uitstroom",
    "vacancy_in_open_proposal": "Woning zit al in een lopend voorstel",
    "vacancy_let": "Woning is verhuurd",
    "vacancy_withdrawn": "Woning is ingetrokken",
}

# Why an alternative that houses a passed-over case was not chosen.
TRADE_OFFS = {
    "fewer_housed": "Er worden dan minder dossiers gehuisvest",
    "lower_total_score": "Evenveel dossiers gehuisvest, maar met een lagere totaalscore",
    "equal_alternative": "Even goed; de vaste volgorde koos het voorstel",
}

# The same, for a published meeting's why-not page, which answers with what a new agenda of its
# date would do ("Waarom zou een nieuwe agenda dit paar niet voorstellen?"): in the conditional,
# not as what an agenda did (no agenda chose: the meeting's gave the dwelling to another).
TRADE_OFFS_NEW_AGENDA = {
    "fewer_housed": "Er zouden dan minder dossiers worden gehuisvest",
    "lower_total_score": (
        "Er zouden evenveel dossiers worden gehuisvest, maar met een lagere totaalscore"
    ),
    "equal_alternative": "Even goed; de vaste volgorde zou het andere voorstel kiezen",
}

# Figures a why-not answer gives per rule.
REASON_DETAILS = {
    "test_rent": "toetshuur",
    "counted_service_costs": "meegetelde servicekosten",
    "cap": "grens",
    "cap_kind": "soort grens",
    "household_size": "huishoudgrootte",
    "annual_taxable": "belastbaar jaarinkomen",
    "income_limit": "inkomensgrens",
    "pension_age_applied": "inkomensgrens voor AOW-leeftijd toegepast",
    "pension_age_basis": "AOW-leeftijd bepaald op",
    "age_basis": "leeftijd bepaald op",
    "rooms": "kamers",
    "rooms_min": "minimaal kamers",
    "rooms_max": "maximaal kamers",
    "wheelchair_accessible": "rolstoeltoegankelijk",
    "floor": "verdieping",
    "has_lift": "lift",
    "max_floor": "hoogste verdieping",
    "pets_allowed": "huisdieren toegestaan",
    "age": "leeftijd",
    "min_age": "minimumleeftijd",
    "neighbourhood": "buurt",
    "area": "uitgesloten gebied",
    "available_from": "beschikbaar vanaf",
    "latest": "uiterlijk",
    "contract_form": "contractvorm dossier",
    "accepted": "contractvormen woning",
    "complex_manager": "huismeester",
    "income_stable": "stabiel inkomen",
    "budget_management": "budgetbeheer",
    "status": "status",
    "effective_status": "geldende status",
    "required": "vereist",
    "valid_until": "geldig tot",
    "corporation_id": "corporatie",
    "months_registered": "maanden ingeschreven",
    "required_months": "vereiste maanden",
    "registration_date": "inschrijfdatum",
    "contingent": "contingent",
    "urgency": "urgentie",
    "complex": "complex",
    "usage": "in gebruik",
    "window_months": "spreidingsperiode (maanden)",
    "decision": "besluit",
    "reason": "reden",
    "decided_on": "besloten op",
    "proposal_id": "voorstel",
    "times": "aantal keer",
    "until": "geldt tot",
    "vacancy_id": "woning",
    "case_id": "dossier",
    "status_reason": "reden",
    "parked_until": "geparkeerd tot",
    "ready_since": "klaar voor uitstroom vanaf",  # only of a case not ready yet
    "exit_date": "uitstroomdatum",
    "proposal_status": "status voorstel",
    "meeting_date": "vergadering",
}

COMPONENTS = {
    "waiting_time": "Wachttijd",
    "urgency": "Urgentie",
    "preferred_area": "Voorkeursgebied",
    "support_fit": "Begeleiding past bij woning",
    "registration": "Inschrijfduur",
    "rent_headroom": "Ruimte onder de huurgrens",
}

DECISIONS = {
    "nominate": "Voordragen",
    "corporation_accept": "Corporatie accepteert",
    "corporation_decline": "Corporatie wijst af",
    "plan_viewing": "Bezichtiging gepland",
    "client_decline": "Cliënt ziet af",
    "sign_tenancy": "Huurcontract getekend",
    "house": "Gehuisvest (verhuisd)",
    "withdraw": "Voorstel intrekken",
}

DECISION_REASONS = {
    "rent_arrears": "Huurachterstand",
    "income_insufficient": "Inkomen onvoldoende",
    "unsuitable_for_dwelling": "Past niet in deze woning",
    "failed_reference_check": "Referentiecheck negatief",
    "dwelling_unavailable": "Woning niet meer beschikbaar",
    "location": "Locatie",
    "dwelling_type_or_size": "Woningtype of -grootte",
    "too_expensive": "Te duur",
    "not_ready_to_move": "Nog niet klaar om te verhuizen",
    "personal_circumstances": "Persoonlijke omstandigheden",
    "no_show": "Niet verschenen",
    "table_decision": "Besluit van de tafel",
    "case_changed": "Dossier gewijzigd",
    "dwelling_changed": "Woning gewijzigd",
    "other": "Anders",
}

PROPOSAL_STATUSES = {
    "proposed": "Voorgesteld",
    "nominated": "Voorgedragen",
    "accepted": "Geaccepteerd door corporatie",
    "viewing_planned": "Bezichtiging gepland",
    "tenancy_signed": "Huurcontract getekend",
    "housed": "Gehuisvest",
    "declined_by_corporation": "Afgewezen door corporatie",
    "declined_by_client": "Cliënt zag af",
    "withdrawn": "Ingetrokken",
    "superseded": "Vervallen",
}

CASE_STATUSES = {
    "registered": "Aangemeld",
    "ready": "Klaar voor uitstroom",
    "proposed": "Voorgesteld",
    "nominated": "Voorgedragen",
    "housed": "Gehuisvest",
    "on_hold": "Aangehouden",
    "withdrawn": "Afgemeld",
}

VACANCY_STATUSES = {
    "available": "Beschikbaar",
    "proposed": "Voorgesteld",
    "let": "Verhuurd",
    "withdrawn": "Ingetrokken",
}

STATUS_REASONS = {
    "client_request": "Op verzoek van de cliënt",
    "support_needs_changed": "Ondersteuningsbehoefte veranderd",
    "temporarily_unreachable": "Tijdelijk onbereikbaar",
    "returned_to_care": "Terug in zorg",
    "own_solution": "Eigen oplossing gevonden",
    "left_region": "Regio verlaten",
    "no_longer_eligible": "Niet langer in aanmerking",
    "deceased": "Overleden",
    **DECISION_REASONS,
}

ACTION_KINDS = {
    "request_beschikking": "Wmo-beschikking aanvragen",
    "arrange_budget_management": "Budgetbeheer regelen",
    "find_complex_manager": "Huismeester zoeken",
    "arrange_debt_assistance": "Schuldhulp regelen",
    "arrange_payment_plan": "Betalingsregeling treffen",
    "register_as_house_seeker": "Inschrijven als woningzoekende",
    "apply_for_urgency": "Urgentie aanvragen",
    "plan_viewing": "Bezichtiging plannen",
    "record_checkpoint": "Nazorgcontrole vastleggen",
    "address_nuisance": "Overlast aanpakken",
    "plan_lease_transfer": "Omklap van het huurcontract regelen",
    "other": "Overig",
}

ACTION_STATUSES = {"open": "Open", "done": "Afgerond", "cancelled": "Vervallen"}

TIMELINE_KINDS = {
    "status_changed": "Status gewijzigd",
    "proposed": "Voorgesteld voor een woning",
    "decision": "Besluit",
    "action_created": "Actie uitgezet",
    "action_due_date_changed": "Termijn van actie verzet",
    "action_closed": "Actie afgesloten",
    "action_reopened": "Actie heropend",
    "tenancy_started": "Huur begonnen",
    "aftercare_agreed": "Nazorgafspraak gemaakt",
    "checkpoint_recorded": "Nazorgcontrole vastgelegd",
    "lease_transferred": "Huurcontract omgeklapt",
    "tenancy_ended": "Huur beëindigd",
}
# A dwelling's timeline: its proposal is made for a case, not for a dwelling.
DWELLING_TIMELINE_KINDS = TIMELINE_KINDS | {"proposed": "Voorgesteld voor een dossier"}

# The case file's and the dwelling's codes live beside the spreadsheet import, which reads them by
# these labels too (app.vocabulary imports nothing of the web).
from app.vocabulary import (  # noqa: E402
    AFTERCARE_SIGNALS,
    BESCHIKKING_STATUSES,
    BUDGET_MANAGEMENT,
    CONTACT_FREQUENCIES,
    DEBT_ASSISTANCE,
    DWELLING_TYPES,
    FACILITIES,
    INCOME_SOURCES,
    LEASE_FORMS,
    SUPPORT_INTENSITIES,
    TENANCY_END_REASONS,
    TRANSFER_CONDITIONS,
)

# After the move (app.aftercare).
TENANCY_STATUSES = {
    "awaiting_transfer": "Tussenhuur, wacht op omklap",
    "running": "Loopt (eigen huurcontract)",
    "ended": "Beëindigd",
}
CHECKPOINT_STATES = {
    "upcoming": "Nog niet aan de beurt",
    "due": "Vandaag aan de beurt",
    "overdue": "Te laat",
    "recorded": "Vastgelegd",
    "not_due": "Vervallen (huur eerder beëindigd)",
}
AFTERCARE_ITEMS = {
    "checkpoint": "Nazorgcontrole",
    "signal": "Signaal",
    "transfer_overdue": "Omklap over tijd",
    "let_again": "Woning opnieuw verhuurd, huur niet beëindigd",
    "returned": "Cliënt opnieuw aangemeld, huur niet beëindigd",
}

INCOME_CATEGORIES = {
    "within_passend_toewijzen_limit": "Binnen de grens voor passend toewijzen",
    "within_daeb_limit": "Binnen de DAEB-grens",
    "above_daeb_limit": "Boven de DAEB-grens",
}

# Values in a why-not answer's figures that are codes, not numbers or references.
DETAIL_VALUES = {
    "low": "lage aftoppingsgrens",
    "high": "hoge aftoppingsgrens",
    "daeb_rent_limit": "DAEB-huurgrens",
    "birth_month": "geboortejaar en -maand",
    "birth_year": "geboortejaar (maand doet er niet toe)",
    "uncertain_strict": "onzeker zonder geboortedatum: de strengste lezing",
}

CASE_SORTS = {"-waitingTime": "Langst wachtend eerst", "waitingTime": "Kortst wachtend eerst"}
VACANCY_SORTS = {
    "-waitingTime": "Langst beschikbaar eerst",
    "waitingTime": "Laatst beschikbaar eerst",
}
AREA_KINDS = {"municipality": "Gemeente", "district": "Wijk", "neighbourhood": "Buurt"}
AREA_SOURCES = {"cbs": "CBS-lijst", "table": "Door de tafel benoemd"}

CHANGES = {"updated": "gewijzigd na publicatie", "added": "nieuw sinds publicatie"}
SUBJECTS = {"case": "Dossier", "vacancy": "Woning"}

TURNS = {"chair": "Voorzitter", "corporation": "Corporatie", "care_provider": "Zorgaanbieder"}

ACCESS_ACTIONS = {
    "create": "aangemaakt",
    "read": "bekeken",
    "list": "in een lijst gezien",
    "update": "gewijzigd",
    "status_change": "status gewijzigd",
    "history": "statusgeschiedenis bekeken",
    "agenda": "in een agenda gezien",
    "why_not": "waarom-niet bekeken",
    "profile": "profiel bekeken (corporatie)",
    "timeline": "tijdlijn bekeken",
    "monitor_export": "in een monitorexport",
    "proposal": "voorstel bekeken",
    "decision": "besluit vastgelegd",
    "action": "actie gezien of gewijzigd",
    "aftercare": "nazorg bekeken of gewijzigd",
    "notification": "melding (webhook) verstuurd",
}

ALL = {
    "access_action": ACCESS_ACTIONS,
    "turn": TURNS,
    "kind": ORGANISATION_KINDS,
    "role": ROLES,
    "view": AGENDA_VIEWS,
    "meeting_status": MEETING_STATUSES,
    "reason": REASONS,
    "detail": REASON_DETAILS,
    "trade_off": TRADE_OFFS,
    "trade_off_new_agenda": TRADE_OFFS_NEW_AGENDA,
    "detail_value": DETAIL_VALUES,
    "component": COMPONENTS,
    "decision": DECISIONS,
    "decision_reason": DECISION_REASONS,
    "proposal_status": PROPOSAL_STATUSES,
    "case_status": CASE_STATUSES,
    "vacancy_status": VACANCY_STATUSES,
    "status_reason": STATUS_REASONS,
    "action_kind": ACTION_KINDS,
    "action_status": ACTION_STATUSES,
    "timeline": TIMELINE_KINDS,
    "dwelling_timeline": DWELLING_TIMELINE_KINDS,
    "facility": FACILITIES,
    "lease_form": LEASE_FORMS,
    "dwelling_type": DWELLING_TYPES,
    "support": SUPPORT_INTENSITIES,
    "income_source": INCOME_SOURCES,
    "budget_management": BUDGET_MANAGEMENT,
    "beschikking": BESCHIKKING_STATUSES,
    "debt_assistance": DEBT_ASSISTANCE,
    "income_category": INCOME_CATEGORIES,
    "change": CHANGES,
    "beschikking_status": BESCHIKKING_STATUSES,
    "case_sort": CASE_SORTS,
    "vacancy_sort": VACANCY_SORTS,
    "area_kind": AREA_KINDS,
    "area_source": AREA_SOURCES,
    "subject": SUBJECTS,
    "signal": AFTERCARE_SIGNALS,
    "contact_frequency": CONTACT_FREQUENCIES,
    "end_reason": TENANCY_END_REASONS,
    "transfer_condition": TRANSFER_CONDITIONS,
    "tenancy_status": TENANCY_STATUSES,
    "checkpoint_state": CHECKPOINT_STATES,
    "aftercare_item": AFTERCARE_ITEMS,
}


def label(group: str, code: object) -> str:
    """The Dutch label of a code, or the code itself when there is none (never an empty cell)."""
    if code is None:
        return ""
    return ALL[group].get(str(code), str(code))


def limits_fallback_text(fallback: dict[str, Any] | None) -> str:
    """The Dutch sentence an agenda (page, PDF, CSV) shows when its year has no limits yet."""
    if not fallback:
        return ""
    year, used = fallback["meeting_year"], fallback["limits_year"]
    return (
        f"Voor {year} zijn nog geen wettelijke grenzen ingevoerd (huurgrenzen en "
        f"inkomensgrenzen voor passend toewijzen). Deze agenda rekent met die van {used}. "
        f"Zodra de beheerder de grenzen van {year} invoert, rekenen nieuwe agenda's daarmee."
    )
