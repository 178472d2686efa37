"""--lang vi leaves no English heading, column name or state (key or English name) in any format."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentroll.i18n import CATALOG_DIR
from agentroll.model import HostState
from agentroll.reports import FORMATS, render

FIXTURE = Path(__file__).parent / "fixtures" / "report_sample.json"
#: Sections of the English catalog whose texts a reader sees as headings, labels or state names.
VISIBLE_SECTIONS = ("text", "columns", "sheets", "states", "license", "reply")
#: Words so short they occur inside data (computer names such as KETOAN-PC, host "vp-01").
SHORTEST_CHECKED = 4


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


def _visible(fmt: str, output: str | bytes) -> str:
    if fmt in ("html", "reply-html"):
        parser = _VisibleText()
        parser.feed(str(output))
        return "\n".join(parser.parts)
    if fmt == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(output))  # type: ignore[arg-type]
        cells = [str(v) for sheet in workbook for row in sheet.iter_rows(values_only=True) for v in row if v]
        return "\n".join([*workbook.sheetnames, *cells])
    if fmt == "docx":
        from docx import Document

        document = Document(io.BytesIO(output))  # type: ignore[arg-type]
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    return str(output)


def _english_labels() -> set[str]:
    english = yaml.safe_load((CATALOG_DIR / "en.yml").read_text(encoding="utf-8"))
    vietnamese = yaml.safe_load((CATALOG_DIR / "vi.yml").read_text(encoding="utf-8"))
    labels: set[str] = set()
    for section in VISIBLE_SECTIONS:
        for key, value in english[section].items():
            if not isinstance(value, str) or value == vietnamese[section].get(key):
                continue
            # Templates: check the fixed text around the placeholders.
            labels.update(part.strip() for part in re.split(r"\{[^}]*\}", value))
    return {label for label in labels if len(label) >= SHORTEST_CHECKED and re.search(r"[A-Za-z]", label)}


def _contains(text: str, label: str) -> bool:
    """``label`` occurs in ``text`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text) is not None


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
def test_vietnamese_output_has_no_english_label(report: dict[str, Any], fmt: str) -> None:
    text = _visible(fmt, render(report, fmt, lang="vi"))
    assert sorted(label for label in _english_labels() if _contains(text, label)) == []


@pytest.mark.parametrize("fmt", [fmt for fmt in FORMATS if fmt != "json"])
def test_vietnamese_output_has_no_state_key(report: dict[str, Any], fmt: str) -> None:
    text = _visible(fmt, render(report, fmt, lang="vi"))
    keys = [state.value for state in HostState if re.search(rf"(?<![\w-]){state.value}(?![\w-])", text)]
    assert keys == []


@pytest.mark.parametrize("fmt", ["text", "md", "csv", "html", "docx", "reply-html"])
def test_vietnamese_output_translates_the_reasons(report: dict[str, Any], fmt: str) -> None:
    text = _visible(fmt, render(report, fmt, lang="vi"))
    assert "Bộ nhớ RAM 1024 MB, yêu cầu tối thiểu 2048 MB" in text
    assert "RAM 1024 MB < 2048 MB" not in text


def test_the_check_would_catch_english(report: dict[str, Any]) -> None:
    """The same check on the English rendering finds the English labels: the test has teeth."""
    text = _visible("html", render(report, "html", lang="en"))
    found = [label for label in _english_labels() if _contains(text, label)]
    assert len(found) > 20
