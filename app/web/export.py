"""The agenda to print (PDF, ReportLab: pure Python) and to open in a spreadsheet (CSV), built
from the same sections as the page, so all three show the same restricted document."""

import csv
import io
import unicodedata
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont, registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.spreadsheet import safe_cell
from app.web import labels
from app.web.agenda import AgendaData, sections, summary_rows
from app.web.formatting import dutch_date, dutch_datetime
from app.web.sections import Section

DARK = colors.HexColor("#1f3b57")
LIGHT = colors.HexColor("#e8eef4")

# DejaVu Sans (app/web/fonts, with its licence), embedded as a subset: PDF's standard Helvetica
# has only Windows-1252's letters, so 'Łukasz Wiśniewski', 'Ștefan' or 'Őrs' printed with black
# squares for ł, ś, ș, ő (ReportLab's stand-in) in a name, a street or a note.
FONT = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FONTS = Path(__file__).parent / "fonts"


@cache
def fonts() -> None:
    """Register the two faces once per process (about 0.1 s), when a PDF is first made, and
    map `<b>` in markup to the bold one."""
    registerFont(TTFont(FONT, FONTS / "DejaVuSans.ttf"))
    registerFont(TTFont(BOLD, FONTS / "DejaVuSans-Bold.ttf"))
    for italic in (0, 1):
        addMapping(FONT, 0, italic, FONT)
        addMapping(FONT, 1, italic, BOLD)


LEFT_OUT = "[?]"
LEFT_OUT_NOTE = (
    f"{LEFT_OUT} staat voor tekst die deze afdruk niet kan weergeven (zoals Chinees, Japans, "
    "Arabisch, Hebreeuws of emoji); de pagina en de CSV tonen die wel."
)
RIGHT_TO_LEFT = {"R", "AL", "AN"}


@cache
def _glyphs() -> frozenset[int]:
    """The characters both faces have a glyph for."""
    fonts()
    regular, bold = (getFont(name).face.charToGlyph for name in (FONT, BOLD))  # type: ignore[attr-defined]
    return frozenset(regular) & frozenset(bold)


def _shown(text: str) -> str:
    """`text` as print can show it: each run of characters the font has no glyph for (Chinese,
    Japanese, emoji), or that would print wrong (Arabic and Hebrew: ReportLab lays them out left
    to right, unshaped, so they read backwards), becomes LEFT_OUT; an invisible format
    character (zero-width joiner, variation selector) the font lacks is dropped. Without this
    DejaVu's empty box stood for each such letter and a name in Chinese printed blank."""
    glyphs = _glyphs()
    out: list[str] = []
    left_out = False
    for char in text:
        if left_out and unicodedata.category(char) in ("Cf", "Mn", "Sk"):
            continue  # part of the run left out: a joiner, a skin tone, a vowel mark
        if ord(char) < 32 or (
            ord(char) in glyphs and unicodedata.bidirectional(char) not in RIGHT_TO_LEFT
        ):
            out.append(char)
            left_out = False
        elif unicodedata.category(char) == "Cf":
            continue
        elif not left_out:
            out.append(LEFT_OUT)
            left_out = True
    return "".join(out)


def title_of(data: AgendaData) -> str:
    return f"Agenda {data.table_info.name}, {dutch_date(data.meeting.date)}"


WHOLE_TABLE_NOTE = (
    "De samenvatting telt de hele tafel, niet alleen uw deel; 'afgeschermd' staat waar een "
    "getal iets over enkele dossiers zou verraden. Het aantal dossiers aan tafel staat er niet "
    "in: van week tot week vergeleken zou het veranderingen in de dossiers van anderen "
    "verraden (de monitor toont het beschermd)."
)


def status_line(data: AgendaData) -> str:
    doc = data.document
    state = (
        f"Gepubliceerd en bevroren op {dutch_datetime(data.meeting.published_at)}"
        if doc["frozen"]
        else "Concept: live berekend, nog niet gepubliceerd"
    )
    whole = "" if doc["view"] == "table" else f" {WHOLE_TABLE_NOTE}"
    return (
        f"{state}. Weergave: {labels.label('view', doc['view'])}.{whole} "
        f"Berekend: {dutch_datetime(doc['generated_at'])}."
    )


def limits_line(data: AgendaData) -> str:
    """Which year's legal limits the agenda used, and a warning when it is not its own."""
    fallback = data.document.get("limits_fallback")
    if fallback:
        return "Let op: " + labels.limits_fallback_text(fallback)
    return f"Wettelijke grenzen van {data.document['limits']['year']}."


def agenda_pdf(data: AgendaData, printed_by: str) -> bytes:
    limits = escape(limits_line(data))
    return sections_pdf(
        title_of(data),
        "Agenda van de uitstroomtafel",
        [
            escape(status_line(data)),
            f"<b>{limits}</b>" if data.document.get("limits_fallback") else limits,
        ],
        summary_rows(data),
        sections(data),
        printed_by,
    )


