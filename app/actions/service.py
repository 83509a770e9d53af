# Size: the hand-out, the update and a moved case's cancellation each check the action's case
# under its lock (FOR SHARE), in one lock order with the case's move and retention; split, that
# order would be spread over modules.
"""Actions: handed out by the chair, done by their owner, back on the agenda while open."""

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.access_log import service as access_log
from app.access_log.models import AccessAction
from app.access_log.service import AccessContext
from app.actions import lifecycle
from app.actions.models import (
    Action,
    ActionChange,
    ActionCreate,
    ActionKind,
    ActionPublic,
    ActionStatus,
    ActionTransition,
    ActionTransitionPublic,
    ActionUpdate,
    is_overdue,
    overdue_clause,
)
from app.cases.models import Case
from app.mail import service as mail
from app.meetings.models import Meeting
from app.organisations.models import Organisation, OrganisationKind
from app.principal import ACTIONS_FOR_ORGANISATIONS, Principal
from app.problems import Conflict, Forbidden, NotFound, Unprocessable
from app.tables.models import OutflowTable, TableMember
from app.tables.service import reads_table, sits_at
from app.timeutil import today, within_horizon
from app.versioning import document_etag, flush, lock_checked_as_read


def is_table_reader(context: AccessContext, table: OutflowTable) -> bool:
    return reads_table(context.principal, table)


def create_action(
    session: Session, context: AccessContext, table: OutflowTable, data: ActionCreate
) -> Action:
    """The chair's new action (flushed, logged, its owner notified). Forbidden for anyone
    else; Unprocessable (400) for an owner, case or meeting not of this table; Conflict 409
    `minutes_final` for a meeting whose minutes are final."""
    if context.principal.organisation_id != table.chair_organisation_id:
        raise Forbidden("The chair hands out actions.")
    # Locked: a removal of the owner from the table waits and then counts this open action.
    if not sits_at(session, table.id, data.owner_organisation_id):
        raise Unprocessable(
            "owner_organisation_id", "not a member of this table", "unknown_organisation"
        )
    if data.case_id is not None:
        # FOR SHARE: a move of the case waits for this action and then cancels it, or this
        # waits for the move and finds the case gone (`cancel_left_behind`).
        case = session.get(
            Case, data.case_id, with_for_update={"read": True}, populate_existing=True
        )
        if case is None or case.table_id != table.id:
            raise Unprocessable("case_id", "no such case at this table", "unknown_case")
        if case.anonymised_at is not None:
            raise _anonymised(hide=False)  # the chair hands actions out: it reads every case
        owner = session.get(Organisation, data.owner_organisation_id)
        if (
            owner is not None
            and owner.kind == OrganisationKind.care_provider
            and owner.id != case.care_provider_id
        ):
            # The action would show another care provider the case's id (its view, its
            # webhook): a case file is its own care provider's.
            raise Unprocessable(
                "owner_organisation_id",
                "a care provider owns actions about its own cases only",
                "owner_cannot_see_case",
            )
    if data.meeting_id is not None:
        # Locked FOR SHARE: marking the minutes final (FOR UPDATE) waits for this action and
        # then holds it, or this waits and sees them final.
        meeting = session.get(
            Meeting, data.meeting_id, with_for_update={"read": True}, populate_existing=True
        )
        if meeting is None or meeting.table_id != table.id:
            raise Unprocessable("meeting_id", "no such meeting of this table", "unknown_meeting")
        if meeting.minutes is not None:
            # Frozen minutes would never show it, and the next meeting's take only the
            # actions without a meeting: it would be in no minutes at all.
            raise Conflict(
                "The minutes of that meeting are final; hand the action out without a meeting "
                "(it then comes in the next meeting's minutes).",
                code="minutes_final",
            )
    action = Action(
        table_id=table.id,
        meeting_id=data.meeting_id,
        case_id=data.case_id,
        owner_organisation_id=data.owner_organisation_id,
        kind=data.kind.value,
        due_date=within_horizon("due_date", data.due_date, back=True),
        created_by_organisation_id=table.chair_organisation_id,
    )
    session.add(action)
    session.flush()
    lifecycle.record(session, action, actor_of(context), from_status=None, from_due_date=None)
    log_shown(session, context, table, [action])
    _notify_assigned(session, action, table)
    return action


