"""Dutch labels of the case file's and the dwelling's codes, for people: the pages show them, the
spreadsheet import (app.imports) reads a cell by its code or its label, and its template lists
them. Plain data, importing nothing, so services may use it as well as the pages."""

FACILITIES = {
    "beschermd_wonen": "Beschermd Wonen",
    "maatschappelijke_opvang": "Maatschappelijke Opvang",
}

LEASE_FORMS = {
    "own_lease": "Eigen huurcontract",
    "intermediate_lease": "Tussenhuur (omklapconstructie)",
    "either": "Beide",
}

DWELLING_TYPES = {
    "apartment": "Appartement",
    "single_family": "Eengezinswoning",
    "studio": "Studio",
    "room": "Kamer",
}

SUPPORT_INTENSITIES = {"light": "Licht", "moderate": "Gemiddeld", "intensive": "Intensief"}

INCOME_SOURCES = {
    "participatiewet": "Participatiewet (bijstand)",
    "wajong": "Wajong",
    "wia": "WIA",
    "ww": "WW",
    "aow": "AOW",
    "employment": "Loon uit werk",
    "other": "Ander inkomen",
    "none": "Geen inkomen",
}

BUDGET_MANAGEMENT = {
    "none": "Geen",
    "budgetbeheer": "Budgetbeheer",
    "bewindvoering": "Bewindvoering",
}

BESCHIKKING_STATUSES = {"none": "Geen", "requested": "Aangevraagd", "granted": "Toegekend"}

DEBT_ASSISTANCE = {"none": "Geen", "applied": "Aangevraagd", "active": "Loopt"}

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
