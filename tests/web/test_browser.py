"""End to end in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
drives the pages of a real `uitstroomtafel serve` process on loopback, against a fresh committed
database on each backend.

A chair signs in, schedules and publishes a meeting, records a decision, sees it on the case's
timeline, downloads the agenda as PDF and CSV and reads the monitor; a person of another table's
organisation gets 404 pages; five wrong passwords lock an account; every page passes axe-core's
WCAG 2.1 A/AA rules. The agenda page's screenshot is kept in `test-artifacts/agenda.png` (and the
monitor's in `monitor.png`).
"""

import base64
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from tests.clock import TODAY, day, iso

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REQUIRE_BROWSER = os.environ.get("UITSTROOM_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
OPERATOR_KEY = "browser-test-operator-key-0123456789abcdef"
PASSWORD = "een lang en geheim wachtwoord"
FIRST_MEETING = iso(-21)
MEETING = iso(-14)
MONTHS = "januari februari maart april mei juni juli augustus september oktober november december"
# How the pages write the meeting's date, e.g. "16 november 2026".
MEETING_IN_DUTCH = f"{day(-14).day} {MONTHS.split()[day(-14).month - 1]} {day(-14).year}"
WAIT = 120  # seconds a Selenium wait may take on a loaded machine before the test fails

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if REQUIRE_BROWSER:
        pytest.fail(
            "UITSTROOM_REQUIRE_BROWSER=1 but /usr/bin/chromium or /usr/bin/chromedriver is "
            "missing (apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    pytest.skip(
        "browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium, "
        "/usr/bin/chromedriver); .ci/run installs them",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from selenium_axe_python import Axe  # noqa: E402

from app.web.sustainment import COHORT_COLUMNS  # noqa: E402
from tests.conftest import case_body, vacancy_body, writable_limits  # noqa: E402
from tests.served import serving  # noqa: E402

# What these tests check is how the browser lays out and prints the pages' HTML, which is the
# same whichever database the server reads: they run on SQLite only (half the module's time).
# The pages' reads and writes on PostgreSQL are checked by the page tests (tests/web) and, in
# the browser, by the chair's meeting, another table's 404 pages and the lock after five
# wrong passwords.
LAYOUT = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def server(databases) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real server process, started as a user starts it, over plain http on loopback with
    the default Secure session cookie (browsers treat loopback as a secure context)."""
    env = {
        **os.environ,
        "UITSTROOM_DATABASE_URL": databases.migrated_url(),
        "UITSTROOM_ADMIN_KEY": OPERATOR_KEY,
        "UITSTROOM_MIGRATE_ON_START": "true",
        "UITSTROOM_WEBHOOK_WORKER": "false",
    }
    with serving(env) as served:
        yield served.base


def _api(base: str, method: str, path: str, key: str = OPERATOR_KEY, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    response = httpx.request(
        method, base + path, headers={"Authorization": f"Bearer {key}"}, timeout=120, **kwargs
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def _organisation(base: str, kind: str) -> tuple[str, str]:
    org = _api(
        base,
        "POST",
        "/v1/organizations",
        json={"name": f"{kind} {uuid.uuid4().hex[:6]}", "kind": kind},
    )
    key = _api(base, "POST", f"/v1/organizations/{org['id']}/api-keys", json={"label": "e2e"})
    return org["id"], key["key"]


def _person(base: str, org_id: str, key: str, role: str, is_admin: bool = False) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.nl"
    _api(
        base,
        "POST",
        f"/v1/organizations/{org_id}/people",
        key,
        json={
            "email": email,
            "display_name": f"E2E {role}",
            "role": role,
            "password": PASSWORD,
            "is_admin": is_admin,
        },
    )
    return email


@pytest.fixture(scope="module")
def scenario(server: str) -> dict[str, str]:
    """A table with a chair municipality, a care provider and a corporation; an earlier meeting
    published through the API; a second case and dwelling for the meeting the chair runs in the
    browser; and another table with its own organisation and person."""
    chair_id, chair_key = _organisation(server, "municipality")
    provider_id, provider_key = _organisation(server, "care_provider")
    corporation_id, corporation_key = _organisation(server, "housing_corporation")
    outsider_id, outsider_key = _organisation(server, "municipality")
    table = _api(
        server,
        "POST",
        "/v1/tables",
        json={
            "name": f"E2E tafel {uuid.uuid4().hex[:6]}",
            "municipality_codes": ["GM0344"],
            "chair_organisation_id": chair_id,
            "member_organisation_ids": [provider_id, corporation_id],
        },
    )
    _api(
        server,
        "POST",
        "/v1/tables",
        json={
            "name": f"E2E andere tafel {uuid.uuid4().hex[:6]}",
            "municipality_codes": ["GM0363"],
            "chair_organisation_id": outsider_id,
        },
    )
    first_case = _api(server, "POST", "/v1/cases", provider_key, json=case_body(table["id"]))
    # Available today: the first proposal is housed today (`_house`).
    _api(
        server,
        "POST",
        "/v1/vacancies",
        corporation_key,
        json=vacancy_body(complex_ref="A", available_from=iso(0)),
    )
    first = _api(
        server,
        "POST",
        f"/v1/tables/{table['id']}/meetings",
        chair_key,
        json={"date": FIRST_MEETING},
    )
    _api(server, "POST", f"/v1/meetings/{first['id']}/publish", chair_key)
    [first_proposal] = _api(server, "GET", f"/v1/tables/{table['id']}/proposals", chair_key)[
        "items"
    ]
    _house(server, first_proposal["id"], chair_key, corporation_key)
    case = _api(server, "POST", "/v1/cases", provider_key, json=case_body(table["id"]))
    _api(server, "POST", "/v1/vacancies", corporation_key, json=vacancy_body(complex_ref="B"))
    return {
        "table_id": table["id"],
        "case_id": case["id"],
        "first_meeting_id": first["id"],
        "first_proposal_id": first_proposal["id"],
        "first_case_id": first_case["id"],
        "first_vacancy_id": first_proposal["vacancy_id"],
        # An admin, so that the audit reaches the people page (/mensen) and not its refusal.
        "chair_email": _person(server, chair_id, chair_key, "chair", is_admin=True),
        "outsider_email": _person(server, outsider_id, outsider_key, "chair"),
        "locked_email": _person(server, provider_id, provider_key, "member"),
        "provider_email": _person(server, provider_id, provider_key, "member"),
        "corporation_email": _person(server, corporation_id, corporation_key, "member"),
        "chair_key": chair_key,
        "provider_key": provider_key,
    }


def _house(base: str, proposal_id: str, chair_key: str, corporation_key: str) -> None:
    """The earlier meeting's proposal through to a tenancy that starts today (the proposal
    was made today), so the case has aftercare pages. The legal limits of the latest known year
    are copied to this year if the clock runs past them (they are not what these tests are
    about)."""
    known = _api(base, "GET", "/v1/limits")["items"]
    if TODAY.year not in {year["year"] for year in known}:
        body = writable_limits(max(known, key=lambda year: year["year"]))
        _api(base, "PUT", f"/v1/limits/{TODAY.year}", json=body)
    steps: list[tuple[str, dict]] = [
        (chair_key, {"decision": "nominate"}),
        (corporation_key, {"decision": "corporation_accept"}),
        (corporation_key, {"decision": "plan_viewing", "viewing_date": iso(0)}),
        (corporation_key, {"decision": "sign_tenancy"}),
        (
            corporation_key,
            {"decision": "house", "effective_date": iso(0), "lease_form": "own_lease"},
        ),
    ]
    for key, body in steps:
        _api(base, "POST", f"/v1/proposals/{proposal_id}/decisions", key, json=body)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[webdriver.Chrome]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver or browser
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "plugins.always_open_pdf_externally": True,
        },
    )
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    yield browser
    browser.quit()


@pytest.fixture
def browser(driver: webdriver.Chrome) -> webdriver.Chrome:
    driver.delete_all_cookies()
    return driver


def wait(driver: webdriver.Chrome):  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, WAIT)


def heading(driver: webdriver.Chrome) -> str:
    return wait(driver).until(ec.presence_of_element_located((By.TAG_NAME, "h1"))).text


# The page is there in full: parsed and loaded (every page of the service has its h1).
PAGE_COMPLETE = "return document.readyState === 'complete' && document.querySelector('h1') !== null"


def _until_replaced(driver: webdriver.Chrome, old) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page whose <html> is `old` is gone and the new one is there in full.

    `driver.get` alone is not that: right after it returned (the window resized just before, to
    the address already shown) chromedriver's page source was now and then '' (the new
    document without its <html> yet; about 1 in 100 such loads, more on a busy machine).
    The old page's <html> going stale tells the new document from the old one at the same
    address; while the old page unloads chromedriver may answer a transient error instead of
    "stale element", so the wait asks again."""

    def replaced(driver: webdriver.Chrome) -> bool:
        return ec.staleness_of(old)(driver) and driver.execute_script(PAGE_COMPLETE)

    WebDriverWait(driver, WAIT, ignored_exceptions=[WebDriverException]).until(replaced)


def load(driver: webdriver.Chrome, url: str) -> None:
    """Open `url` (as `driver.get`) and wait until its page is there in full."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.get(url)
    _until_replaced(driver, old)


def follow(driver: webdriver.Chrome, element) -> None:  # type: ignore[no-untyped-def]
    """Click something that loads a new page, and wait until it is there in full."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    _until_replaced(driver, old)


def sign_in(driver: webdriver.Chrome, base: str, email: str, password: str = PASSWORD) -> None:
    load(driver, base + "/aanmelden")
    driver.find_element(By.ID, "email").clear()
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "wachtwoord").send_keys(password)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def click_button(driver: webdriver.Chrome, text: str) -> None:
    follow(driver, driver.find_element(By.XPATH, f"//button[normalize-space()={text!r}]"))


