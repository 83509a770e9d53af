# Size: the form pages of one case file (new, a returning client, edit, status) share one form
# builder and one way from a refusal to its Dutch message; the dwelling pages reuse both.
"""A care provider's people enter and correct their organisation's case files by hand:
`/dossiers/nieuw`, `/dossiers/{id}/bewerken`, and putting a case on hold, resuming or withdrawing
it (`/dossiers/{id}/status`).

The form has the import's columns and reads them with the import's cell readers
(app.imports.by_hand); the case is written by the API's own services (`create_case`,
`update_case`), so validation, lifecycle, access log and events are the API's. An edit carries
the ETag it was shown (`versie`) as `If-Match`: a stale one loses nothing silently (412, the
latest file is shown). No free-text field exists: every field is a code, a number, a date or yes
or no.
"""

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.responses import Response

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.cases import lifecycle
from app.cases import service as cases
from app.cases.lifecycle import CaseState
from app.cases.models import (
    CLOSED_STATUSES,
    HOLD_REASONS,
    WITHDRAWAL_REASONS,
    Case,
    CaseCreate,
    CaseStatus,
    CaseTransition,
    CaseUpdate,
    effective_status,
)
from app.db import SessionDep
from app.imports import service as imports
from app.imports.by_hand import Entry, empty_means, form_values, read_entry, validate_entry
from app.imports.columns import CASES, Column, Kind, Layout
from app.imports.messages import service_message, with_bound_day
from app.organisations.models import OrganisationKind
from app.problems import NotFound, PreconditionFailed, ProblemError
from app.proposals.models import CASE_IN_PROPOSAL
from app.registry import intake
from app.timeutil import today
from app.versioning import etag
from app.web import labels
from app.web.core import FormDep, PageForbidden, Web, WebDep, WebRoute, field, redirect, render
from app.web.formatting import dutch_date
from app.web.messages import NOTICES
from app.web.query_values import PAGE_ID, WrongQueryValue

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REF = "external_ref"
ARREARS = "debts.rent_arrears_corporation_ids"
STALE = (
    "Iemand anders heeft dit dossier intussen gewijzigd. Hieronder staat de nieuwste versie; "
    "breng uw wijziging opnieuw aan."
)
NO_VERSION = (
    "Dit formulier zegt niet welke versie van het dossier u zag, dus er is niets opgeslagen. "
    "Hieronder staat het dossier zoals het nu is; breng uw wijziging opnieuw aan."
)
CHECK_FIELDS = "Controleer de gemarkeerde velden."
ARREARS_HELP = (
    "Woningcorporaties aan de tafel waarbij de cliënt huurachterstand heeft zonder "
    "betalingsregeling: vink ze aan (geen vinkje: geen huurachterstand)."
)
"""The hint of the form's corporation checkboxes: the import column's asked for their names
separated by commas, which a form of checkboxes takes no part of."""
PARKED = (
    "Het dossier is na een afwijzing aangehouden tot {} en kan niet eerder uit de wacht; er is "
    "niets gewijzigd. Op die dag komt het vanzelf weer in aanmerking."
)
"""A resume of a case parked after a decline (`lifecycle.PARKED_RESUME`), sent from a form
shown before the decline or before the page offered no resume for it."""
HOLD_WHILE_PARKED = (
    "Na een afwijzing is het dossier aangehouden tot {0}; op die dag komt het vanzelf weer in "
    "aanmerking. Zet u het in de wacht, dan gebeurt dat niet: het blijft in de wacht, ook na "
    "{0}, tot u het uit de wacht haalt."
)
"""Beside the hold of a case parked after a decline: a hold outlasts the parking."""
STILL_PARKED = (
    "Na de afwijzing blijft het aangehouden tot {}; op die dag komt het vanzelf weer in aanmerking."
)
"""After the notice of a hold lifted while the case is parked after a decline."""
IN_PROPOSAL = (
    "Het dossier zit in een lopend voorstel. Zet u het in de wacht of meldt u het af, dan wordt "
    "dat voorstel ingetrokken."
)
"""Beside the hold and the withdrawal of a proposed or nominated case: either withdraws its
running proposal (`proposals.service.close_for_case`)."""
STATUS_CHOICES = {
    "on_hold": ("In de wacht zetten", HOLD_REASONS),
    "ready": ("Uit de wacht halen", frozenset()),
    "withdrawn": ("Afmelden", WITHDRAWAL_REASONS),
}