def actor_of(context: AccessContext) -> lifecycle.Actor:
    return lifecycle.Actor(
        context.principal.organisation_id, context.principal.api_key_id, context.person_id
    )


def hides_case(principal: Principal, table: OutflowTable) -> bool:
    """A corporation does not see which case an action is about (the case file is not
    theirs), unless it chairs the table: the chair reads every case of it (`reads_table`)."""
    return principal.organisation_kind == OrganisationKind.housing_corporation and not reads_table(
        principal, table
    )


def _notify_assigned(session: Session, action: Action, table: OutflowTable) -> None:
    """`action.assigned` to the owner and the chair, each with what the API shows it."""
    from app.webhooks.service import emit

    recipients = {action.owner_organisation_id, table.chair_organisation_id}
    data = {
        "action_id": str(action.id),
        "table_id": str(table.id),
        "kind": action.kind,
        "owner_organisation_id": str(action.owner_organisation_id),
        "due_date": action.due_date.isoformat(),
        "case_id": str(action.case_id) if action.case_id else None,
    }
    kinds = session.exec(
        select(col(Organisation.id), col(Organisation.kind)).where(
            col(Organisation.id).in_(recipients)
        )
    ).all()
    views = {
        org_id: {**data, "case_id": None}
        for org_id, kind in kinds
        if kind == OrganisationKind.housing_corporation and org_id != table.chair_organisation_id
    }
    emit(
        session,
        event_type="action.assigned",
        organisation_ids=recipients,
        data=data,
        views=views,
    )


def _visible(context: AccessContext, table: OutflowTable, action: Action, session: Session) -> bool:
    if is_table_reader(context, table):
        return True
    me = context.principal.organisation_id
    if action.owner_organisation_id == me:
        return True
    if context.principal.organisation_kind == OrganisationKind.care_provider and action.case_id:
        case = session.get(Case, action.case_id)
        return case is not None and case.care_provider_id == me
    return False


def get_action(
    session: Session, context: AccessContext, action_id: uuid.UUID
) -> tuple[Action, OutflowTable]:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound("No such action.")
    if context.principal.organisation_id is None:
        # The operator sees the tables and their meetings; it is refused an action, which
        # may name a case, rather than told there is none (as a proposal is refused it).
        raise Forbidden(ACTIONS_FOR_ORGANISATIONS)
    table = session.get(OutflowTable, action.table_id)
    member = (
        session.get(TableMember, (action.table_id, context.principal.organisation_id))
        if context.principal.organisation_id
        else None
    )
    if table is None or member is None or not _visible(context, table, action, session):
        raise NotFound("No such action.")
    log_shown(session, context, table, [action])
    return action, table


def log_shown(
    session: Session, context: AccessContext, table: OutflowTable, actions: list[Action]
) -> None:
    """An action shown with its case id is an access to that case file (a corporation other
    than the chair is shown none, so its reading is no such access)."""
    if hides_case(context.principal, table):
        return
    cases = dict.fromkeys((a.case_id, a.table_id) for a in actions if a.case_id is not None)
    access_log.record(session, context, AccessAction.action, cases)


def list_actions(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    *,
    status: str | None,
    overdue_on: date | None,
    after: uuid.UUID | None,
    limit: int,
    logged: bool = True,
) -> list[Action]:
    """The table's actions the caller may see, a page of them, each case shown logged; with
    `logged=False` the caller logs (`log_shown`) those it shows of them."""
    query = select(Action).where(Action.table_id == table.id)
    if status is not None:
        query = query.where(Action.status == status)
    if overdue_on is not None:
        query = query.where(overdue_clause(overdue_on))
    if not is_table_reader(context, table):
        me = context.principal.organisation_id
        own_cases = select(Case.id).where(Case.care_provider_id == me)
        query = query.where(
            (col(Action.owner_organisation_id) == me) | (col(Action.case_id).in_(own_cases))
        )
    if after is not None:
        query = query.where(Action.id > after)
    # One row more than the page, to know whether there is a next page; only the page is logged.
    rows = list(session.exec(query.order_by(col(Action.id)).limit(limit + 1)))
    if logged:
        log_shown(session, context, table, rows[:limit])
    return rows


