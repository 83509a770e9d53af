"""The text of a PDF as the tests read it: each text operation's string decoded (pypdf, through
the fonts' ToUnicode maps) and put in parentheses, `(Score)(Geen.)...`, as UTF-8 bytes. A cell or
a line of a paragraph is one such string, so `b"(Score)" in pdf_text(...)` asks for a cell that
reads exactly 'Score', whichever font the PDF embeds."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> bytes:
    chunks: list[str] = []

    def visit(text: str, *_: object) -> None:
        if text.strip():
            chunks.append(text.strip("\n"))

    for page in PdfReader(io.BytesIO(content)).pages:
        page.extract_text(visitor_text=visit)
    return "".join(f"({chunk})" for chunk in chunks).encode()
