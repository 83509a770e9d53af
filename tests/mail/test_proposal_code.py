"""A mail about a proposal names it by the code its pages show.

A decision mail said "Besluit over voorstel E4422ED9" (from the proposal's id) while the pages
called the proposal "Voorstel D-F9B5A1E3" (from its case's id): a person with several mails could
not tell which was which without clicking each. The case's code was no fix for the mails either:
every proposal of one case has it, and a mail carries nothing of a case (README, E-mail notices).
Mail and pages now name a proposal by `proposal_code`, from the proposal's own id."""

from app.mail.compose import subject_and_text
from app.mail.models import NoticeKind
from app.web.formatting import proposal_code
from tests.mail.conftest import decision_notice
from tests.web.conftest import make_person, publish_one, signed_in


def test_a_decision_mail_names_the_proposal_by_the_code_its_pages_show(
    app, client, session, settings, region
):
    published = publish_one(client, region)
    chair = make_person(client, region.chair, "chair", is_admin=True)
    notice = decision_notice(client, session, region, published.proposal_id)
    subject, text = subject_and_text(notice.kind, notice.data, settings.public_url)
    code = proposal_code(published.proposal_id)
    assert subject == f"Besluit over voorstel {code}: Voorgedragen"
    assert f"Over voorstel {code} van " in text
    # The page the mail links to, and the lists that lead to it, name it so.
    browser = signed_in(app, chair)
    page = browser.get(f"/voorstellen/{published.proposal_id}").text
    assert f"<h1>Voorstel {code}</h1>" in page
    for listing in (f"/vergaderingen/{published.meeting_id}", f"/woningen/{published.vacancy_id}"):
        assert code in browser.get(listing).text, listing
    care_worker = signed_in(app, make_person(client, region.care_provider))
    assert code in care_worker.get(f"/dossiers/{published.case_id}").text


def test_a_stall_mail_names_the_proposal_as_the_decision_mail_does():
    proposal_id = "0193f1a2-7b3c-7d4e-8f5a-e4422ed9b1c0"
    data = {"proposal_id": proposal_id, "status": "nominated", "table": "Tafel Utrecht",
            "days_in_status": 9, "limit_days": 7, "path": "/voorstellen/x"}  # fmt: skip
    stalled, _ = subject_and_text(NoticeKind.proposal_stalled, data, "https://tafel.example")
    decided, _ = subject_and_text(NoticeKind.proposal_decided, data, "https://tafel.example")
    assert stalled == "Voorstel V-2ED9B1C0 staat stil"
    assert decided.startswith("Besluit over voorstel V-2ED9B1C0: ")
