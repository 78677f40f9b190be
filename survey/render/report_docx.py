"""The report as an editable Word document (.docx), with the same content as the PDF.

Officers edit the report in Word or LibreOffice Writer before it is signed, so
this is a real document, not a picture of one: styled paragraphs, real tables,
the chart as an image. The layout follows Nghị định 30/2020/NĐ-CP: A4, margins
top 2 cm, bottom 2 cm, left 3 cm, right 1,5 cm; Times New Roman; the issuing
body and the national heading side by side in a borderless table; the number
and symbol, place and date; the title; the body; "Nơi nhận" and the signature
block side by side at the end. An unfinished period's watermark text is in
every page's header (Word's own watermarks are shapes that LibreOffice and
python-docx do not agree on).

This module is pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.shared import Pt
from docx.shared import RGBColor

from .report_pdf import NATIONAL_MOTTO
from .report_pdf import NATIONAL_NAME
from .report_pdf import Letterhead
from .report_pdf import ReportContent

__all__ = ["render_docx"]

_FONT = "Times New Roman"


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)


def _para(
    cell_or_doc,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: float = 13,
    align=None,
    after: float = 0,
):
    paragraph = cell_or_doc.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.space_before = Pt(0)
    if align is not None:
        paragraph.alignment = align
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return paragraph


def _first_para(cell, text: str, **kwargs):
    """Write into a table cell's own first paragraph, then add more with _para."""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = kwargs.pop("align", WD_ALIGN_PARAGRAPH.CENTER)
    run = paragraph.add_run(text)
    run.bold = kwargs.get("bold", False)
    run.italic = kwargs.get("italic", False)
    run.font.size = Pt(kwargs.get("size", 13))
    return paragraph


def _heading(doc, head: Letterhead) -> None:
    table = doc.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    widths = (Cm(6.0), Cm(10.5))
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    left, right = table.rows[0].cells
    centre = WD_ALIGN_PARAGRAPH.CENTER
    if head.parent_body:
        _first_para(left, head.parent_body.upper(), size=12)
        _para(left, head.issuing_body.upper(), bold=True, size=12, align=centre)
    else:
        _first_para(left, head.issuing_body.upper(), bold=True, size=12)
    _para(left, "―――――", size=8, align=centre)
    _first_para(right, NATIONAL_NAME, bold=True, size=12)
    _para(right, NATIONAL_MOTTO, bold=True, size=13, align=centre)
    _para(right, "―――――――――――――", size=8, align=centre)
    number, place = table.rows[1].cells
    _first_para(number, head.number, size=13)
    _first_para(place, head.place_date, italic=True, size=13)


def _signature(doc, head: Letterhead) -> None:
    table = doc.add_table(rows=1, cols=2)
    table.autofit = False
    _no_borders(table)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8.0), Cm(8.5)
    p = left.paragraphs[0]
    run = p.add_run(head.recipients_heading)
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for recipient in head.recipients:
        _para(left, recipient, size=11)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    for k, line in enumerate(head.signer_title):
        if k == 0:
            _first_para(right, line, bold=True, size=13)
        else:
            _para(right, line, bold=True, size=13, align=centre)
    for _ in range(4):  # room for the signature and the seal
        _para(right, "", size=13, align=centre)
    _para(right, head.signer_name, bold=True, size=13, align=centre)


def _table(doc, heading: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    _para(doc, heading, bold=True, size=13, after=4)
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold, run.font.size = True, Pt(11)
    # Repeat the header row on every page the table runs over.
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(marker)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            run = cell.paragraphs[0].add_run(str(text))
            run.font.size = Pt(11)
    _para(doc, "", after=6)


def render_docx(
    content: ReportContent,
    chart_png: bytes | None = None,
    *,
    no_comments_label: str = "Không có góp ý, phản ánh nào trong kỳ.",
    chart_heading: str = "",
) -> bytes:
    """The report as .docx bytes: what :func:`~survey.render.report_pdf.render_report`
    prints, as an editable document.

    Parameters
    ----------
    content : ReportContent
        The same content as the PDF; its ``chart`` figure is not used (pass
        ``chart_png``), its ``letterhead`` gives the heading and signature.
    chart_png : bytes, optional
        The trend chart as PNG, placed at the content width.
    """
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(13)
    # East Asian and complex-script fonts too, or Word picks another for "ạ", "ố"…
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), _FONT)
    normal.element.rPr.rFonts.set(qn("w:cs"), _FONT)
    doc.core_properties.title = content.title
    doc.core_properties.subject = content.unit_name
    doc.core_properties.author = content.unit_name

    head = content.letterhead
    if head is not None:
        if head.watermark:
            header = section.header.paragraphs[0]
            header.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = header.add_run(head.watermark)
            run.bold, run.font.size = True, Pt(16)
            run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
        _heading(doc, head)
        _para(doc, "", after=6)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, content.title, bold=True, size=14, align=centre)
    if content.unit_name:
        _para(doc, content.unit_name, bold=True, size=13, align=centre)
    if content.subtitle:
        _para(doc, content.subtitle, italic=True, size=12, align=centre, after=10)

    if content.summary:
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in content.summary:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(str(label)).font.size = Pt(12)
            run = cells[1].paragraphs[0].add_run(str(value))
            run.bold, run.font.size = True, Pt(12)
        _para(doc, "", after=6)
    for verdict in content.verdicts:
        paragraph = _para(doc, str(verdict), size=13, after=3)
        paragraph.style = doc.styles["List Bullet"]
    if content.verdicts:
        _para(doc, "", after=6)
    for heading, header, rows in content.tables:
        _table(doc, str(heading), header, rows)
    if chart_png:
        if chart_heading:
            _para(doc, chart_heading, bold=True, size=13, after=4)
        doc.add_picture(BytesIO(chart_png), width=Cm(16.0))
        doc.paragraphs[-1].alignment = centre
    if content.comments_heading:
        _para(doc, content.comments_heading, bold=True, size=13, after=4)
    if not content.comments:
        _para(doc, no_comments_label, italic=True, size=12, after=6)
    for number, (meta, text) in enumerate(content.comments, start=1):
        _para(doc, f"{number}. {meta}", bold=True, size=11)
        for line in str(text).splitlines() or [""]:
            paragraph = _para(doc, line, size=12, after=0)
            paragraph.paragraph_format.left_indent = Cm(0.5)
        _para(doc, "", size=6)
    if head is not None:
        _para(doc, "", after=6)
        _signature(doc, head)
    section.footer.paragraphs[0].add_run(content.footer).font.size = Pt(9)
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