def _require_care_provider(web: Web) -> None:
    web.require_writer()
    if web.organisation.kind != OrganisationKind.care_provider.value:
        raise PageForbidden("Dossiers legt een zorgaanbieder vast.")


def _own_case(session: Session, web: Web, case_id: uuid.UUID, action: AccessAction | None) -> Case:
    case = cases.get_case(session, web.access(), case_id, action)
    if case.care_provider_id != web.organisation.id:
        raise PageForbidden("Alleen de zorgaanbieder van dit dossier wijzigt het.")
    return case


# A field holds what the import's cell does, up to 100 area codes with their separators (about
# 1,200 characters). At 400 (here and the input's maxlength), saving any edit of a case with 60
# preferred areas, valid in the API and the import, cut the list: refused, or codes lost (breaker).
ENTRY_MAX = 2000


def _values(form: FormData) -> dict[str, str]:
    """The posted fields by API name; the corporations' checkboxes joined as the reader wants."""
    values = {c.name: field(form, c.name, ENTRY_MAX) for c in CASES.columns}
    values[ARREARS] = ",".join(str(v) for v in form.getlist(ARREARS) if isinstance(v, str))
    return values


def fields_of(
    layout: Layout,
    values: dict[str, str],
    errors: dict[str, str],
    corporations: list[tuple[str, str]],
    new: bool,
) -> list[dict[str, Any]]:
    """The form's fields for `_entry_fields.html`: one per column of `layout` (the reference
    only on a new entry), with its value, error and options."""
    shown = []
    for column in layout.columns:
        if column.name == REF and not new:
            continue
        shown.append(
            {
                "name": column.name,
                "id": "veld-" + column.name.replace(".", "-").replace("_", "-"),
                "label": column.header,
                "help": ARREARS_HELP if column.kind == Kind.corporations else column.help,
                "kind": column.kind.value,
                "signed": column.signed,
                "required": column.required,
                "value": values.get(column.name, "") or empty_means(column),
                "max_length": ENTRY_MAX,
                "chosen": set(values.get(column.name, "").replace(" ", "").split(",")),
                "error": errors.get(column.name),
                "options": _options(column, corporations),
            }
        )
    return shown


