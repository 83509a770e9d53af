"""Reading one spreadsheet cell the way Dutch people fill it in: `ja`/`nee`, decimal commas,
dates as dd-mm-jjjj, codes or their Dutch labels. A cell that cannot be read raises `CellError`
with a code and a Dutch message; what is read goes on to the API schema unchanged.

Decisions (also in the README):
- A number in a date column is refused, not read as an Excel serial date. Its meaning depends on
  the workbook's date system (1900 or 1904), and in practice it is as often a slip (a year or
  a count in the wrong column) as a date whose formatting got lost; a wrong `ready_since`
  silently changes the waiting time, the largest part of the score. The message names the date
  the number would be in the workbook's date system, so fixing it takes a second.
- An amount like `1.250` (a dot and three digits, no comma) is refused as ambiguous: in Dutch it
  is 1250, in an English export 1.25.
- Two-digit years are refused (is `01-03-25` 1925 or 2025?).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from app.imports.columns import Column, Kind, trim
from app.imports.messages import quoted
from app.vocabulary import MONTHS

EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of the 1900 date system, as Excel counts from day 61
EXCEL_LEAP_DAY = 60  # Excel's 29 February 1900, a day that did not exist
EXCEL_EPOCH_1904 = date(1904, 1, 1)  # day 0 of the 1904 date system (Mac Excel)
YES = frozenset({"ja", "j", "yes", "y", "waar", "true", "1", "x"})
NO = frozenset({"nee", "n", "no", "onwaar", "false", "0"})
# ASCII digits only (`[0-9]`, not `\d`): the API reads no other script's digits, and neither
# may a cell or a form field, so Arabic-Indic or fullwidth digits are refused here as there.
DUTCH_DATE = re.compile(
    r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{2}|[0-9]{4})(?: 0{1,2}:00(?::00)?)?$"
)
ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[T ]0{1,2}:00(?::00)?)?$")
SERIAL = re.compile(r"^[0-9]{1,6}(?:[.,][0-9]+)?$")
CURRENCY = re.compile(r"(?i)€|eur\b|\s")


class CellError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class Formula:
    """A cell holding a formula instead of a value (refused: see `app.imports.files`)."""

    def __init__(self, text: str):
        self.text = text


class ErrorValue:
    """A cell showing a spreadsheet error (#N/B, #WAARDE!) instead of a value."""

    def __init__(self, text: str):
        self.text = text


@dataclass(frozen=True, slots=True)
class Corporations:
    """The housing corporations a case may owe rent to, by lower-cased name and by id; `former`
    (id, name): those the stored file names that have left the table since, in `ids` too (a
    file keeps them until its care provider drops them: `cases.service.update_case`)."""

    by_name: dict[str, list[uuid.UUID]]
    ids: frozenset[uuid.UUID]
    names: tuple[str, ...]
    former: tuple[tuple[uuid.UUID, str], ...] = ()

    def not_at_table(self, word: str) -> str:
        """The message for a corporation `word` that is not at the table, naming those that are."""
        at_table = ", ".join(self.names) or "geen"
        return (
            f"'{quoted(word)}' is geen woningcorporatie aan deze tafel. Aan de tafel: {at_table}."
        )


def is_empty(value: Any) -> bool:
    """None, or text that shows nothing: blank, or only invisible characters (a zero-width
    space or a byte-order mark copied into the cell)."""
    return value is None or (isinstance(value, str) and not trim(value))


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def read(
    column: Column,
    value: Any,
    corporations: Corporations | None = None,
    *,
    date1904: bool = False,
) -> Any:
    """The cell's value as the API schema takes it; `CellError` when it cannot be read.
    `date1904`: the cell is of a workbook that counts dates from 1904, for the date a number in
    a date column would be."""
    if isinstance(value, Formula):
        raise CellError(
            "formula",
            f"Formule {quoted(value.text)} in plaats van een waarde. Plak de kolom als waarden "
            "(Plakken speciaal > Waarden): formules worden niet uitgerekend bij het inlezen.",
        )
    if isinstance(value, ErrorValue):
        raise CellError(
            "error_value", f"De cel toont een foutwaarde ({quoted(value.text)}), geen waarde."
        )
    if isinstance(value, str):
        value = trim(value)
    reader = READERS[column.kind]
    if column.kind == Kind.corporations:
        return _corporations(value, corporations)
    if column.kind == Kind.date:
        return _date(column, value, date1904)
    return reader(column, value)


def _no_date(value: Any, what: str) -> None:
    if isinstance(value, datetime | date | time):
        raise CellError("wrong_type", f"Een datum of tijd in een kolom voor {what}.")


def _as_shown(number: float) -> float:
    """A number of an .xlsx cell as the spreadsheet shows and counts it: in 15 significant
    digits. Excel stores a computed value in 17 (=650,10*3 is 1950.3000000000002, pasted as a
    value too), which would read as an amount with 13 decimals or a count that is no whole
    number, where the cell says 1950,3 or 3."""
    return float(f"{number:.15g}")


def _text(_: Column, value: Any) -> str:
    _no_date(value, "tekst")
    if isinstance(value, bool):
        raise CellError("wrong_type", "Ja/nee (WAAR/ONWAAR) in een tekstkolom.")
    if isinstance(value, float):
        value = _as_shown(value)
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _integer(_: Column, value: Any) -> int:
    _no_date(value, "een getal")
    if isinstance(value, bool):
        raise CellError("wrong_type", "Ja/nee (WAAR/ONWAAR) waar een getal hoort.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = _as_shown(value)
        if value.is_integer():
            return int(value)
        raise CellError("not_an_integer", f"{value} is geen geheel getal.")
    match = re.fullmatch(r"([+-]?[0-9]{1,9})(?:[.,]0+)?", str(value))
    if match is None:
        raise CellError("not_an_integer", f"'{quoted(value)}' is geen geheel getal.")
    return int(match.group(1))


def _boolean(_: Column, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).casefold()
    if word in YES:
        return True
    if word in NO:
        return False
    raise CellError("not_yes_or_no", f"'{quoted(value)}': vul ja of nee in.")


def _serial_refused(number: float, date1904: bool = False) -> CellError:
    whole = int(number)
    hint = ""
    if date1904 and 0 <= whole <= 80_000:
        as_serial = dutch_date(EXCEL_EPOCH_1904 + timedelta(days=whole))
        hint = f" Als Excel-datumnummer zou het {as_serial} zijn."
    elif whole == EXCEL_LEAP_DAY:
        hint = " Als Excel-datumnummer zou het 29 februari 1900 zijn, een dag die niet bestond."
    elif 1 <= whole <= 80_000:
        # Excel counts 1900 as a leap year: its days before the 29th of February it invented
        # lie one later than counting from EXCEL_EPOCH gives (its day 1 is 1 January 1900).
        days = whole + 1 if whole < EXCEL_LEAP_DAY else whole
        as_serial = dutch_date(EXCEL_EPOCH + timedelta(days=days))
        hint = f" Als Excel-datumnummer zou het {as_serial} zijn."
    return CellError(
        "excel_serial_date",
        f"Een getal ({number:g}) in een datumkolom, geen datum.{hint} Maak de cel op als datum "
        "of typ de datum als dd-mm-jjjj.",
    )


def _date(_: Column, value: Any, date1904: bool = False) -> str:
    if isinstance(value, bool):
        raise CellError("not_a_date", "Ja/nee (WAAR/ONWAAR) waar een datum hoort.")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        raise _serial_refused(float(value), date1904)
    if isinstance(value, time):
        raise CellError("not_a_date", "Een tijd waar een datum hoort.")
    text = str(value)
    if match := ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := DUTCH_DATE.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            raise CellError(
                "two_digit_year",
                f"'{quoted(text)}': schrijf het jaar met vier cijfers (dd-mm-jjjj).",
            )
    elif SERIAL.fullmatch(text):
        raise _serial_refused(float(text.replace(",", ".")), date1904)
    else:
        raise CellError("not_a_date", f"'{quoted(text)}' is geen datum; schrijf dd-mm-jjjj.")
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise CellError("not_a_date", f"'{quoted(text)}': die datum bestaat niet.") from None


def _money(_: Column, value: Any) -> str:
    _no_date(value, "een bedrag")
    if isinstance(value, bool):
        raise CellError("not_an_amount", "Ja/nee (WAAR/ONWAAR) waar een bedrag hoort.")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(_as_shown(value))  # the shortest text of it: 650.1 stays "650.1"
    raw = str(value)
    text = CURRENCY.sub("", raw)
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("+-")
    if re.fullmatch(r"[0-9]+", digits):
        return sign + digits
    if re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+|[0-9]+,[0-9]+", digits):
        return sign + digits.replace(".", "").replace(",", ".")
    if re.fullmatch(r"[0-9]+\.[0-9]{1,2}", digits):
        return sign + digits
    if re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{3})+", digits):
        plain = digits.replace(".", "")
        raise CellError(
            "ambiguous_amount",
            f"'{quoted(raw)}' is onduidelijk: schrijf {plain} of {plain},00 (met een komma voor de "
            "centen, zonder punt voor de duizendtallen).",
        )
    if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+", digits):
        raise CellError(
            "ambiguous_amount", f"'{quoted(raw)}': gebruik een komma voor de centen, zoals 1234,56."
        )
    raise CellError(
        "not_an_amount", f"'{quoted(raw)}' is geen bedrag; schrijf bijvoorbeeld 650,00."
    )


def _lookup(column: Column, word: str) -> str | None:
    key = word.casefold()
    for code, label in column.choices.items():
        if key in (code.casefold(), label.casefold()):
            return code
    return column.aliases.get(key)


def _allowed(column: Column) -> str:
    return ", ".join(column.choices.values())


def _choice(column: Column, value: Any) -> str:
    _no_date(value, "een keuze")
    code = _lookup(column, str(value))
    if code is None:
        raise CellError(
            "unknown_choice", f"'{quoted(value)}' kennen we niet; kies uit: {_allowed(column)}."
        )
    return code


def _choices(column: Column, value: Any) -> list[str]:
    _no_date(value, "keuzes")
    codes = []
    for word in re.split(r"[,;\n]+", str(value)):
        if not word.strip():
            continue
        code = _lookup(column, word.strip())
        if code is None:
            raise CellError(
                "unknown_choice",
                f"'{quoted(word.strip())}' kennen we niet; kies uit: {_allowed(column)}.",
            )
        codes.append(code)
    return codes


def _area_codes(_: Column, value: Any) -> list[str]:
    _no_date(value, "CBS-codes")
    return [code.upper() for code in re.split(r"[,;\s]+", str(value)) if code]


def _corporations(value: Any, corporations: Corporations | None) -> list[str]:
    _no_date(value, "corporaties")
    known = corporations or Corporations({}, frozenset(), ())
    ids: list[str] = []
    for word in (w.strip() for w in re.split(r"[,;\n]+", str(value))):
        if not word:
            continue
        try:
            as_id = uuid.UUID(word)
        except ValueError:
            as_id = None
        if as_id is not None and as_id in known.ids:
            ids.append(str(as_id))
            continue
        matches = known.by_name.get(word.casefold(), [])
        if len(matches) == 1:
            ids.append(str(matches[0]))
            continue
        if len(matches) > 1:
            raise CellError(
                "ambiguous_corporation",
                f"Meer dan één corporatie heet '{quoted(word)}'; gebruik hier haar id.",
            )
        raise CellError("unknown_corporation", known.not_at_table(word))
    return ids


READERS = {
    Kind.text: _text,
    Kind.integer: _integer,
    Kind.boolean: _boolean,
    Kind.date: _date,
    Kind.money: _money,
    Kind.choice: _choice,
    Kind.choices: _choices,
    Kind.area_codes: _area_codes,
    Kind.corporations: _text,  # handled by `read` with the table's corporations
}
