"""The figures after the move (`app.monitor.sustainment`: tenancy sustainment per move-in
cohort, transfers realised against planned, signals per period) as the monitor page and its CSV
show them: one set of sections for both, so the download holds exactly the page's cells (a
suppressed cell is a dash on the page and empty in the CSV)."""

from typing import Any

from app.monitor.models import SIGNAL_CODES, SUSTAINMENT_MONTHS
from app.web import labels
from app.web.formatting import number
from app.web.sections import Section

COHORT_COLUMNS = [
    ("housed", "Gehuisvest"),
    *(
        (f"{what}_{m}", f"{label} {m} mnd")
        for m in SUSTAINMENT_MONTHS
        for what, label in (
            ("reached", "Bereikt"),
            ("still_housed", "Nog gehuisvest"),
            ("share", "Aandeel"),
        )
    ),
    ("transfers_planned", "Omklap gepland"),
    ("transfers_realised", "Omklap gerealiseerd"),
    ("transfers_on_time", "Omklap op tijd"),
]
SIGNAL_COLUMNS = [
    ("checkpoints", "Controles"),
    *((code, labels.label("signal", code)) for code in SIGNAL_CODES),
]


def _value(value: Any, blank: str) -> str:
    if value is None:
        return blank
    if isinstance(value, float):
        return f"{number(value * 100, 1)}%"
    return str(value)


def _rows(
    rows: list[dict[str, Any]],
    key: str,
    columns: list[tuple[str, str]],
    blank: str,
    period_label: Any,
) -> list[list[str]]:
    return [
        [period_label(row[key]), *(_value(row[name], blank) for name, _ in columns)] for row in rows
    ]


def sections(document: dict[str, Any], period_label: Any, blank: str = "–") -> list[Section]:  # noqa: RUF001
    """The `MonitorSustainment` document as two sections (cohorts, signals), totals last;
    `period_label` names a period (`2026-Q1` -> `K1 2026`), `blank` stands for a suppressed
    cell. Shares are percentages."""
    cohorts = [*document["cohorts"], document["cohorts_total"]]
    signals = [*document["signals"], document["signals_total"]]
    return [
        Section(
            "duurzaamheid",
            "Nog gehuisvest en omklap, per cohort van verhuizing",
            ["Cohort", *(label for _, label in COHORT_COLUMNS)],
            _rows(cohorts, "cohort", COHORT_COLUMNS, blank, period_label),
        ),
        Section(
            "signalen",
            "Nazorgcontroles en signalen, per periode van vastleggen",
            ["Periode", *(label for _, label in SIGNAL_COLUMNS)],
            _rows(signals, "period", SIGNAL_COLUMNS, blank, period_label),
        ),
    ]
