# Size: the two layouts are data, one Column per spreadsheet column with its Dutch help text.
"""The columns of an import spreadsheet: the Dutch header, the API field a column fills, how its
cells are read, and the explanation the template gives.

Whether a column is required, and what an empty cell means, is read from the API schema itself
(`CaseCreate`, `VacancyIn`), so the spreadsheet can never drift from the JSON API's rules.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from app import schemas
from app import vocabulary as labels
from app.cases.models import CaseCreate
from app.flat import _group_model
from app.vacancies.models import VacancyIn


class Kind(StrEnum):
    """How a cell is read (see `app.imports.cells`)."""

    text = "text"
    integer = "integer"
    boolean = "boolean"
    date = "date"
    money = "money"
    choice = "choice"  # one code, by code or Dutch label
    choices = "choices"  # several codes, comma-separated
    area_codes = "area_codes"  # CBS codes, comma- or space-separated
    corporations = "corporations"  # housing corporations at the table, by name or id


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    path: tuple[str, ...]
    kind: Kind
    help: str
    example: str
    choices: Mapping[str, str] = field(default_factory=dict)  # code -> Dutch label
    aliases: Mapping[str, str] = field(default_factory=dict)  # other accepted words -> code
    required: bool = False
    default: Any = None  # what an empty cell means when the column is optional
    signed: bool = False  # an integer that may be negative (a form offers it no digit keypad)

    @property
    def name(self) -> str:
        """The API field path, e.g. `household.adults`."""
        return ".".join(self.path)


@dataclass(frozen=True, eq=False)
class Layout:
    """One kind of import: its sheet name, its schema and its columns in template order."""

    kind: str
    sheet: str
    schema: type[BaseModel]
    columns: tuple[Column, ...]
    title: str

    def column_for(self, header: str) -> Column | None:
        return _header_index(self).get(normalise_header(header))


# Characters nobody sees (`app.schemas.INVISIBLE`): a byte-order mark carried into a cell,
# zero-width spaces and joiners, a soft hyphen, direction marks copied from a web page.
INVISIBLE = re.compile(f"[{schemas.INVISIBLE}]")
# White space and invisible characters, for `str.strip` (a pattern anchored at the end tries
# every position of a long run of spaces: quadratic in a cell of 32,767 characters).
_BLANKS = "".join(ch for ch in map(chr, range(0x10000)) if ch.isspace() or INVISIBLE.fullmatch(ch))


def trim(text: str) -> str:
    """`text` without the white space and invisible characters at either end: a cell of only
    those shows nothing, and is as empty as a blank one."""
    return text.strip(_BLANKS)


def normalise_header(header: str) -> str:
    """Headers match regardless of case, spacing, invisible characters and a trailing `*` (how
    people mark required columns); the API field path (`household.adults`) is accepted as
    well."""
    visible = INVISIBLE.sub("", header.replace("*", " "))
    return re.sub(r"\s+", " ", visible).strip().casefold()


@cache
def _header_index(layout: Layout) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in layout.columns:
        index[normalise_header(column.header)] = column
        index[column.name.casefold()] = column
    return index


def _field(schema: type[BaseModel], path: tuple[str, ...]) -> tuple[bool, Any]:
    """(required, default) of the field at `path`: required when it and every group above it
    must be given; the default is what the schema fills in otherwise."""
    model: type[BaseModel] | None = schema
    required = True
    info: FieldInfo | None = None
    for name in path:
        assert model is not None, path
        info = model.model_fields[name]
        required = required and info.is_required()
        model = _group_model(info.annotation)
    assert info is not None
    if info.is_required():
        return required, None
    return required, to_jsonable_python(info.get_default(call_default_factory=True))


def _layout(
    kind: str, sheet: str, title: str, schema: type[BaseModel], columns: list[Column]
) -> Layout:
    completed = []
    for column in columns:
        required, default = _field(schema, column.path)
        completed.append(replace(column, required=required, default=default))
    return Layout(kind, sheet, schema, tuple(completed), title)


YES_NO = "ja of nee (leeg is nee)"
REF_HELP = (
    "Uw eigen kenmerk, uniek binnen uw organisatie: letters, cijfers, punt, streepje en "
    "liggend streepje, hoogstens 64 tekens. Een rij met een bekend kenmerk werkt dat {what} bij."
)
DATE_HELP = "Datum als dd-mm-jjjj (of jjjj-mm-dd)."

CASE_COLUMNS = [
    Column(
        "Eigen kenmerk",
        ("external_ref",),
        Kind.text,
        REF_HELP.format(what="dossier"),
        "K-2024-0193",
    ),
    Column(
        "Voorziening",
        ("facility",),
        Kind.choice,
        "Waar de cliënt nu verblijft.",
        "Beschermd Wonen",
        labels.FACILITIES,
        {"bw": "beschermd_wonen", "mo": "maatschappelijke_opvang"},
    ),
    Column(
        "Klaar voor uitstroom sinds",
        ("ready_since",),
        Kind.date,
        "Datum waarop de cliënt klaar werd bevonden om zelfstandig te wonen; de wachttijd telt "
        "vanaf hier. " + DATE_HELP,
        "01-03-2025",
    ),
    Column(
        "Geboortejaar",
        ("birth_year",),
        Kind.integer,
        "Vier cijfers; de cliënt is minstens 16.",
        "1990",
    ),
    Column(
        "Geboortemaand",
        ("birth_month",),
        Kind.integer,
        "1 tot en met 12, of leeg. Met de maand worden leeftijd en AOW-leeftijd op de "
        "vergaderdatum precies bepaald (leeftijdsgrens van een complex, inkomensgrens bij "
        "passend toewijzen); zonder maand geldt de voorzichtigste lezing.",
        "7",
    ),
    Column(
        "Volwassenen",
        ("household", "adults"),
        Kind.integer,
        "Volwassenen in het huishouden: 1 of 2.",
        "1",
    ),
    Column(
        "Kinderen",
        ("household", "children"),
        Kind.integer,
        "Kinderen in het huishouden: 0 tot 10 (leeg is 0).",
        "0",
    ),
    Column(
        "Inkomensbron",
        ("income", "source"),
        Kind.choice,
        "De belangrijkste bron van inkomen.",
        "Participatiewet (bijstand)",
        labels.INCOME_SOURCES,
        {
            "bijstand": "participatiewet",
            "werk": "employment",
            "loon": "employment",
            "anders": "other",
            "geen": "none",
        },
    ),
    Column(
        "Belastbaar jaarinkomen",
        ("income", "annual_taxable"),
        Kind.money,
        "Belastbaar inkomen van het huishouden per jaar, in euro (1234,56).",
        "16250,00",
    ),
    Column(
        "Netto per maand",
        ("income", "net_monthly"),
        Kind.money,
        "Netto inkomen per maand, in euro (mag leeg).",
        "1180,50",
    ),
    Column(
        "Inkomen stabiel",
        ("income", "stable"),
        Kind.boolean,
        "Is het inkomen stabiel? " + YES_NO + ".",
        "ja",
    ),
    Column(
        "Budgetbeheer",
        ("income", "budget_management"),
        Kind.choice,
        "Vrijwillig budgetbeheer of bewindvoering (leeg is geen).",
        "Geen",
        labels.BUDGET_MANAGEMENT,
    ),
    Column(
        "Inschrijfdatum woningzoekende",
        ("registration_date",),
        Kind.date,
        "Inschrijving als woningzoekende (mag leeg). " + DATE_HELP,
        "15-01-2022",
    ),
    Column(
        "Wmo-beschikking",
        ("beschikking", "status"),
        Kind.choice,
        "Beschikking voor begeleiding na de verhuizing (leeg is geen).",
        "Toegekend",
        labels.BESCHIKKING_STATUSES,
    ),
    Column(
        "Beschikking geldig tot",
        ("beschikking", "valid_until"),
        Kind.date,
        "Mag leeg. " + DATE_HELP,
        "31-12-2027",
    ),
    Column(
        "Begeleiding",
        ("support", "intensity"),
        Kind.choice,
        "Intensiteit van de begeleiding na de verhuizing.",
        "Gemiddeld",
        labels.SUPPORT_INTENSITIES,
    ),
    Column(
        "Huismeester nodig",
        ("support", "needs_complex_manager"),
        Kind.boolean,
        "Heeft de cliënt een huismeester in het complex nodig? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Urgentie",
        ("urgency",),
        Kind.boolean,
        "Is een urgentieverklaring toegekend? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Problematische schulden",
        ("debts", "problematic"),
        Kind.boolean,
        YES_NO.capitalize() + ".",
        "nee",
    ),
    Column(
        "Schuldhulp",
        ("debts", "debt_assistance"),
        Kind.choice,
        "Schuldhulpverlening (leeg is geen).",
        "Geen",
        labels.DEBT_ASSISTANCE,
        {"actief": "active", "lopend": "active"},
    ),
    Column(
        "Huurachterstand bij",
        ("debts", "rent_arrears_corporation_ids"),
        Kind.corporations,
        "Woningcorporaties aan de tafel waarbij de cliënt huurachterstand heeft zonder "
        "betalingsregeling: hun namen zoals de tafel ze kent, gescheiden door komma's (mag leeg).",
        "Woonstede",
    ),
    Column(
        "Rolstoel",
        ("needs", "wheelchair"),
        Kind.boolean,
        "Heeft de cliënt een rolstoeltoegankelijke woning nodig? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Gelijkvloers of lift",
        ("needs", "step_free"),
        Kind.boolean,
        "Begane grond of een lift nodig? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Hoogste verdieping",
        ("needs", "max_floor"),
        Kind.integer,
        "Hoogste verdieping die kan (mag leeg: geen grens).",
        "",
    ),
    Column(
        "Huisdieren",
        ("needs", "pets"),
        Kind.boolean,
        "Heeft de cliënt huisdieren? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Voorkeursgebieden",
        ("areas", "preferred"),
        Kind.area_codes,
        "CBS-codes van gemeente (GM0344), wijk (WK034401) of buurt (BU03440101), gescheiden door "
        "komma's (mag leeg).",
        "GM0344",
    ),
    Column(
        "Uitgesloten gebieden",
        ("areas", "excluded"),
        Kind.area_codes,
        "CBS-codes zoals bij voorkeursgebieden (mag leeg).",
        "",
    ),
    Column(
        "Contractvorm",
        ("contract_form",),
        Kind.choice,
        "Eigen huurcontract, tussenhuur (de zorgaanbieder huurt en verhuurt door) of beide "
        "(leeg is beide).",
        "Beide",
        labels.LEASE_FORMS,
        {"eigen": "own_lease", "tussenhuur": "intermediate_lease"},
    ),
]

DWELLING_COLUMNS = [
    Column(
        "Eigen kenmerk", ("external_ref",), Kind.text, REF_HELP.format(what="woning"), "V-2024-0042"
    ),
    Column("Straat", ("address", "street"), Kind.text, "Straatnaam.", "Kastanjelaan"),
    Column(
        "Huisnummer", ("address", "house_number"), Kind.text, "Huisnummer met toevoeging.", "12A"
    ),
    Column(
        "Postcode", ("address", "postcode"), Kind.text, "Postcode, bijvoorbeeld 3512AB.", "3512AB"
    ),
    Column(
        "Gemeentecode",
        ("address", "municipality_code"),
        Kind.text,
        "CBS-gemeentecode, bijvoorbeeld GM0344.",
        "GM0344",
    ),
    Column(
        "Buurtcode",
        ("address", "neighbourhood_code"),
        Kind.text,
        "CBS-buurtcode in die gemeente, bijvoorbeeld BU03440101.",
        "BU03440101",
    ),
    Column(
        "Complex",
        ("complex_ref",),
        Kind.text,
        "Uw kenmerk van het gebouw of complex, voor de spreiding (mag leeg).",
        "CPX-1",
    ),
    Column(
        "Woningtype",
        ("dwelling_type",),
        Kind.choice,
        "Soort woning.",
        "Appartement",
        labels.DWELLING_TYPES,
    ),
    Column("Kamers", ("rooms",), Kind.integer, "Aantal kamers inclusief woonkamer.", "2"),
    Column(
        "Verdieping",
        ("floor",),
        Kind.integer,
        "0 is de begane grond, -1 het souterrain (leeg is 0).",
        "1",
        signed=True,
    ),
    Column("Lift", ("has_lift",), Kind.boolean, YES_NO.capitalize() + ".", "ja"),
    Column(
        "Rolstoeltoegankelijk",
        ("wheelchair_accessible",),
        Kind.boolean,
        YES_NO.capitalize() + ".",
        "nee",
    ),
    Column(
        "Kale huur",
        ("rent", "base"),
        Kind.money,
        "Kale huur per maand, in euro (1234,56).",
        "650,00",
    ),
    Column(
        "Servicekosten subsidiabel",
        ("rent", "eligible_service_costs"),
        Kind.money,
        "Servicekosten die meetellen voor de huurtoeslag, per maand in euro (leeg is 0).",
        "35,00",
    ),
    Column("Beschikbaar vanaf", ("available_from",), Kind.date, DATE_HELP, "01-12-2026"),
    Column("Reageren voor", ("respond_before",), Kind.date, "Mag leeg. " + DATE_HELP, ""),
    Column(
        "Contingent",
        ("contingent",),
        Kind.boolean,
        "Aangeboden uit het contingent voor uitstroom? " + YES_NO + ".",
        "ja",
    ),
    Column(
        "Huismeester",
        ("complex_manager",),
        Kind.boolean,
        "Is er een huismeester of complexbeheerder? " + YES_NO + ".",
        "nee",
    ),
    Column(
        "Huisdieren toegestaan", ("pets_allowed",), Kind.boolean, "Ja of nee (leeg is ja).", "ja"
    ),
    Column(
        "Minimumleeftijd",
        ("min_age",),
        Kind.integer,
        "Leeftijdsgrens van het complex (mag leeg).",
        "",
    ),
    Column(
        "Contractvormen",
        ("contract_forms",),
        Kind.choices,
        "Welke contractvormen u accepteert, gescheiden door komma's (leeg is eigen huurcontract).",
        "Eigen huurcontract, Tussenhuur (omklapconstructie)",
        {k: v for k, v in labels.LEASE_FORMS.items() if k != "either"},
        {"eigen": "own_lease", "tussenhuur": "intermediate_lease"},
    ),
]

CASES = _layout("cases", "Dossiers", "dossiers", CaseCreate, CASE_COLUMNS)
DWELLINGS = _layout("dwellings", "Woningen", "woningen", VacancyIn, DWELLING_COLUMNS)
LAYOUTS = {layout.kind: layout for layout in (CASES, DWELLINGS)}