def click_link(driver: webdriver.Chrome, text: str) -> None:
    follow(driver, driver.find_element(By.PARTIAL_LINK_TEXT, text))


def notice(driver: webdriver.Chrome, text: str) -> None:
    wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), text))


def downloaded(directory: Path, suffix: str) -> Path:
    def finished(_: object) -> Path | bool:
        files = [p for p in directory.iterdir() if p.name.endswith(suffix)]
        return files[0] if files else False

    return finished  # type: ignore[return-value]


def test_a_chair_runs_a_meeting_in_the_browser(browser, server, scenario, downloads):  # type: ignore[no-untyped-def]
    sign_in(browser, server, scenario["chair_email"])
    assert heading(browser) == "Overzicht"

    for old in downloads.iterdir():
        old.unlink()
    click_link(browser, "E2E tafel")
    date_input = browser.find_element(By.ID, "datum")
    # A date input's typed format follows the browser's locale; set the ISO value directly.
    browser.execute_script("arguments[0].value = arguments[1];", date_input, MEETING)
    click_button(browser, "Vergadering plannen")
    notice(browser, "De vergadering is gepland.")
    assert heading(browser) == f"Agenda {MEETING_IN_DUTCH}"

    click_button(browser, "Agenda publiceren")
    notice(browser, "De agenda is gepubliceerd en bevroren.")
    proposals = browser.find_element(By.CSS_SELECTOR, "table.proposals")
    assert "Wachttijd" in proposals.text and "Voorgesteld" in proposals.text
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(900, height), 4000))
    assert browser.save_screenshot(str(ARTIFACTS / "agenda.png"))
    browser.set_window_size(1280, 900)

    click_link(browser, "Besluit en verloop")
    click_button(browser, "Vastleggen: Voordragen")
    notice(browser, "Het besluit is vastgelegd.")
    assert "Voorgedragen" in browser.find_element(By.CSS_SELECTOR, "dl.facts").text

    click_link(browser, "tijdlijn")
    assert heading(browser).startswith("Dossier D-")
    timeline = browser.find_element(By.CSS_SELECTOR, "table.timeline").text
    assert "Voordragen" in timeline and "Voorgesteld" in timeline
    assert scenario["case_id"] in browser.current_url

    click_link(browser, "Overzicht")
    click_link(browser, MEETING_IN_DUTCH)
    browser.find_element(By.PARTIAL_LINK_TEXT, "Agenda downloaden (CSV)").click()
    csv_file = wait(browser).until(downloaded(downloads, ".csv"))
    assert scenario["case_id"] in csv_file.read_text(encoding="utf-8-sig")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Agenda afdrukken (PDF)").click()
    pdf_file = wait(browser).until(downloaded(downloads, ".pdf"))
    assert pdf_file.read_bytes().startswith(b"%PDF")

    click_link(browser, "E2E tafel")
    click_link(browser, "Zicht op uitstroom")
    assert heading(browser) == "Monitor: zicht op uitstroom"
    titles = [t.get_attribute("textContent") for t in browser.find_elements(By.TAG_NAME, "title")]
    assert "Wachtlijst aan het eind van elke periode" in titles
    assert "Knelpunten" in browser.find_element(By.ID, "h-knelpunten").text
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(900, height), 4000))
    assert browser.save_screenshot(str(ARTIFACTS / "monitor.png"))
    browser.set_window_size(1280, 900)


WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def wcag_violations(driver: webdriver.Chrome) -> list[str]:
    """axe-core (bundled with selenium-axe-python, nothing fetched) on the page as it is shown;
    the pages themselves load no JavaScript, the audit is injected by the test.

    Every rule runs on every element; only the violations are collected in full. The passing,
    inapplicable and incomplete results keep one element each (`resultTypes`) and stay in the
    browser but for their count: gathering and sending them took half of each audit (0.45 s a
    page, 27 pages per backend)."""
    Axe(driver).inject()
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
        "                   resultTypes: ['violations']})"
        "  .then(r => done({passes: r.passes.length, violations: r.violations}),"
        "        e => done({error: String(e)}));",
        WCAG_21_AA,
    )
    assert "error" not in results, results
    assert results["passes"], "axe checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in results["violations"]
    ]


def crawl(scenario: dict[str, str]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The pages each person opens in the audits, as (who, email, paths): the chair's, then
    the care provider's and the corporation's own pages (forms, imports and aftercare)."""
    aftercare = f"/dossiers/{scenario['first_case_id']}/nazorg"
    return (
        (
            "chair",
            scenario["chair_email"],
            (
                "/overzicht",
                f"/tafels/{scenario['table_id']}",
                f"/vergaderingen/{scenario['first_meeting_id']}",
                f"/vergaderingen/{scenario['first_meeting_id']}/waarom-niet",
                f"/vergaderingen/{scenario['first_meeting_id']}/besluitenlijst",
                f"/voorstellen/{scenario['first_proposal_id']}",
                f"/dossiers/{scenario['first_case_id']}",
                f"/dossiers/{scenario['case_id']}",
                "/dossiers?sortering=-waitingTime&blokkade=case_in_open_proposal",
                "/woningen",
                f"/woningen/{scenario['first_vacancy_id']}",
                f"/tafels/{scenario['table_id']}/gebieden",
                f"/tafels/{scenario['table_id']}/monitor",
                "/account",
                "/mensen",
                "/bestaat-niet",
                aftercare,
                f"/tafels/{scenario['table_id']}/nazorg",
                "/account/meldingen",
            ),
        ),
        (
            "care provider",
            scenario["provider_email"],
            ("/dossiers/nieuw", f"/dossiers/{scenario['case_id']}/bewerken", aftercare, "/inlezen"),
        ),
        (
            "corporation",
            scenario["corporation_email"],
            (
                "/woningen/nieuw",
                f"/woningen/{scenario['first_vacancy_id']}/bewerken",
                aftercare,
                "/inlezen",
            ),
        ),
    )


@LAYOUT
def test_every_page_passes_an_automated_wcag_audit(browser, server, scenario):  # type: ignore[no-untyped-def]
    load(browser, server + "/aanmelden")
    found = {"/aanmelden": wcag_violations(browser)}
    for who, email, paths in crawl(scenario):
        browser.delete_all_cookies()
        sign_in(browser, server, email)
        for path in paths:
            page = path if who == "chair" else f"{path} ({who})"
            found[page] = _audit(browser, server + path)
    assert not any(found.values()), {page: v for page, v in found.items() if v}


def _audit(browser: webdriver.Chrome, url: str) -> list[str]:
    """axe's findings on the page at `url`, which must be there and open to the signed-in
    person (only /bestaat-niet is not there): a refusal page would be audited in its place."""
    load(browser, url)
    if heading(browser) == "Niet gevonden" and not url.endswith("/bestaat-niet"):
        return ["the page was not found"]
    if heading(browser) in ("Geen toegang", "Niet toegestaan"):
        return [f"the page was refused: {heading(browser)}"]
    return wcag_violations(browser)


OVERLAPS = """
const main = document.querySelector('main') || document.body;
const limit = main.getBoundingClientRect().right + 1;
const found = [];
if (document.documentElement.scrollWidth > window.innerWidth + 1) {
  found.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
}
for (const box of main.querySelectorAll('section, table, form, details, nav, ul.toolbar')) {
  const r = box.getBoundingClientRect();
  if (r.width && r.right > limit) found.push(box.tagName + '#' + box.id + ' sticks out');
}
for (const parent of [main, ...main.querySelectorAll('section')]) {
  let previous = null;
  for (const child of parent.children) {
    const r = child.getBoundingClientRect();
    if (!r.height || getComputedStyle(child).position === 'absolute') continue;
    if (previous && r.top < previous.bottom - 1 && r.left < previous.right - 1) {
      found.push(child.tagName + ' overlaps the box before it in ' + parent.tagName);
    }
    previous = r;
  }
}
return found;
"""


def run_on_pages(driver: webdriver.Chrome, base: str, paths: tuple[str, ...], script: str) -> dict:
    """What `script` returns on each page, once the page is there in full (`load`)."""
    found = {}
    for path in paths:
        load(driver, base + path)
        found[path] = driver.execute_script(script)
    return found


@LAYOUT
def test_the_agenda_and_minutes_fit_a_1366_pixel_screen_without_overlapping_boxes(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    upcoming = _api(
        server,
        "POST",
        f"/v1/tables/{scenario['table_id']}/meetings",
        scenario["chair_key"],
        json={"date": iso(7)},
    )
    sign_in(browser, server, scenario["chair_email"])
    browser.set_window_size(1366, 900)
    try:
        paths = (
            f"/vergaderingen/{upcoming['id']}",
            f"/vergaderingen/{scenario['first_meeting_id']}",
            f"/vergaderingen/{scenario['first_meeting_id']}/besluitenlijst",
        )
        found = run_on_pages(browser, server, paths, OVERLAPS)
        page = browser.page_source  # the minutes: their own meeting's open proposals too
        assert "Openstaande voorstellen van deze en eerdere vergaderingen" in page
        ARTIFACTS.mkdir(exist_ok=True)
        load(browser, server + f"/vergaderingen/{upcoming['id']}")
        browser.save_screenshot(str(ARTIFACTS / "agenda-1366.png"))
    finally:
        browser.set_window_size(1280, 900)
    assert not any(found.values()), found


# What sticks out to the right of a 320 px wide window, tables aside (a data table may scroll
# in two dimensions, WCAG 1.4.10; the menu, forms and text may not).
STICKING_OUT = """
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll('body *')]
  .filter(e => !e.closest('table') && e.getBoundingClientRect().right > width + 1)
  .map(e => e.tagName.toLowerCase() + ' ' + (e.textContent || '').trim().slice(0, 30));