def sections_pdf(
    title: str,
    subject: str,
    lines: list[str],
    summary: list[tuple[str, str]],
    parts: list[Section],
    printed_by: str,
) -> bytes:
    """A landscape A4 PDF: the title, `lines` (ReportLab markup, already escaped), a summary
    table and one table per section ("Geen." for an empty one)."""
    fonts()
    sample = getSampleStyleSheet()
    plain = sample["BodyText"].clone("plain", fontName=FONT)
    heading = sample["Heading2"].clone("heading", fontName=BOLD)
    cell = plain.clone("cell", fontSize=8, leading=10)
    head = cell.clone("head", fontName=BOLD, textColor=colors.white)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="Uitstroomtafel",
        subject=subject,
        lang="nl-NL",
    )
    width = document.width

    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        page = f"pagina {doc.page}"
        canvas.setFont(FOOTER_FONT, FOOTER_SIZE)
        canvas.drawRightString(doc.leftMargin + doc.width, 8 * mm, page)
        room = doc.width - stringWidth(page + "    ", FOOTER_FONT, FOOTER_SIZE)
        text, size = footer_text(_shown(title), _shown(printed_by), room)
        canvas.setFont(FOOTER_FONT, size)
        canvas.drawString(doc.leftMargin, 8 * mm, text)
        canvas.setFont(FOOTER_FONT, FOOTER_SIZE)
        canvas.drawString(doc.leftMargin, 5 * mm, CONFIDENTIAL)
        canvas.restoreState()

    shown: list[str] = []

    def esc(text: str) -> str:
        """`text` as print shows it (`_shown`), escaped for ReportLab's markup."""
        shown.append(_shown(text))
        return escape(shown[-1])

    story: list[Flowable] = [Paragraph(esc(title), sample["Title"].clone("t", fontName=BOLD))]
    story += [Paragraph(line, plain) for line in lines]
    story.append(Spacer(1, 4 * mm))
    if summary:
        table = Table(
            [[Paragraph(esc(k), cell), Paragraph(esc(v), cell)] for k, v in summary],
            colWidths=[70 * mm, 25 * mm],
            hAlign="LEFT",
        )
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
        story += [table, Spacer(1, 4 * mm)]
    for section in parts:
        story.append(Paragraph(esc(section.title), heading))
        if not section.rows:
            story.append(Paragraph("Geen.", plain))
            continue
        header = [Paragraph(esc(c), head) for c in section.columns]
        body = [[Paragraph(esc(_printable(value)), cell) for value in row] for row in section.rows]
        # splitInRow: a row taller than a page (a proposal with some forty cases passed over)
        # continues on the next page; without it ReportLab refuses the whole document.
        table = LongTable(
            [header, *body], colWidths=_widths(section, width), repeatRows=1, splitInRow=1
        )
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), DARK),
                    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, LIGHT]),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [table, Spacer(1, 3 * mm)]
    if any(LEFT_OUT in text for text in [*shown, _shown(printed_by)]):
        story.insert(1 + len(lines), Paragraph(escape(LEFT_OUT_NOTE), plain))
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


FOOTER_FONT = FONT
FOOTER_SIZE = 7
FOOTER_MIN_SIZE = 5
CONFIDENTIAL = "Vertrouwelijk: bevat gepseudonimiseerde dossiergegevens."


def footer_text(title: str, printed_by: str, room: float) -> tuple[str, float]:
    """The footer's line naming the document and who printed it, and its font size: smaller
    for long names, cut with '…' if it still does not fit in `room` points. (On one line with
    the confidentiality notice, a long table and organisation name pushed the notice off the
    page.)"""
    fonts()  # the widths are DejaVu's
    text = f"{title} · afgedrukt door {printed_by}"
    size: float = FOOTER_SIZE
    while size > FOOTER_MIN_SIZE and stringWidth(text, FOOTER_FONT, size) > room:
        size -= 0.5
    while len(text) > 1 and stringWidth(text, FOOTER_FONT, size) > room:
        text = text[:-2] + "…"
    return text, size


PRINT_CELL_MAX = 5000
"""Characters of one cell in print (about 80 passed-over entries). ReportLab's time to split a
row over pages grows with the square of its text (a cell of 100,000 characters took 9 s), and a
printed cell that long helps no meeting; the page and the CSV hold the whole text."""
CUT = " … (ingekort voor de afdruk; de pagina en de CSV tonen alles)"


def _printable(value: str) -> str:
    """`value`, cut at PRINT_CELL_MAX characters with a note that it was."""
    return value if len(value) <= PRINT_CELL_MAX else value[:PRINT_CELL_MAX] + CUT


def _widths(section: Section, total: float) -> list[float]:
    weights = section.weights or [1.0] * len(section.columns)
    return [total * w / sum(weights) for w in weights]


def agenda_csv(data: AgendaData) -> str:
    """Semicolon-separated with a byte-order mark, as Dutch spreadsheet programs expect; one
    block per section, each with its own header line (the full case and dwelling ids first),
    after a block about the agenda itself."""
    head = [
        ("agenda", "tafel", data.table_info.name),
        ("agenda", "datum", data.meeting.date.isoformat()),
        ("agenda", "vergadering_id", str(data.meeting.id)),
        ("agenda", "status", status_line(data)),
        ("agenda", "grenzen", limits_line(data)),
    ]
    head += [("samenvatting", key, value) for key, value in summary_rows(data)]
    return sections_csv(head, sections(data))


def sections_csv(
    head: list[tuple[str, str, str]], parts: list[Section], with_ids: bool = True
) -> str:
    """The CSV of `head` (part, field, value) and then one block per section; `with_ids`:
    each row starts with its full case and dwelling id (figures name none)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["onderdeel", "veld", "waarde"])
    for part, key, value in head:
        writer.writerow([part, safe_cell(key), safe_cell(value)])
    for section in parts:
        writer.writerow([])
        id_columns = ["dossier_id", "woning_id"] if with_ids else []
        writer.writerow(["onderdeel", *id_columns, *section.columns])
        ids = section.ids or [("", "")] * len(section.rows)
        for pair, row in zip(ids, section.rows, strict=True):
            writer.writerow([section.key, *pair[: len(id_columns)], *[safe_cell(v) for v in row]])
    return out.getvalue()
