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

# After the move (app.aftercare): the codes a care provider and a corporation record, with their
# Dutch labels. The enums in app.aftercare.models carry the same keys (tests check they agree).
AFTERCARE_SIGNALS = {
    "rent_arrears": "Signaal huurachterstand",
    "nuisance": "Signaal overlast",
    "needs_table": "Moet terug naar de tafel",
    "support_stopped": "Begeleiding loopt niet meer",
    "not_living_there": "Woont er niet meer",
}

CONTACT_FREQUENCIES = {
    "weekly": "Wekelijks",
    "fortnightly": "Om de week",
    "monthly": "Maandelijks",
    "quarterly": "Eens per kwartaal",
}

TENANCY_END_REASONS = {
    "moved_on": "Doorgestroomd naar andere woning",
    "evicted": "Uitgezet",
    "returned_to_care": "Terug naar zorg of opvang",
    "deceased": "Overleden",
    "other": "Anders",
}

TRANSFER_CONDITIONS = {
    "rent_paid_on_time": "Huur op tijd betaald",
    "no_nuisance": "Geen overlast",
    "support_in_place": "Begeleiding geregeld",
    "budget_management_arranged": "Budgetbeheer of bewindvoering geregeld",
    "trial_period_completed": "Proefperiode doorlopen",
}