"""


@LAYOUT
def test_the_menu_and_forms_reflow_in_a_320_pixel_window(browser, server, scenario):  # type: ignore[no-untyped-def]
    """At 400 % zoom on a 1280 px screen (or on a phone) a page is 320 CSS px wide: reading it,
    and reaching every item of the main menu, must not need horizontal scrolling."""
    sign_in(browser, server, scenario["chair_email"])
    browser.set_window_size(320, 800)
    try:
        assert browser.execute_script("return window.innerWidth") <= 330
        paths = (
            "/overzicht",
            "/account",
            f"/tafels/{scenario['table_id']}",
            "/mensen",
            f"/dossiers/{scenario['first_case_id']}",
            f"/voorstellen/{scenario['first_proposal_id']}",
            f"/woningen/{scenario['first_vacancy_id']}",
        )
        found = run_on_pages(browser, server, paths, STICKING_OUT)
    finally:
        browser.set_window_size(1280, 900)
    assert not any(found.values()), found


# At 320 px wide, with every <details> open: whether the page scrolls sideways, and each table
# wider than the room it has, with what lets a keyboard and a screen reader scroll it.
TABLES_REFLOW = """
for (const d of document.querySelectorAll('details')) d.open = true;
const width = document.documentElement.clientWidth;
const found = [];
const main = document.querySelector('main');
const room = main.getBoundingClientRect().right - parseFloat(getComputedStyle(main).paddingRight);
// The nearest box between `e` and <main> (or the page) that scrolls sideways, or null.
const scroller = e => {
  for (let box = e.parentElement; box && box !== main; box = box.parentElement) {
    if (['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) return box;
  }
  return null;
};
if (document.documentElement.scrollWidth > width) {
  // The innermost boxes that stick out, outside any scroll region: what widens the page.
  const out = e => e.getBoundingClientRect().right > width + 1;
  const widest = [...document.body.querySelectorAll('*')]
    .filter(e => out(e) && !scroller(e) && ![...e.children].some(out)).slice(0, 3)
    .map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' + e.textContent.slice(0, 20));
  found.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px wide, '
             + 'by ' + widest.join('; '));
}
for (const table of main.querySelectorAll('table')) {
  const box = table.getBoundingClientRect();
  if (!box.width || box.right <= room + 1) continue;
  const name = (table.caption ? table.caption.textContent : table.id).trim().slice(0, 40);
  const region = scroller(table);
  if (!region) {
    found.push(name + ': wider than the page, in no scroll region');
    continue;
  }
  if (!scroller(region) && region.getBoundingClientRect().right > width + 1) {
    found.push(name + ': its scroll region sticks out');
  }
  if (region.tabIndex < 0) found.push(name + ': its scroll region cannot take the focus');
  if (region.getAttribute('role') !== 'region') found.push(name + ': its region has no role');
  const label = (region.getAttribute('aria-labelledby') || '').split(' ')
    .map(id => document.getElementById(id)).filter(e => e).map(e => e.textContent).join(' ');
  if (!(label.trim() || (region.getAttribute('aria-label') || '').trim())) {
    found.push(name + ': its scroll region has no name');
  }
}
return found;
"""


@LAYOUT
def test_wide_tables_scroll_in_their_own_named_region_in_a_320_pixel_window(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """WCAG 1.4.10: at 320 CSS px a data table may scroll sideways, the page may not. A table
    wider than the page scrolls in a region of its own that the keyboard reaches (tabindex) and
    a screen reader names (its caption); every page of the audit's crawl, each person's own."""
    found = {}
    browser.set_window_size(320, 800)
    try:
        assert browser.execute_script("return window.innerWidth") <= 330
        for who, email, paths in crawl(scenario):
            browser.delete_all_cookies()
            sign_in(browser, server, email)
            for path, problems in run_on_pages(browser, server, paths, TABLES_REFLOW).items():
                found[f"{path} ({who})"] = problems
    finally:
        browser.set_window_size(1280, 900)
    assert not any(found.values()), {page: v for page, v in found.items() if v}


def test_a_person_of_another_table_gets_404_pages(browser, server, scenario):  # type: ignore[no-untyped-def]
    sign_in(browser, server, scenario["outsider_email"])
    assert heading(browser) == "Overzicht"
    cookie = {c["name"]: c["value"] for c in browser.get_cookies()}
    for path in (
        f"/vergaderingen/{scenario['first_meeting_id']}",
        f"/vergaderingen/{scenario['first_meeting_id']}/agenda.pdf",
        f"/vergaderingen/{scenario['first_meeting_id']}/besluitenlijst",
        f"/voorstellen/{scenario['first_proposal_id']}",
        f"/dossiers/{scenario['first_case_id']}",
        f"/woningen/{scenario['first_vacancy_id']}",
        f"/tafels/{scenario['table_id']}",
        f"/tafels/{scenario['table_id']}/gebieden",
    ):
        load(browser, server + path)
        assert heading(browser) == "Niet gevonden", path
        # The same answer the API gives: a 404, indistinguishable from a missing page.
        assert httpx.get(server + path, cookies=cookie).status_code == 404


def test_five_wrong_passwords_lock_the_account(browser, server, scenario):  # type: ignore[no-untyped-def]
    for attempt in range(1, 6):
        sign_in(browser, server, scenario["locked_email"], "niet het goede wachtwoord")
        message = browser.find_element(By.CSS_SELECTOR, ".error-summary").text
        # The refusal is where a screen reader and the keyboard are: the summary has the focus.
        assert browser.switch_to.active_element.get_attribute("class") == "error-summary"
        assert browser.title.startswith("Fout: ")
        if attempt < 5:
            assert "klopt niet" in message
    assert "Te veel mislukte pogingen" in message
    sign_in(browser, server, scenario["locked_email"])  # the right password, while locked
    message = browser.find_element(By.CSS_SELECTOR, ".error-summary").text
    assert "Te veel mislukte pogingen" in message
    assert heading(browser) == "Aanmelden"


# What paper has no use for (.no-print: a link to a case's timeline) is left out on purpose.
FOLDED = """
const folded = [...document.querySelectorAll('details:not([open]) > :not(summary, .no-print)')];
return [folded.length, folded.filter(e => !e.checkVisibility()).length];
"""


@LAYOUT
def test_printing_the_agenda_shows_what_its_folded_details_hold(browser, server, scenario):  # type: ignore[no-untyped-def]
    sign_in(browser, server, scenario["chair_email"])
    load(browser, server + f"/vergaderingen/{scenario['first_meeting_id']}")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        folded, unprinted = browser.execute_script(FOLDED)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert folded > 0  # the score breakdowns
    assert unprinted == 0, f"{unprinted} of {folded} folded parts are left off the print"


# The height (CSS px) of each proposal's row and of each case's candidates, as printed.
PRINTED_HEIGHTS = """
const height = e => e.getBoundingClientRect().height;
return [[...document.querySelectorAll('table.proposals > tbody > tr')].map(height),
        [...document.querySelectorAll('[aria-labelledby=kandidaten] details')].map(height)];
"""
# A4 landscape less Chromium's default print margins (0.4 in each side), at 96 px an inch.
A4_LANDSCAPE_PRINTED = {"width": round((11.69 - 0.8) * 96), "height": round((8.27 - 0.8) * 96)}


@LAYOUT
def test_a_printed_agenda_holds_three_proposals_and_their_breakdowns_on_an_a4_page(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """Printed open as on screen, a proposal's score breakdown (a table of six rows with a
    caption and headers, beside the list of its non-zero parts) made its row taller than half
    an A4 landscape page, and rows do not break: one proposal a page, and the demo's agenda ran
    to 32 pages, most of them the candidates per case printed as a table each. On paper the
    breakdown is a small table in place of the list and a case's candidates one line."""
    sign_in(browser, server, scenario["chair_email"])
    load(browser, server + f"/vergaderingen/{scenario['first_meeting_id']}")
    metrics = {**A4_LANDSCAPE_PRINTED, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        rows, cases = browser.execute_script(PRINTED_HEIGHTS)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert rows and cases
    assert max(rows) <= A4_LANDSCAPE_PRINTED["height"] / 3, rows
    assert max(cases) <= A4_LANDSCAPE_PRINTED["height"] / 8, cases


PRINTED_NAVIGATION = """
return [...document.querySelectorAll('nav, .skip-link')]
  .filter(e => e.checkVisibility())
  .map(e => (e.getAttribute('aria-label') || e.className) + ': ' + e.textContent.slice(0, 40));
"""


@LAYOUT
def test_the_agenda_and_minutes_print_without_navigation(browser, server, scenario):  # type: ignore[no-untyped-def]
    """On paper a menu or breadcrumb trail leads nowhere: the printed agenda and besluitenlijst
    begin with their heading."""
    sign_in(browser, server, scenario["chair_email"])
    meeting = f"/vergaderingen/{scenario['first_meeting_id']}"
    found = {}
    for path in (meeting, meeting + "/besluitenlijst"):
        load(browser, server + path)
        assert browser.execute_script(PRINTED_NAVIGATION)  # on screen: the menu and the trail
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            found[path] = browser.execute_script(PRINTED_NAVIGATION)
        finally:
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not any(found.values()), found


# Each badge's text on the page printed, and its contrast with white paper: a browser prints
# no backgrounds unless asked, so a badge's white text on the screen's red came out pale grey.
PRINTED_BADGES = """
const lin = c => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
return [...document.querySelectorAll('main .badge')].map(e => {
  const [r, g, b] = getComputedStyle(e).color.match(/[\\d.]+/g).map(Number);
  const light = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return [e.textContent.trim(), Math.round(105 / (light + 0.05)) / 100];
});
"""


@LAYOUT
def test_a_printed_overdue_action_says_te_laat_legibly_on_white_paper(browser, server, scenario):  # type: ignore[no-untyped-def]
    """'te laat' (an action past its due date, a checkpoint overdue) is the point of the row:
    on paper it printed in pale grey (contrast 1.0 by its colour, white), under WCAG's 4.5."""
    chair = scenario["chair_key"]
    me = _api(server, "GET", "/v1/me", chair)["organisation"]["id"]
    body = {"kind": "other", "owner_organisation_id": me, "due_date": iso(-1)}
    _api(server, "POST", f"/v1/tables/{scenario['table_id']}/actions", chair, json=body)
    sign_in(browser, server, scenario["chair_email"])
    load(browser, server + f"/tafels/{scenario['table_id']}")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        badges = browser.execute_script(PRINTED_BADGES)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert "te laat" in {text for text, _ in badges}, badges
    assert all(contrast >= 4.5 for _, contrast in badges), badges


ROWS_SPLIT_ON_PAPER = """
return [...document.querySelectorAll('main tr')]
  .filter(r => getComputedStyle(r).breakInside !== 'avoid')
  .map(r => r.textContent.trim().slice(0, 40));
"""


@LAYOUT
def test_a_printed_agenda_or_minutes_row_is_not_split_over_two_pages(browser, server, scenario):  # type: ignore[no-untyped-def]
    """A proposal's row on the agenda (case, dwelling, score, reasons) cut by a page break puts
    half of it under the next page's header, where it reads as a row of its own."""
    sign_in(browser, server, scenario["chair_email"])
    meeting = f"/vergaderingen/{scenario['first_meeting_id']}"
    found = {}
    for path in (meeting, meeting + "/besluitenlijst"):
        load(browser, server + path)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            found[path] = browser.execute_script(ROWS_SPLIT_ON_PAPER)
        finally:
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not any(found.values()), found


# Each link in the page's content with what print adds after it (its ::after content).
PRINTED_AFTER_LINKS = """
return [...document.querySelectorAll('main a[href^="/"]')]
  .map(a => [a.getAttribute('href'), getComputedStyle(a, '::after').content]);
"""


@LAYOUT
def test_a_printed_link_to_a_proposal_shows_the_proposal_it_leads_to(browser, server, scenario):  # type: ignore[no-untyped-def]
    """On paper a link is its text: 'Besluit en verloop' on the agenda and a case's code in
    the open proposals lead to a proposal that the text does not name, so print adds the
    proposal's address. A case's code and a dwelling's reference name what they lead to, and
    get nothing added; nor does any link on screen."""
    sign_in(browser, server, scenario["chair_email"])
    meeting = f"/vergaderingen/{scenario['first_meeting_id']}"
    paths = (meeting, meeting + "/besluitenlijst")
    on_screen = run_on_pages(browser, server, paths, PRINTED_AFTER_LINKS)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        printed = run_on_pages(browser, server, paths, PRINTED_AFTER_LINKS)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert {after for links in on_screen.values() for _, after in links} == {"none"}
    proposals = [(h, a) for links in printed.values() for h, a in links if "/voorstellen/" in h]
    assert [h for h, _ in printed[meeting] if h.startswith("/voorstellen/")]
    assert all(after == f'" ({h})"' for h, after in proposals), proposals
    others = {a for links in printed.values() for h, a in links if "/voorstellen/" not in h}
    assert others == {"none"}


# The tables that a box around them clips (it scrolls or hides what overflows it).
CLIPPED = """
return [...document.querySelectorAll('table')].filter(table => {
  for (let box = table.parentElement; box; box = box.parentElement) {
    if (getComputedStyle(box).overflowX !== 'visible') return true;
  }
  return false;
}).map(table => (table.caption ? table.caption.textContent : '').trim().slice(0, 40));
"""


@LAYOUT
def test_printing_a_page_prints_its_tables_whole_not_what_their_scroll_region_shows(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """On screen a wide table scrolls in its own region; paper cannot scroll, so in print no
    region may cut a table off at its edge."""
    sign_in(browser, server, scenario["chair_email"])
    paths = (
        f"/vergaderingen/{scenario['first_meeting_id']}",
        f"/tafels/{scenario['table_id']}/monitor",
    )
    on_screen = run_on_pages(browser, server, paths[:1], CLIPPED)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        printed = run_on_pages(browser, server, paths, CLIPPED)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert all(on_screen.values())  # the screen's regions, which print must undo
    assert not any(printed.values()), printed


@LAYOUT
def test_a_printed_monitor_keeps_every_column_of_the_figures_after_the_move_on_a4(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """The figures after the move are fourteen columns wide. Printed on A4 (Chromium's print to
    PDF, as a person's 'Afdrukken' does) the table was wider than the page, and the last
    columns, the omklap realised and on time, fell off its edge: on paper they were gone."""
    sign_in(browser, server, scenario["chair_email"])
    load(browser, server + f"/tafels/{scenario['table_id']}/monitor")
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})
    pages = PdfReader(io.BytesIO(base64.b64decode(pdf["data"]))).pages
    printed = " ".join(" ".join(page.extract_text() for page in pages).split())
    header = " ".join(["Cohort", *(label for _, label in COHORT_COLUMNS)])
    assert header in printed, printed[printed.find("Nog gehuisvest en omklap") :][:600]


def columns_off_a4(driver: webdriver.Chrome) -> list[str]:
    """The headers of the page's table columns that are not on the page printed on A4
    (Chromium's print to PDF, as a person's 'Afdrukken' does): paper cannot scroll, a column
    wider than the page falls off its edge."""
    columns = driver.execute_script(
        "return [...document.querySelectorAll('main thead th')].map(h => h.textContent.trim())"
    )
    assert columns, "the page has a table with headers"
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})
    pages = PdfReader(io.BytesIO(base64.b64decode(pdf["data"]))).pages
    printed = "".join("".join(page.extract_text() for page in pages).split())
    return [c for c in columns if "".join(c.split()) not in printed]


