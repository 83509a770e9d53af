"""`uitstroomtafel limits`: the operator sees which years have limits and which, up to next
year, do not. Runs the real CLI on the suite's clock against a fresh SQLite file."""

import io
import os
import re
import subprocess
from contextlib import redirect_stdout

from sqlmodel import Session

from app.cli import main
from app.db import build_engine
from app.limits import service
from app.limits.data import shipped_limits
from app.limits.models import YearLimitsFields
from app.settings import get_settings
from tests.cli import run_cli
from tests.clock import TODAY
from tests.clocked import cli_command, clock_env


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = clock_env({**os.environ, "UITSTROOM_DATABASE_URL": url})
    return subprocess.run(cli_command(*args), env=env, capture_output=True, text=True)


def warned_years(stderr: str) -> list[int]:
    return [int(y) for y in re.findall(r"WARNING: no limits for (\d{4})", stderr)]


def test_the_limits_command_lists_the_years_and_warns_about_the_missing_ones(tmp_path):
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    run_cli(url, "migrate")  # in this process: a child takes 3-5 s to start
    listed = run(url, "limits")
    assert listed.returncode == 0, listed.stderr
    shipped = [y.year for y in shipped_limits()]
    for year in shipped:
        assert re.search(
            rf"^{year}\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+data_file", listed.stdout, re.M
        )
    missing = [y for y in range(shipped[0], TODAY.year + 2) if y not in shipped]
    assert warned_years(listed.stderr) == missing
    for year in missing:
        assert f"agendas in {year} " in listed.stderr
        assert f"those of {shipped[-1]}." in listed.stderr
    assert run(url, "limits", "--check").returncode == (1 if missing else 0)


def test_the_check_passes_once_every_year_up_to_next_year_has_limits(tmp_path):
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    run_cli(url, "migrate")  # in this process: a child takes 3-5 s to start
    latest = shipped_limits()[-1]
    engine = build_engine(url)
    with Session(engine) as session:
        for year in range(latest.year + 1, TODAY.year + 2):
            figures = YearLimitsFields.model_validate({**latest.figures, "source": "test"})
            service.put_limits(session, year, figures)
        session.commit()
    engine.dispose()
    checked = run(url, "limits", "--check")
    assert checked.returncode == 0, checked.stderr
    assert warned_years(checked.stderr) == []


def test_the_limits_command_shows_every_figure_of_a_year(tmp_path):
    """The README has `uitstroomtafel limits` list each year with its figures; it printed the
    three rent limits only, so an operator checking the income limits a year was entered with
    (the ones that choose between the caps and the DAEB rent limit) could not see them."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    run_cli(url, "migrate")  # in this process: a child takes 3-5 s to start
    listed = run(url, "limits")
    assert listed.returncode == 0, listed.stderr
    blocks = re.split(r"^(?=\d{4}\s)", listed.stdout, flags=re.M)
    by_year = {int(b[:4]): b for b in blocks if re.match(r"\d{4}\s", b)}
    for shipped in shipped_limits():
        block = " ".join(by_year[shipped.year].split())  # as read, whatever the wrapping
        for name, value in shipped.figures.items():
            if name in ("service_costs_count", "service_costs_max"):
                continue
            assert f"{value:.2f}" in block, (shipped.year, name)
        counted = shipped.figures["service_costs_count"]
        assert ("service costs counted" in block) == counted, shipped.year


def missing_years_now() -> list[int]:
    shipped = [y.year for y in shipped_limits()]
    return [y for y in range(shipped[0], TODAY.year + 2) if y not in shipped]


def test_commands_other_than_serve_say_nothing_of_missing_limits(tmp_path):
    # Every `migrate`, `demo` and `anonymise` warned on standard error about each year up to
    # next year without limits ("no legal limits for 2027: ..."), all year long: a cron job
    # mails whatever it prints, so each nightly `anonymise` mailed the operator this line.
    # The service's start says it (below), and `limits --check` is the check for cron.
    assert missing_years_now()  # there is something to say
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    for command in ("migrate", "anonymise"):
        done = run(url, command)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", command


def test_serve_warns_at_start_of_each_year_without_limits(tmp_path, monkeypatch, caplog):
    # Also when it does not migrate (UITSTROOM_MIGRATE_ON_START=false, a separate `migrate`):
    # the warning came from the migration only, and such a server never said it.
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: None)  # not serving
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    run_cli(url, "migrate")
    caplog.clear()  # what `serve` says, not the migration
    settings = get_settings().model_copy(update={"database_url": url, "migrate_on_start": False})
    with redirect_stdout(io.StringIO()):
        main(["serve", "--port", "0"], settings=settings)
    said = [record.getMessage() for record in caplog.records]
    warned = [
        int(m) for line in said for m in re.findall(r"^WARNING: no legal limits for (\d{4}):", line)
    ]
    assert warned == missing_years_now()
