"""Text bound for a spreadsheet (the CSV exports of the pages and of the monitor's API)."""

import re


def safe_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would run it as a formula (CSV
    injection, OWASP): text starting with = + - @, a tab or a carriage return that is not a
    number (`-3` and `1.234,5` stay as they are). So is every part of it after a comma or a
    semicolon (`Zorg;=1+1` becomes `Zorg;'=1+1`): a spreadsheet that splits the file on the
    other separator than the file's (its locale's) starts a cell there, quoted or not."""
    parts = _SEPARATOR.split(value)
    return "".join(part if n % 2 else _neutral(part) for n, part in enumerate(parts))


def _neutral(part: str) -> str:
    if part and part[0] in "=+-@\t\r" and not _is_number(part):
        return "'" + part
    return part


_SEPARATOR = re.compile(r"([,;])")


def _is_number(value: str) -> bool:
    """Digits with a sign, thousands and decimal marks (either way round) and an exponent: what
    a spreadsheet reads as a number. Python's `float` also takes `-inf`, `+nan` and `-1_0`,
    which a spreadsheet would read as a formula."""
    return _NUMBER.fullmatch(value) is not None


_NUMBER = re.compile(r"[+-]?[0-9][0-9.,]*([eE][+-]?[0-9]+)?")
