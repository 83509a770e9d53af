"""The Dutch text of each notice, composed when it is sent from the outbox row's codes and paths.

A mail carries codes, dates, counts and links to the pages, never case data (no case id or
reference, no birth year, no needs): whoever reads it signs in to see more, and the page decides
what they may see (and writes the access log)."""

from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

from app.mail.models import NoticeKind
from app.sqltypes import utcnow
from app.vocabulary import MONTHS
from app.web.formatting import proposal_code, short_id
from app.web.labels import ACTION_KINDS, PROPOSAL_STATUSES

# Every notice is on until the person turns it off (README, E-mail notices): most never chose
# anything, so the footer says the notice is on, not that they turned it on.
FOOTER = (
    "\n\n--\nU ontvangt deze e-mail omdat deze melding voor u aanstaat; meldingen staan aan "
    "tot u ze uitzet.\nKies welke meldingen u krijgt op {url}/account/meldingen"
)


# The digest's proposals: the table's own for the chair and a municipality at it (who read every
# one), else those of the reader's organisation's cases or dwellings.
_PROPOSALS_COUNTED = {
    True: "Open voorstellen van de tafel",
    False: "Open voorstellen waarbij uw organisatie betrokken is",
}


def _date(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _days(count: int) -> str:
    return f"{count} dag" if count == 1 else f"{count} dagen"


def subject_and_text(kind: str, data: dict[str, Any], base_url: str) -> tuple[str, str]:
    """(subject, plain text) of one notice. `data` is the outbox row's: `path` (a page, from
    the site root), `table` (name; not for `account_changed`, which is about no table) and per
    kind the codes below. Raises KeyError or ValueError for a row that lacks them (the worker
    records that as a failure)."""
    link = base_url.rstrip("/") + data["path"]
    if kind == NoticeKind.account_changed:
        return _account_changed(data, link)
    table = data["table"]
    match NoticeKind(kind):
        case NoticeKind.agenda_published:
            subject = f"Agenda gepubliceerd: {table}, {_date(data['date'])}"
            text = (
                f"De agenda van de vergadering van {table} op {_date(data['date'])} is "
                f"gepubliceerd.\n\nBekijk de agenda: {link}"
            )
        case NoticeKind.action_assigned:
            what = ACTION_KINDS.get(data["action_kind"], data["action_kind"])
            subject = f"Nieuwe actie voor uw organisatie: {what}"
            text = (
                f"Aan uw organisatie is bij {table} een actie uitgezet: {what} "
                f"(actie {short_id(data['action_id'])}), uiterlijk {_date(data['due_date'])}."
                f"\n\nBekijk de acties van de tafel: {link}"
            )
        case NoticeKind.action_overdue:
            what = ACTION_KINDS.get(data["action_kind"], data["action_kind"])
            subject = f"Actie over de termijn: {what}"
            text = (
                f"De actie {what} (actie {short_id(data['action_id'])}) van uw organisatie bij "
                f"{table} had uiterlijk {_date(data['due_date'])} klaar moeten zijn en staat "
                f"nog open.\n\nBekijk de acties van de tafel: {link}"
            )
        case NoticeKind.proposal_decided:
            status = PROPOSAL_STATUSES.get(data["status"], data["status"])
            code = proposal_code(data["proposal_id"])
            subject = f"Besluit over voorstel {code}: {status}"
            text = (
                f"Over voorstel {code} van {table} is besloten. De nieuwe status is: {status}."
                f"\n\nBekijk het voorstel: {link}"
            )
        case NoticeKind.proposal_stalled:
            status = PROPOSAL_STATUSES.get(data["status"], data["status"])
            code = proposal_code(data["proposal_id"])
            subject = f"Voorstel {code} staat stil"
            text = (
                f"Voorstel {code} van {table} staat al {_days(data['days_in_status'])} op "
                f"'{status}'; de tafel spreekt af dat dit binnen {_days(data['limit_days'])} "
                f"verder gaat.\n\nBekijk het voorstel: {link}"
            )
        case NoticeKind.digest:
            subject = f"Vergadering van {table} op {_date(data['date'])}"
            text = (
                f"Op {_date(data['date'])} vergadert {table}.\n\n"
                f"Open acties van uw organisatie bij deze tafel: {data['open_actions']}, "
                "waarvan op de dag van de vergadering over de termijn: "
                f"{data['overdue_actions']}.\n"
                f"{_PROPOSALS_COUNTED[bool(data.get('whole_table'))]}: "
                f"{data['open_proposals']}.\n\nBekijk de vergadering: {link}"
            )
    return subject, text + FOOTER.format(url=base_url.rstrip("/"))


ACCOUNT_CHANGES = {
    "password": "er is een nieuw wachtwoord ingesteld",
    "role": "uw rol is gewijzigd",
    "is_admin": "uw recht om de mensen van uw organisatie te beheren is gewijzigd",
    "active": "uw account is weer toegankelijk gemaakt",
}
ACCOUNT_CHANGED_BY = {
    "self": "door uzelf",
    "person": "door een collega met beheerrecht",
    "api_key": "door een systeem van uw organisatie (API-sleutel)",
    "operator": "door de beheerder van het platform",
    "command_line": "door de beheerder van de server",
}
ACCOUNT_FOOTER = (
    "\n\n--\nU ontvangt deze e-mail omdat uw account is gewijzigd. Deze melding gaat altijd "
    "uit; u kunt haar niet uitzetten."
)


def _account_changed(data: dict[str, Any], link: str) -> tuple[str, str]:
    """The notice of a change to the reader's own account (`app.mail.account`)."""
    what = "; ".join(ACCOUNT_CHANGES[change] for change in data["changes"])
    who = ACCOUNT_CHANGED_BY[data["by"]]
    text = (
        f"Uw account bij de uitstroomtafel is gewijzigd {who}: {what}.\n\n"
        "Herkent u dit niet? Neem dan direct contact op met een beheerder van uw organisatie."
        f"\n\nBekijk wie uw account wijzigde: {link}"
    )
    return "Uw account bij de uitstroomtafel is gewijzigd", text + ACCOUNT_FOOTER


def message(
    *,
    message_id: str,
    kind: str,
    data: dict[str, Any],
    recipient: str,
    sender: str,
    base_url: str,
) -> EmailMessage:
    """The mail for one outbox row, to `recipient` only (ValueError when a header would read
    other addresses in it). Its Message-ID is derived from the row's id, the same on
    every attempt, so a mail sent twice (an answer lost after the server took it) is one mail
    to a receiving system that deduplicates. `List-Unsubscribe` names the notices page."""
    if getaddresses([recipient]) != [("", recipient)]:
        # A login name such as `x<y@z>` or `a,b@c` reads as other addresses in a header.
        raise ValueError("the recipient is not one plain address")
    subject, text = subject_and_text(kind, data, base_url)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    # The address's own domain: a display name or a comment (`a@b.nl (Tafel)`) is no msg-id.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "uitstroomtafel.invalid"
    mail["Message-ID"] = f"<{message_id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    # RFC 2369: where the person turns the notices off (a mail client shows it as a button;
    # the page asks them to sign in, so no link here acts on its own).
    if kind != NoticeKind.account_changed:  # the one notice that cannot be turned off
        mail["List-Unsubscribe"] = f"<{base_url.rstrip('/')}/account/meldingen>"
    mail.set_content(text)
    return mail
