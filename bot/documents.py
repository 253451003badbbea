"""Documents as PDF: the minutes' Markdown (headings, bullets, paragraphs) laid out with fpdf2.

fpdf2's built-in fonts cover Latin-1 only; people's names and wording do not, so the PDF embeds DejaVu Sans, which
matplotlib (already a dependency, for the report's charts) ships in its data directory. Both are imported here,
inside the function, so nothing that serves requests loads them.
"""

from __future__ import annotations

from pathlib import Path


def markdown_pdf(text: str, *, title: str) -> bytes:
    import matplotlib
    from fpdf import FPDF

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Oneday")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for line in text.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            pdf.set_font("DejaVu", "B", {1: 16, 2: 13}.get(level, 11))
            pdf.multi_cell(width, 8, line.lstrip("#").strip(), new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("- "):
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(width, 5.5, "\u2022 " + line[2:], new_x="LMARGIN", new_y="NEXT")
        elif line.strip():
            pdf.set_font("DejaVu", "", 10)
            pdf.multi_cell(width, 5.5, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(3)
    return bytes(pdf.output())
