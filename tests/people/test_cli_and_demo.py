"""People from the command line and in the demo data: a new user can sign in right away.

The CLI runs in the test process against a fresh SQLite file; one test runs it as a real process
for what only a process shows, its exit status.
"""

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import termios
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.people.security import verify_password
from tests.cli import run_cli
from tests.clocked import cli_command, clock_env

DEMO_PERSON = re.compile(r"^\s+(chair|member)\s+(\S+@demo\.example)\s+(\S+)$", re.M)


def cli(database: Path, *args: str, stdin: str = "") -> str:
    return run_cli(f"sqlite:///{database}", *args, stdin=stdin)


def stored_hash(database: Path, email: str) -> str:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT password_hash FROM people WHERE email = :email"), {"email": email}
        ).scalar_one()
    engine.dispose()
    return value


def test_the_demo_prints_a_person_per_organisation_whose_password_works(tmp_path):
    database = tmp_path / "demo.db"
    first = cli(database, "demo")
    people = DEMO_PERSON.findall(first)
    assert len(people) == 6
    assert [role for role, *_ in people].count("chair") == 1
    for _, email, password in people:
        assert verify_password(stored_hash(database, email), password)
    rerun = cli(database, "demo")
    table_id = re.search(r"^Demo region loaded: .* \((\S+)\), ", first, re.M)
    assert table_id is not None
    assert f"({table_id.group(1)})" in rerun.splitlines()[0]  # a rerun names the table too
    again = DEMO_PERSON.findall(rerun)
    _, email, fresh = again[1]
    assert fresh != people[1][2]
    assert verify_password(stored_hash(database, email), fresh)


@pytest.mark.parametrize("given", [False, True], ids=["generated", "from-stdin"])
def test_create_person_on_the_command_line(tmp_path, given):
    database = tmp_path / "cli.db"
    cli(database, "migrate")
    org_id = cli(database, "create-organisation", "Gemeente Test", "municipality").strip()
    args = ["create-person", org_id, "Voorzitter@Test.nl", "De Voorzitter", "--role", "chair"]
    if given:
        out = cli(database, *args, "--admin", "--password-stdin", stdin="een eigen wachtwoord\n")
        assert "password:" not in out
        password = "een eigen wachtwoord"
    else:
        out = cli(database, *args)
        password = re.search(r"^password: (\S{12,})$", out, re.M).group(1)  # type: ignore[union-attr]
    assert "voorzitter@test.nl, chair" in out
    assert verify_password(stored_hash(database, "voorzitter@test.nl"), password)


def test_create_person_with_a_malformed_email_says_what_an_email_is_not_the_regex(tmp_path):
    database = tmp_path / "cli.db"
    cli(database, "migrate")
    org_id = cli(database, "create-organisation", "Gemeente Test", "municipality").strip()
    with pytest.raises(SystemExit) as refused:
        cli(database, "create-person", org_id, "geen-adres", "Piet")
    said = str(refused.value.code)
    assert said.startswith("Invalid person: email: ") and "email address" in said
    assert "pattern" not in said and "\\u" not in said and len(said) < 200


NO_PASSWORD = (
    "Invalid person: password: Should be 12 to 128 characters long; "
    "none was given (an empty line, or nothing, on standard input)"
)
"""Not pydantic's "String should have at least 12 characters": an operator's sentence, in the
words of the other refusals of a password ("Should hold no control characters")."""


def refused_password(database: Path, stdin: str) -> str:
    """What `create-person --password-stdin` with `stdin` exited with (it must refuse)."""
    cli(database, "migrate")
    org_id = cli(database, "create-organisation", "Gemeente Test", "municipality").strip()
    with pytest.raises(SystemExit) as refused:
        cli(
            database,
            "create-person",
            org_id,
            "piet@test.nl",
            "Piet",
            "--password-stdin",
            stdin=stdin,
        )
    return str(refused.value.code)


@pytest.mark.parametrize("given", ["kort", "x" * 129])
def test_create_person_refuses_a_password_of_the_wrong_length_in_an_operators_words(
    tmp_path, given
):
    said = refused_password(tmp_path / "cli.db", given + "\n")
    assert said == "Invalid person: password: Should be 12 to 128 characters long"


@pytest.mark.parametrize("stdin", ["", "\n"], ids=["nothing", "empty-line"])
def test_create_person_with_password_stdin_and_no_password_refuses_and_generates_none(
    tmp_path, stdin
):
    """`echo "$PASSWORD" | ... --password-stdin` with the variable unset, or a command before
    the pipe that failed, made a person with a generated password printed to the terminal (or
    the script's log) instead of the one the operator meant to hand over."""
    database = tmp_path / "cli.db"
    assert refused_password(database, stdin) == NO_PASSWORD
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM people")).scalar_one() == 0
    engine.dispose()


