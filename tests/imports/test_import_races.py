"""An import whose cases change between its read of them and its write (another request of the
same care provider, on another server process) lost a race: it runs again, as any request that
lost one, instead of refusing the file with 400 `import_rejected` for a problem the file does
not have (found by the fifth breaker with two servers: a concurrent import or registration of
the same references answered 400 `precondition_failed` or `duplicate_external_ref` rows).

PostgreSQL only: on SQLite one writer runs at a time, so nothing comes in between."""

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app import transient
from app.access_log.service import AccessContext
from app.auth import Principal
from app.cases import service as cases_service
from app.cases.models import Case, CaseCreate, CaseUpdate
from app.imports import service as imports_service
from app.organisations.models import OrganisationKind
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy, VacancyIn, vacancy_public_dict
from tests.conftest import Org, Region, case_body, make_region, vacancy_body
from tests.imports.sheets import case_row, dwelling_row, store_cases, table, upload, xlsx
from tests.locks import takes_the_next_while_it_waits, wait_until_a_session_waits_for_a_lock

DWELLINGS = "/v1/vacancies/imports"


def _context(org: Org) -> AccessContext:
    principal = Principal(
        is_operator=False,
        organisation_id=uuid.UUID(org.id),
        organisation_kind=OrganisationKind(org.kind),
    )
    return AccessContext(principal=principal, endpoint="race")


def _meanwhile(  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    engine: Any,
    write: Callable[[Session], Any],
    reader: str = "_existing_cases",
):
    """Once the import has read its existing cases (or dwellings: `reader`), `write` commits in
    another transaction (the first time only: the import's second run finds it committed)."""
    read = getattr(imports_service, reader)
    done: list[bool] = []

    def existing_then_changed(session: Session, org_id: uuid.UUID, refs: list[str]) -> Any:
        found = read(session, org_id, refs)
        if not done:
            done.append(True)
            with Session(engine) as other:
                write(other)
                other.commit()
        return found

    monkeypatch.setattr(imports_service, reader, existing_then_changed)


def _case(engine: Any, ref: str) -> Case:
    with Session(engine) as session:
        return session.exec(select(Case).where(Case.external_ref == ref)).one()


def _two_requests(
    client: TestClient, org: Org, listing: str, request: Callable[[], Any]
) -> tuple[list[Any], threading.Thread, threading.Thread]:
    """Two threads (not started) that each send `request`, and the list their answers go to.
    `org`'s key's last use is written first (a GET of `listing`): neither request's
    authentication holds its row for it."""
    assert client.get(listing, headers=org.headers).status_code == 200
    answers: list[Any] = []

    def send() -> None:
        answers.append(request())

    return answers, threading.Thread(target=send), threading.Thread(target=send)


