"""Whatever people type into the cells, the import answers a report (never a server error), and
a real import agrees with its dry run: stored whole when the check found nothing, else nothing
stored at all."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.imports.sheets import CASES, case_row, csv_file, table, upload, xlsx
from tests.properties import examples

TYPED = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.sampled_from(["ja", "nee", "1.250", "31-02-2026", "=SOM(A1)", "GM0344", "#N/B", "0"]),
    st.integers(min_value=-10, max_value=50_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
COLUMNS = ["Volwassenen", "Belastbaar jaarinkomen", "Klaar voor uitstroom sinds", "Urgentie"]


@settings(max_examples=examples(15), database=None, suppress_health_check=list(HealthCheck))
@given(
    cells=st.lists(st.tuples(st.sampled_from(COLUMNS), TYPED), min_size=1, max_size=4),
    as_csv=st.booleans(),
)
def test_typed_cells_get_a_report_and_the_import_agrees_with_its_check(
    client, region, cells, as_csv
):  # type: ignore[no-untyped-def]
    ref = f"K-{uuid.uuid4().hex[:10]}"  # each example its own case file
    row = case_row(ref, **dict(cells))
    if as_csv:
        content, name = csv_file(table([row])), "x.csv"
    else:
        content, name = xlsx(table([row])), "x.xlsx"
    headers = region.care_provider.headers
    check = upload(client, CASES, content, headers, name, table_id=region.table_id)
    assert check.status_code == 200, check.text
    real = upload(client, CASES, content, headers, name, table_id=region.table_id, dry_run=False)
    stored = client.get("/v1/cases", params={"externalRef": ref}, headers=headers).json()
    if check.json()["valid"]:
        assert real.status_code == 200, real.text
        assert [c["external_ref"] for c in stored["items"]] == [ref]
    else:
        assert real.status_code == 400, real.text
        assert real.json()["issues"] == check.json()["issues"]
        assert stored["items"] == []
