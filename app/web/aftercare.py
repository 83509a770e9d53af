"""After the move on the pages (Nazorg): what the case page, the table's Nazorg page, the
minutes and the monitor show of a tenancy, read through the aftercare services so each page
shows exactly what the API shows the same organisation (and logs it the same way).

Who may do what is the API's (`app.aftercare.service`): the case's care provider makes the
aftercare agreement and records checkpoints; the care provider and the corporation plan the
omklap and end the tenancy; only the corporation records the transfer. The chair and the
municipalities read; a corporation sees the lease, the omklap, the end and, of the follow-up,
the checkpoints' state and the landlord's signals (rent arrears, nuisance), never the support.
On top of that a person with the role `viewer` records nothing.
"""

import uuid
from typing import Any

from sqlmodel import Session

from app.aftercare import service as aftercare
from app.aftercare.models import (
    AftercareAgreement,
    CheckpointState,
    ContactFrequency,
    RecordedSignal,
    Signal,
    TenancyEndReason,
    TenancyStatus,
    TransferCondition,
)
from app.aftercare.service import Viewer
from app.cases.models import SupportIntensity
from app.organisations.models import OrganisationKind
from app.people.models import PersonRole
from app.problems import NotFound
from app.tables.models import OutflowTable
from app.tables.service import table_public
from app.timeutil import today
from app.web import labels
from app.web.core import Web
from app.web.formatting import case_code, dutch_date
from app.web.sections import Section

OPEN = (CheckpointState.due, CheckpointState.overdue)


def attention(document: dict[str, Any]) -> dict[str, Any]:
    """What asks for attention in one tenancy document (as the viewer sees it): the
    checkpoints due or overdue and not recorded, every signal its recorded checkpoints raised
    (a corporation's document holds only the landlord's), and whether the omklap is overdue."""
    checkpoints = document["checkpoints"]
    signals = {s for c in checkpoints for s in c["signals"]}
    transfer = document["transfer"]
    # An ended tenancy takes no checkpoint any more (409 `tenancy_ended`): none is open. (Those
    # of an anonymised file, 409 `case_anonymised`, are `not_due` in the document itself.)
    left = [] if document["status"] == TenancyStatus.ended else checkpoints
    return {
        "open": [c for c in left if c["state"] in OPEN],
        "overdue": [c for c in left if c["state"] == CheckpointState.overdue],
        "next": next((c for c in left if c["state"] == CheckpointState.upcoming), None),
        "signals": [s.value for s in Signal if s in signals],
        "transfer_overdue": bool(transfer and transfer["overdue"]),
    }


def case_section(session: Session, web: Web, case_id: uuid.UUID) -> dict[str, Any] | None:
    """The Nazorg section of a case page: None when the case has no tenancy the person's
    organisation may see (not housed, or not theirs). Reading it writes the access log
    (`aftercare`, through `app.aftercare.service.get_tenancy`)."""
    try:
        tenancy, viewer = aftercare.get_tenancy(session, web.access(), case_id)
    except NotFound:
        return None
    document = aftercare.tenancy_document(session, tenancy, viewer)
    agreement: AftercareAgreement | None = None
    if viewer != Viewer.corporation:
        agreement = session.get(AftercareAgreement, case_id)
    writer = web.role != PersonRole.viewer
    running = tenancy.status != TenancyStatus.ended
    anonymised = aftercare.is_anonymised(session, case_id)
    keeps = aftercare.keeps(tenancy, web.organisation.id)
    awaiting = tenancy.status == TenancyStatus.awaiting_transfer
    own = viewer == Viewer.care_provider
    table = session.get(OutflowTable, tenancy.table_id)
    assert table is not None  # a foreign key
    members = table_public(session, table).members
    # The dwelling let again to a next tenant: the end is due, on that move-in at the latest.
    let_again_on = aftercare.next_move_ins(session, [tenancy]).get(case_id) if running else None
    # The tenant registered again (here or at another table): not the landlord's to know.
    back = running and viewer != Viewer.corporation
    returned_on = aftercare.returns(session, [tenancy]).get(case_id) if back else None
    now = today()
    return {
        "doc": document,
        "viewer": viewer.value,
        "agreement": agreement,
        "attention": attention(document),
        "version": tenancy.version,
        "agreement_version": agreement.version if agreement else "nieuw",
        "anonymised": anonymised,
        "can_agree": writer and own and running and not anonymised,
        "can_check": writer and own and running and not anonymised,
        "can_plan": writer and keeps and awaiting,
        "can_transfer": writer and web.organisation.id == tenancy.corporation_id and awaiting,
        "can_end": writer and keeps and running,
        "open_months": [
            c["months"]
            for c in document["checkpoints"]
            if c["state"] in (*OPEN, CheckpointState.upcoming)
        ],
        "supporters": [
            (str(m.id), m.name) for m in members if m.kind == OrganisationKind.care_provider
        ],
        "names": {str(m.id): m.name for m in members},
        "choices": {
            "support": [(s.value, labels.label("support", s.value)) for s in SupportIntensity],
            "contact": [
                (f.value, labels.label("contact_frequency", f.value)) for f in ContactFrequency
            ],
            "action_signals": [(s.value, labels.label("signal", s.value)) for s in Signal],
            "recorded_signals": [
                (s.value, labels.label("signal", s.value)) for s in RecordedSignal
            ],
            "conditions": [
                (c.value, labels.label("transfer_condition", c.value)) for c in TransferCondition
            ],
            "end_reasons": [
                (r.value, labels.label("end_reason", r.value)) for r in TenancyEndReason
            ],
        },
        "today": now,
        "let_again_on": let_again_on,
        "returned_on": returned_on,
        "latest_end": min(now, let_again_on) if let_again_on else now,
    }


def organisations_named(entries: list[dict[str, Any]]) -> list[Any]:
    """The care providers and corporations the agenda's aftercare entries name (for
    `organisations.service.names_of`: also one that has left the table since, as a tenancy's
    aftercare goes on after its provider or landlord left)."""
    return [e.get(key) for e in entries for key in ("care_provider_id", "corporation_id")]


def agenda_section(entries: list[dict[str, Any]], names: dict[str, str]) -> Section:
    """The agenda's aftercare entries (`app.aftercare.agenda`, already cut to the viewer) as
    the minutes' page, PDF and CSV show them: kind, case, checkpoint or transfer day, overdue,
    signals, suggested action, care provider and corporation (a corporation's entries carry no
    care provider)."""
    rows = []
    for e in entries:
        what = labels.label("aftercare_item", e["kind"])
        if e.get("months"):
            what += f" na {e['months']} maanden"
        rows.append(
            [
                what,
                case_code(e["case_id"]),
                dutch_date(e["due_on"]),
                "ja" if e["overdue"] else "nee",
                dutch_date(e["recorded_on"]),
                ", ".join(labels.label("signal", s) for s in e["signals"]),
                labels.label("action_kind", e.get("suggested_action_kind")),
                names.get(str(e.get("care_provider_id")), ""),
                names.get(str(e["corporation_id"]), ""),
            ]
        )
    return Section(
        "nazorg",
        "Nazorg: controles, signalen en omklap",
        [
            "Onderwerp",
            "Dossier",
            "Datum",
            "Te laat",
            "Vastgelegd op",
            "Signalen",
            "Voorgestelde actie",
            "Zorgaanbieder",
            "Corporatie",
        ],
        rows,
        [(e["case_id"], "") for e in entries],
        [1.3, 1, 1, 0.6, 1, 1.5, 1.3, 1.2, 1.2],
    )
