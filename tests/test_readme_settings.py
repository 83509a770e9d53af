"""The README's settings are the service's: each setting is documented, and the defaults the
README's tables give are the defaults the service starts with. An operator sets the environment
from the README; a default that drifted there (a lock-out window, a retention period) would be
believed."""

import re
from pathlib import Path

from pydantic import SecretStr

from app.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()
PREFIX = "UITSTROOM_"
ROW = re.compile(r"^\| (`UITSTROOM_[A-Z_]+`(?:, `[A-Z_]+`)*) \| ([^|]+) \|", re.MULTILINE)


def documented_defaults() -> dict[str, str]:
    """Setting name -> the README's default text, from the rows of its settings tables;
    `A_B`, `_C` names A_B and A_C, and one default ('unset') may stand for all of a row."""
    found: dict[str, str] = {}
    for names_cell, defaults_cell in ROW.findall(README):
        names = re.findall(r"`([A-Z_]+)`", names_cell)
        first = names[0]
        names = [first] + [
            name if name.startswith(PREFIX) else first.rsplit("_", 1)[0] + name
            for name in names[1:]
        ]
        defaults = [d.strip().strip("`") for d in defaults_cell.split(", ")]
        if len(defaults) == 1:
            defaults = defaults * len(names)
        assert len(defaults) == len(names), (names_cell, defaults_cell)
        found.update(zip(names, defaults, strict=True))
    return found


def as_readme_writes(value: object) -> str:
    if value is None or isinstance(value, SecretStr):
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_named_in_the_readme():
    documented = documented_defaults()
    missing = [
        PREFIX + name.upper()
        for name in Settings.model_fields
        if PREFIX + name.upper() not in README and PREFIX + name.upper() not in documented
    ]
    assert missing == []


def test_the_readme_settings_tables_give_the_service_defaults():
    documented = documented_defaults()
    assert len(documented) >= 40  # the tables were read, not skipped
    fields = Settings.model_fields
    wrong = {
        name: (text, as_readme_writes(fields[name[len(PREFIX) :].lower()].default))
        for name, text in documented.items()
        if as_readme_writes(fields[name[len(PREFIX) :].lower()].default) != text
    }
    assert wrong == {}
