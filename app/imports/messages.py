"""Dutch messages for what the API's schemas and services refuse, for people: the import report
and the forms of the pages say these where the API says its English reason."""

import re
from typing import Any

from pydantic_core import ErrorDetails

from app.vocabulary import MONTHS

QUOTED = 60
"""The most characters of a cell or header a message quotes: a cell holds up to 32,767, and a
file of 10,000 such cells, one shared string, answered a report of hundreds of megabytes."""


def quoted(value: Any) -> str:
    """`value` as a message quotes it: its text, cut to `QUOTED` characters with an ellipsis."""
    text = str(value)
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


PATTERN_HINTS = {
    "external_ref": "Alleen letters, cijfers, punt, streepje en liggend streepje, zonder spaties, "
    "hoogstens 64 tekens.",
    "address.postcode": "Schrijf een postcode als 1234AB.",
    "address.municipality_code": "Een CBS-gemeentecode zoals GM0344.",
    "address.neighbourhood_code": "Een CBS-buurtcode zoals BU03440101.",
    "areas.preferred": "Een CBS-code van een gemeente (GM0344), wijk (WK034401) of buurt "
    "(BU03440101).",
    "areas.excluded": "Een CBS-code van een gemeente (GM0344), wijk (WK034401) of buurt "
    "(BU03440101).",
}

# The domain's own validators (English in the API), by a stable part of their text.
VALUE_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"clients are at least 16"),
        "Een cliënt is minstens 16 jaar: dit geboortejaar ligt te laat.",
    ),
    (re.compile(r"registration_date lies in the future"), "De inschrijfdatum ligt in de toekomst."),
    (re.compile(r"date must lie between"), "De datum moet tussen 1900 en 2100 liggen."),
    (
        re.compile(r"both preferred and excluded: (?P<codes>.*)"),
        "Een gebied staat zowel bij de voorkeur als bij uitgesloten: {codes}.",
    ),
    (
        re.compile(
            r"(?P<neighbourhood>BU\d+) does not lie in municipality (?P<municipality>GM\d+)"
        ),
        "Buurt {neighbourhood} ligt niet in gemeente {municipality}.",
    ),
    (re.compile(r"dates are ISO 8601"), "Dit is geen datum."),
    (re.compile(r"money is a number"), "Dit is geen bedrag."),
]

TYPE_MESSAGES = {
    "missing": "Verplicht: niet ingevuld.",
    "string_too_short": "Niet ingevuld.",
    "decimal_max_places": "Hoogstens twee cijfers achter de komma.",
    "decimal_max_digits": "Dit bedrag is te groot.",
    "decimal_whole_digits": "Dit bedrag is te groot.",
    "decimal_parsing": "Dit is geen bedrag.",
    "int_parsing": "Dit is geen geheel getal.",
    "int_from_float": "Dit is geen geheel getal.",
    "bool_parsing": "Vul ja of nee in.",
    "date_parsing": "Dit is geen geldige datum.",
    "date_from_datetime_parsing": "Dit is geen geldige datum.",
    "uuid_parsing": "Dit is geen geldige id.",
    "enum": "Dit is geen geldige keuze.",
    "extra_forbidden": "Dit veld bestaat niet.",
}

