"""E-mail for people arrives at a real SMTP server on loopback: the notices a meeting cycle
produces, with codes and links and never case data; once each, through a refusal and a restart."""

import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

import time_machine
from aiosmtpd.controller import Controller
from sqlmodel import Session

from app.mail import outbox as mail_outbox
from app.mail import service as mail_service
from app.mail.models import MailStatus, NoticePreferences
from app.people.models import Person
from app.sqltypes import utcnow
from app.timeutil import AMSTERDAM
from tests.api.helpers import assign_action, plan_meeting
from tests.clock import START, TODAY, iso
from tests.conftest import create_case, create_vacancy
from tests.mail.conftest import (
    Mailroom,
    SmtpSink,
    _free_port,
    case_data_in,
    make_region,
    person,
    text_of,
    wait_for,
)


def _publish_tomorrow(client, region) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """A meeting tomorrow, published with one proposal; returns the meeting and the proposal."""
    chair = region.chair.headers
    meeting = client.post(
        f"/v1/tables/{region.table_id}/meetings", json={"date": iso(1)}, headers=chair
    ).json()
    published = client.post(f"/v1/meetings/{meeting['id']}/publish", headers=chair)
    assert published.status_code == 200, published.text
    [proposal] = client.get(f"/v1/tables/{region.table_id}/proposals", headers=chair).json()[
        "items"
    ]
    return meeting, proposal


def _by_recipient(mailroom: Mailroom) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for mail in mailroom.sink.received():
        result.setdefault(mail["To"], []).append(mail["Subject"])
    return result


