"""The pages' own Dutch texts that are not a label of an API code: the error pages by
status, the notices after a redirect, and the refusals of a form as a whole (too large,
unreadable, still in progress)."""

from app.problems import OrganisationOverBudget, TooManyRequests

ERROR_PAGES = {
    400: ("Ongeldig verzoek", "Het verzoek klopt niet. Controleer de invoer en probeer opnieuw."),
    403: ("Geen toegang", "Uw organisatie of uw rol mag dit niet."),
    404: (
        "Niet gevonden",
        "Deze pagina bestaat niet, of valt buiten wat uw organisatie mag zien.",
    ),
    409: ("Dit kan nu niet", "De toestand is intussen veranderd. Laad de pagina opnieuw."),
    405: ("Niet toegestaan", "Deze pagina kan zo niet worden opgevraagd."),
    412: ("Intussen gewijzigd", "Iemand anders was u voor. Laad de pagina opnieuw."),
    413: (
        "Te groot",
        "Wat u verstuurde is groter dan de uitstroomtafel aanneemt. Er is niets opgeslagen; "
        "verklein het bestand of splits het.",
    ),
    422: ("Ongeldige invoer", "De invoer is niet geldig."),
    429: ("Even wachten", "Te veel pogingen. Probeer het later opnieuw."),
    500: ("Er ging iets mis", "Er ging aan onze kant iets mis. Probeer het later opnieuw."),
    503: (
        "Even niet beschikbaar",
        "De dienst is even niet bereikbaar. Er is niets vastgelegd; probeer het zo opnieuw.",
    ),
}


STILL_IN_PROGRESS = (
    "Dit formulier is al verstuurd en wordt nog verwerkt (twee keer geklikt?). Vernieuw de "
    "pagina over een ogenblik: u ziet dan het resultaat, en er gebeurt niets dubbel."
)
"""The second click of a form whose first is still being carried out (409
`idempotency_key_in_progress`): the first goes on, so the state did not change under it."""


FORM_EXPIRED = (
    "Er is niets opgeslagen. Ga terug, vernieuw de pagina (en meld u zo nodig opnieuw aan) en "
    "verstuur het formulier nog eens."
)
"""After a form's CSRF token was refused: signed in again in another tab, or signed out."""


def over_budget(refusal: TooManyRequests) -> tuple[str, str]:
    """(title, text) of a page refused by a rate limit: whose budget it was (the person's own,
    or the one their organisation's keys and people share, which a person who asked little
    may find empty) and how long to wait ('Te veel pogingen' told them they tried too often)."""
    retry_after, wait = refusal.headers.get("Retry-After", ""), "over een minuut"
    if retry_after.isascii() and retry_after.isdigit():
        seconds = int(retry_after)
        wait = "over 1 seconde" if seconds == 1 else f"over {seconds} seconden"
    if isinstance(refusal, OrganisationOverBudget):
        who = (
            "Uw organisatie vroeg dit de afgelopen minuut vaker dan de uitstroomtafel toestaat "
            "(haar API-koppelingen en mensen samen)."
        )
    else:
        who = "U vroeg dit de afgelopen minuut vaker dan de uitstroomtafel per persoon toestaat."
    return "Even wachten", f"{who} Probeer het {wait} opnieuw."


TOO_LARGE = "Het formulier is te groot of heeft te veel velden; er is niets opgeslagen."
UNREADABLE = "Het formulier kon niet worden gelezen; er is niets opgeslagen."


# Notices shown after a redirect (?melding=code): a fixed list, so no text is reflected.
NOTICES = {
    "afgemeld": "U bent afgemeld.",
    "sessie_verlopen": "Uw sessie is verlopen. Meld u opnieuw aan.",
    "niet_opgeslagen": (
        "U was niet (meer) aangemeld, dus wat u verstuurde is niet opgeslagen. Meld u aan en "
        "verstuur het formulier opnieuw."
    ),
    "vergadering_gepland": "De vergadering is gepland.",
    "gepubliceerd": "De agenda is gepubliceerd en bevroren.",
    "besluit": "Het besluit is vastgelegd.",
    "actie": "De actie is uitgezet.",
    "besluitenlijst_definitief": "De besluitenlijst is definitief vastgesteld.",
    "actie_bijgewerkt": "De actie is bijgewerkt.",
    "wachtwoord": "Uw wachtwoord is gewijzigd; uw andere sessies zijn beëindigd.",
    "persoon_bijgewerkt": "De gegevens van de persoon zijn bijgewerkt.",
    "gebied_benoemd": "De naam van het gebied is opgeslagen.",
    "dossier_opgeslagen": "Het dossier is opgeslagen.",
    "dossier_opgeslagen_voorstel_ingetrokken": (
        "Het dossier is opgeslagen; het past niet meer bij de woning van het lopende voorstel, "
        "dat daarom is ingetrokken."
    ),
    "dossier_ongewijzigd": "Er was niets gewijzigd; het dossier is niet opnieuw opgeslagen.",
    "dossier_status": "De status van het dossier is gewijzigd.",
    "dossier_status_voorstel_ingetrokken": (
        "De status van het dossier is gewijzigd; het lopende voorstel is ingetrokken."
    ),
    "dossier_status_ongewijzigd": "Er was niets gewijzigd; het dossier had deze status al.",
    "dossier_niet_in_de_wacht": "Er was niets gewijzigd: het dossier stond niet in de wacht.",
    # The case's edit page adds until when a parking still holds it (`routes_case_files`): read
    # from the address, 'tot de datum hieronder' outlived that date on a reload.
    "dossier_uit_de_wacht_aangehouden": "Het dossier is uit de wacht gehaald.",
    "woning_opgeslagen": "De woning is opgeslagen.",
    "woning_status": "De status van de woning is gewijzigd.",
    "meldingen_opgeslagen": "Uw keuze van e-mailmeldingen is opgeslagen.",
    "nazorg_afspraak": "De nazorgafspraak is opgeslagen.",
    "nazorg_controle": "De controle is vastgelegd.",
    "nazorg_omklap_gepland": "De planning van de omklap is opgeslagen.",
    "nazorg_omklap": "De omklap is vastgelegd: het huurcontract staat op naam van de cliënt.",
    "nazorg_einde": "Het einde van de huur is vastgelegd.",
}
