"""What the agenda reads from the database: each case's and dwelling's lists as stored, whatever
their type on the dialect (`app.agenda.inputs` reads JSON columns as text and decodes each
distinct text once)."""

import uuid

from app.agenda import inputs as agenda_inputs
from app.cases.models import Case
from app.tables.models import OutflowTable
from app.vacancies.models import Vacancy
from tests.clock import day
from tests.conftest import create_case, create_vacancy


def test_the_agenda_reads_every_case_s_and_dwelling_s_lists_as_stored(client, region, session):
    a, b = region.corporation.id, region.other_corporation.id
    areas = [
        {"preferred": ["GM0344", "BU03440101"], "excluded": ["WK034402"]},
        {"preferred": ["GM0344", "BU03440101"], "excluded": ["WK034402"]},
        {"preferred": [], "excluded": []},
    ]
    arrears = [[a], [a], [a, b]]
    for area, owed in zip(areas, arrears, strict=True):
        create_case(
            client,
            region.care_provider,
            region.table_id,
            areas=area,
            debts={"rent_arrears_corporation_ids": owed},
        )
    for forms in (["own_lease"], ["own_lease"], ["own_lease", "intermediate_lease"]):
        create_vacancy(client, region.corporation, contract_forms=forms)
    table = session.get(OutflowTable, uuid.UUID(region.table_id))
    read = agenda_inputs.load_inputs(session, table, day(0))

    assert len(read.cases) == 3 and len(read.vacancies) == 3
    for row in read.cases:
        stored = session.get(Case, row.id)
        assert row.areas_preferred == stored.areas_preferred
        assert row.areas_excluded == stored.areas_excluded
        assert row.debts_rent_arrears_corporation_ids == stored.debts_rent_arrears_corporation_ids
    for row in read.vacancies:
        assert row.contract_forms == session.get(Vacancy, row.id).contract_forms
    # Equal lists decoded once are still each row's own.
    first, second = read.cases[0].areas_preferred, read.cases[1].areas_preferred
    lists = [r.areas_preferred for r in read.cases] + [r.contract_forms for r in read.vacancies]
    assert len({id(values) for values in lists}) == len(lists)
    assert first is not second