def update_action(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    action: Action,
    data: ActionUpdate,
    if_match: str | None,
    *,
    if_none_match: str | None = None,
) -> Action:
    """Close, cancel or reopen the action, or move its due date (the owner or the chair).

    The action is locked and `If-Match` compared with its committed version (412 when stale).
    """
    me = context.principal.organisation_id
    if me not in (action.owner_organisation_id, table.chair_organisation_id):
        raise Forbidden("Only the action's owner or the chair updates it.")
    case = None
    if action.case_id is not None:  # FOR SHARE before the action, as a move locks them: a
        # move waits for this change, then cancels the action if open, or this sees it moved.
        case = session.get(
            Case, action.case_id, with_for_update={"read": True}, populate_existing=True
        )
    hide = hides_case(context.principal, table)
    action = lock_checked_as_read(
        session,
        action,
        "action",
        if_match,
        if_none_match,
        lambda locked: action_etag(locked, action_public(locked, hide)),
    )
    for name in data.model_fields_set:
        if getattr(data, name) is None:
            raise Unprocessable(name, "cannot be null; leave it out to keep the current value")
    reopened = data.status == ActionStatus.open and action.status != ActionStatus.open
    if reopened and not sits_at(session, table.id, action.owner_organisation_id):
        # Its owner left the table once it had closed it: reopened, it would stand on the
        # agenda with an owner that can no longer reach it (as `update_table` refuses).
        raise Conflict(
            "The action's owner is no longer a member of this table; hand out a new action.",
            code="owner_not_member",
        )
    from_status, from_due_date = action.status, action.due_date
    if data.status is not None:
        lifecycle.fire(action, lifecycle.EVENT_FOR_STATUS[data.status])
    if data.due_date is not None and data.due_date != action.due_date:
        # Only a new day is checked: a client sending the stored one back changes nothing.
        action.due_date = within_horizon("due_date", data.due_date, back=True)
    moved = action.due_date != from_due_date
    if case is not None and case.table_id != table.id and (moved or from_status != action.status):
        # Kept as history at the table the case left (the pages offer it no control either).
        raise _moved_away(hide)
    if case is not None and case.anonymised_at is not None and (moved or reopened):
        # Retention removed the file; closing a left-over open action stays allowed.
        raise _anonymised(hide)
    if moved:
        lifecycle.check_move(from_status, action.status)
    session.add(action)
    # Before the next query writes the action: `record` may still move its completed_at.
    lifecycle.record(
        session, action, actor_of(context), from_status=from_status, from_due_date=from_due_date
    )
    if moved or action.status != ActionStatus.open:
        mail.forget_overdue_notice(session, action.id)
    flush(session, if_match, "action")
    return action


def _moved_away(hide: bool) -> Conflict:
    """409 for a change of an action kept as history at the table its case left: `case_moved`,
    or to a reader not shown the case (`hides_case`) `action_kept_as_history`, which says
    nothing of the case: that the client moved tables is not a corporation's to know."""
    if hide:
        return Conflict(
            "The action is kept as history and changes no more; the chair hands out a new one.",
            code="action_kept_as_history",
        )
    return Conflict(
        "The case has moved to another table; hand out a new action there.", code="case_moved"
    )


def _anonymised(hide: bool) -> Conflict:
    """409 `case_anonymised`: retention anonymised the action's case (its lock, FOR SHARE,
    held): no action is handed out about it any more, nor reopened or given another date, as
    no aftercare is agreed for it (`app.aftercare.service`). To a reader not shown the case
    (`hides_case`) `action_kept_as_history`, as for a case that moved: that the client's file
    was closed long enough ago to be anonymised is not a corporation's to know."""
    if hide:
        return _moved_away(hide)
    return Conflict(
        "The case file is anonymised (retention); no action about it is handed out, reopened "
        "or given another due date any more.",
        code="case_anonymised",
    )


