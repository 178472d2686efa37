"""What a reader of each report format sees, as one text: the shared view of the rendering tests."""

from __future__ import annotations

import csv
import html
import io
import re
from html.parser import HTMLParser

from docx import Document
from markdown_it import MarkdownIt
from openpyxl import load_workbook


class _VisibleText(HTMLParser):
    """Collects what a browser shows: text outside <style> and <script>, plus <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _browser_text(markup: str) -> str:
    parser = _VisibleText()
    parser.feed(markup)
    return html.unescape("\n".join(parser.parts))


def visible_text(fmt: str, output: str | bytes) -> str:
    """Everything a reader of ``output`` in ``fmt`` sees: workbooks every sheet name and cell,
    documents every paragraph and table cell, Markdown as it displays, CSV cell by cell."""
    if isinstance(output, bytes):
        if fmt == "xlsx":
            workbook = load_workbook(io.BytesIO(output))
            cells = [
                str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row if v
            ]
            return "\n".join([*workbook.sheetnames, *cells])
        if fmt == "docx":
            document = Document(io.BytesIO(output))
            cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
            return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)
        raise ValueError(f"{fmt}: not a binary format")
    if fmt in ("html", "reply-html"):
        return _browser_text(output)
    if fmt == "md":
        return _browser_text(MarkdownIt("commonmark").enable("table").render(output))
    if fmt in ("csv", "units-csv"):
        return "\n".join("\t".join(row) for row in csv.reader(io.StringIO(output.lstrip("\ufeff"))))
    return re.sub(r"\r\n", "\n", output)
