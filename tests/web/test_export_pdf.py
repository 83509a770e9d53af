"""The printed agenda (`app.web.export.sections_pdf`): any amount of text in one cell prints."""

import re

from app.web.export import CUT, PRINT_CELL_MAX, _printable, sections_pdf
from app.web.sections import Section


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