def cancel_left_behind(session: Session, context: AccessContext, case: Case) -> None:
    """The case moved to another table: its open actions at the tables it left are cancelled
    (kept as their history, each cancellation a `case_moved` transition under the mover,
    `context`), as it is no longer theirs to handle; they stood on their agenda, lists,
    digests and overdue notices, naming a client that table no longer reads. Called with
    the case locked (its move), so an action being handed out about it or reopened (which read
    it FOR SHARE) waits for the move and then sees it gone."""
    left_behind = session.exec(
        select(Action)
        .where(
            Action.case_id == case.id,
            Action.status == ActionStatus.open,
            Action.table_id != case.table_id,
        )
        .order_by(col(Action.id))
        .with_for_update()
    ).all()
    for action in left_behind:
        lifecycle.fire(action, lifecycle.ActionEvent.cancel)
        session.add(action)
        lifecycle.record(
            session,
            action,
            actor_of(context),
            from_status=ActionStatus.open,
            from_due_date=action.due_date,
            change=ActionChange.case_moved,
        )
        mail.forget_overdue_notice(session, action.id)


def list_transitions(
    session: Session,
    context: AccessContext,
    table: OutflowTable,
    action: Action,
    *,
    after: uuid.UUID | None,
    limit: int,
) -> list[ActionTransitionPublic]:
    """The action's history, oldest first, as the caller is shown it (the caller may see the
    action: `get_action`). Another organisation's API key or person is not shown, and an actor
    the action does not name (the care provider that moved its case) not to a corporation that
    is not shown the case, which reads a cancellation as its case moved as a plain `cancel`
    (that the client moved tables is not its to know)."""
    query = select(ActionTransition).where(ActionTransition.action_id == action.id)
    if after is not None:
        query = query.where(ActionTransition.id > after)
    rows = session.exec(query.order_by(col(ActionTransition.id)).limit(limit))
    me = context.principal.organisation_id
    named = {
        action.owner_organisation_id,
        action.created_by_organisation_id,
        table.chair_organisation_id,
        me,
    }
    hidden = hides_case(context.principal, table)
    items = []
    for row in rows:
        item = ActionTransitionPublic.model_validate(row, from_attributes=True)
        if row.actor_organisation_id != me:
            item.actor_api_key_id = item.actor_person_id = None
        if hidden and row.actor_organisation_id not in named:
            item.actor_organisation_id = None
        if hidden and row.change == ActionChange.case_moved:
            item.change = ActionChange.cancel  # why it was cancelled tells the case moved
        items.append(item)
    return items


def action_etag(action: Action, shown: ActionPublic) -> str:
    """The ETag of a read of the action that showed `shown` (`action_public` as the caller
    sees it): its version and a digest of what it shows, as `overdue` counts from today: the
    version alone let `If-None-Match` answer 304 to a copy that still said not overdue once the
    due date had passed. A write takes it in `If-Match` as well as the version's."""
    return document_etag(action, shown.model_dump(mode="json"))


def action_public(action: Action, for_corporation: bool, on: date | None = None) -> ActionPublic:
    on = on or today()
    return ActionPublic(
        id=action.id,
        table_id=action.table_id,
        meeting_id=action.meeting_id,
        case_id=None if for_corporation else action.case_id,
        owner_organisation_id=action.owner_organisation_id,
        kind=ActionKind(action.kind),  # stored as str
        due_date=action.due_date,
        status=action.status,
        overdue=is_overdue(action.status, action.due_date, on),
        created_by_organisation_id=action.created_by_organisation_id,
        version=action.version,
        created_at=action.created_at,
        updated_at=action.updated_at,
        completed_at=action.completed_at,
    )


def open_actions_for_agenda(
    session: Session, table_id: uuid.UUID, on: date
) -> list[dict[str, Any]]:
    """Open actions of the table as the agenda lists them (overdue on the agenda's date), each
    with `case_care_provider_id`, the care provider of its case, for the views to cut by (the
    agenda's own cases are only those it matches) and leave out."""
    rows = session.exec(
        select(Action, Case.care_provider_id)
        .outerjoin(Case, col(Case.id) == col(Action.case_id))
        .where(Action.table_id == table_id, Action.status == ActionStatus.open)
        .order_by(col(Action.due_date), col(Action.id))
    )
    return [
        {
            "id": str(a.id),
            "kind": a.kind,
            "owner_organisation_id": str(a.owner_organisation_id),
            "case_id": str(a.case_id) if a.case_id else None,
            "case_care_provider_id": str(provider) if provider else None,
            "meeting_id": str(a.meeting_id) if a.meeting_id else None,
            "due_date": a.due_date.isoformat(),
            "overdue": is_overdue(a.status, a.due_date, on),
        }
        for a, provider in rows
    ]
