"""The printed agenda (`app.web.export.sections_pdf`): any amount of text in one cell prints."""

import re

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.web.export import (
    CONFIDENTIAL,
    CUT,
    FOOTER_FONT,
    LEFT_OUT,
    LEFT_OUT_NOTE,
    PRINT_CELL_MAX,
    _printable,
    footer_text,
    sections_pdf,
)
from app.web.sections import Section
from tests.web.test_limits_pages import pdf_text


def _pages(pdf: bytes) -> int:
    return max(int(n) for n in re.findall(rb"/Count (\d+)", pdf))


def test_a_cell_taller_than_a_page_continues_on_the_next_page():
    # A proposal with some forty cases passed over fills one cell with more lines than an A4
    # page holds; ReportLab refused such a row (LayoutError), so the PDF answered 500.
    passed_over = "\n".join(
        f"Dossier {n:03d}: score 1.234,5 hoger, voorrang 2 weken" for n in range(200)
    )
    section = Section(
        key="voorstellen",
        title="Voorstellen",
        columns=["dossier", "woning", "voorbijgegaan"],
        rows=[["D-1", "W-1", passed_over]],
    )
    pdf = sections_pdf("Agenda", "Agenda van de uitstroomtafel", [], [], [section], "tester")
    assert pdf.startswith(b"%PDF")
    assert _pages(pdf) >= 2


def test_a_cell_of_any_length_prints_cut_with_a_note_the_page_and_csv_hold_it_all():
    # Splitting a row over pages costs ReportLab time in the square of its text (100,000
    # characters: 9 s); the print is cut, the page and the CSV are not.
    huge = "Dossier 001 voorbijgegaan. " * 10_000  # 270,000 characters: about 90 pages whole
    section = Section(
        key="k", title="Voorstellen", columns=["dossier", "tekst"], rows=[["D-1", huge]]
    )
    pdf = sections_pdf("Agenda", "Agenda van de uitstroomtafel", [], [], [section], "tester")
    assert _pages(pdf) <= 3
    assert _printable(huge).endswith(CUT)
    assert len(_printable(huge)) == PRINT_CELL_MAX + len(CUT)
    assert _printable("kort") == "kort"


def test_the_confidentiality_notice_stays_on_the_page_whatever_the_names():
    # The footer drew the title, who printed it and the notice on one line: with a long table
    # and organisation name (270 characters, 925 points) it ran past the page number and off
    # the page, and the notice "vertrouwelijk" was not on the printout.
    table = "Uitstroomtafel Beschermd Wonen en Maatschappelijke Opvang Regio Eemland"
    title = f"Agenda {table}, 1 december 2026"
    organisation = "Stichting Maatschappelijke Opvang en Beschermd Wonen Regio Eemland"
    printed_by = f"Marieke van den Berg-Hoogendoorn ({organisation})"
    room = landscape(A4)[0] - 24 * mm - 40
    for name in (printed_by, printed_by * 5):
        text, size = footer_text(title, name, room)
        assert stringWidth(text, FOOTER_FONT, size) <= room
        assert size >= 5
    assert footer_text("Agenda", "Jan (Gemeente)", room) == (
        "Agenda · afgedrukt door Jan (Gemeente)",
        7,
    )
    section = Section(key="k", title="Voorstellen", columns=["dossier"], rows=[["D-1"]])
    pdf = sections_pdf(title, "Agenda van de uitstroomtafel", [], [], [section], printed_by)
    assert f"({CONFIDENTIAL})".encode() in pdf_text(pdf)


def test_names_in_any_latin_script_print_as_written_not_as_squares():
    # PDF's standard Helvetica has Windows-1252's letters only: ReportLab drew a black square
    # (ZapfDingbats) for the ł, ś, ș, ț, ő, ż of names such as these.
    names = "Łukasz Wiśniewski, Ștefan Țurcanu, Őrs Kovács, Şükrü Çelik"
    section = Section(key="k", title="Acties", columns=["toelichting"], rows=[[names]])
    pdf = sections_pdf("Agenda Țara", "Agenda", [], [], [section], "Żaneta Ślusarz (Zorg)")
    text = pdf_text(pdf).decode()
    assert f"({names})" in text
    assert "(Agenda Țara · afgedrukt door Żaneta Ślusarz (Zorg))" in text
    assert "■" not in text and b"/ZapfDingbats" not in pdf


def test_text_the_font_cannot_print_is_marked_and_explained_not_left_blank():
    # DejaVu Sans has no Chinese, Japanese or emoji, and ReportLab writes Arabic and Hebrew
    # left to right and unshaped: '李小龙' printed as blank boxes (pypdf read spaces), a
    # name in Arabic letter by letter backwards. Such text is now marked with LEFT_OUT and the
    # document says what the mark means; the page and the CSV hold the text.
    rows = [["李小龙 Jansen"], ["مرحبا"], ["שלום"], ["Feest 🎉👍🏽"], ["a\u200bb é"]]
    section = Section(key="k", title="Tafel 東京", columns=["toelichting"], rows=rows)
    pdf = sections_pdf("Agenda 東京", "Agenda", [], [], [section], "Wang 王 (Zorg)")
    text = pdf_text(pdf).decode()
    assert f"({LEFT_OUT} Jansen)" in text
    assert f"({LEFT_OUT})" in text  # the Arabic, the Hebrew
    assert f"(Feest {LEFT_OUT})" in text
    assert "(a\u200bb é)" in text  # in the font: printed as written
    assert f"(Agenda {LEFT_OUT} · afgedrukt door Wang {LEFT_OUT} (Zorg))" in text
    assert f"(Tafel {LEFT_OUT})" in text
    assert LEFT_OUT_NOTE in text.replace(")(", " ")
    for gone in ("李", "東", "王", "م", "ש", "🎉"):
        assert gone not in text


def test_a_document_the_font_prints_whole_has_no_note_about_left_out_text():
    section = Section(key="k", title="Acties", columns=["toelichting"], rows=[["Łukasz"]])
    pdf = sections_pdf("Agenda", "Agenda", [], [], [section], "tester")
    assert LEFT_OUT_NOTE not in pdf_text(pdf).decode().replace(")(", " ")
