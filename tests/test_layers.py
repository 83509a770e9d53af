"""The layers hold: the import-linter contracts in pyproject.toml, and no cycle between modules.

The contracts: the matching engine imports nothing of the app (no database, no HTTP); services
import no FastAPI, routes or pages; models import no services; routes and pages reach the database
through services; no two modules of a package import each other.
"""

import re
import subprocess
from pathlib import Path

import grimp

from tests.commands import installed

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint_imports = installed("lint-imports")
    assert lint_imports, "import-linter is part of the [test] extra"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_through_others():
    # Imports under `if TYPE_CHECKING:` never run, so they are no cycle.
    graph = grimp.build_graph("app", exclude_type_checking_imports=True, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    assert _cycles(imports) == []


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


MAX_LINES = 400
SIZE_MARKER = "# Size:"


def oversized(root: Path) -> list[str]:
    """Modules over MAX_LINES lines without a line starting `# Size:` (why the module stays
    whole) among their first 10 lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(line.startswith(SIZE_MARKER) for line in lines[:10]):
            found.append(f"{path.relative_to(root.parent)}: {len(lines)} lines")
    return found


def test_no_module_in_app_outgrows_400_lines_without_its_reason_at_the_top():
    assert oversized(ROOT / "app") == []


def test_an_oversized_module_without_a_reason_is_found(tmp_path):
    package = tmp_path / "app"
    package.mkdir()
    body = '"""A module."""\n' + "x = 1\n" * MAX_LINES
    (package / "grown.py").write_text(body)
    (package / "explained.py").write_text(f"{SIZE_MARKER} one algorithm, one reading.\n" + body)
    (package / "small.py").write_text('"""A module."""\n')
    assert oversized(package) == [f"app/grown.py: {MAX_LINES + 1} lines"]


# A route reads the object its path names through a validating dependency (`app.*.deps`,
# `app.web.deps`), never by calling the service's getter itself. The few that still do, and why:
LOADS = re.compile(
    r"(?<!def )\b(?:get_table|get_meeting|get_case|get_proposal|get_action|get_vacancy"
    r"|get_managed_organisation|get_visible_organisation|get_api_key|get_person)\("
)
LOADED_BY_HAND = {
    # The replay of a creation reads the action it created (an id from the idempotency
    # record), with the caller's access and logged: its answer names the case.
    "app/actions/routes.py": 1,
    # The replay of a creation reads the case it created (an id from the idempotency record).
    "app/cases/routes.py": 1,
    # A decision's idempotent replay rereads the proposal it stored.
    "app/proposals/routes.py": 1,
    # An upsert reads back the dwelling it wrote.
    "app/vacancies/routes.py": 1,
    # The agenda pages, their PDF, CSV and why-not, and the monitor page count the person's
    # rate limit before they read anything.
    "app/web/agenda.py": 1,
    "app/web/routes_meetings.py": 1,
    "app/web/routes_monitor.py": 1,
    # A page re-rendered with a refused write's message reads its object again by id; the
    # proposal page also reads the proposal's meeting.
    "app/web/routes_proposals.py": 2,
    # A refused hand-out form goes back to its meeting's agenda only if the meeting (a form
    # field, not the path) is one of the table it posts to.
    "app/web/routes_actions.py": 1,
    "app/web/routes_tables.py": 1,
    # A corporation's case page shows the profile of a case proposed to its dwellings, which
    # the case dependency (the case's own organisation and the table) would refuse.
    "app/web/routes_registry.py": 1,
    # The areas page re-renders by id after a refused name.
    "app/web/routes_areas.py": 1,
    # The case-file forms load the case without logging, then log what they did with it (a
    # read when the form is shown again, else the write's own entry).
    "app/web/routes_case_files.py": 2,
    # The minutes page's loader serves its GET and its re-render after a refused finalisation.
    "app/web/minutes.py": 1,
    # `/me` reads the caller's own organisation, which no path names.
    "app/organisations/routes.py": 1,
    # The message for a taken email reads the account that has it (an id from the conflict) to
    # offer a new password only where this admin could give one.
    "app/web/routes_people.py": 1,
}


def test_routes_read_their_path_objects_through_the_validating_dependencies():
    found = {}
    for path in sorted([*ROOT.glob("app/*/routes.py"), *ROOT.glob("app/web/*.py")]):
        if path.name != "deps.py" and (count := len(LOADS.findall(path.read_text()))):
            found[str(path.relative_to(ROOT))] = count
    assert found == LOADED_BY_HAND