def _options(column: Column, corporations: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if column.kind == Kind.choice:
        return list(column.choices.items())
    if column.kind == Kind.boolean:
        return [("nee", "nee"), ("ja", "ja")]
    if column.kind == Kind.corporations:
        return corporations
    return []


def _form_page(
    request: Request,
    session: Session,
    web: Web,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    case: Case | None = None,
    error: str | None = None,
    saved: str | None = None,
    status: int = 200,
    previous: Case | None = None,
    version: str | None = None,
    ask_returning: bool = False,
) -> HTMLResponse:
    """The new-case form (`case` None; `previous` the closed case a returning client's form
    follows) or a case's edit form. `version`: the one the edit form was shown with, when it
    comes back with what the worker typed (else the stored file's): with the newest one, the
    typed form saved again would overwrite a change made meanwhile, unseen."""
    if previous is not None:  # the page shows the earlier case's id and reference: a read
        access_log.record(
            session, web.access(), AccessAction.read, [(previous.id, previous.table_id)]
        )
    tables = imports.member_tables(session, web.organisation.id)
    # A new file (a returning client's too) may go to any of the tables: their corporations.
    table_ids = [case.table_id] if case is not None else [t.id for t in tables]
    context: dict[str, Any] = {
        "title": (
            f"Dossier {case.external_ref} bewerken"
            if case is not None
            else "Nieuw dossier"
            if previous is None
            else "Terugkerende cliënt aanmelden"
        ),
        "case": case,
        "tables": tables,
        "table_value": values.get("table_id", ""),
        "fields": fields_of(
            CASES,
            values,
            errors or {},
            imports.corporation_options(session, table_ids, case),
            case is None and previous is None,  # a returning client keeps the reference
        ),
        "error": error or (CHECK_FIELDS if errors else None),
        "saved": saved,
        "previous": previous,
        # The reference was an anonymised file's: the form asks whether the client returns.
        "ask_returning": ask_returning,
    }
    if case is not None:
        current = effective_status(case.status, case.ready_since, parked_until=case.parked_until)
        closed = case.status in CLOSED_STATUSES  # no form, no rules: it changes no more
        parked = lifecycle.state_of(case) == CaseState.parked
        context |= {
            "version": version or etag(case),
            "status": current.value,
            "closed": closed,
            "status_label": labels.label("case_status", current.value),
            "parked_until": case.parked_until if parked else None,
            # Put on hold while parked after a decline: the hold is lifted by a resume, the
            # parking only by its date (the page said 'Aangehouden.' alone, the date gone).
            "also_parked_until": (
                case.parked_until
                if current == CaseStatus.on_hold
                and not parked
                and case.parked_until is not None
                and case.parked_until > today()
                else None
            ),
            "changes": _status_changes(current.value, case.parked_until if parked else None),
            **_hold_lifted_notice(request, case.parked_until if parked else None),
            "warnings": [
                {**w, "label": labels.REASONS[w["code"]]}
                for w in ([] if closed else intake.own_rule_failures(session, case))
            ],
        }
    return render(request, "case_form.html", context, status)


def _hold_lifted_notice(request: Request, parked_until: date | None) -> dict[str, str]:
    """The notice of a lifted hold (`HOLD_LIFTED`, read from the address) with the date a
    parking holds the case until, while it does: the notice said 'tot de datum hieronder',
    and reloaded once that date had come, no date was shown below."""
    if request.query_params.get("melding") != HOLD_LIFTED or parked_until is None:
        return {}
    return {"notice": f"{NOTICES[HOLD_LIFTED]} {STILL_PARKED.format(dutch_date(parked_until))}"}


def _status_changes(current: str, parked_until: date | None = None) -> list[dict[str, Any]]:
    """The status changes a care provider may make from `current`, with their reasons; a case
    parked after a decline until `parked_until` (shown `on_hold`) is not resumed before its
    date, and is put on hold as the lifecycle and the API allow, the page saying beside the
    button that a hold outlasts the parking (it offered the hold without a word that the case
    then no longer comes back by itself on the parking's date). Beside the hold and the
    withdrawal of a case in a running proposal: that they withdraw the proposal (it was said
    nowhere before or after)."""
    in_proposal = current in CASE_IN_PROPOSAL
    allowed = {
        "on_hold": ["on_hold", "withdrawn"] if parked_until else ["ready", "withdrawn"],
        "housed": [],
        "withdrawn": [],
    }.get(current, ["on_hold", "withdrawn"])
    return [
        {
            "status": status,
            "label": STATUS_CHOICES[status][0],
            "reasons": [(r, labels.STATUS_REASONS[r]) for r in sorted(STATUS_CHOICES[status][1])],
            "note": HOLD_WHILE_PARKED.format(dutch_date(parked_until))
            if parked_until and status == "on_hold"
            else IN_PROPOSAL
            if in_proposal
            else None,
        }
        for status in allowed
    ]


def problem_errors(exc: ProblemError, layout: Layout = CASES) -> tuple[dict[str, str], str]:
    """A service's refusal as messages on the fields it names, and one for the page: those of
    fields the form of `layout` lacks, else 'check the marked fields' ('Dit kan niet.' of a
    400 told the worker neither what nor why)."""
    errors = {
        str(p.get("name", "")): with_bound_day(
            service_message(code := str(p.get("code", exc.code))), code, p.get("reason")
        )
        for p in exc.extra.get("invalidParams") or []
    }
    shown = {c.name for c in layout.columns}
    unshown = [message for name, message in errors.items() if name not in shown]
    if errors and not unshown:
        return errors, CHECK_FIELDS
    return errors, " ".join(unshown) or service_message(exc.code)


# --- create --------------------------------------------------------------------------------


RETURN_LINK = "Gebruik de link Meld de cliënt opnieuw aan op de pagina van het afgesloten dossier."
"""What the new case form's `vorig` may hold: the id of the closed case its link gives."""
Previous = Annotated[str | None, Query(title="Vorig dossier", description=RETURN_LINK)]
"""The closed case a returning client's form follows: a field of the page's address (FastAPI's,
so one given twice is named, `app.web.core.WebRoute`), read by the page itself."""


@router.get("/dossiers/nieuw")
def new_case_page(
    request: Request, session: SessionDep, web: WebDep, vorig: Previous = None
) -> Response:
    """The empty form; with `?vorig=<case id>` (a closed case of the organisation) the form of
    a returning client: filled in from that case, under its reference, following it."""
    _require_care_provider(web)
    if not vorig:
        return _form_page(request, session, web, values={})
    try:
        previous = PAGE_ID.validate_python(vorig)
    except ValidationError:
        raise WrongQueryValue("Vorig dossier", RETURN_LINK) from None
    case = _own_case(session, web, previous, None)  # logged as the form shows it
    followed = cases.follower_of(session, case.id) is not None
    if case.status not in CLOSED_STATUSES or case.anonymised_at is not None or followed:
        return redirect(f"/dossiers/{case.id}", None)  # its page says why it has no return
    values = _stored_values(case) | {"table_id": str(case.table_id)}
    return _form_page(request, session, web, values=values, previous=case)


@router.post("/dossiers/nieuw")
def create_case(request: Request, session: SessionDep, web: WebDep, form: FormDep) -> Response:
    """Create a case file from the form: 400 with a Dutch message per field, 409 on a reference
    the organisation already uses; a created file opens in its edit page."""
    _require_care_provider(web)
    values = _values(form)
    values["table_id"] = field(form, "table_id", 40)
    previous = _previous(session, web, field(form, "previous_case_id", 40))
    table = _table(session, web, values["table_id"])
    if table is None:
        return _form_page(
            request,
            session,
            web,
            values=values,
            error="Kies een tafel.",
            status=400,
            previous=previous,
        )
    entry = read_entry(CASES, values, corporations=imports.table_corporations(session, table))
    entry.document["table_id"] = str(table)
    if previous is not None:
        entry.document["previous_case_id"] = str(previous.id)
    returning = field(form, "terug_na_bewaartermijn", 8) == "ja"
    entry.document["returning_after_retention"] = returning
    created = validate_entry(CaseCreate, entry, {c.name for c in CASES.columns})
    if created is None:
        return _form_page(
            request,
            session,
            web,
            values=values,
            errors=entry.errors,
            status=400,
            previous=previous,
        )
    try:
        with session.begin_nested():
            case = cases.create_case(session, web.access(), created)
    except ProblemError as exc:
        duplicate = exc if isinstance(exc, cases.DuplicateCase) else None
        if duplicate and not duplicate.closed and _same_file(session, duplicate.case_id, created):
            # The form sent twice (a double click): the first made this very file. Saying the
            # reference is in use "for another file" invited a second file under another one.
            return redirect(f"/dossiers/{duplicate.case_id}/bewerken", "dossier_opgeslagen")
        errors, message = problem_errors(exc)
        if duplicate and duplicate.closed:
            message = service_message("duplicate_external_ref_closed")
            errors = {REF: message}
        anonymised = exc.code == "external_ref_anonymised"
        if anonymised:
            errors = {REF: message}
        return _form_page(
            request,
            session,
            web,
            values=values,
            errors=errors,
            error=message,
            status=exc.status,
            previous=previous,
            ask_returning=anonymised,
        )
    return redirect(f"/dossiers/{case.id}/bewerken", "dossier_opgeslagen")


def _previous(session: Session, web: Web, text: str) -> Case | None:
    """The closed case a returning client's form follows (its hidden field), the
    organisation's own; None for a first registration."""
    if not text:
        return None
    try:
        return _own_case(session, web, PAGE_ID.validate_python(text), None)
    except ValueError:  # also pydantic's ValidationError: an id as the API writes it
        raise NotFound("No such case.") from None


def _same_file(session: Session, case_id: uuid.UUID, created: CaseCreate) -> bool:
    """Whether the organisation's stored file under that reference holds what the form asks."""
    stored = session.get(Case, case_id)
    if stored is None or stored.closed_at is not None:  # a closed file is never the form's
        return False
    try:
        document = imports.stored_case(stored) | {"previous_case_id": stored.previous_case_id}
        before = CaseCreate.model_validate(document).model_dump(mode="json")
    except ValidationError:  # stored before a rule it now breaks: not what the form asks
        return False
    return bool(before == created.model_dump(mode="json"))


def _table(session: Session, web: Web, text: str) -> uuid.UUID | None:
    """The chosen table if the organisation sits at it (or its only table when none is chosen)."""
    tables = {str(t.id): t.id for t in imports.member_tables(session, web.organisation.id)}
    if not text and len(tables) == 1:
        return next(iter(tables.values()))
    return tables.get(text)


# --- edit ----------------------------------------------------------------------------------


def _stored_values(case: Case) -> dict[str, str]:
    return form_values(CASES, imports.stored_case(case))


@router.get("/dossiers/{case_id}/bewerken")
def edit_case_page(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep
) -> HTMLResponse:
    _require_care_provider(web)
    case = _own_case(session, web, case_id, AccessAction.read)
    return _form_page(request, session, web, values=_stored_values(case), case=case)


def _edit(session: Session, case: Case, values: dict[str, str]) -> tuple[Entry, Any]:
    """The form over the stored file: the merge patch it makes, or None with the errors."""
    stored = imports.stored_case(case)
    corporations = imports.case_corporations(session, case)
    entry = read_entry(CASES, values, skip=frozenset({REF}), corporations=corporations)
    entry.document = imports.merge(stored, entry.document)
    after = validate_entry(CaseCreate, entry, {c.name for c in CASES.columns})
    if after is None:
        return entry, None
    before = CaseCreate.model_validate(stored).model_dump(mode="json")
    return entry, imports.difference(before, after.model_dump(mode="json"))


@router.post("/dossiers/{case_id}/bewerken")
def update_case(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Save the edited file with the version it was shown as `If-Match` (412: the latest file
    is shown again, nothing of the stale edit is stored; a form without its version is refused
    with 400). A form that changes nothing stores nothing, so the version stays."""
    _require_care_provider(web)
    case = _own_case(session, web, case_id, None)
    if case.status in CLOSED_STATUSES:  # it changes no more: nothing of any form is stored
        return _fresh_page(request, session, web, case, 409)
    values = _values(form)
    version = field(form, "versie", 40)
    if not version:
        return _fresh_page(request, session, web, case, 400, NO_VERSION)
    entry, patch = _edit(session, case, values)
    if patch is None:
        cases.get_case(session, web.access(), case_id, AccessAction.read)
        return _form_page(
            request, session, web, values=values, errors=entry.errors, case=case, status=400,
            version=version,
        )  # fmt: skip
    if not patch:
        # At another version than the form's, the stored file is as it asks (the form sent
        # twice, the first stored it): saved, not 'nothing changed', which read as a lost edit.
        unchanged = version == etag(case)
        notice = "dossier_ongewijzigd" if unchanged else "dossier_opgeslagen"
        return redirect(f"/dossiers/{case.id}/bewerken", notice)
    return _write(request, session, web, case, patch, version, values, "dossier_opgeslagen")


def _fresh_page(
    request: Request, session: Session, web: Web, case: Case, status: int, error: str | None = None
) -> HTMLResponse:
    """The stored file's page again where nothing of the form may be stored (its read logged):
    a closed file's (409), a status change without its choices, or a form without a readable
    `versie` (400: it cannot be checked against the stored file, and saving it without
    `If-Match` could overwrite someone else's change unseen)."""
    fresh = _own_case(session, web, case.id, AccessAction.read)
    values = _stored_values(fresh)
    return _form_page(request, session, web, values=values, case=fresh, error=error, status=status)


def _write(
    request: Request,
    session: Session,
    web: Web,
    case: Case,
    patch: dict[str, Any],
    version: str,
    values: dict[str, str],
    notice: str,
) -> Response:
    before = case.status
    try:
        with session.begin_nested():
            cases.update_case(
                session, web.access(), case, CaseUpdate.model_validate(patch), version
            )
    except PreconditionFailed:
        session.refresh(case)
        if notice == "dossier_status" and _hold_lifted(session, case, patch, version):
            # Sent twice at once: the other sending lifted the hold on the locked row.
            return redirect(f"/dossiers/{case.id}/bewerken", HOLD_LIFTED)
        if notice == "dossier_status" and _stands(case, patch):
            # The status form sent twice (a double click): the first sending made the change
            # this one asks for, so it stands instead of 'someone else changed it, do it again'.
            # The notice is the first sending's: that one withdrew a proposal too, if it did.
            left = _last_transition(session, case)
            if left is not None and left.from_status in CASE_IN_PROPOSAL:
                notice = "dossier_status_voorstel_ingetrokken"
            return redirect(f"/dossiers/{case.id}/bewerken", notice)
        fresh = _own_case(session, web, case.id, AccessAction.read)
        return _form_page(
            request, session, web, values=_stored_values(fresh), case=fresh, error=STALE,
            status=412,
        )  # fmt: skip
    except ProblemError as exc:
        errors, message = problem_errors(exc)
        fresh = _own_case(session, web, case.id, AccessAction.read)
        return _form_page(
            request, session, web, values=values, errors=errors, case=fresh, error=message,
            status=exc.status, version=version,
        )  # fmt: skip
    if notice == "dossier_status":
        notice = _status_notice(case, version, patch["status"], before)
    elif before in CASE_IN_PROPOSAL and case.status not in CASE_IN_PROPOSAL:
        # An edit that made the pair fail a rule withdrew the running proposal
        # (`broken_matches.withdraw_for_case`): 'opgeslagen' alone left the worker unaware.
        notice = "dossier_opgeslagen_voorstel_ingetrokken"
    return redirect(f"/dossiers/{case.id}/bewerken", notice)


HOLD_LIFTED = "dossier_uit_de_wacht_aangehouden"
"""The notice of a resume that lifted a hold kept by a parking: the case stays held until the
parking's date ('De status van het dossier is gewijzigd.' above 'Aangehouden' read as if
nothing had happened)."""


def _status_notice(case: Case, version: str, asked: str, before: CaseStatus) -> str:
    """The notice of a status form the service carried out: a change that left the version
    as the form saw it changed nothing (a crafted resume of a ready case was said to have
    changed its status), as the edit form says of a form that changes nothing. A resume that
    changes nothing found the case not held: 'had deze status al' was said above 'Aangemeld'
    of a case ready only from a later day. A hold or withdrawal of a case `before` in a running
    proposal withdrew that proposal: the notice says so."""
    if version == etag(case):
        return "dossier_niet_in_de_wacht" if asked == "ready" else "dossier_status_ongewijzigd"
    if before in CASE_IN_PROPOSAL:
        return "dossier_status_voorstel_ingetrokken"
    if lifecycle.state_of(case) == CaseState.parked:
        return HOLD_LIFTED  # only a resume of a held case leaves it parked
    return "dossier_status"


def _hold_lifted(session: Session, case: Case, patch: dict[str, Any], version: str) -> bool:
    """Whether a resume sent on the form of `version` is the one that lifted the hold of the
    stored case, kept parked after a decline (the form sent twice, a double click): the case
    is one version on from the form's, and that step is the hold lifted with the parking kept
    (the case's last transition from `on_hold` to `on_hold` without a reason; a hold records
    its reason). `_stands` cannot tell so from the case alone: a decline that parked a case
    one version on from a resume's form (a stale or crafted one) leaves it stored as
    `registered` too, its last transition from `proposed`."""
    if patch["status"] != CaseStatus.ready.value or lifecycle.state_of(case) != CaseState.parked:
        return False
    if version != etag(SimpleNamespace(version=case.version - 1)):
        return False
    last = _last_transition(session, case)
    return (
        last is not None
        and last.from_status == CaseStatus.on_hold
        and last.to_status == CaseStatus.on_hold
        and last.reason is None
    )


def _last_transition(session: Session, case: Case) -> CaseTransition | None:
    return session.exec(
        select(CaseTransition)
        .where(col(CaseTransition.case_id) == case.id)
        .order_by(col(CaseTransition.id).desc())
        .limit(1)
    ).first()


def _stands(case: Case, patch: dict[str, Any]) -> bool:
    """Whether the stored case is as the status form's `patch` asks: `ready` is stored as
    `registered` (a resumed case), so compared as such, but not a case parked after a decline,
    stored `registered` too: a resume sent as a decline parked it (after the form's parked
    check read it unparked) was said to be done, the case held until its date."""
    if patch["status"] == CaseStatus.ready.value:
        if lifecycle.state_of(case) == CaseState.parked:
            return False
        patch = patch | {"status": CaseStatus.registered}
    return all(getattr(case, name) == value for name, value in patch.items())


@router.post("/dossiers/{case_id}/status")
def change_status(
    request: Request, case_id: uuid.UUID, session: SessionDep, web: WebDep, form: FormDep
) -> Response:
    """Put on hold (`on_hold`), resume (`ready`) or withdraw (`withdrawn`), with a reason from
    the list; the lifecycle decides what is allowed from the current status."""
    _require_care_provider(web)
    case = _own_case(session, web, case_id, None)
    status = field(form, "status", 16)
    reason = field(form, "reden", 32)
    if status not in STATUS_CHOICES:
        return _fresh_page(request, session, web, case, 400, "Kies een statuswijziging.")
    patch: dict[str, Any] = {"status": status}
    if STATUS_CHOICES[status][1]:
        if reason not in STATUS_CHOICES[status][1]:
            error = "Kies een reden bij deze statuswijziging."
            return _fresh_page(request, session, web, case, 400, error)
        patch["status_reason"] = reason
    version = field(form, "versie", 40)
    if not version:
        return _fresh_page(request, session, web, case, 400, NO_VERSION)
    if status == "ready" and _hold_lifted(session, case, patch, version):
        # The form sent twice (a double click): the first sending lifted the hold, the
        # parking stays; its 409 'er is niets gewijzigd' read as the resume lost.
        return redirect(f"/dossiers/{case.id}/bewerken", HOLD_LIFTED)
    if status == "ready" and lifecycle.state_of(case) == CaseState.parked:
        # A form from before the decline (a stale one found the case stored `registered`, as a
        # resume leaves it, and said it was changed): the case is held until its date.
        return _fresh_page(
            request, session, web, case, 409, PARKED.format(dutch_date(case.parked_until))
        )
    return _write(
        request, session, web, case, patch, version, _stored_values(case), "dossier_status"
    )