def _terminal_of_its_own() -> None:
    """In the child: standard input, a terminal, becomes its controlling terminal (/dev/tty),
    and Ctrl-C interrupts it, as for a command in the foreground of a shell. A suite started in
    the background of a script ignores SIGINT (as a shell starts such jobs), the child inherited
    that, and Ctrl-C at the question was ignored until the test's timeout."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _create_person_on_a_terminal(
    database: Path, typed: bytes, errors_on_terminal: bool
) -> tuple[int, str, str]:
    """`create-person --password-stdin` with standard input (and with `errors_on_terminal` its
    standard error) a terminal, `typed` there once it asks: its status, what the terminal
    showed, and its standard output and error apart from the terminal."""
    cli(database, "migrate")
    org_id = cli(database, "create-organisation", "Gemeente Test", "municipality").strip()
    terminal, typed_on = pty.openpty()
    try:
        process = subprocess.Popen(
            cli_command("create-person", org_id, "piet@test.nl", "Piet", "--password-stdin"),
            env=clock_env({**os.environ, "UITSTROOM_DATABASE_URL": f"sqlite:///{database}"}),
            stdin=typed_on,
            stdout=subprocess.PIPE,
            stderr=typed_on if errors_on_terminal else subprocess.PIPE,
            text=True,
            preexec_fn=_terminal_of_its_own,
        )
        shown = b""
        while b"(not shown): " not in shown:  # asked for, on the terminal
            ready, _, _ = select.select([terminal], [], [], 30)
            assert ready, f"no question on the terminal: {shown!r}"
            shown += os.read(terminal, 1024)
        os.write(terminal, typed)
        out, err = process.communicate(timeout=60)
        while select.select([terminal], [], [], 0.2)[0]:
            shown += os.read(terminal, 1024)
    finally:
        if process.poll() is None:  # still waiting: not asked
            process.kill()
            process.wait()
        os.close(terminal)
        os.close(typed_on)
    return process.returncode, shown.decode(), out + (err or "")


def test_create_person_asks_for_a_password_typed_on_a_terminal_and_does_not_show_it(tmp_path):
    """`--password-stdin` on a terminal waited without a word, and the terminal showed the
    password as the operator typed it (and kept it in its scrollback)."""
    database = tmp_path / "cli.db"
    status, shown, said = _create_person_on_a_terminal(database, b"een eigen wachtwoord\n", False)
    assert status == 0, said
    assert "wachtwoord" not in shown and "wachtwoord" not in said
    assert verify_password(stored_hash(database, "piet@test.nl"), "een eigen wachtwoord")


@pytest.mark.parametrize(
    ("typed", "status", "said"),
    [
        (b"\x04", 1, NO_PASSWORD),
        (b"\x03", 130, "Stopped by Ctrl-C before `uitstroomtafel create-person` had finished"),
    ],
    ids=["ctrl-d", "ctrl-c"],
)
def test_create_person_left_at_the_password_question_says_so_on_a_line_of_its_own(
    tmp_path, typed, status, said
):
    """Ctrl-D at the question for the password ended in a 20-line traceback of getpass's
    EOFError; Ctrl-C said its line after the question, on the same line. Ctrl-D now gives no
    password, refused as an empty line piped in is, and both answer below the question."""
    ended, shown, _ = _create_person_on_a_terminal(tmp_path / "cli.db", typed, True)
    assert ended == status, shown
    assert "Traceback" not in shown
    assert f"(not shown): \r\n{said}" in shown, shown


def test_a_failing_command_exits_non_zero_with_its_reason(tmp_path):
    database = tmp_path / "cli.db"
    cli(database, "migrate")
    unknown = str(uuid.uuid4())
    result = subprocess.run(
        cli_command("create-key", unknown, "a label"),
        env=clock_env({"UITSTROOM_DATABASE_URL": f"sqlite:///{database}", "PATH": ""}),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"No organisation {unknown}"
    assert result.stdout == ""


def trail_of(database: Path, email: str) -> list[tuple[str, str | None, str]]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.change, c.value, c.endpoint FROM person_changes c "
                "JOIN people p ON p.id = c.person_id WHERE p.email = :email ORDER BY c.id"
            ),
            {"email": email},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_accounts_made_or_given_new_passwords_by_commands_leave_a_trail(tmp_path):
    database = tmp_path / "trail.db"
    cli(database, "migrate")
    org_id = cli(database, "create-organisation", "Gemeente Spoor", "municipality").strip()
    cli(database, "create-person", org_id, "spoor@test.nl", "Spoor", "--role", "chair")
    assert trail_of(database, "spoor@test.nl") == [
        ("created", "chair", "CLI create-person"),
        ("password", "generated", "CLI create-person"),
    ]
    demo = tmp_path / "demo.db"
    cli(demo, "demo")
    _, email, _ = DEMO_PERSON.findall(cli(demo, "demo"))[0]
    assert trail_of(demo, email) == [
        ("created", "chair", "CLI demo"),
        ("is_admin", "true", "CLI demo"),
        ("password", "given", "CLI demo"),  # the demo made it and passed it on
        ("password", "generated", "CLI demo"),  # a rerun gives a new one
    ]
