"""How the pages write values in Dutch: dates, amounts, codes, labels and dwelling names (the
templates' filters and globals, registered in `app.web.core`)."""

import uuid
from datetime import date, datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.timeutil import AMSTERDAM, local_date
from app.vocabulary import MONTHS
from app.web import labels


def isolate(value: Any) -> Markup:
    """Text a person typed (a name, an area's name, a street, a reference) as a page shows it:
    escaped, in a <bdi>, so that text written right to left (Arabic, Hebrew) neither reorders
    the Dutch around it nor is reordered by it (`|isolate` in a template). Empty stays empty.
    An <option> cannot hold a <bdi>: it has dir="auto" instead."""
    if value is None or value == "":
        return Markup("")
    return Markup("<bdi>{}</bdi>").format(value)


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def dutch_date(value: Any) -> str:
    day = as_date(value)
    return "" if day is None else f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def dutch_datetime(value: Any) -> str:
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = moment.astimezone(AMSTERDAM)
    return f"{dutch_date(local.date())} {local:%H:%M}"


def number(value: Any, decimals: int = 1) -> str:
    """Dutch notation: a decimal comma, a dot for thousands."""
    if value is None:
        return "\u2013"  # en dash: no figure
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def euro(value: Any) -> str:
    return "\u2013" if value is None else f"€ {number(value, 2)}"


def short_id(value: Any) -> str:
    """A readable handle for an id: its last 8 hex digits (the random part of a UUIDv7)."""
    return str(value).replace("-", "")[-8:].upper() if value else ""


def rooms(count: Any) -> str:
    return f"{count} kamer" if count == 1 else f"{count} kamers"


def days(count: Any) -> str:
    """A number of days, one of them 'dag': the case page read '(1 dagen)' beside 'over 1 dag'."""
    return f"{count} dag" if count == 1 else f"{count} dagen"


def case_code(value: Any) -> str:
    return f"D-{short_id(value)}" if value else ""


def proposal_code(value: Any) -> str:
    """A proposal's name on its pages and in the mails about it (`V-E4422ED9`), from its own
    id: a case's code names every proposal of the case alike, and no mail carries a case's."""
    return f"V-{short_id(value)}" if value else ""


FILTERS = {
    "datum": dutch_date,
    "tijdstip": dutch_datetime,
    "getal": number,
    "euro": euro,
    "kort": short_id,
    "kamers": rooms,
    "dagen": days,
    "isolate": isolate,
}
"""The templates' filters (`{{ day|datum }}`), registered in `app.web.core`."""


# Why-not figures that are codes, dates or ids, and how a page shows them.
DETAIL_LABELS = {
    "decision": "decision",
    "reason": "decision_reason",
    "status_reason": "status_reason",
    "proposal_status": "proposal_status",
    # beschikking_missing: the case's status, the status that counts, the policy's requirement
    "status": "beschikking_status",
    "effective_status": "beschikking_status",
    "required": "beschikking_status",
    "budget_management": "budget_management",
    "contract_form": "lease_form",
}
DETAIL_DATES = frozenset(
    {
        "decided_on",
        "until",
        "parked_until",
        "ready_since",
        "exit_date",
        "meeting_date",
        "latest",
        "available_from",
        "registration_date",
        "valid_until",
    }
)

ID_PREFIXES = {"vacancy_id": "W", "corporation_id": "O"}


SUPPRESSED = "afgeschermd"
"""How a page shows a count the viewer may not see (null in the API)."""
SUPPRESSABLE_DETAILS = {"usage"}
"""Why-not figures the API gives some viewers null (a spread cap's usage, to a care provider)."""


def detail_value(key: str, value: Any) -> str:
    """One why-not figure in Dutch: yes/no, a label for a code, a Dutch date, a short id."""
    if value is True or value is False:
        return "ja" if value else "nee"
    if value is None and key in SUPPRESSABLE_DETAILS:
        return SUPPRESSED
    if value is None or value == "":
        return "\u2013"
    if key in DETAIL_LABELS:
        return labels.label(DETAIL_LABELS[key], value)
    if key == "accepted":  # the dwelling's lease forms, comma-separated
        return " of ".join(labels.label("lease_form", f) for f in str(value).split(","))
    if key in DETAIL_DATES:
        return dutch_date(value)
    if key == "case_id":
        return case_code(value)
    if key == "proposal_id":
        return proposal_code(value)
    if key in ID_PREFIXES:
        return f"{ID_PREFIXES[key]}-{short_id(value)}"
    if isinstance(value, str) and value in labels.DETAIL_VALUES:
        return labels.label("detail_value", value)
    return str(value)


def area_label(code: Any, names: dict[str, str] | None = None, *, isolated: bool = False) -> str:
    """A CBS area code with its name: `Utrecht (GM0344)`; the code alone when it has none
    (the table's chair can name it, `/tafels/{id}/gebieden`). `isolated`: for a page, the name
    (the chair may have typed it) `isolate`d."""
    if not code:
        return ""
    name = (names or {}).get(str(code))
    if not name:
        return str(code)
    return Markup("{} ({})").format(isolate(name), code) if isolated else f"{name} ({code})"


@pass_context
def area_in_page(context: Context, code: Any, names: dict[str, str] | None = None) -> str:
    """`gebied(code)` in a template: `area_label` with the names given, else the names read
    once per request (the CBS list, then the names the viewer's tables gave)."""
    if not code or (names and str(code) in names):
        return area_label(code, names, isolated=True)
    request = context.get("request")
    state = getattr(request, "state", None)
    session, web = getattr(state, "session", None), getattr(state, "web", None)
    if session is None or web is None:
        return area_label(code, names, isolated=True)
    cache: dict[str, str] = state.__dict__.setdefault("area_names", {})
    key = str(code)
    if key not in cache:
        from app.areas.service import names_for
        from app.tables.service import member_table_ids

        tables = set(session.exec(member_table_ids(web.organisation.id)))
        cache[key] = names_for(session, [key], tables).get(key, "")
    return area_label(code, {key: cache[key]} if cache[key] else None, isolated=True)


@pass_context
def dwelling_label(context: Context, vacancy_id: Any) -> str:
    """The one label of a dwelling on every page: the corporation's own reference, read once
    per request for a dwelling the page names by id (`woning(id)` in a template)."""
    if not vacancy_id:
        return ""
    request = context.get("request")
    session = getattr(getattr(request, "state", None), "session", None)
    if session is None:
        return "woning"
    cache: dict[str, str] = request.state.__dict__.setdefault("dwelling_refs", {})
    key = str(vacancy_id)
    if key not in cache:
        from app.vacancies.models import Vacancy

        found = session.get(Vacancy, uuid.UUID(key))
        cache[key] = found.external_ref if found is not None else "woning"
    return cache[key]
