"""Text bound for a spreadsheet (the CSV exports of the pages and of the monitor's API)."""


def safe_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would run it as a formula (CSV
    injection, OWASP): text starting with = + - @, a tab or a carriage return that is not a
    number (`-3` and `1.234,5` stay as they are)."""
    if value and value[0] in "=+-@\t\r" and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value.replace(".", "").replace(",", "."))
    except ValueError:
        return False
    return True