# What the services refuse, by the `code` of their problem or of an `invalidParams` entry.
SERVICE_MESSAGES = {
    "unknown_table": "Deze tafel bestaat niet, of uw organisatie is er geen lid van.",
    "unknown_corporation": "Dit is geen woningcorporatie.",
    "no_table": "Geen uitstroomtafel waar uw organisatie lid van is, omvat deze gemeente.",
    "duplicate_in_batch": "Dit kenmerk staat ook op een eerdere rij.",
    "case_closed": "Het dossier is gehuisvest of afgemeld en verandert niet meer.",
    "precondition_failed": "Iemand anders heeft dit intussen gewijzigd. Laad opnieuw en probeer "
    "het nog eens.",
    "duplicate_external_ref": "Uw organisatie gebruikt dit kenmerk al voor een ander dossier.",
    "duplicate_external_ref_closed": "Uw organisatie gebruikte dit kenmerk voor een dossier dat "
    "gehuisvest of afgemeld is. Komt de cliënt terug? Open dat dossier en kies 'Meld de cliënt "
    "opnieuw aan'.",
    "external_ref_anonymised": "Uw organisatie gebruikte dit kenmerk voor een dossier dat na "
    "de bewaartermijn is geanonimiseerd: de cliënt is lang geleden gehuisvest of afgemeld. Haal "
    "de rij weg; komt de cliënt echt terug, meld hem of haar dan aan met het formulier 'Nieuw "
    "dossier'.",
    "unknown_case": "Dit dossier kan niet worden gevolgd: het is niet afgesloten, niet van uw "
    "organisatie of heeft een ander kenmerk.",
    "previous_case_followed": "De cliënt is vanuit dat dossier al opnieuw aangemeld; ga uit van "
    "het nieuwste dossier.",
    "illegal_transition": "Deze statuswijziging kan in de huidige status niet.",
    "dwelling_let": "De woning is verhuurd; er valt niets in te trekken.",
    "available_before_move_in": "De woning is verhuurd aan een huurder die op of na deze datum "
    "verhuisde: ze komt pas vrij na de verhuisdatum.",
    "vacancy_in_proposal": "De woning is voorgesteld aan haar tafel; ze gaat pas naar een gemeente "
    "van een andere tafel als het voorstel is afgesloten.",
    "forbidden": "Uw organisatie mag dit niet wijzigen.",
    "reason_without_status": "Een reden hoort bij een statuswijziging.",
    "exit_date_misplaced": "Een uitstroomdatum hoort bij afmelden.",
    "date_in_future": "De datum ligt in de toekomst.",
    "ready_since_after_meeting": "Het dossier is voorgesteld op een vergadering vóór deze datum "
    "en was toen al klaar voor uitstroom: kies een datum op of vóór die vergadering.",
    "exit_before_ready_since": "De datum van afmelden ligt vóór de datum waarop de cliënt klaar "
    "was om uit te stromen.",
    "case_in_proposal": "Het dossier staat in een lopend voorstel aan zijn tafel; het gaat pas "
    "naar een andere tafel als dat voorstel is afgesloten.",
    "dates_changed": "De datums van het dossier veranderden tegelijk; laad de pagina opnieuw en "
    "probeer het nog eens.",
}


def schema_message(error: ErrorDetails | dict[str, Any], name: str) -> str:
    """A pydantic error on field `name` (`household.adults`, `areas.preferred`) in Dutch."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    loc = tuple(error.get("loc", ()))
    value = error.get("input")
    prefix = (
        f"'{quoted(value)}': "
        if loc and isinstance(loc[-1], int) and isinstance(value, str)
        else ""
    )
    if kind == "string_pattern_mismatch":
        return prefix + PATTERN_HINTS.get(
            name, "Bevat tekens die niet zijn toegestaan, zoals een regeleinde."
        )
    if kind == "value_error":
        text = str(error.get("msg", ""))
        for pattern, message in VALUE_ERRORS:
            if match := pattern.search(text):
                return prefix + message.format(**match.groupdict())
        return prefix + "Ongeldige waarde."
    bounds = {
        "greater_than_equal": ("Moet minstens {} zijn.", "ge"),
        "less_than_equal": ("Mag hoogstens {} zijn.", "le"),
        "greater_than": ("Moet groter zijn dan {}.", "gt"),
        "less_than": ("Moet kleiner zijn dan {}.", "lt"),
        "string_too_long": ("Hoogstens {} tekens.", "max_length"),
        "too_long": ("Hoogstens {} waarden.", "max_length"),
        "too_short": ("Minstens {} waarde(n).", "min_length"),
    }
    if kind in bounds:
        text, key = bounds[kind]
        return prefix + text.format(_dutch_number(ctx.get(key)))
    return prefix + TYPE_MESSAGES.get(kind, "Ongeldige waarde.")


def _dutch_number(value: Any) -> str:
    return str(value).replace(".", ",") if value is not None else ""


def service_message(code: str, fallback: str | None = None) -> str:
    """A service's refusal in Dutch, by its code."""
    return SERVICE_MESSAGES.get(code, fallback or "Dit kan niet.")


# The day a refused date had to respect, as the service's English reason names it ("before the
# dwelling is available on 2027-02-01"): the Dutch message names it too, else the person has to
# look up which day would do. Where the day is no lower bound, how the message names it.
BOUND_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
BOUND_DAY_WORDING = {
    "date_too_far_after_move_in": "uiterlijk {day}",
    "available_before_move_in": "verhuisd op {day}",
    "ready_since_after_meeting": "vergadering van {day}",
}


def with_bound_day(message: str, code: str, reason: object) -> str:
    """`message` (Dutch, ending in a full stop) with the one day `reason` names, in Dutch, in
    brackets before the stop; as it is when the reason names no day or more than one."""
    days = BOUND_DAY.findall(str(reason or ""))
    if len(days) != 1 or not message.endswith("."):
        return message
    year, month, day = (int(part) for part in days[0])
    named = f"{day} {MONTHS[month - 1]} {year}"
    return f"{message[:-1]} ({BOUND_DAY_WORDING.get(code, '{day}').format(day=named)})."