# A name as one long word: a Dutch compound as a job title (a display name may be 200 long).
LONG_NAME = "Beleidsmedewerkerwoonzorgenmaatschappelijkeopvangeemland"


@LAYOUT
def test_a_long_name_without_spaces_neither_widens_a_phone_page_nor_falls_off_paper(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """A name typed as one long word did not break: at 320 px the header's name pushed the
    page sideways (and 'Afmelden' off the screen), and on A4 it widened the people table until
    its last columns fell off the page's edge (paper cannot scroll)."""
    chair = scenario["chair_key"]
    me = _api(server, "GET", "/v1/me", chair)["organisation"]["id"]
    email = f"lang-{uuid.uuid4().hex[:8]}@example.nl"
    person = {"email": email, "display_name": LONG_NAME, "role": "member", "is_admin": True}
    _api(
        server,
        "POST",
        f"/v1/organizations/{me}/people",
        chair,
        json=person | {"password": PASSWORD},
    )
    sign_in(browser, server, email)
    browser.set_window_size(320, 800)
    try:
        assert browser.execute_script("return window.innerWidth") <= 330
        narrow = run_on_pages(browser, server, ("/overzicht", "/account", "/mensen"), STICKING_OUT)
    finally:
        browser.set_window_size(1280, 900)
    assert not any(narrow.values()), narrow
    load(browser, server + "/mensen")
    assert LONG_NAME in browser.page_source
    assert columns_off_a4(browser) == []


# Whether the case list's table is wider than its scroll region: the blockers column is then
# off the screen until the reader scrolls the table sideways.
CASE_LIST_SCROLLS = """
const region = document.querySelector('[aria-labelledby="tabel-dossiers"]');
return region.scrollWidth > region.clientWidth + 1;
"""


@LAYOUT
def test_a_case_ready_only_later_does_not_push_the_case_lists_columns_off_a_1280_pixel_screen(  # type: ignore[no-untyped-def]
    browser, server, scenario
):
    """The case list's waiting time of a case ready only from a later day reads 'nog niet:
    klaar vanaf <day> (over N dagen)' in a numeric column, and a numeric cell does not wrap: on
    a 1280 px screen its one long line widened the table until the blockers column fell outside
    the table's scroll region, each row as tall as its blockers squeezed to a narrow column;
    printed on A4 the column fell off the page's edge. The text now wraps like text."""
    later = case_body(scenario["table_id"], ready_since=iso(300))
    _api(server, "POST", "/v1/cases", scenario["provider_key"], json=later)
    sign_in(browser, server, scenario["chair_email"])
    browser.set_window_size(1280, 900)
    load(browser, server + "/dossiers")
    assert "nog niet: klaar vanaf" in browser.page_source
    assert not browser.execute_script(CASE_LIST_SCROLLS)
    assert columns_off_a4(browser) == []
