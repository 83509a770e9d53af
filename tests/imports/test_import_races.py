"""An import whose cases change between its read of them and its write (another request of the
same care provider, on another server process) lost a race: it runs again, as any request that
lost one, instead of refusing the file with 400 `import_rejected` for a problem the file does
not have (found by the fifth breaker with two servers: a concurrent import or registration of
the same references answered 400 `precondition_failed` or `duplicate_external_ref` rows).

PostgreSQL only: on SQLite one writer runs at a time, so nothing comes in between."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.access_log.service import AccessContext
from app.auth import Principal
from app.cases import service as cases_service
from app.cases.models import Case, CaseCreate, CaseUpdate
from app.imports import service as imports_service
from app.organisations.models import OrganisationKind
from app.vacancies import service as vacancies_service
from app.vacancies.models import Vacancy, VacancyIn, vacancy_public_dict
from tests.conftest import Org, Region, case_body, make_region
from tests.imports.sheets import case_row, dwelling_row, store_cases, table, upload, xlsx

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
