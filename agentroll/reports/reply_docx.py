"""The written reply as a Word document, laid out like a Vietnamese administrative report.

A4, Times New Roman 13 pt, margins of Decree 30/2020 (left 3 cm, right 2 cm, top and bottom 2 cm),
issuer and national motto side by side, signature block on the right.
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table as DocxTable
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from agentroll.i18n import Catalog
from agentroll.reports.reply import Reply, build_reply
from agentroll.reports.tables import Report, Table

FONT_NAME = "Times New Roman"
BODY_SIZE = Pt(13)
TABLE_SIZE = Pt(12)
#: Column widths (cm) of the tables, each adding up to the 16 cm of text width: "No." narrow, the
#: reasons ("what falls short") widest.
PC_WIDTHS = (1.3, 3.3, 3.2, 2.9, 5.3)
MOVE_WIDTHS = (1.3, 6.0, 6.0, 2.7)
WAITING_WIDTHS = (1.3, 5.4, 5.0, 4.3)
#: The heading and signature blocks: issuer | national motto, recipients | signer.
HEADING_WIDTHS = (6.0, 10.0)
SIGNATURE_WIDTHS = (8.0, 8.0)


def _setup(document: DocumentType) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = document.styles["Normal"]
    style.font.name = FONT_NAME
    style.font.size = BODY_SIZE
    # Word picks the East-Asian font slot for some Vietnamese letters unless it is set too.
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT_NAME)
    style.paragraph_format.space_after = Pt(3)


def _next_paragraph(container: DocumentType | _Cell) -> Paragraph:
    """A new paragraph, except in a fresh table cell, which already holds one empty paragraph."""
    if isinstance(container, _Cell):
        paragraphs = container.paragraphs
        if len(paragraphs) == 1 and not paragraphs[0].text:
            return paragraphs[0]
    return container.add_paragraph()


def _line(
    container: DocumentType | _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
    size: Pt | None = None,
) -> Paragraph:
    paragraph = _next_paragraph(container)
    paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size is not None:
        run.font.size = size
    return paragraph


def _fix_widths(table: DocxTable, widths: tuple[float, ...]) -> None:
    """Column widths that hold: Word reads each cell's width, LibreOffice the table grid; set both,
    and keep either from re-spreading the columns evenly."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _layout_table(document: DocumentType, widths: tuple[float, ...]) -> DocxTable:
    """A one-row table that only places blocks side by side: no borders (Word's default table)."""
    table = document.add_table(rows=1, cols=len(widths))
    table.style = None
    _fix_widths(table, widths)
    return table


def _keep_rows_whole(table: DocxTable) -> None:
    """No row is split across two pages, and the header row is repeated on each page."""
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if index == 0:
            properties.append(OxmlElement("w:tblHeader"))


def _heading_block(document: DocumentType, reply: Reply) -> None:
    """Issuer (left) and national motto with place and date (right)."""
    block = _layout_table(document, HEADING_WIDTHS)
    left, right = block.rows[0].cells
    _line(left, reply.issuer_parent, size=Pt(12))
    _line(left, reply.issuer, bold=True, size=Pt(12))
    _line(left, reply.number, size=Pt(12))
    _line(right, reply.nation, bold=True, size=Pt(12))
    _line(right, reply.motto, bold=True)
    _line(right, reply.place_date, italic=True)


def _data_table(document: DocumentType, table: Table, widths: tuple[float, ...]) -> None:
    grid = document.add_table(rows=1 + len(table.rows), cols=len(table.headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fix_widths(grid, widths)
    _keep_rows_whole(grid)
    for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = cell.paragraphs[0].add_run(header)
        run.bold, run.font.size = True, TABLE_SIZE
    for row, values in zip(grid.rows[1:], table.rows, strict=True):
        for index, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            numeric = isinstance(value, int)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER if numeric or index == 0 else None
            cell.paragraphs[0].add_run(str(value)).font.size = TABLE_SIZE


def _body(document: DocumentType, reply: Reply) -> None:
    _line(document, "")
    _line(document, reply.title, bold=True, size=Pt(14))
    _line(document, reply.recipient)
    for paragraph in reply.intro:
        _body_paragraph(document, paragraph)
    _heading(document, reply.ineligible_heading)
    if reply.ineligible.rows:
        _data_table(document, reply.ineligible, PC_WIDTHS)
    else:
        _line(document, reply.none_ineligible, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    _heading(document, reply.reallocation_heading)
    if reply.reallocation.rows:
        _data_table(document, reply.reallocation, MOVE_WIDTHS)
    else:
        _line(document, reply.no_reallocation, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    if reply.returnable:
        _body_paragraph(document, reply.returnable)
    _heading(document, reply.waiting_heading)
    if reply.waiting.rows:
        _data_table(document, reply.waiting, WAITING_WIDTHS)
    else:
        _line(document, reply.none_waiting, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    _body_paragraph(document, reply.closing)


def _heading(document: DocumentType, text: str) -> None:
    """A numbered section heading, kept with the table below it."""
    paragraph = _line(document, text, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    paragraph.paragraph_format.space_before = Pt(8)
    paragraph.paragraph_format.keep_with_next = True


def _body_paragraph(document: DocumentType, text: str) -> None:
    """A justified paragraph of the body, its first line indented."""
    paragraph = _line(document, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    paragraph.paragraph_format.first_line_indent = Cm(1)
    paragraph.paragraph_format.space_before = Pt(4)


def _signature_block(document: DocumentType, reply: Reply) -> None:
    """Recipients (left) and the signer (right), as in every administrative document."""
    block = _layout_table(document, SIGNATURE_WIDTHS)
    left, right = block.rows[0].cells
    _line(left, reply.recipients_heading, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, size=Pt(12))
    for recipient in reply.recipients:
        _line(left, f"- {recipient}", align=WD_ALIGN_PARAGRAPH.LEFT, size=Pt(11))
    for line in reply.signer_title:
        _line(right, line, bold=True)
    if reply.signer_note:
        _line(right, reply.signer_note, italic=True)
    # Room for the signature (and the seal), then the name.
    for _ in range(4):
        _line(right, "")
    if reply.signer_name:
        _line(right, reply.signer_name, bold=True)


def reply_document(reply: Reply) -> DocumentType:
    """The reply as a python-docx document."""
    document = Document()
    _setup(document)
    _heading_block(document, reply)
    _body(document, reply)
    _signature_block(document, reply)
    document.core_properties.title = reply.title
    document.core_properties.language = reply.lang
    return document


def render_reply_docx(report: Report, catalog: Catalog, district: str | None = None) -> bytes:
    """The written reply as DOCX bytes."""
    buffer = io.BytesIO()
    reply_document(build_reply(report, catalog, district)).save(buffer)
    return buffer.getvalue()
