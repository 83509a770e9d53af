"""The figures after the move on the monitor page and in its CSV: the cells the API gives the
same organisation (`GET /v1/tables/{id}/monitor/sustainment`), suppressed ones empty, and every
download in the access log."""

import csv
import io

from app.monitor.models import SIGNAL_CODES
from app.web.sustainment import COHORT_COLUMNS
from tests.aftercare.housing import access_log, record_signals
from tests.clock import iso
from tests.web.conftest import make_person, signed_in

# Up to the later housing (conftest `housed`, 200 and 120 days ago): organisations that get
# suppressed figures read the calendar year of `tot`, which then holds both housings.
RANGE = {"van": iso(-300), "tot": iso(-120), "periode": "month"}


def api_figures(client, region, org):  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/tables/{region.table_id}/monitor/sustainment",
        params={"start": RANGE["van"], "end": RANGE["tot"], "period": "month"},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def csv_blocks(browser, region) -> dict[str, list[list[str]]]:  # type: ignore[no-untyped-def]
    response = browser.get(f"/tafels/{region.table_id}/monitor/nazorg.csv", params=RANGE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    blocks: dict[str, list[list[str]]] = {}
    for row in rows:
        if row and row[0] in ("duurzaamheid", "signalen"):
            blocks.setdefault(row[0], []).append(row[1:])
    return blocks


def same_cell(shown: str, value: object) -> bool:
    """An empty cell is a suppressed (null) figure; a share is shown as a percentage."""
    if value is None:
        return shown == ""
    if isinstance(value, float):
        return abs(float(shown.rstrip("%").replace(",", ".")) - value * 100) < 0.06
    return shown == str(value)


def agrees(blocks, figures) -> int:  # type: ignore[no-untyped-def]
    """Check the CSV against the API's document cell by cell; returns how many are hidden."""
    cohorts = [*figures["cohorts"], figures["cohorts_total"]]
    signals = [*figures["signals"], figures["signals_total"]]
    hidden = 0
    for rows, expected, key, names in (
        (blocks["duurzaamheid"], cohorts, "cohort", [n for n, _ in COHORT_COLUMNS]),
        (blocks["signalen"], signals, "period", ["checkpoints", *SIGNAL_CODES]),
    ):
        assert [r[0] for r in rows] == [e[key] for e in expected]
        for row, entry in zip(rows, expected, strict=True):
            for shown, name in zip(row[1:], names, strict=True):
                assert same_cell(shown, entry[name]), (entry[key], name, shown, entry[name])
                hidden += entry[name] is None and not name.startswith("share")
    return hidden


def test_the_export_holds_the_cells_the_api_gives_each_organisation(
    app,
    client,
    region,
    housed,
):
    mine, _ = housed
    record_signals(client, region, mine)
    for org, suppressed in (
        (region.chair, False),
        (region.corporation, True),
        (region.care_provider, True),
    ):
        figures = api_figures(client, region, org)
        assert figures["suppression"] is suppressed
        blocks = csv_blocks(signed_in(app, make_person(client, org)), region)
        hidden = agrees(blocks, figures)
        # One housing and one checkpoint that are not the viewer's own: never shown to it.
        assert (hidden > 0) is suppressed, org.kind
    totals = api_figures(client, region, region.chair)["cohorts_total"]
    assert totals["housed"] == 2 and totals["transfers_planned"] == 0


def test_the_monitor_page_shows_the_figures_after_the_move(app, client, region, housed):
    person = make_person(client, region.corporation)
    browser = signed_in(app, person)
    page = browser.get(f"/tafels/{region.table_id}/monitor", params=RANGE)
    assert page.status_code == 200, page.text
    assert "Na de verhuizing: blijven mensen wonen?" in page.text
    assert "Nog gehuisvest en omklap, per cohort van verhuizing" in page.text
    assert "nazorg.csv?van=" in page.text
    browser.get(f"/tafels/{region.table_id}/monitor/nazorg.csv", params=RANGE)
    exports = [
        e["endpoint"]
        for e in access_log(client, region)
        if e["person_id"] == person.id and e["action"] == "monitor_export"
    ]
    assert exports.count("GET /tafels/{table_id}/monitor/nazorg.csv") == 1


def test_a_backwards_range_is_refused(app, client, region):
    browser = signed_in(app, make_person(client, region.chair))
    response = browser.get(
        f"/tafels/{region.table_id}/monitor/nazorg.csv",
        params={"van": iso(0), "tot": iso(-30)},
    )
    assert response.status_code == 400


def test_the_cohort_caption_uses_the_article_of_its_period(app, client, region, housed):
    """ "Een cohort zijn de mensen die in dezelfde kwartaal verhuisden": kwartaal and jaar take
    hetzelfde (found walking the README's monitor as a care provider, per quarter)."""
    browser = signed_in(app, make_person(client, region.care_provider))
    url = f"/tafels/{region.table_id}/monitor"
    for period, words in (
        ("month", "dezelfde maand"),
        ("quarter", "hetzelfde kwartaal"),
        ("year", "hetzelfde jaar"),
    ):
        page = browser.get(url, params=RANGE | {"periode": period})
        assert page.status_code == 200, page.text
        assert f"Een cohort zijn de mensen die in {words} verhuisden." in page.text
