"""What the pages share: a write the services refused, as a Dutch message for the form."""

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session
from starlette.datastructures import FormData

from app.idempotency import Idempotency
from app.imports.messages import with_bound_day
from app.organisations.service import list_organisations, names_of
from app.problems import ProblemError
from app.schemas import NotADate
from app.web.core import Web, field
from app.web.messages import STILL_IN_PROGRESS
from app.web.query_values import DATE_RULE, QueryValues, wrong_value

TEXT_RULE = "Een naam is één regel tekst, zonder stuur- of leesrichtingstekens."
"""What a name on a form may hold (`app.schemas.SINGLE_LINE`), for the pages' refusals."""

T = TypeVar("T")
MAX_ROWS = 1000

# Dutch messages for the field errors the services answer with (by invalidParams code).
FIELD_MESSAGES = {
    "reason_not_allowed": "Dit besluit heeft geen reden.",
    "date_in_future": "De datum ligt in de toekomst.",
    "date_too_far_ahead": "De datum ligt meer dan een jaar vooruit.",
    "date_too_far_back": "De datum ligt meer dan een jaar terug.",
    "date_before_proposal": "De datum ligt vóór het voorstel.",
    "date_before_meeting": "De verhuisdatum ligt vóór de vergadering.",
    "date_before_ready_since": "De verhuisdatum ligt vóór de datum waarop de cliënt klaar was "
    "om uit te stromen.",
    "date_before_available_from": "De verhuisdatum ligt vóór de datum waarop de woning "
    "beschikbaar is.",
    "lease_form_required": "Kies de contractvorm: dossier en woning staan beide toe.",
    "lease_form_mismatch": "Deze contractvorm past niet bij dossier en woning.",
    "field_not_allowed": "Verhuisdatum en contractvorm horen alleen bij het besluit Gehuisvest.",
    "unknown_organisation": "Deze organisatie zit niet aan de tafel.",
    "unknown_case": "Dit dossier hoort niet bij deze tafel.",
    "owner_cannot_see_case": "Een zorgaanbieder krijgt alleen acties over de eigen dossiers.",
    "unknown_meeting": "Deze vergadering hoort niet bij deze tafel.",
    "no_limits_for_year": "Voor dat jaar en de jaren ervoor zijn geen wettelijke grenzen "
    "ingevoerd.",
    "invalid_range": "De einddatum ligt vóór de begindatum.",
    "range_too_long": "Kies een periode van hoogstens tien jaar.",
    "date_before_move_in": "De datum ligt vóór de verhuizing.",
    "date_too_far_after_move_in": "Kies een datum binnen tien jaar na de verhuizing.",
    "date_before_transfer": "De einddatum ligt vóór de omklap.",
    "date_before_checkpoint": "De einddatum ligt vóór een vastgelegde controle.",
    "date_after_next_move_in": "De datum ligt na de verhuizing van de volgende huurder in "
    "deze woning.",
    "end_before_start": "De geplande einddatum ligt vóór de startdatum.",
    "unknown_checkpoint": "Deze controle staat niet in het beleid van de tafel.",
    "too_fine_for_suppression": "Te veel groepen om af te schermen voor uw organisatie: kies "
    "een andere indeling.",
    "year_too_late": "Cijfers voor uw organisatie lopen tot en met volgend jaar.",
    "range_spans_years": "Uw organisatie ziet afgeschermde cijfers, steeds van één kalenderjaar: "
    "kies een begin- en einddatum in hetzelfde jaar.",
}


def field_message(param: Mapping[str, Any]) -> str | None:
    """The Dutch message of one of the service's `invalidParams` (`FIELD_MESSAGES`), with the
    day its reason names where it names one (`with_bound_day`); None for a code without a Dutch
    message."""
    code = str(param.get("code", ""))
    message = FIELD_MESSAGES.get(code)
    if message is None:
        return None
    return with_bound_day(message, code, param.get("reason"))


