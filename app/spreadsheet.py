"""Text bound for a spreadsheet (the CSV exports of the pages and of the monitor's API)."""

import re


def safe_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would run it as a formula (CSV
    injection, OWASP): text starting with = + - @, a tab or a carriage return that is not a
    number (`-3` and `1.234,5` stay as they are). So is every part of it after a comma or a
    semicolon (`Zorg;=1+1` becomes `Zorg;'=1+1`): a spreadsheet that splits the file on the
    other separator than the file's (its locale's) starts a cell there, quoted or not.

    Whether a cell is a number is judged on the cell a spreadsheet would see, not on the part
    up to the next separator of either kind: `-1,5+1` is a formula to one that reads it whole
    (with a decimal comma) though `-1` is a number and `5+1` starts no formula."""
    starts = [0, *(m.end() for m in _SEPARATOR.finditer(value))]
    risky = {start for start in starts if _runs(value, start)}
    return "".join(("'" if n in risky else "") + c for n, c in enumerate(value))


def _runs(value: str, start: int) -> bool:
    """Whether a cell starting at `start` would be run: at the start of the value the cell is
    the whole value, or the value up to a comma or up to a semicolon (whichever the
    spreadsheet splits on); after a separator, the text up to the next one of that kind."""
    if value[start : start + 1] not in _FORMULA_STARTS:
        return False
    if start == 0:
        cells = {value, value.partition(",")[0], value.partition(";")[0]}
    else:
        cells = {value[start:].partition(value[start - 1])[0]}
    return not all(_is_number(cell) for cell in cells)


_FORMULA_STARTS = set("=+-@\t\r")
_SEPARATOR = re.compile(r"[,;]")


def _is_number(value: str) -> bool:
    """Digits with a sign, thousands and decimal marks (either way round) and an exponent: what
    a spreadsheet reads as a number. Python's `float` also takes `-inf`, `+nan` and `-1_0`,
    which a spreadsheet would read as a formula."""
    return _NUMBER.fullmatch(value) is not None


_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*([eE][+-]?[0-9]+)?")