def _classified_failures(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The SQLSTATE of each failure the transient layer classifies from now on (None: not the
    database's, a lost race), in order: '40P01' is a deadlock PostgreSQL broke."""
    failures: list[str | None] = []
    classify = transient.classify

    def classified(error: BaseException) -> Any:
        failures.append(getattr(getattr(error, "orig", None), "sqlstate", None))
        return classify(error)

    monkeypatch.setattr(transient, "classify", classified)
    return failures


def _imported(client: TestClient, region: Region, rows: list[Any]) -> list[str]:
    """Import `rows` for the region's care provider; the outcome of each row."""
    response = store_cases(client, region, xlsx(table(rows)))
    assert response.status_code == 200, response.text
    return [item["outcome"] for item in response.json()["items"]]


def test_an_import_whose_case_is_edited_meanwhile_runs_again_and_keeps_both_changes(
    committed_postgresql, monkeypatch
):
    client, engine = committed_postgresql
    region = make_region(client)
    provider = region.care_provider
    created = client.post(
        "/v1/cases", json=case_body(region.table_id, external_ref="K-1"), headers=provider.headers
    )
    assert created.status_code == 201, created.text

    def edit(session: Session) -> None:
        case = session.get_one(Case, uuid.UUID(created.json()["id"]))
        patch = CaseUpdate.model_validate({"urgency": True})
        cases_service.update_case(session, _context(provider), case, patch, None)

    _meanwhile(monkeypatch, engine, edit)
    rows = [case_row("K-1", **{"Belastbaar jaarinkomen": "17.000,00"}), case_row("K-2")]

    assert _imported(client, region, rows) == ["updated", "created"]
    case = _case(engine, "K-1")
    assert (case.urgency, case.income_annual_taxable) == (True, 17000)  # neither lost


def test_an_import_whose_new_reference_is_registered_meanwhile_runs_again_and_updates_it(
    committed_postgresql, monkeypatch
):
    client, engine = committed_postgresql
    region = make_region(client)
    provider = region.care_provider
    body = CaseCreate.model_validate(case_body(region.table_id, external_ref="K-2"))
    _meanwhile(
        monkeypatch,
        engine,
        lambda session: cases_service.create_case(session, _context(provider), body),
    )
    rows = [case_row("K-1"), case_row("K-2", **{"Belastbaar jaarinkomen": "17.000,00"})]

    assert _imported(client, region, rows) == ["created", "updated"]
    assert _case(engine, "K-2").income_annual_taxable == 17000


def test_an_import_whose_dwelling_is_edited_meanwhile_runs_again_and_keeps_both_changes(
    committed_postgresql, monkeypatch
):
    """The file's columns left out keep what the import read of the dwelling; a change committed
    between that read and the write was overwritten with the value read (a lost update: the
    corporation's floor went back to 1). The import now runs again on the dwelling as changed."""
    client, engine = committed_postgresql
    region = make_region(client)
    corporation = region.corporation
    headers = corporation.headers
    first = xlsx(table([dwelling_row("V-1")]), "Woningen")
    stored = upload(client, DWELLINGS, first, headers, dry_run=False)
    assert stored.status_code == 200, stored.text
    principal = _context(corporation).principal

    def edit(session: Session) -> None:
        vacancy = vacancies_service.get_by_refs(session, uuid.UUID(corporation.id), ["V-1"])["V-1"]
        document = {
            k: v for k, v in vacancy_public_dict(vacancy).items() if k in VacancyIn.model_fields
        }
        changed = VacancyIn.model_validate({**document, "floor": 3})
        vacancies_service.upsert_vacancies(session, principal, [changed], batch=False)

    _meanwhile(monkeypatch, engine, edit, "_stored_dwellings")
    row = dwelling_row("V-1", **{"Kale huur": "700,00"})
    del row["Verdieping"]  # a column left out keeps what is stored
    response = upload(client, DWELLINGS, xlsx(table([row]), "Woningen"), headers, dry_run=False)

    assert response.status_code == 200, response.text
    assert [item["outcome"] for item in response.json()["items"]] == ["updated"]
    with Session(engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.external_ref == "V-1")).one()
        assert (vacancy.floor, vacancy.rent_base) == (3, 700)  # neither lost


def test_an_import_inserts_its_new_references_in_reference_order_so_two_imports_cannot_deadlock(
    committed_postgresql,
):
    """Two imports naming the same new references in other orders (two servers, a retried
    upload) inserted them in each file's row order: each inserted a reference the other then
    inserted, and each waited for the other's uncommitted row in `uq_cases_open_external_ref`, a
    deadlock PostgreSQL ended by aborting one (tests/concurrency/test_retry_safety_races.py's
    overlapping imports, seen in PostgreSQL's log). Another transaction registers the first
    reference (K-A) and holds it; an import of a file naming K-Z then K-A waits for it. Before,
    it had inserted K-Z first, so the other's K-Z waited for the import: the deadlock. Now it
    waits before it inserts K-Z, and the other registers K-Z without waiting."""
    client, engine = committed_postgresql
    region = make_region(client)
    provider = _context(region.care_provider)

    def register(session: Session, ref: str) -> None:
        body = CaseCreate.model_validate(case_body(region.table_id, external_ref=ref))
        cases_service.create_case(session, provider, body)

    answers: list[Any] = []
    rows = [case_row("K-Z"), case_row("K-A")]
    importer = threading.Thread(
        target=lambda: answers.append(store_cases(client, region, xlsx(table(rows))))
    )
    with Session(engine) as holder:
        register(holder, "K-A")
        # NOWAIT for an INSERT: a wait for the import's uncommitted K-Z ends in an error
        # (lock_timeout; a deadlock error where deadlock_timeout is shorter).
        holder.connection().exec_driver_sql("SET LOCAL lock_timeout = '100ms'")
        took_the_second = takes_the_next_while_it_waits(
            holder, importer, lambda s: register(s, "K-Z")
        )

    assert took_the_second, "the import held K-Z while it waited for K-A"
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert [item["outcome"] for item in answer.json()["items"]] == ["created", "created"]


@pytest.mark.parametrize("first_dry_run", [False, True], ids=["import", "dry-run"])
def test_two_imports_that_saw_a_reference_apart_wait_for_each_other_instead_of_deadlocking(
    committed_postgresql, monkeypatch, first_dry_run
):
    """Two imports of the same file, K-A and K-Z, K-Z registered by a third request just after
    the first import checked that neither was registered: the second import read K-Z as
    registered, updated it, and then inserted K-A, which the first had inserted before it went
    on to insert K-Z, whose unique index waits for that update. Each waited for the other:
    PostgreSQL ended it by aborting one, run again a second later (seen in
    tests/concurrency/test_retry_safety_races.py once the references were inserted in one
    order). Now an import waits for any other import of the same care provider before it reads
    its cases; no request meets a deadlock, and both files are stored.

    A check of the file (`first_dry_run`) waits for no import, and it writes the file too (in a
    savepoint it rolls back): as the first request it deadlocked with the import the same way,
    until an import inserted its new references before it updated its registered ones (found by
    the breaker: a check and an import of one file at once on two servers). The import's
    K-A then waits for the check's; the check finds K-Z registered (the import only locked it),
    loses the race and checks again once the import is stored."""
    client, engine = committed_postgresql
    region = make_region(client)
    provider = _context(region.care_provider)
    rows = [case_row(ref, **{"Belastbaar jaarinkomen": "17.000,00"}) for ref in ("K-A", "K-Z")]
    content = xlsx(table(rows))
    sent: list[bool] = []

    def send() -> Any:  # the first request is the check when `first_dry_run`
        dry_run = first_dry_run and not sent
        sent.append(True)
        return store_cases(client, region, content, dry_run=dry_run)

    answers, first, second = _two_requests(client, region.care_provider, "/v1/cases", send)
    checked, updated = threading.Event(), threading.Event()
    require_membership = cases_service._require_membership
    update = cases_service.update_case
    registered: list[bool] = []
    updates: list[bool] = []

    def membership_checked(session: Session, *args: Any) -> None:
        # In `create_cases`, after its check that no reference is registered: the first time
        # (the first import), K-Z is registered now.
        require_membership(session, *args)
        if not registered:
            registered.append(True)
            with Session(engine) as other:
                body = CaseCreate.model_validate(case_body(region.table_id, external_ref="K-Z"))
                cases_service.create_case(other, provider, body)
                other.commit()
            checked.set()
            # On once the second import has updated K-Z, or waits for this one.
            watcher = threading.Thread(target=updated.wait, args=(120,))
            watcher.start()
            wait_until_a_session_waits_for_a_lock(session, watcher)

    def update_case(session: Session, *args: Any, **kwargs: Any) -> Any:
        changed = update(session, *args, **kwargs)
        if not updates:  # the first update of K-Z: on once the other import waits for it
            updates.append(True)
            updated.set()
            wait_until_a_session_waits_for_a_lock(session, first)
        return changed

    monkeypatch.setattr(cases_service, "_require_membership", membership_checked)
    monkeypatch.setattr(cases_service, "update_case", update_case)
    failures = _classified_failures(monkeypatch)
    first.start()
    assert checked.wait(timeout=120)
    second.start()
    first.join(timeout=120)
    second.join(timeout=120)

    assert "40P01" not in failures, failures  # deadlock_detected
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert _case(engine, "K-A").income_annual_taxable == 17000
    assert _case(engine, "K-Z").income_annual_taxable == 17000


def _push_dwellings(client: TestClient, region: Region, refs: list[str]) -> Any:
    """The region's corporation pushes the dwellings `refs` in one batch, on the fourth floor."""
    items = [vacancy_body(external_ref=ref, floor=4) for ref in refs]
    return client.post(
        "/v1/vacancies/batch", json={"items": items}, headers=region.corporation.headers
    )


def _import_dwellings(client: TestClient, region: Region, refs: list[str]) -> Any:
    """The region's corporation imports a dwelling file naming `refs`, on the fourth floor."""
    rows = [dwelling_row(ref, Verdieping=4) for ref in refs]
    content = xlsx(table(rows), "Woningen")
    return upload(client, DWELLINGS, content, region.corporation.headers, dry_run=False)


@pytest.mark.parametrize("write", [_push_dwellings, _import_dwellings], ids=["batch", "file"])
def test_two_dwelling_writers_that_saw_a_reference_apart_do_not_deadlock(
    committed_postgresql, monkeypatch, write
):
    """The case imports' deadlock (above), staged for the corporation's writers of several
    dwellings: two batches (or dwelling files) of V-A and V-Z, V-Z registered by a single push
    just after the first checked that neither was there, the second reaching its writes with
    V-Z read as registered and locked while the first writes. Were the second to update V-Z
    before inserting V-A (as the case imports did), the first, holding V-A, would wait for that
    update and the second for the first's V-A: a deadlock. `upsert_vacancies` inserts its new
    dwellings before it updates any, so the first finds V-Z there without waiting (its lock is
    only a lock), loses the race and runs again behind the second: no request meets a deadlock,
    and both writes are stored."""
    client, engine = committed_postgresql
    region = make_region(client)
    principal = _context(region.corporation).principal
    refs = ["V-A", "V-Z"]
    answers, first, second = _two_requests(
        client, region.corporation, "/v1/vacancies", lambda: write(client, region, refs)
    )
    checked, reached = threading.Event(), threading.Event()
    insert_new = vacancies_service._insert_new
    calls: list[bool] = []
    registering: list[bool] = []

    def insert_after_the_other(session: Session, *args: Any) -> Any:
        # In `upsert_vacancies`, after its lookup of the references: the first call is the
        # first writer's, the second the second's (a request runs in a worker thread).
        if registering:  # the single push of V-Z
            return insert_new(session, *args)
        calls.append(True)
        if len(calls) == 1:  # found neither: V-Z registered now, then on once the second writes
            body = VacancyIn.model_validate(vacancy_body(external_ref="V-Z"))
            registering.append(True)
            with Session(engine) as other:
                vacancies_service.upsert_vacancies(other, principal, [body], batch=False)
                other.commit()
            registering.clear()
            checked.set()
            assert reached.wait(timeout=120)
        elif len(calls) == 2:  # V-Z read as registered and locked: on once the first waits
            reached.set()
            wait_until_a_session_waits_for_a_lock(session, first)
        return insert_new(session, *args)

    monkeypatch.setattr(vacancies_service, "_insert_new", insert_after_the_other)
    failures = _classified_failures(monkeypatch)
    first.start()
    assert checked.wait(timeout=120), [(a.status_code, a.text) for a in answers]
    second.start()
    first.join(timeout=120)
    second.join(timeout=120)

    assert "40P01" not in failures, failures  # deadlock_detected
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert reached.is_set(), "the second writer reached its writes while the first wrote"
    with Session(engine) as session:
        stored = session.exec(select(Vacancy).where(col(Vacancy.external_ref).in_(refs))).all()
        assert sorted((v.external_ref, v.floor) for v in stored) == [("V-A", 4), ("V-Z", 4)]