CONFLICT_MESSAGES = {
    "duplicate_meeting": "Op deze datum vergadert de tafel al.",
    "already_published": "Deze agenda is al gepubliceerd.",
    "illegal_transition": "Dit besluit kan niet meer: de status van het voorstel is veranderd.",
    "decided_concurrently": "Iemand anders legde tegelijk een besluit vast; bekijk de stand.",
    "meeting_not_held": "De vergadering heeft nog niet plaatsgevonden: besluiten en de "
    "definitieve besluitenlijst volgen vanaf de vergaderdag.",
    "minutes_final": "De besluitenlijst is al definitief.",
    "not_published": "Publiceer eerst de agenda van deze vergadering.",
    "tenancy_ended": "De huur is beëindigd: er valt niets meer vast te leggen.",
    "case_anonymised": "Dit dossier is geanonimiseerd (bewaartermijn verstreken): er kan geen "
    "nazorgafspraak, controle, open voorwaarde voor de omklap of actie meer bij.",
    "not_awaiting_transfer": "Dit is geen tussenhuur die nog moet omklappen.",
    "transfer_conditions_open": "Er staan nog voorwaarden open. Vink ze eerst uit bij de "
    "planning van de omklap.",
    "checkpoint_recorded": "Deze controle is al vastgelegd.",
    "owner_not_member": "De eigenaar van deze actie zit niet meer aan de tafel: zet een nieuwe "
    "actie uit.",
    "case_moved": "Het dossier van deze actie is naar een andere tafel verhuisd: zet daar een "
    "nieuwe actie uit.",
    "action_kept_as_history": "Deze actie blijft alleen als geschiedenis bewaard en verandert "
    "niet meer; de voorzitter zet zo nodig een nieuwe uit.",
    "changed_concurrently": "Iemand anders legde tegelijk een nazorgafspraak vast; bekijk de "
    "stand.",
    "inputs_changed": "Dossiers of woningen veranderden steeds terwijl de agenda werd "
    "berekend; probeer het over een ogenblik opnieuw.",
    "open_proposal_exists": "Een dossier of woning van deze agenda staat intussen al in een "
    "open voorstel; laad de pagina opnieuw.",
    "dates_changed": "De datums van het dossier veranderden tegelijk; laad de pagina opnieuw en "
    "probeer het nog eens.",
    "idempotency_key_in_progress": STILL_IN_PROGRESS,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A write the service refused, as a Dutch message and the API's status code, with the
    fields it names (`invalid_fields`) to say beside them (`mark_fields`)."""

    message: str
    status: int
    fields: tuple[tuple[str, str], ...] = ()


def attempt(session: Session, action: Callable[[], T]) -> T | Refusal:
    """Run a write in a savepoint; a refusal rolls back only that write and comes back as a
    Dutch message for the form (403 and 404 still become their error pages)."""
    try:
        with session.begin_nested():
            return action()
    except ProblemError as exc:
        if exc.status in (403, 404):
            raise
        return Refusal(problem_message(exc), exc.status, invalid_fields(exc))


FORM_TOKEN = re.compile("[0-9a-f]{32}")


def form_key(
    request: Request, form: FormData, payload: BaseModel, prefix: str = "pagina"
) -> Idempotency | None:
    """The `Idempotency-Key` of a page's form: its own token (a hidden `formulier` field,
    `form_token()`) with a hash of what it asks (`payload`), so the same form sent twice is one
    request and sent back with other choices another; None for a form without a token."""
    token = field(form, "formulier", 64)
    if not FORM_TOKEN.fullmatch(token):
        return None
    choices = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()[:32]
    return Idempotency(f"{prefix}-{token}-{choices}", request)


def create_once(
    session: Session,
    web: Web,
    request: Request,
    form: FormData,
    payload: BaseModel,
    create: Callable[[], uuid.UUID],
) -> uuid.UUID | Refusal:
    """Run `create` (the new resource's id) as `attempt` does, under the form's own
    `Idempotency-Key`: its token (a hidden `formulier` field, `form_token()`) with a hash of
    its choices. The same form sent twice (a double click) creates once and answers with what
    it created; sent back with other choices it creates once more, and twice still once. A
    form without a token creates every time it is sent."""
    once = form_key(request, form, payload)

    def run() -> uuid.UUID:
        if once is not None and (first := once.replay(session, web.principal, payload)):
            return uuid.UUID(json.loads(bytes(first.body))["id"])  # sent before: it stands
        created = create()
        if once is not None:
            once.respond({"id": str(created)}, 201)
        return created

    return attempt(session, run)


NO_VERSION = (
    "Dit formulier zegt niet welke versie u zag, dus er is niets opgeslagen. Hieronder staat "
    "de stand zoals die nu is."
)
"""A form post without the version its page showed (`versie`): refused, as carrying it out
unchecked could overwrite what the person never saw."""


def whole_number(value: str) -> int | str:
    """A form field's whole number as the integer a body's `JsonInt` takes (only a JSON
    integer); anything else as typed, for the schema to refuse."""
    return int(value) if value.isascii() and value.isdigit() else value


def _if_match(version: str) -> str | None:
    """The version the page showed, as the ETag the services check (412 if it moved on)."""
    return f'"{version}"' if version.isascii() and version.isdigit() else None


def meeting_refusal(session: Session, exc: ProblemError, changed: str = "de vergadering") -> str:
    """A refused write on a meeting (publish, final minutes) that ran outside a savepoint: 403
    and 404 become their error pages; otherwise it is rolled back and its Dutch message given
    (`changed`: what a 412 says changed meanwhile)."""
    if exc.status in (403, 404):
        raise exc
    session.rollback()
    return problem_message(exc, changed)


def problem_message(exc: ProblemError, changed: str = "het voorstel") -> str:
    """The Dutch message of a refusal; a 412 says that `changed` (what the form was about)
    changed meanwhile."""
    if exc.status == 409:
        return CONFLICT_MESSAGES.get(exc.code, "Dit kan nu niet; laad de pagina opnieuw.")
    if exc.status == 412:
        return f"Iemand anders was u voor: {changed} is intussen gewijzigd. Bekijk de nieuwe stand."
    params = exc.extra.get("invalidParams") or []
    messages = []
    for p in params:
        label = FIELD_LABELS.get(p["name"], p["name"])
        unread = "Niet ingevuld" if p.get("code") == "required" else "Ongeldige invoer"
        messages.append(field_message(p) or f"{unread}: {label}.")
    return " ".join(messages) or "De invoer is niet geldig."


FIELD_LABELS = {
    "kind": "Soort actie",
    "owner_organisation_id": "Eigenaar",
    "case_id": "Over dossier",
    "meeting_id": "Vergadering",
    "due_date": "Uiterlijk klaar op",
    "status": "Status",
    "decision": "Besluit",
    "reason": "Reden",
    "effective_date": "Verhuisdatum",
    "viewing_date": "Datum van de bezichtiging",
    "lease_form": "Contractvorm",
}
"""The Dutch labels of the action and decision forms' fields, by API name."""


def validation_message(exc: ValidationError) -> str:
    names = (".".join(str(p) for p in e["loc"]) for e in exc.errors())
    labels = [FIELD_LABELS.get(name, name) for name in names]
    return unfilled(labels, dates=any(is_date_error(e) for e in exc.errors()))


def is_date_error(error: ErrorDetails) -> bool:
    """A date the form could not read: no `YYYY-MM-DD`, a day that does not exist (2027-02-30:
    pydantic's `date_*` errors) or outside the years taken (`app.schemas.NotADate`)."""
    return error["type"].startswith("date_") or isinstance(
        error.get("ctx", {}).get("error"), NotADate
    )


def unfilled(names: Iterable[str], *, dates: bool = False) -> str:
    """The Dutch message for fields left empty or filled wrongly, named as the page names them;
    with `dates` (a date among them that could not be read) how a date is written."""
    message = "Niet (goed) ingevuld: " + ", ".join(sorted(set(names))) + "."
    return f"{message} {DATE_RULE}" if dates else message


def invalid_fields(exc: ValidationError | ProblemError) -> tuple[tuple[str, str], ...]:
    """The fields a form's body could not be read for (`ValidationError`) or the service
    refused (`invalidParams`), by API name, each with what is wrong there in Dutch: a date's
    rule (`DATE_RULE`), the service's reason (`FIELD_MESSAGES`), else that it is not filled
    in (well)."""
    if isinstance(exc, ValidationError):
        return tuple(
            (
                ".".join(str(p) for p in e["loc"]),
                DATE_RULE if is_date_error(e) else NOT_FILLED_IN,
            )
            for e in exc.errors()
        )
    return tuple(
        (str(p["name"]), field_message(p) or NOT_FILLED_IN)
        for p in exc.extra.get("invalidParams") or []
    )


NOT_FILLED_IN = "Niet (goed) ingevuld."


def mark_fields(
    request: Request, fields: Iterable[tuple[str, str]], inputs: dict[str, tuple[str, str]]
) -> None:
    """Says each field in error beside it on the page shown again (`field_errors`: by the id
    of its input, its label and what is wrong; the error summary links to it), for the fields
    of the form's `inputs` (by API name: the input's id and its label); others are named in
    the summary only. The date rule stood only in the summary, far from the date typed."""
    marked: dict[str, tuple[str, str]] = {}
    for name, said in fields:
        if name in inputs:
            marked.setdefault(inputs[name][0], (inputs[name][1], said))
    request.state.field_errors = marked


def mark_wrong_values(
    request: Request, values: QueryValues, inputs: Iterable[str]
) -> list[tuple[str | None, str]]:
    """Says each wrong value of a list page's address beside its field of the filter form
    (`inputs`: the keys that are a field there, each the id of its input; `mark_fields`), and
    gives the error summary's items: each wrong value's sentence with the id of the field it
    links to (None: no field of the form, such as the next page's cursor `na`)."""
    shown = {key: (key, values.labels[key]) for key in inputs}
    mark_fields(request, [(key, holds) for key, _, holds in values.found if key], shown)
    return [
        (key if key in shown else None, wrong_value(label, holds))
        for key, label, holds in values.found
    ]


def organisation_names(session: Session, web: Web, named: Iterable[Any] = ()) -> dict[str, str]:
    """Names of the organisations the person's organisation may see (itself, co-members), and
    of those the page's records name (`named` ids): also one that has left the table since."""
    rows = list_organisations(session, web.principal, after=None, limit=MAX_ROWS)
    return names_of(session, named) | {str(o.id): o.name for o in rows}