def test_a_meeting_cycle_mails_each_person_codes_and_links_and_never_case_data(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        _, care_worker = person(client, region.care_provider)
        _, corporation_worker = person(client, region.corporation)
        _, chair_person = person(client, region.chair, "chair")
        _, bystander = person(client, region.other_care_provider)
        case = create_case(client, region.care_provider, region.table_id)
        vacancy = create_vacancy(client, region.corporation)
        meeting, proposal = _publish_tomorrow(client, region)
        # Decisions are taken from the meeting's day on; the digest is then due on the day.
        with time_machine.travel(START + timedelta(days=1), tick=True):
            decided = client.post(
                f"/v1/proposals/{proposal['id']}/decisions",
                json={"decision": "nominate"},
                headers=region.chair.headers,
            )
            assert decided.status_code == 200, decided.text
            action = assign_action(client, region, region.care_provider, case["id"])
            assert action.status_code == 201, action.text
    with time_machine.travel(START + timedelta(days=1), tick=True):
        mailroom.send_until_settled()

    subjects = _by_recipient(mailroom)
    kinds = Counter(row.kind for row in mailroom.outbox())
    assert {row.status for row in mailroom.outbox()} == {MailStatus.sent.value}
    assert len(subjects[care_worker]) == 4  # agenda, decision, action, digest
    assert any(s.startswith("Agenda gepubliceerd") for s in subjects[care_worker])
    assert any(s.startswith("Besluit over voorstel") for s in subjects[care_worker])
    assert any(s.startswith("Nieuwe actie") for s in subjects[care_worker])
    assert any(s.startswith("Vergadering van") for s in subjects[care_worker])
    assert len(subjects[corporation_worker]) == 3  # agenda, decision, digest: no action of theirs
    assert not any(s.startswith("Nieuwe actie") for s in subjects[corporation_worker])
    # The chair's organisation is told of decisions and gets the digest. The action is the care
    # provider's: "Nieuwe actie voor uw organisatie" went to the chair's people too, who had
    # handed it out to another organisation (README: an action notice goes to its owner's people).
    assert any(s.startswith("Besluit over voorstel") for s in subjects[chair_person])
    assert not any(s.startswith("Nieuwe actie") for s in subjects[chair_person])
    # Another care provider at the table sees the agenda and the digest, not this proposal.
    assert not any(s.startswith("Besluit") for s in subjects.get(bystander, []))
    assert kinds["digest"] == len({m["To"] for m in mailroom.sink.received()})

    agenda_link = f"https://tafel.example/vergaderingen/{meeting['id']}"
    proposal_link = f"https://tafel.example/voorstellen/{proposal['id']}"
    texts = [text_of(mail) for mail in mailroom.sink.received()]
    assert any(agenda_link in text for text in texts)
    assert any(proposal_link in text for text in texts)
    case_data = [
        case["id"],
        case["external_ref"],
        str(case["birth_year"]),
        vacancy["id"],
        vacancy["external_ref"],
        vacancy["address"]["street"],
        vacancy["address"]["postcode"],
        "wheelchair",
        "rolstoel",
        "huisdier",
        "participatiewet",
    ]
    for text in texts:
        assert case_data_in(text, set(case_data)) == set(), text
    for mail in mailroom.sink.received():
        assert mail["From"] == "Uitstroomtafel <noreply@uitstroomtafel.example>"
        assert mail["Message-ID"].startswith("<")
        # Where a mail client's unsubscribe button leads: the person's choice of notices.
        assert mail["List-Unsubscribe"] == "<https://tafel.example/account/meldingen>"


def test_case_data_is_found_as_a_word_and_not_inside_the_hex_of_an_id():
    link = "https://tafel.example/voorstellen/0193a1b2-c3d4-7e5f-8a19-90bd1990ef12"
    assert case_data_in(f"Geboren in 1990. {link}", {"1990"}) == {"1990"}
    assert case_data_in(f"Voorstel 1990EF12 {link}", {"1990"}) == set()
    assert case_data_in("Postcode 3512AB", set(), frozenset({"3512"})) == {"3512"}


def test_a_mail_the_server_refused_once_is_sent_again_and_arrives_once(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        _, care_worker = person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    mailroom.sink.refuse = 1
    worker = mailroom.worker()

    worker.run_once()

    [row] = mailroom.outbox()
    assert (row.status, row.attempts) == (MailStatus.pending.value, 1)
    assert "451" in (row.last_error or "")
    assert mailroom.sink.received() == []

    wait_for(lambda: worker.run_once() or mailroom.sink.received(), what="the retried mail")
    [mail] = mailroom.sink.received()
    assert mail["To"] == care_worker
    [row] = mailroom.outbox()
    assert (row.status, row.attempts, mailroom.sink.refused) == (MailStatus.sent.value, 2, 1)


def test_a_mail_held_by_a_worker_that_died_is_sent_once_by_the_next_process(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201
    dying = mailroom.engine()
    claimed_at = utcnow()
    with Session(dying) as session, session.begin():
        [held] = mail_outbox.claim_due_mails(
            session, now=claimed_at, limit=10, lease=timedelta(seconds=1)
        )
    # While the lease is live, no other worker takes the mail.
    with mailroom.transaction() as session:
        live = claimed_at + timedelta(milliseconds=900)
        assert mail_outbox.claim_due_mails(session, now=live, limit=10, lease=timedelta(1)) == []

    restarted = mailroom.worker()
    wait_for(lambda: restarted.run_once() or mailroom.sink.received(), what="the held mail")

    [mail] = mailroom.sink.received()
    assert mail["Message-ID"] == f"<{held.mail_id}@uitstroomtafel.example>"
    [row] = mailroom.outbox()
    assert row.status == MailStatus.sent.value
    # The dead worker's late outcome is refused: its lease is gone.
    with mailroom.transaction() as session:
        assert not mail_outbox.record_sent(session, held, now=utcnow())


def test_without_an_smtp_server_nothing_is_sent(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        assert assign_action(client, region, region.care_provider, None).status_code == 201

    mailroom.send_due(mailroom.worker(smtp=False), rounds=2)

    assert mailroom.sink.received() == []
    assert [row.status for row in mailroom.outbox()] == [MailStatus.pending.value]


def test_the_digest_is_queued_once_per_person_and_meeting_however_often_it_is_looked_for(
    mailroom,
):
    with mailroom.client() as client:
        region = make_region(client)
        people = [person(client, region.care_provider)[0], person(client, region.corporation)[0]]
        meeting = plan_meeting(client, region, iso(1))
        later = plan_meeting(client, region, iso(8))

    for _ in range(3):
        with mailroom.transaction() as session:
            mail_service.queue_due_notices(session)
    mailroom.send_due(mailroom.worker(), rounds=2)
    mailroom.send_due(mailroom.worker(), rounds=2)

    digests = [row for row in mailroom.outbox() if row.kind == "digest"]
    assert sorted(str(row.person_id) for row in digests) == sorted(people)
    assert {row.dedupe_key for row in digests} == {f"digest:{meeting['id']}"}
    assert f"digest:{later['id']}" not in {row.dedupe_key for row in digests}
    assert len(mailroom.sink.received()) == 2


def test_an_overdue_action_is_mailed_once_to_its_owner(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        _, care_worker = person(client, region.care_provider)
        _, other = person(client, region.other_care_provider)
        action = client.post(
            f"/v1/tables/{region.table_id}/actions",
            json={
                "kind": "request_beschikking",
                "owner_organisation_id": region.care_provider.id,
                "due_date": iso(-2),
            },
            headers=region.chair.headers,
        )
        assert action.status_code == 201, action.text

    mailroom.send_due(rounds=3)

    overdue = [m for m in mailroom.sink.received() if m["Subject"].startswith("Actie over")]
    assert [m["To"] for m in overdue] == [care_worker]
    assert "Wmo-beschikking aanvragen" in text_of(overdue[0])
    assert other not in {m["To"] for m in mailroom.sink.received()}


def test_people_get_only_the_notices_they_chose(mailroom):
    with mailroom.client() as client:
        region = make_region(client)
        quiet_id, quiet = person(client, region.care_provider)
        _, keen = person(client, region.care_provider)
        chosen = client.put(
            f"/v1/organizations/{region.care_provider.id}/people/{quiet_id}/notice-preferences",
            json={"agenda_published": False, "actions": True, "proposals": True, "digest": False},
            headers=region.care_provider.headers,
        )
        assert chosen.status_code == 200, chosen.text
        create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation)
        _publish_tomorrow(client, region)

    mailroom.send_due(rounds=2)

    subjects = _by_recipient(mailroom)
    assert quiet not in subjects
    assert any(s.startswith("Agenda gepubliceerd") for s in subjects[keen])
    assert any(s.startswith("Vergadering van") for s in subjects[keen])
    assert uuid.UUID(quiet_id) not in {row.person_id for row in mailroom.outbox()}


def test_a_notice_queued_before_the_person_opted_out_is_not_sent(mailroom):
    """A person who turns a notice off expects no more of it, also none already waiting in the
    outbox (the agenda published while the mail server was down, say)."""
    with mailroom.client() as client:
        region = make_region(client)
        quiet_id, quiet = person(client, region.care_provider)
        _, keen = person(client, region.care_provider)
        create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation)
        _publish_tomorrow(client, region)
        queued = [row.kind for row in mailroom.outbox() if row.person_id == uuid.UUID(quiet_id)]
        assert "agenda_published" in queued
        chosen = client.put(
            f"/v1/organizations/{region.care_provider.id}/people/{quiet_id}/notice-preferences",
            json={"agenda_published": False, "actions": True, "proposals": True, "digest": False},
            headers=region.care_provider.headers,
        )
        assert chosen.status_code == 200, chosen.text

    mailroom.send_due(rounds=2)

    subjects = _by_recipient(mailroom)
    assert quiet not in subjects
    assert any(s.startswith("Agenda gepubliceerd") for s in subjects[keen])


def test_a_notice_queued_as_the_person_opted_out_is_not_sent(mailroom):
    """The interleaving the opt-out's own sweep cannot see: the publication read the choices
    (on) and queued its mail after the person turned the notice off. The worker leaves it."""
    with mailroom.client() as client:
        region = make_region(client)
        quiet_id, quiet = person(client, region.care_provider)
        create_case(client, region.care_provider, region.table_id)
        create_vacancy(client, region.corporation)
        _publish_tomorrow(client, region)
    with mailroom.transaction() as session:
        choice = {"agenda_published": False, "actions": True, "proposals": True, "digest": True}
        session.add(NoticePreferences(person_id=uuid.UUID(quiet_id), **choice))

    mailroom.send_due(rounds=2)

    got = _by_recipient(mailroom).get(quiet, [])
    assert got and not any(s.startswith("Agenda gepubliceerd") for s in got)  # the digest came
    [waiting] = [
        r
        for r in mailroom.outbox()
        if r.person_id == uuid.UUID(quiet_id) and r.kind == "agenda_published"
    ]
    assert (waiting.status, waiting.attempts) == ("pending", 0)


def test_a_digest_not_sent_by_the_end_of_the_meetings_day_in_amsterdam_is_dropped(mailroom):
    """Dropped at the end of the meeting's day: midnight in Amsterdam, not in UTC (01:00 or
    02:00 in Amsterdam), so nobody is mailed about a meeting whose day has passed."""
    with mailroom.client() as client:
        region = make_region(client)
        person(client, region.care_provider)
        plan_meeting(client, region, iso(0))
    with mailroom.transaction() as session:
        mail_service.queue_due_notices(session)
    [digest] = [row for row in mailroom.outbox() if row.kind == "digest"]
    assert digest.status == MailStatus.pending.value

    after_midnight = datetime.combine(TODAY + timedelta(days=1), time(0, 30), tzinfo=AMSTERDAM)
    with time_machine.travel(after_midnight, tick=True):
        mailroom.send_due(rounds=2)
    assert mailroom.sink.received() == []


class _EnvelopeSink(SmtpSink):
    """A sink that also keeps each mail's envelope recipients (RCPT TO)."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(list(envelope.rcpt_tos))
        return await super().handle_DATA(server, session, envelope)


def _send_through(mailroom: Mailroom, sink: SmtpSink, **server: Any) -> None:
    """One round of the mail worker against `sink`, an SMTP server started with `server`'s
    options (aiosmtpd's, such as `enable_SMTPUTF8`)."""
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **server)
    controller.start()
    try:
        mailroom.settings = mailroom.settings.model_copy(update={"smtp_port": port})
        mailroom.send_due()
    finally:
        controller.stop()


def test_an_address_the_server_cannot_take_fails_alone_and_the_others_are_sent(mailroom):
    """An address with non-ASCII characters (a login name may have them) needs SMTPUTF8; a
    server without it cannot take that mail, ever. It is given up at once and the other mails
    of the batch go out over the same connection: taken for a broken connection, it was
    retried a dozen times and each time held the rest of its batch back for a lease."""
    with mailroom.client() as client:
        region = make_region(client)
        colleagues = [person(client, region.care_provider)[1] for _ in range(4)]
        made = client.post(
            f"/v1/organizations/{region.care_provider.id}/people",
            json={"email": "jöran@example.nl", "display_name": "Jöran", "role": "member"},
            headers=region.care_provider.headers,
        )
        assert made.status_code == 201, made.text
        assert assign_action(client, region, region.care_provider, None).status_code == 201

    sink = _EnvelopeSink()
    _send_through(mailroom, sink, enable_SMTPUTF8=False)

    assert sorted(m["To"] for m in sink.received()) == sorted(colleagues)
    [unsendable] = [r for r in mailroom.outbox() if str(r.person_id) == made.json()["id"]]
    assert unsendable.status == MailStatus.failed.value
    assert "SMTPUTF8" in (unsendable.last_error or "")


def test_a_mail_goes_to_the_stored_address_only_and_not_to_one_its_to_header_parses_out(
    mailroom,
):
    """The login name took `<`, `>` and `,` (an `Email` part was anything but `@`, blanks and
    control characters; the API refuses them now, rows stored before keep them). Written into
    the To header, `x<other@elsewhere.example>` reads as the address `other@elsewhere.example`
    and `a,b@example.nl` as two, and the envelope was taken from that header: the notice went
    to an address nobody registered. A mail goes to one plain address, the stored one, or is
    given up."""
    names = ["x<other@elsewhere.example>", "a,b@example.nl"]
    with mailroom.client() as client:
        region = make_region(client)
        _, colleague = person(client, region.care_provider)
        for number, name in enumerate(names):
            made = client.post(
                f"/v1/organizations/{region.care_provider.id}/people",
                json={"email": f"old{number}@example.nl", "display_name": "Iemand"},
                headers=region.care_provider.headers,
            )
            assert made.status_code == 201, made.text
            with Session(mailroom.main) as session:
                stored = session.get(Person, uuid.UUID(made.json()["id"]))
                assert stored is not None
                stored.email = name
                session.add(stored)
                session.commit()
        assert assign_action(client, region, region.care_provider, None).status_code == 201

    sink = _EnvelopeSink()
    _send_through(mailroom, sink)

    assert sink.envelopes == [[colleague]]
    refused = [row for row in mailroom.outbox() if row.status == MailStatus.failed.value]
    assert len(refused) == 2 and all("cannot compose" in (r.last_error or "") for r in refused)
